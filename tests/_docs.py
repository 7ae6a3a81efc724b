"""Run the ``.. code-block:: python`` examples of a reST page.

The docs show what an example prints as ``# ...`` comment lines right after
its ``print(...)`` calls; :func:`run_blocks` runs the blocks in order and
checks that each prints exactly that, so a page cannot go stale.
"""

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


def run_blocks(blocks, source, namespace):
    """Run ``blocks`` in order in ``namespace``; each prints what it says."""
    for lineno, code in blocks:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"{source}:{lineno}", "exec"), namespace)
        expected = " ".join(expected_output(code))
        assert normalise(printed.getvalue()) == normalise(expected), (
            f"block at line {lineno}"
        )
