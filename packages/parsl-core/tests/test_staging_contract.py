"""The staging-provider contract (upstream's ``parsl.data_provider.staging.Staging``) and the
data manager: providers written the upstream way plug in through ``storage_access``; our
transfer base stages on the submitting side or, for executors that opt in, inside the task.

The 'vault' scheme used here is a local directory standing in for remote storage."""
from __future__ import annotations

import os
import shutil
import threading
import time

import pytest

import parsl
from parsl import File, python_app
from parsl.app.errors import DependencyError
from parsl.data_provider.errors import StagingError
from parsl.data_provider.staging import Staging
from parsl.data_provider.transfer import TransferStaging
from parsl.executors.threads import ThreadPoolExecutor


@pytest.fixture
def vault(tmp_path):
    store = tmp_path / "vault-store"
    store.mkdir()
    (store / "in.txt").write_text("b\na\n")
    return store


class VaultTransfer(TransferStaging):
    """Copies between the vault directory and local paths; records where each call ran."""

    schemes = ("vault",)
    can_push = True

    def __init__(self, store):
        self.store = store
        self.calls: list[tuple[str, str, str]] = []

    def fetch(self, file, local_path):
        self.calls.append(("fetch", file.url, threading.current_thread().name))
        shutil.copy(self.store / file.path.lstrip("/"), local_path)

    def push(self, local_path, file):
        self.calls.append(("push", file.url, threading.current_thread().name))
        shutil.copy(local_path, self.store / file.path.lstrip("/"))


class UpstreamStyleCopy(Staging):
    """Written as upstream's documentation shows a provider: stage_in sets file.local_path
    and returns the first output DataFuture of a staging app that runs on the same
    executor, marked with _parsl_staging_inhibit; stage_out returns the future of an app
    that waits for the producing app."""

    def __init__(self, store):
        self.store = str(store)

    def can_stage_in(self, file):
        return file.scheme == "vault"

    def can_stage_out(self, file):
        return file.scheme == "vault"

    def stage_in(self, dm, executor, file, parent_fut):
        file.local_path = os.path.join(dm.dfk.executors[executor].working_dir or ".", file.filename)

        @python_app(executors=[executor], data_flow_kernel=dm.dfk)
        def copy_in(src, dst, outputs=(), _parsl_staging_inhibit=True):
            shutil.copy(src, dst)

        app_fut = copy_in(os.path.join(self.store, file.path.lstrip("/")), file.local_path, outputs=[file], _parsl_staging_inhibit=True)
        return app_fut._outputs[0]

    def stage_out(self, dm, executor, file, app_fu):
        file.local_path = os.path.join(dm.dfk.executors[executor].working_dir or ".", file.filename)

        @python_app(executors=[executor], data_flow_kernel=dm.dfk)
        def copy_out(src, dst, inputs=(), _parsl_staging_inhibit=True):
            shutil.copy(src, dst)

        return copy_out(file.local_path, os.path.join(self.store, file.path.lstrip("/")), inputs=[app_fu], _parsl_staging_inhibit=True)


@python_app
def sort_lines(inputs=(), outputs=()):
    with open(inputs[0]) as src, open(outputs[0], "w") as dst:
        dst.writelines(sorted(src.readlines()))
    return str(inputs[0]), str(outputs[0])


def test_an_upstream_style_provider_plugs_in_through_storage_access(vault, tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    ex = ThreadPoolExecutor(max_workers=2, storage_access=[UpstreamStyleCopy(vault)], working_dir=str(wd))
    with parsl.load(parsl.Config(executors=[ex])):
        fut = sort_lines(inputs=[File("vault://x/in.txt")], outputs=[File("vault://x/out.txt")])
        seen_in, seen_out = fut.result(timeout=20)
        fut.outputs[0].result(timeout=20)
    assert (seen_in, seen_out) == (str(wd / "in.txt"), str(wd / "out.txt"))
    assert (vault / "out.txt").read_text() == "a\nb\n"


def test_transfers_run_on_the_managers_threads_for_a_local_executor(vault):
    st = VaultTransfer(vault)
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(storage_access=[st])])):
        fut = sort_lines(inputs=[File("vault://x/in.txt")], outputs=[File("vault://x/out.txt")])
        assert fut.outputs[0].result(timeout=20) == "out.txt"
    assert (vault / "out.txt").read_text() == "a\nb\n"
    assert [c[0] for c in st.calls] == ["fetch", "push"]
    assert all(c[2].startswith("parsl-staging") for c in st.calls)


