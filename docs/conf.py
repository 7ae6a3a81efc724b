"""Sphinx configuration of the skmoe documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html``. Nothing is
fetched at build time: no intersphinx, no remote images or fonts; MathJax is
only linked from the HTML pages.
"""

import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Builds from a source checkout document that checkout, installed or not (the
# gallery examples run in this process and import it too).
sys.path.insert(0, str(HERE.parent))

import skmoe  # noqa: E402 (from the checkout put on the path above)

# Gallery examples run in this process: they draw off-screen, whoever calls
# sphinx-build.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "skmoe"
author = "skmoe developers"
copyright = "skmoe developers"
release = skmoe.__version__
version = re.match(r"\d+(\.\d+)*", release).group(0)

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
root_doc = "index"
default_role = "literal"

# -- API reference -----------------------------------------------------------

autosummary_generate = True
autodoc_typehints = "none"
# The class pages list the methods themselves (see _templates/autosummary).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- Gallery -----------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Execute every example; the notebooks folder has no gallery header and is
    # left out, but say so explicitly.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|notebooks",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": True,
    "doc_module": ("skmoe",),
    "backreferences_dir": "generated/backreferences",
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
    "min_reported_time": 0,
    "matplotlib_animations": False,
}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skmoe {release}"
html_theme_options = {
    # No icon links, analytics or version switcher: nothing to fetch or ping.
    "icon_links": [],
    "navbar_end": ["theme-switcher"],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"getting_started": [], "api": []}
html_show_sourcelink = False
