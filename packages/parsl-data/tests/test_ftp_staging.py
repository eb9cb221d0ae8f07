"""FTP staging in and out against a real pyftpdlib server on 127.0.0.1."""
from __future__ import annotations

import pytest

from parsl import File, python_app
from parsl.app.errors import DependencyError
from parsl.data_provider.errors import StagingError
from parsl_data.ftp import FTPStaging
from parsl_data.testing import leftovers


@python_app
def sort_lines(inputs=(), outputs=()):
    with open(inputs[0]) as src, open(outputs[0], "w") as dst:
        dst.writelines(sorted(src.readlines()))


def test_an_ftp_input_is_fetched_and_an_output_uploaded(kernel, ftp_server, served, wd):
    out = File(ftp_server.url("out/sorted.txt", login=True))
    fut = sort_lines(inputs=[File(ftp_server.url("in/unsorted.txt"))], outputs=[out])
    assert fut.outputs[0].result(timeout=30) == str(wd / "sorted.txt")
    assert (served / "out" / "sorted.txt").read_text() == "apple\nfig\npear\n"
    assert leftovers(served / "out") == ["sorted.txt"]  # the upload's temporary name is gone
    assert leftovers(wd) == ["sorted.txt", "unsorted.txt"]


def test_a_missing_ftp_file_fails_the_app_with_the_servers_message(kernel, ftp_server, wd):
    url = ftp_server.url("in/missing.txt")
    with pytest.raises(DependencyError, match=rf"staging in {url} failed: FTP server said: 550"):
        sort_lines(inputs=[File(url)], outputs=[File("local.txt")]).result(timeout=30)
    assert leftovers(wd) == []


def test_a_refused_upload_leaves_nothing_on_the_server_and_hides_the_password(kernel, ftp_server, served):
    """Anonymous users may not write: the upload fails with the server's 550."""
    anon = File(ftp_server.url("out/sorted.txt"))
    fut = sort_lines(inputs=[File(ftp_server.url("in/unsorted.txt"))], outputs=[anon])
    with pytest.raises(StagingError, match=r"staging out ftp://127.0.0.1:\d+/out/sorted.txt failed: FTP server said: 550"):
        fut.outputs[0].result(timeout=30)
    assert leftovers(served / "out") == []
    wrong = File(ftp_server.url("out/x.txt", login=True).replace(ftp_server.password, "wrong-secret"))
    with pytest.raises(StagingError) as info:
        FTPStaging().push(str(served / "in" / "unsorted.txt"), wrong)
    assert "530" in str(info.value) and "wrong-secret" not in str(info.value) and "parsl:***@" in str(info.value)


def test_the_050_explicit_stage_out_sends_a_local_file(kernel, ftp_server, served, wd):
    (wd / "report.txt").write_text("done\n")
    f = File(ftp_server.url("out/report.txt", login=True))
    f.stage_out().result(timeout=30)
    assert (served / "out" / "report.txt").read_text() == "done\n"


def test_an_ftp_url_without_a_file_path_is_named():
    with pytest.raises(StagingError, match=r"an FTP URL needs a host and a file path"):
        FTPStaging().fetch(File("ftp://127.0.0.1:9/"), "x")
