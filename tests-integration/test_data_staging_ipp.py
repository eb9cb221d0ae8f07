"""The 0.5.0 guide's sort-strings example (§3.5) on real IPython Parallel engines, with an HTTP
source and an FTP destination (real servers on 127.0.0.1 in this process): once with the
engines sharing this filesystem (transfers on the submitting side), once with the engines
staging inside each task (a remote working directory)."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import config, ipp_site

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("ipp_stack")]


@pytest.fixture
def servers(tmp_path):
    pytest.importorskip("pyftpdlib", reason="needs parsl-data[test] (pyftpdlib)")
    from parsl_data.testing import FTPTestServer, HTTPTestServer

    root = tmp_path / "served"
    (root / "in").mkdir(parents=True)
    (root / "out").mkdir()
    (root / "in" / "unsorted.txt").write_text("pear\napple\nfig\n")
    with HTTPTestServer(str(root)) as http, FTPTestServer(str(root)) as ftp:
        yield root, http, ftp


def test_sort_strings_on_ipp_engines_sharing_the_filesystem(servers, tmp_path):
    from parsl import DataFlowKernel
    from parsl_data.testing import sort_strings_example

    root, http, ftp = servers
    site = ipp_site()
    site["data"] = {"working_dir": str(tmp_path / "parsl_script")}
    dfk = DataFlowKernel(config=config(site))
    try:
        sort_strings_example(dfk, http.url("in/unsorted.txt"), ftp.url("out/sorted.txt", login=True))
        assert list(dfk.executors) == ["Local_IPP"]  # the app can only have run on an engine
    finally:
        dfk.cleanup()
    assert (root / "out" / "sorted.txt").read_text() == "apple\nfig\npear\n"
    assert sorted(os.listdir(tmp_path / "parsl_script")) == ["sorted.txt", "unsorted.txt"]


def test_sort_strings_with_the_engines_staging_inside_the_task(servers, tmp_path):
    """A relative working_dir is resolved by whoever stages: the engines run in engine_dir,
    so the staged copies landing there (and not here) shows the engine did the transfers."""
    import parsl
    from libsubmit.providers.local.local import Local
    from parsl import File, python_app
    from parsl.data_provider.errors import StagingError
    from parsl_executors.ipp import IPyParallelExecutor

    root, http, ftp = servers
    engine_dir = tmp_path / "engine"
    engine_dir.mkdir()
    ex = IPyParallelExecutor(
        execution_provider=Local(), engine_dir=str(engine_dir), working_dir="remote_wd", stage_on_workers=True, label="remote"
    )

    @python_app
    def sort_strings(inputs=(), outputs=()):
        with open(inputs[0]) as u, open(outputs[0], "w") as s:
            s.writelines(sorted(u.readlines()))
        return os.path.abspath(inputs[0])

    with parsl.load(parsl.Config(executors=[ex])):
        f = sort_strings(inputs=[File(http.url("in/unsorted.txt"))], outputs=[File(ftp.url("out/sorted.txt", login=True))])
        assert f.result(timeout=120) == str(engine_dir / "remote_wd" / "unsorted.txt")
        f.outputs[0].result(timeout=60)
        # a failed fetch on the engine fails the task with the transfer's message
        missing = http.url("in/missing.txt")
        with pytest.raises(StagingError, match=rf"staging in {missing} failed: HTTP 404 Not Found"):
            sort_strings(inputs=[File(missing)], outputs=[File("local.txt")]).result(timeout=120)
    assert (root / "out" / "sorted.txt").read_text() == "apple\nfig\npear\n"
    assert sorted(os.listdir(engine_dir / "remote_wd")) == ["sorted.txt", "unsorted.txt"]
    assert not (tmp_path / "remote_wd").exists()
