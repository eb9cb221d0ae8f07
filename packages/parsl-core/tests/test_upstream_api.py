"""Today's upstream API reference (tests/data/upstream_api_reference.txt, the names of its
docs/reference.rst) resolves here: every name imports, or is one this project deliberately
does not provide (listed below and in the root README), which fails with an ImportError
saying so. Plugin paths resolve lazily and name the pip line when their package is missing."""
from __future__ import annotations

import importlib
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

import pytest

REFERENCE = pathlib.Path(__file__).parent / "data" / "upstream_api_reference.txt"

#: deliberately not provided (the root README gives the reasons)
NOT_PROVIDED = {
    "parsl.addresses.address_by_query",
    "parsl.executors.status_handling.BlockProviderExecutor",
    "parsl.executors.MPIExecutor",
    "parsl.executors.WorkQueueExecutor",
    "parsl.executors.taskvine.TaskVineExecutor",
    "parsl.executors.FluxExecutor",
    "parsl.executors.radical.RadicalPilotExecutor",
    "parsl.executors.GlobusComputeExecutor",
    "parsl.executors.high_throughput.manager_selector.RandomManagerSelector",
    "parsl.executors.high_throughput.manager_selector.BlockIdManagerSelector",
    "parsl.providers.LSFProvider",
    "parsl.providers.KubernetesProvider",
    "parsl.providers.PBSProProvider",
    "parsl.serialize.errors.DeserializationError",
    "parsl.serialize.errors.SerializationError",
    "parsl.utils.Timer",
    "parsl.executors.taskvine.TaskVineManagerConfig",
    "parsl.executors.taskvine.TaskVineFactoryConfig",
    "parsl.data_provider.rsync.RSyncStaging",
}
NOT_PROVIDED_PREFIXES = ("parsl.monitoring.", "parsl.jobs.")
#: documented names whose class here has another name (an alias of the same object)
ALIASES = {
    "AWSProvider": "EC2Provider",
    "SSHInteractiveLoginChannel": "SshILChannel",
    "DataFlowException": "DataFlowExceptions",
    "OptionalModuleMissing": "PluginDependencyMissing",
    "NoOpFileStaging": "FileStaging",
}


def _names() -> list[str]:
    return [line.strip() for line in REFERENCE.read_text().splitlines() if line.strip() and not line.startswith(("#", "["))]


def resolve(dotted: str) -> Any:
    """Import the longest importable module prefix of ``dotted``, then walk attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError as e:
            if e.name and not ".".join(parts[:cut]).startswith(e.name):
                raise  # a module exists but imports something missing: a real failure
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def _provided(name: str) -> bool:
    return name not in NOT_PROVIDED and not name.startswith(NOT_PROVIDED_PREFIXES)


def test_the_reference_list_is_whole() -> None:
    names = _names()
    assert len(names) >= 120
    assert len(set(names)) == len(names)
    assert NOT_PROVIDED <= set(names), "a name listed as not provided is not in the reference"


@pytest.mark.parametrize("name", [n for n in _names() if _provided(n)])
def test_documented_name_resolves(name: str) -> None:
    obj = resolve(name)
    assert obj is not None
    short = name.rsplit(".", 1)[1]
    if isinstance(obj, type):
        assert obj.__name__ == ALIASES.get(short, short)


@pytest.mark.parametrize("name", sorted(n for n in _names() if not _provided(n)))
def test_not_provided_name_fails_with_an_import_error(name: str) -> None:
    with pytest.raises((ImportError, AttributeError)) as ei:
        resolve(name)
    if type(ei.value).__name__ == "NotProvided":
        assert "does not provide" in str(ei.value)


def test_upstream_cluster_config_builds_unchanged() -> None:
    """The shape of a typical upstream Slurm config, as its docs show it."""
    from parsl.config import Config
    from parsl.executors import ThreadPoolExecutor
    from parsl.launchers import SrunLauncher
    from parsl.providers import SlurmProvider

    provider = SlurmProvider(
        partition="debug",
        nodes_per_block=2,
        init_blocks=1,
        min_blocks=0,
        max_blocks=4,
        walltime="01:00:00",
        launcher=SrunLauncher(),
        worker_init="module load python",
        scheduler_options="#SBATCH --constraint=haswell",
    )
    assert provider.shape.nodes_per_block == 2 and provider.shape.max_blocks == 4 and provider.shape.walltime == "01:00:00"
    script = provider.script_text("job", "worker", 1, "/tmp/x/job.submit")
    assert "#SBATCH --partition=debug" in script and "module load python" in script and "srun " in script
    Config(executors=[ThreadPoolExecutor(label="local", max_threads=2)])


def test_a_missing_plugin_names_the_pip_line(tmp_path: pathlib.Path) -> None:
    """In an interpreter where libsubmit cannot be imported, the upstream path says how to
    get it (instead of a bare ModuleNotFoundError)."""
    code = textwrap.dedent(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] == 'libsubmit':
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        sys.meta_path.insert(0, Block())
        try:
            from parsl.providers import SlurmProvider
        except ImportError as e:
            print(type(e).__name__, e)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert out.startswith("PluginNotInstalled")
    assert "pip install libsubmit" in out


def test_not_provided_names_say_so() -> None:
    from parsl._lazy import NotProvided

    with pytest.raises(NotProvided, match="WorkQueueExecutor is part of upstream Parsl that this project does not provide"):
        from parsl.executors import WorkQueueExecutor  # noqa: F401
    import parsl.executors

    assert not hasattr(parsl.executors, "NoSuchExecutor")


def test_unkeyable_argument_is_a_value_error_as_upstream() -> None:
    from parsl.app.errors import UnkeyableArgument

    assert issubclass(UnkeyableArgument, ValueError) and issubclass(UnkeyableArgument, TypeError)


def test_importing_the_upstream_paths_imports_no_plugin(tmp_path: pathlib.Path) -> None:
    code = "import sys, parsl.providers, parsl.launchers, parsl.channels, parsl.executors, parsl.logconfigs; print(sorted(m for m in sys.modules if m.split('.')[0] in ('libsubmit', 'parsl_executors', 'paramiko')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert out.strip() == "[]"
