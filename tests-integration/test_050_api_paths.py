"""Everything the Parsl 0.5.0 release exposed at a public path imports from that path.

``data/api_050_index.txt`` is generated from the API reference index of the 0.5.0
documentation by ``scripts/gen_050_api_index.py`` (modules, classes, functions, methods and
attributes); ``PACKAGE_TREE`` adds the modules of 0.5.0's package tree that scripts import but
the reference does not index. Runs with every distribution installed, as users have them.
"""
from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys

import pytest

INDEX = os.path.join(os.path.dirname(__file__), "data", "api_050_index.txt")

#: 0.5.0 modules and names outside the reference index (module, qualified name or "")
PACKAGE_TREE = [
    ("parsl.app.app_factory", "AppFactory"),
    ("parsl.app.app_factory", "AppFactoryFactory"),
    ("parsl.app.app", "app"),
    ("parsl.dataflow.error", "DependencyError"),
    ("parsl.dataflow.error", "DataFlowExceptions"),
    ("parsl.dataflow.rundirs", "make_rundir"),
    ("parsl.dataflow.config_defaults", "update_config"),
    ("parsl.dataflow.config_defaults", "recursive_update"),
    ("parsl.dataflow.states", "States"),
    ("parsl.dataflow.dflow", "DataFlowKernel.rundir"),
    ("parsl.execution_provider", "ExecutionProvider"),
    ("parsl.executors.errors", "ControllerErr"),
    ("parsl.executors.ipp_controller", "Controller"),
    ("parsl.executors.errors", "ScalingFailed"),
    ("parsl.executors.exceptions", "ExecutorException"),
    ("parsl.executors.exceptions", "TaskExecException"),
    ("parsl.executors.base", "ParslExecutor.status"),
    ("parsl.data_provider.data_manager", "DataManager"),
    ("parsl.configs.local", "localThreads"),
    ("parsl.configs.local", "localIPP"),
    ("parsl.version", "VERSION"),
    ("parsl.app.errors", "AppTimeout"),
    ("parsl.app.errors", "BashAppNoReturn"),
    ("parsl.app.errors", "BadStdStreamFile"),
]


def _index() -> list[tuple[str, str, str]]:
    out = []
    with open(INDEX) as f:
        for line in f:
            kind, module, *rest = line.split()
            out.append((kind, module, rest[0] if rest else ""))
    return out


def _resolve(module: str, qualname: str) -> object:
    obj: object = importlib.import_module(module)
    for part in qualname.split(".") if qualname else []:
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(("kind", "module", "qualname"), _index(), ids=lambda v: v)
def test_documented_name_imports_from_its_050_path(kind: str, module: str, qualname: str) -> None:
    obj = _resolve(module, qualname)
    if kind == "class":
        assert inspect.isclass(obj)
    elif kind in ("function", "method"):
        assert callable(obj)


@pytest.mark.parametrize(("module", "qualname"), PACKAGE_TREE, ids=lambda v: v)
def test_050_package_tree_path(module: str, qualname: str) -> None:
    assert _resolve(module, qualname) is not None


def test_star_import_exports_050s_all_with_ipp(tmp_path) -> None:
    code = (
        "from parsl import *\n"
        "print(sorted(n for n in ('App', 'DataFlowKernel', 'ThreadPoolExecutor', 'IPyParallelExecutor', 'File',"
        " 'set_stream_logger', 'set_file_logger') if n in globals()))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(sorted(["App", "DataFlowKernel", "ThreadPoolExecutor", "IPyParallelExecutor", "File", "set_stream_logger", "set_file_logger"]))


def test_the_index_is_complete_enough() -> None:
    """The generated list covers the reference (a regenerated file that lost entries fails)."""
    kinds = {k for k, _, _ in _index()}
    assert {"module", "class", "function", "method", "attribute"} <= kinds and len(_index()) >= 130
