"""Sphinx configuration of the docs site (`make docs` builds it with warnings as errors)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for pkg in ("parsl-core", "parsl-executors", "libsubmit", "parsl-data", "parsl-containers", "parsl-monitoring"):
    sys.path.insert(0, str(ROOT / "packages" / pkg / "src"))

project = "Parsl (rebuilt)"
author = "the Parsl rebuild project"
copyright = "2026, the Parsl rebuild project"
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "README.md"]
myst_heading_anchors = 3
html_theme = "alabaster"
html_theme_options = {"description": "Parallel scripting in Python", "fixed_sidebar": True}
html_static_path: list[str] = []
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
# optional dependencies of plugins are not needed to document them
autodoc_mock_imports = ["ipyparallel", "zmq", "paramiko", "boto3", "botocore", "globus_sdk", "mpi4py", "google", "azure", "openstack"]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# the 0.5.0-style 'KWargs:' sections of the kernel and executors read as parameter lists
napoleon_custom_sections = [("KWargs", "params_style"), ("Kwargs", "params_style")]
nitpicky = False
suppress_warnings = ["myst.xref_missing"]
os.environ.setdefault("PARSL_DOCS_BUILD", "1")