def test_an_executor_whose_workers_stage_runs_the_transfers_inside_the_task(vault, tmp_path):
    st = VaultTransfer(vault)
    ex = ThreadPoolExecutor(storage_access=[st], thread_name_prefix="worker", working_dir=str(tmp_path / "remote-wd"))
    ex.stage_on_workers = True
    os.makedirs(tmp_path / "remote-wd")
    with parsl.load(parsl.Config(executors=[ex])):
        fut = sort_lines(inputs=[File("vault://x/in.txt")], outputs=[File("vault://x/out.txt")])
        assert fut.result(timeout=20) == (str(tmp_path / "remote-wd" / "in.txt"), str(tmp_path / "remote-wd" / "out.txt"))
        fut.outputs[0].result(timeout=20)
    assert [(c[0], c[2].startswith("worker")) for c in st.calls] == [("fetch", True), ("push", True)]
    assert (vault / "out.txt").read_text() == "a\nb\n"


def test_a_failed_stage_in_fails_the_app_with_a_dependency_error_naming_the_file(vault):
    st = VaultTransfer(vault)
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(storage_access=[st])])):
        fut = sort_lines(inputs=[File("vault://x/missing.txt")], outputs=[File("vault://x/out.txt")])
        with pytest.raises(DependencyError) as info:
            fut.result(timeout=20)
        with pytest.raises(DependencyError):
            fut.outputs[0].result(timeout=20)
    assert isinstance(info.value.__cause__, StagingError)
    assert "staging in vault://x/missing.txt failed: FileNotFoundError" in str(info.value)
    assert not (vault / "out.txt").exists()


def test_a_staged_input_is_reused_while_its_copy_exists_and_fetched_again_once_gone(vault):
    st = VaultTransfer(vault)
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(storage_access=[st])])):
        f = File("vault://x/in.txt")
        first = f.stage_in().result(timeout=10)
        assert f.stage_in().result(timeout=10) == first == "in.txt"
        assert len(st.calls) == 1
        os.unlink(first)
        assert f.stage_in().result(timeout=10) == "in.txt" and os.path.exists("in.txt")
        assert len(st.calls) == 2


def test_the_explicit_stage_out_of_an_output_is_the_apps_own_stage_out(vault):
    st = VaultTransfer(vault)
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(storage_access=[st])])):
        out = File("vault://x/sorted.txt")
        sort_lines(inputs=[File("vault://x/in.txt")], outputs=[out]).result(timeout=20)
        out.stage_out().result(timeout=20)
    assert [c[0] for c in st.calls] == ["fetch", "push"]


def test_storage_access_without_a_provider_for_the_scheme_is_a_clear_error(vault):
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(storage_access=[VaultTransfer(vault)], label="hpc")])):
        with pytest.raises(StagingError, match=r"executor 'hpc' has no storage_access provider for the 'tape' scheme \(it has: VaultTransfer\)"):
            sort_lines(inputs=[File("tape://x/in.txt")])


def test_an_unknown_scheme_lists_the_installed_ones_and_what_to_install(no_plugins):
    from parsl.errors import PluginNotFound

    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor()])):
        with pytest.raises(PluginNotFound, match=r"no staging plugin named 'https'.*pip install 'parsl-data'; installed: file"):
            sort_lines(inputs=[File("https://127.0.0.1:9/x.txt")])


def test_storage_access_must_hold_staging_providers():
    with pytest.raises(TypeError, match="storage_access must be a list of Staging providers"):
        ThreadPoolExecutor(storage_access=["http"])


