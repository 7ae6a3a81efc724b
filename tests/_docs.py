"""Run the ``.. code-block:: python`` examples of a reST page.

The docs show what an example prints as ``# ...`` comment lines right after
its ``print(...)`` calls; :func:`run_blocks` runs the blocks in order and
checks that each prints that, so a page cannot go stale.

"That" means: the same text and the same integers, and decimal numbers equal
up to :data:`RTOL` or :data:`LAST_DIGITS` units of their last printed digit
(see :func:`same_output`). A decimal figure such as a cross-validated R² goes
through BLAS, whose result in the last bits depends on the kernel the CPU
gets (OpenBLAS picks one per CPU; ``OPENBLAS_CORETYPE`` forces another), and
the fit amplifies those bits: the grid search of the user guide's "Experts
of every kind" prints a mean R² of 0.979 with the SkylakeX kernel, 0.98 with
Katmai (``OPENBLAS_CORETYPE=Prescott``) and 0.976 with Haswell (what Zen
CPUs get). Such a figure is not a contract to the last digit. Integers
(counts, chosen experts, labels) and text are compared exactly: when they
differ between CPUs, the example itself sits on a tie and must change.
``.ci/run`` runs the user guide under several OpenBLAS kernels.
"""

import ast
import contextlib
import io
import re


def code_blocks(text):
    """[(line number of the directive, dedented code)] of a reST text."""
    lines = text.split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != ".. code-block:: python":
            i += 1
            continue
        j, block = i + 1, []
        while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
            block.append(lines[j][4:])
            j += 1
        blocks.append((i + 1, "\n".join(block).strip("\n")))
        i = j
    return blocks


def expected_output(code):
    """The comment lines right after each print(...) call, comment marks removed."""
    expected, depth, after_print = [], 0, False
    for line in code.split("\n"):
        stripped = line.strip()
        if stripped.startswith("#"):
            if after_print:
                expected.append(stripped[1:].strip())
            continue
        if not stripped:
            after_print = False
        elif depth > 0 or "print(" in stripped:
            depth = max(depth + stripped.count("(") - stripped.count(")"), 0)
            after_print = depth == 0
        else:
            after_print = False
    return expected


def normalise(text):
    return re.sub(r"\s+", " ", text).strip()


# Relative tolerance, and tolerance in units of the last printed digit, for
# decimal numbers (either suffices). Measured under the SkylakeX, Haswell and
# Katmai kernels: every figure of the user guide, getting started and
# persistence pages prints the same, except the one above (0.3 % apart).
RTOL = 0.01
LAST_DIGITS = 3

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _last_digit(token):
    """The value of one unit in the last printed digit of a number token."""
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def _is_decimal(token):
    return any(mark in token.lower() for mark in ".e")


def same_output(printed, expected):
    """Whether ``printed`` says what ``expected`` says, up to kernel noise.

    Both are split into text and numbers. Text and integers must be equal
    (whitespace runs count as one space); a decimal number ``x`` where the
    docs say ``d`` must satisfy ``|x - d| <= max(RTOL * |d|, LAST_DIGITS *
    unit)``, with ``unit`` one unit in the last digit ``d`` is printed with.

    >>> same_output("R2 0.976 after 12 iterations", "R2 0.979 after 12 iterations")
    True
    >>> same_output("R2 0.976 after 11 iterations", "R2 0.979 after 12 iterations")
    False
    >>> same_output("R2 0.90", "R2 0.979")
    False
    """
    printed_parts = _NUMBER.split(normalise(printed))
    expected_parts = _NUMBER.split(normalise(expected))
    printed_numbers = _NUMBER.findall(normalise(printed))
    expected_numbers = _NUMBER.findall(normalise(expected))
    if printed_parts != expected_parts or len(printed_numbers) != len(expected_numbers):
        return False
    for got, want in zip(printed_numbers, expected_numbers, strict=True):
        if not (_is_decimal(got) or _is_decimal(want)):
            if int(got) != int(want):
                return False
            continue
        tolerance = max(RTOL * abs(float(want)), LAST_DIGITS * _last_digit(want))
        if not abs(float(got) - float(want)) <= tolerance:
            return False
    return True


def run_blocks(blocks, source, namespace):
    """Run ``blocks`` in order in ``namespace``; each prints what it says."""
    for lineno, code in blocks:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"{source}:{lineno}", "exec"), namespace)
        expected = " ".join(expected_output(code))
        assert same_output(printed.getvalue(), expected), (
            f"block at line {lineno} prints\n{normalise(printed.getvalue())}\n"
            f"where the docs say\n{normalise(expected)}"
        )


def _printed_by_statement(code, namespace, source):
    """Run ``code`` one top-level statement at a time; [(last line of the
    statement (1-based, in ``code``), what it printed)]."""
    outputs = []
    for node in ast.parse(code).body:
        prints = "print(" in (ast.get_source_segment(code, node) or "")
        printed = io.StringIO()
        module = ast.Module(body=[node], type_ignores=[])
        with contextlib.redirect_stdout(printed):
            exec(compile(module, source, "exec"), namespace)
        outputs.append((node.end_lineno, printed.getvalue() if prints else ""))
    return outputs


def _refreshed_block(code, namespace, source):
    """``code`` with the comment lines after each printing statement replaced
    by what it prints now, where that differs beyond kernel noise. Statements
    printed one after the other share the comment run after the last one."""
    lines = code.split("\n")
    runs, pending = [], ""
    for end, printed in _printed_by_statement(code, namespace, source):
        stop = end  # the comment run right after the statement
        while stop < len(lines) and lines[stop].lstrip().startswith("#"):
            stop += 1
        pending += printed
        if stop > end:
            runs.append((end, stop, pending))
            pending = ""
    for start, stop, printed in reversed(runs):
        if not printed:
            continue
        old = " ".join(line.strip()[1:].strip() for line in lines[start:stop])
        if same_output(printed, old):
            continue
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        new = [f"{indent}# {line}".rstrip() for line in printed.rstrip().split("\n")]
        lines[start:stop] = new
    return "\n".join(lines)


def refresh_page(path, fresh_namespace_at=()):
    """Rewrite the printed output of every ``.. code-block:: python`` block of
    the reST page at ``path`` with what the code prints now, for a change of
    behaviour (the prose around the blocks must then be read again).

    Blocks run in order in one namespace, a fresh one from each block whose
    directive line is in ``fresh_namespace_at`` (as the tests run them)."""
    import pathlib

    path = pathlib.Path(path)
    text = path.read_text()
    namespace, new_blocks = None, []
    for lineno, code in code_blocks(text):
        if namespace is None or lineno in fresh_namespace_at:
            namespace = {"__name__": "__guide__"}
        new_blocks.append((lineno, code, _refreshed_block(code, namespace, str(path))))
    # The page may have been edited while the blocks ran: swap each changed
    # block's text in the page as it is now.
    text = path.read_text()
    for _, code, new in new_blocks:
        if new != code:
            old_text, new_text = (_indented(block) for block in (code, new))
            if text.count(old_text) == 1:
                text = text.replace(old_text, new_text)
    path.write_text(text)


def _indented(code):
    return "\n".join(("    " + line).rstrip() for line in code.split("\n"))
