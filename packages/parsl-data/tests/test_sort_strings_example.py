"""The 0.5.0 guide's sort-strings example (§3.5) end to end on local threads, with an HTTP
source in place of the first Globus endpoint and an FTP server in place of the second (both
real servers on 127.0.0.1), configured by the guide's dict with ``data.working_dir``."""
from __future__ import annotations

from parsl import DataFlowKernel, File
from parsl_data.testing import leftovers, sort_strings_example


def test_sort_strings_as_the_guide_writes_it(http_server, ftp_server, served, tmp_path):
    working_dir = tmp_path / "home" / "user" / "parsl_script"
    config = {
        "sites": [{
            "site": "Local_Threads", "auth": {"channel": None},
            "execution": {"executor": "threads", "provider": None, "maxThreads": 4},
            "data": {"working_dir": str(working_dir)},
        }],
        "globals": {"lazyErrors": True},
    }
    dfk = DataFlowKernel(config=config)

    try:
        sort_strings_example(dfk, http_server.url("in/unsorted.txt"), ftp_server.url("out/sorted.txt", login=True))
    finally:
        dfk.cleanup()

    assert (served / "out" / "sorted.txt").read_text() == "apple\nfig\npear\n"
    assert leftovers(working_dir) == ["sorted.txt", "unsorted.txt"]
    assert len(http_server.requests) == 1  # staged once: the app reused the explicit stage-in


def test_sort_strings_with_automatic_staging(http_server, ftp_server, served, tmp_path):
    """Beyond 0.5.0: no explicit stage_in/stage_out, the app's inputs/outputs are enough."""
    import parsl
    from parsl import python_app

    @python_app
    def sort_strings(inputs=(), outputs=()):
        with open(inputs[0]) as u, open(outputs[0], "w") as s:
            s.writelines(sorted(u.readlines()))

    with parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(working_dir=str(tmp_path / "wd"))])):
        f = sort_strings(inputs=[File(http_server.url("in/unsorted.txt"))], outputs=[File(ftp_server.url("out/auto.txt", login=True))])
        f.outputs[0].result(timeout=30)
    assert (served / "out" / "auto.txt").read_text() == "apple\nfig\npear\n"
