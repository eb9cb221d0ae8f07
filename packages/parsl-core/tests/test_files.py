"""File and DataFuture."""
from __future__ import annotations

import os
import pickle

import pytest

from parsl import App, File
from parsl.app.futures import DataFuture


@pytest.mark.parametrize(
    "url, path, scheme",
    [
        ("hello.txt", "hello.txt", "file"),
        ("file://test.txt", "test.txt", "file"),
        ("file:///scratch/proj101/input.txt", "/scratch/proj101/input.txt", "file"),
        ("/abs/x.dat", "/abs/x.dat", "file"),
        ("globus://037f054a-15cf-11e8-b611-0ac6873fc732/unsorted.txt", "unsorted.txt", "globus"),
        ("https://example.org/data/x.csv", "x.csv", "https"),
    ],
)
def test_parsing(url, path, scheme):
    f = File(url)
    assert f.filepath == path == str(f) == os.fspath(f)
    assert f.scheme == scheme and f.url == url
    assert f.filename == os.path.basename(path)
    assert isinstance(f, os.PathLike)


def test_file_behaves_like_its_path():
    open("hello.txt", "w").write("hi\n")
    myfile = File("hello.txt")
    assert open(myfile).read() == "hi\n"
    assert " ".join([File("a"), File("b")]) == "a b"
    assert "cat {}".format(File("file:///x/y")) == "cat /x/y"
    assert repr(File("a.txt")) == "File('a.txt')"


def test_file_pickles_with_its_url():
    f = File("globus://ep/dir/x.txt")
    g = pickle.loads(pickle.dumps(f))
    assert g.url == f.url and g == f and type(g) is File


def test_bad_file_argument():
    with pytest.raises(ValueError):
        File("")


def test_local_file_as_app_input(dfk):
    open("test.txt", "w").write("Hello\n")

    @App("bash", dfk)
    def cat(inputs=(), stdout="stdout.txt"):
        return "cat %s" % (inputs[0])

    parsl_file = File("file://test.txt")
    assert cat(inputs=[parsl_file]).result() == 0
    assert open("stdout.txt").read() == "Hello\n"


def test_data_future_resolves_to_a_file_and_exposes_the_path(dfk):
    @App("python", dfk)
    def write(outputs=()):
        with open(outputs[0], "w") as f:
            f.write("data")

    fut = write(outputs=["out.dat"])
    df = fut.outputs[0]
    assert isinstance(df, DataFuture) and df.tid == fut.tid
    assert df.filepath == "out.dat" and df.filename == "out.dat"
    res = df.result()
    assert isinstance(res, File) and res == "out.dat"
    assert open(res).read() == "data"
    assert "DataFuture" in repr(df) and "out.dat" in repr(df)


def test_file_outputs_pass_through_to_python_apps(dfk):
    @App("python", dfk)
    def sort_strings(inputs=(), outputs=()):
        with open(inputs[0]) as u:
            strs = sorted(u.readlines())
        with open(outputs[0].filepath, "w") as s:
            s.writelines(strs)

    open("unsorted.txt", "w").write("b\na\nc\n")
    f = sort_strings(inputs=[File("unsorted.txt")], outputs=[File("sorted.txt")])
    f.result()
    assert open("sorted.txt").read() == "a\nb\nc\n"


def test_stage_in_of_a_local_file_is_immediate(dfk):
    f = File("local.txt")
    assert f.stage_in().result() == f


def test_remote_scheme_without_a_staging_plugin_says_what_to_install(dfk, no_plugins):
    from parsl.errors import PluginNotFound

    with pytest.raises(PluginNotFound, match=r"pip install 'parsl-data\[globus\]'"):
        File("globus://ep/x.txt").stage_in()


def test_remote_inputs_are_staged_before_the_app_runs(dfk, tmp_path):
    """A staging plugin registered for the 'vault' scheme copies files out of a local
    directory standing in for remote storage; an app given a vault:// File as input runs on
    the staged local copy."""
    import shutil

    from parsl import plugins
    from parsl.data_provider.transfer import TransferStaging

    store = tmp_path / "vault-store"
    store.mkdir()
    (store / "data.txt").write_text("remote bytes\n")
    staged_calls = []

    class VaultStaging(TransferStaging):
        schemes = ("vault",)

        def fetch(self, file, local_path):
            shutil.copy(store / file.path.lstrip("/"), local_path)
            staged_calls.append(file.url)

    plugins.register("staging", "vault", VaultStaging)
    try:

        @App("python", dfk)
        def read(inputs=()):
            with open(inputs[0]) as f:
                return f.read(), inputs[0].local_path

        content, local = read(inputs=[File("vault://bucket/data.txt")]).result(timeout=10)
        assert content == "remote bytes\n" and local == "data.txt"
        assert staged_calls == ["vault://bucket/data.txt"]
    finally:
        plugins.unregister("staging", "vault")


@pytest.mark.parametrize(
    "url, netloc, path",
    [
        ("globus://go#ep1/~/data/input.txt", "go#ep1", "~/data/input.txt"),
        ("globus://ddb59aef-6d04-11e5-ba46-22000b92c6ec/home/johndoe/data/input.txt", "ddb59aef-6d04-11e5-ba46-22000b92c6ec", "/home/johndoe/data/input.txt"),
    ],
)
def test_globus_urls_keep_the_endpoint_name_whole(url, netloc, path):
    """The 0.5.0 API reference's Globus URL forms: an endpoint name may hold a '#'."""
    f = File(url)
    assert (f.scheme, f.netloc, f.path, f.filename, str(f)) == ("globus", netloc, path, "input.txt", "input.txt")


def test_a_password_in_a_url_never_shows_in_a_repr():
    f = File("ftp://alice:s3cret@127.0.0.1:2121/in/x.txt")
    assert "s3cret" not in repr(f) and "alice:***@127.0.0.1:2121" in repr(f)
    assert f.url.endswith("/in/x.txt") and str(f) == "x.txt"


def test_a_local_path_set_by_a_staging_provider_is_where_the_file_opens(tmp_path):
    """Upstream-style providers set ``file.local_path`` on the copy they are handed and read
    ``filepath``; the app itself gets a File whose str value is that path."""
    f = File("https://127.0.0.1:9/data/x.csv").cleancopy()
    assert f.local_path is None and f.filepath == "x.csv"
    f.local_path = str(tmp_path / "wd" / "x.csv")
    assert f.filepath == str(tmp_path / "wd" / "x.csv")
    assert pickle.loads(pickle.dumps(f)) == str(tmp_path / "wd" / "x.csv")