def test_explicit_staging_for_an_executor_whose_workers_stage_runs_there(vault, tmp_path):
    st = VaultTransfer(vault)
    ex = ThreadPoolExecutor(storage_access=[st], thread_name_prefix="worker", working_dir=str(tmp_path / "remote-wd"))
    ex.stage_on_workers = True
    with parsl.load(parsl.Config(executors=[ex])):
        assert File("vault://x/in.txt").stage_in().result(timeout=20) == str(tmp_path / "remote-wd" / "in.txt")
        out = File("vault://x/copy.txt")
        shutil.copy(tmp_path / "remote-wd" / "in.txt", tmp_path / "remote-wd" / "copy.txt")
        out.stage_out().result(timeout=20)
    assert [(c[0], c[2].startswith("worker")) for c in st.calls] == [("fetch", True), ("push", True)]
    assert (vault / "copy.txt").read_text() == "b\na\n"


def test_a_scheme_nobody_provides_says_how_to_add_a_provider():
    from parsl.errors import PluginNotFound

    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor()])):
        with pytest.raises(PluginNotFound, match=r"no staging plugin named 's3'; installed: file.*storage_access=\[\.\.\.\].*'parsl.staging' entry-point group"):
            sort_lines(inputs=[File("s3://bucket/in.txt")])


def test_cleanup_waits_for_the_stage_out_of_a_finished_app(vault):
    class SlowPush(VaultTransfer):
        def push(self, local_path, file):
            time.sleep(0.3)
            super().push(local_path, file)

    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(storage_access=[SlowPush(vault)])])):
        sort_lines(inputs=[File("vault://x/in.txt")], outputs=[File("vault://x/late.txt")]).result(timeout=20)
    assert (vault / "late.txt").read_text() == "a\nb\n"


def test_the_data_manager_runs_at_most_max_threads_transfers_at_once(vault):
    from parsl.data_provider.data_manager import DataManager

    gate, lock = threading.Event(), threading.Lock()
    active, peak = [0], [0]

    class Gated(VaultTransfer):
        def fetch(self, file, local_path):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            gate.wait(20)
            with lock:
                active[0] -= 1
            super().fetch(file, local_path)

    for i in range(12):
        (vault / f"f{i}.txt").write_text(str(i))
    dm = DataManager(max_threads=3)
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(storage_access=[Gated(vault)])], data_manager=dm)):
        futs = [File(f"vault://x/f{i}.txt").stage_in() for i in range(12)]
        deadline = time.monotonic() + 10
        while active[0] < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # room for a fourth, were the bound broken
        assert active[0] == 3
        gate.set()
        assert [open(f.result(timeout=20)).read() for f in futs] == [str(i) for i in range(12)]
    assert peak[0] == 3


class UpstreamStyleInternal(UpstreamStyleCopy):
    """As upstream's Globus provider does: the staging app runs on the kernel's internal
    executor, named '_parsl_internal'."""

    def stage_in(self, dm, executor, file, parent_fut):
        file.local_path = os.path.join(dm.dfk.executors[executor].working_dir or ".", file.filename)

        @python_app(executors=["_parsl_internal"], data_flow_kernel=dm.dfk)
        def copy_in(src, dst, outputs=(), _parsl_staging_inhibit=True):
            shutil.copy(src, dst)
            return threading.current_thread().name

        app_fut = copy_in(os.path.join(self.store, file.path.lstrip("/")), file.local_path, outputs=[file], _parsl_staging_inhibit=True)
        self.ran_on = app_fut
        return app_fut._outputs[0]


def test_an_upstream_provider_may_run_its_staging_app_on_the_internal_executor(vault):
    st = UpstreamStyleInternal(vault)
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(storage_access=[st])])):
        seen_in, _ = sort_lines(inputs=[File("vault://x/in.txt")], outputs=[File("out.txt")]).result(timeout=20)
        assert seen_in == "./in.txt" and st.ran_on.result().startswith("parsl-internal")
