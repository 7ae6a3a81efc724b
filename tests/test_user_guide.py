"""The user guide's examples run and print what the guide says they print.

Each top-level section of ``docs/user_guide.rst`` is one test: its
``.. code-block:: python`` blocks run in order in one namespace, and the text
each block prints must equal the ``# ...`` comment lines that follow its
``print(...)`` calls.
"""

import contextlib
import io
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).parents[1] / "docs" / "user_guide.rst"


def _sections(text):
    """[(title, [(line number, code)])] for each top-level section."""
    lines = text.split("\n")
    sections = [("(preamble)", [])]
    i = 0
    while i < len(lines):
        line = lines[i]
        underline = lines[i + 1] if i + 1 < len(lines) else ""
        overline = lines[i - 1] if i > 0 else ""
        if (
            line.strip()
            and re.fullmatch(r"=+", underline)
            and not re.fullmatch(r"=+", overline)
        ):
            sections.append((line.strip(), []))
            i += 2
            continue
        if line.strip() == ".. code-block:: python":
            j = i + 1
            block = []
            while j < len(lines) and (
                lines[j].startswith("    ") or not lines[j].strip()
            ):
                block.append(lines[j][4:])
                j += 1
            sections[-1][1].append((i + 1, "\n".join(block).strip("\n")))
            i = j
            continue
        i += 1
    return [(title, blocks) for title, blocks in sections if blocks]


def _expected_output(code):
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


def _normalise(text):
    return re.sub(r"\s+", " ", text).strip()


SECTIONS = _sections(GUIDE.read_text())


def test_guide_has_examples():
    assert sum(len(blocks) for _, blocks in SECTIONS) >= 10


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("title, blocks", SECTIONS, ids=[t for t, _ in SECTIONS])
def test_section_examples_print_what_the_guide_says(title, blocks):
    if any("matplotlib" in code for _, code in blocks):
        import matplotlib

        matplotlib.use("Agg")
    namespace = {"__name__": "__guide__"}
    for lineno, code in blocks:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"{GUIDE}:{lineno}", "exec"), namespace)
        expected = " ".join(_expected_output(code))
        assert _normalise(printed.getvalue()) == _normalise(expected), (
            f"block at line {lineno}"
        )
