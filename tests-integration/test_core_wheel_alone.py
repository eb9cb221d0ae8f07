"""parsl-core installed alone, from its wheel, in a fresh virtual environment: a workflow runs,
`parsl plugins` lists only the core's plugins, and asking for a plugin distribution's class
names the pip line."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

WORKFLOW = textwrap.dedent(
    """
    from parsl import *
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2)])
    @App('python', dfk)
    def double(x):
        return 2 * x
    @App('bash', dfk)
    def echo(x, stdout=None):
        return 'echo {0}'
    assert double(double(5)).result() == 20
    assert echo(double(1), stdout='out.txt').result() == 0
    assert open('out.txt').read() == '2\\n'
    dfk.cleanup()
    try:
        from parsl.executors.ipp import IPyParallelExecutor
    except ImportError as e:
        print('ipp:', e)
    print('ok')
    """
)


@pytest.mark.slow
def test_core_wheel_installs_and_runs_alone(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT / "packages" / "parsl-core")],
        check=True,
        timeout=300,
    )
    (wheel,) = dist.glob("parsl_core-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)], check=True, timeout=300)
    out = subprocess.run([str(py), "-c", WORKFLOW], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")
    assert "pip install 'parsl-executors[ipp]'" in out.stdout
    plugins = subprocess.run([str(venv / "bin" / "parsl"), "plugins"], capture_output=True, text=True, check=True, timeout=60).stdout
    assert "threads" in plugins and "file" in plugins and "slurm" not in plugins
    # no test files ship in the wheel
    import zipfile

    assert not [n for n in zipfile.ZipFile(wheel).namelist() if "/tests/" in n or n.startswith("tests/")]
