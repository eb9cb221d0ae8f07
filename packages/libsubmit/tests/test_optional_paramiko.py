"""``pip install libsubmit`` works without paramiko; asking for an SSH channel then names the
extra to install. Run in a subprocess where ``import paramiko`` fails."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def test_without_paramiko() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["paramiko"] = None  # as if it were not installed
        import libsubmit, libsubmit.channels, libsubmit.launchers
        from libsubmit.providers.slurm.slurm import Slurm
        from libsubmit.providers.local.local import Local
        from libsubmit.channels.ssh.ssh import SshChannel          # the class imports fine
        from libsubmit.channels.ssh_il.ssh_il import SshILChannel
        from parsl import plugins
        from parsl.errors import PluginDependencyMissing
        assert plugins.get("channel", "ssh") is SshChannel
        Slurm(partition="debug"); Local()
        for cls in (SshChannel, SshILChannel):
            try:
                cls("127.0.0.1", "someone", password="hunter2")
            except PluginDependencyMissing as e:
                assert "pip install 'libsubmit[ssh]'" in str(e), str(e)
                assert "hunter2" not in str(e)
            else:
                raise AssertionError("built an SSH channel without paramiko")
        print("ok")
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_import_libsubmit_is_inert() -> None:
    code = "import sys, libsubmit; print(sorted(m for m in sys.modules if m.startswith(('paramiko', 'libsubmit.'))))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
