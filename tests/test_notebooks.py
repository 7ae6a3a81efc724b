"""The checked-in notebook runs, prints what it should, and matches its example.

``examples/notebooks/first_fit.ipynb`` is generated from the gallery example
``examples/plot_01_first_fit.py``: the module docstring and the comment lines
of each ``# %%`` cell become markdown cells, the code becomes code cells.
After editing the example, regenerate the notebook with

    python tests/test_notebooks.py

The tests check that the notebook equals what the example generates (so the
two cannot drift apart), execute it with nbclient in a ``python3`` kernel, and
check its printed output. They also run the code of
``docs/getting_started.rst``, which quotes the same first fit, and check that
it prints what its ``# ...`` comments say.
"""

import ast
import re
from pathlib import Path

import pytest
from _docs import code_blocks, run_blocks

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plot_01_first_fit.py"
NOTEBOOK = ROOT / "examples" / "notebooks" / "first_fit.ipynb"
GETTING_STARTED = ROOT / "docs" / "getting_started.rst"

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


# ---- script -> cells ----------------------------------------------------------


def _rst_to_markdown(text):
    """The little rst the examples' prose uses, as markdown."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        below = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and re.fullmatch(r"([=\-])\1{2,}", below.strip()):
            level = "#" if below.strip()[0] == "=" else "##"
            out.extend([f"{level} {line.strip()}", ""])
            i += 2
            if i < len(lines) and not lines[i].strip():
                i += 1  # one blank line after a heading is enough
            continue
        out.append(line)
        i += 1
    markdown = "\n".join(out).strip("\n")
    return re.sub(r"``([^`]+)``", r"`\1`", markdown)


def script_cells(path):
    """[(cell_type, source)] of a sphinx-gallery script.

    The module docstring is the first markdown cell. The code before the
    first ``# %%`` line is a code cell. Each ``# %%`` cell then gives a
    markdown cell for its leading comment lines (``# `` removed) and a code
    cell for the rest; empty parts are left out.
    """
    text = path.read_text(encoding="utf-8")
    module = ast.parse(text)
    docstring = ast.get_docstring(module, clean=True)
    body_lines = text.split("\n")[module.body[0].end_lineno :]
    chunks = [[]]
    for line in body_lines:
        if line.strip() == "# %%":
            chunks.append([])
        else:
            chunks[-1].append(line)

    cells = [("markdown", _rst_to_markdown(docstring))]
    for n, chunk in enumerate(chunks):
        prose = []
        if n > 0:  # the code before the first "# %%" has no prose
            while chunk and chunk[0].startswith("#"):
                line = chunk.pop(0)
                prose.append(line[2:] if line != "#" else "")
        code = "\n".join(chunk).strip("\n")
        if prose:
            cells.append(("markdown", _rst_to_markdown("\n".join(prose))))
        if code:
            cells.append(("code", code))
    return cells


def build_notebook(path=EXAMPLE):
    """The notebook of a gallery script, with deterministic cell ids."""
    import nbformat

    make = {
        "markdown": nbformat.v4.new_markdown_cell,
        "code": nbformat.v4.new_code_cell,
    }
    cells = [
        make[kind](source, id=f"cell-{i}")
        for i, (kind, source) in enumerate(script_cells(path))
    ]
    return nbformat.v4.new_notebook(
        cells=cells,
        metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
    )


def write_notebook():
    import nbformat

    NOTEBOOK.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(), NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}")


# ---- tests ----------------------------------------------------------------------


def test_notebook_matches_its_gallery_example():
    nbformat = pytest.importorskip("nbformat")
    checked_in = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(checked_in)
    generated = build_notebook()
    assert [(c.cell_type, c.source) for c in checked_in.cells] == [
        (c.cell_type, c.source) for c in generated.cells
    ], "the notebook is stale: run `python tests/test_notebooks.py` to regenerate it"
    assert checked_in.metadata.kernelspec.name == "python3"
    # Checked in without outputs: the tests run it.
    assert all(not c.get("outputs") for c in checked_in.cells if c.cell_type == "code")


def test_script_cells_split_prose_from_code(tmp_path):
    script = tmp_path / "plot_x.py"
    script.write_text(
        '"""\nTitle\n=====\n\nIntro with ``code``.\n"""\n\nimport os\n\n'
        "# %%\n# Part\n# ----\n# Some prose.\n#\n# More.\nx = 1\n\n"
        "# %%\nprint(x)  # a comment after code stays\n"
    )
    assert script_cells(script) == [
        ("markdown", "# Title\n\nIntro with `code`."),
        ("code", "import os"),
        ("markdown", "## Part\n\nSome prose.\n\nMore."),
        ("code", "x = 1"),
        ("code", "print(x)  # a comment after code stays"),
    ]


def _stdout(cell):
    return "".join(
        output.get("text", "")
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )


def test_notebook_runs_and_prints_the_first_fit(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    # The kernel inherits the environment: one thread, no GUI backend needed.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()  # raises CellExecutionError if a cell fails

    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    errors = [o for c in code_cells for o in c.outputs if o.output_type == "error"]
    assert not errors
    printed = [_stdout(cell) for cell in code_cells]
    assert "(450, 1) (150, 1)\n" in printed
    fit_output = next(text for text in printed if "two experts" in text)
    assert "one line:    R^2 = 0.609" in fit_output
    assert "two experts: R^2 = 0.982" in fit_output
    assert "expert0: intercept 1.02, slope 2.01" in "".join(printed)
    # The last cell draws the figure.
    assert any(
        "image/png" in output.get("data", {})
        for output in code_cells[-1].outputs
        if output.output_type == "display_data"
    )


# ---- getting started --------------------------------------------------------------


@pytest.mark.filterwarnings("ignore")
def test_getting_started_prints_what_it_says():
    blocks = code_blocks(GETTING_STARTED.read_text(encoding="utf-8"))
    assert len(blocks) >= 2
    run_blocks(blocks, GETTING_STARTED, {"__name__": "__getting_started__"})


if __name__ == "__main__":
    write_notebook()
