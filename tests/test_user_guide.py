"""The user guide's examples run and print what the guide says they print.

Each top-level section of ``docs/user_guide.rst`` is one test: its
``.. code-block:: python`` blocks run in order in one namespace, and the text
each block prints must say what the ``# ...`` comment lines that follow its
``print(...)`` calls say: the same text and integers, decimal figures up to
the noise of the CPU's BLAS kernel (``_docs.same_output``).
"""

import re
from pathlib import Path

import pytest
from _docs import code_blocks, run_blocks

GUIDE = Path(__file__).parents[1] / "docs" / "user_guide.rst"


def _sections(text):
    """[(title, [(line number, code)])] for each top-level section."""
    lines = text.split("\n")
    titles = [
        (i + 1, line.strip())
        for i, line in enumerate(lines[:-1])
        if line.strip()
        and re.fullmatch(r"=+", lines[i + 1])
        and not (i > 0 and re.fullmatch(r"=+", lines[i - 1]))
    ]
    sections = {"(preamble)": [], **{title: [] for _, title in titles}}
    for lineno, code in code_blocks(text):
        above = [title for line, title in titles if line < lineno]
        sections[above[-1] if above else "(preamble)"].append((lineno, code))
    return [(title, blocks) for title, blocks in sections.items() if blocks]


SECTIONS = _sections(GUIDE.read_text())


def test_guide_has_examples():
    assert sum(len(blocks) for _, blocks in SECTIONS) >= 10


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("title, blocks", SECTIONS, ids=[t for t, _ in SECTIONS])
def test_section_examples_print_what_the_guide_says(title, blocks):
    if any("matplotlib" in code for _, code in blocks):
        import matplotlib

        matplotlib.use("Agg")
    run_blocks(blocks, GUIDE, {"__name__": "__guide__"})
