"""SshILChannel: an SSH channel for interactive logins (keyboard-interactive: a password, then
a one-time code), prompting once at connection and keeping that connection.

::

    __init__ ── keyboard-interactive ──▶ sshd/PAM: "Password:" ─▶ password (given, or asked)
                                                   "Verification code:" ─▶ asked once
             ◀── authenticated transport, reused by every command and file copy
"""
from __future__ import annotations

import getpass
from typing import Any, Callable, Sequence

from ..errors import AuthException
from ..ssh.ssh import SshChannel

__all__ = ["SshILChannel"]

Prompt = Callable[[str, bool], str]


def _ask(prompt: str, echo: bool) -> str:
    return input(prompt) if echo else getpass.getpass(prompt)


class SshILChannel(SshChannel):
    """0.5.0: ``SshILChannel(hostname, username=None, password=None, scriptDir=None, **kwargs)``.

    ``prompt`` (keyword; default: the terminal, without echo for secrets) answers the
    server's prompts that the password does not: ``prompt(text, echo) -> answer``. It is
    called once per prompt at connection time and never again: the connection is kept.
    """

    def __init__(
        self,
        hostname: str,
        username: str | None = None,
        password: str | None = None,
        scriptDir: str | None = None,
        *,
        prompt: Prompt | None = None,
        **kwargs: Any,
    ) -> None:
        self._prompt: Prompt = prompt or _ask
        super().__init__(hostname, username, password, scriptDir, **kwargs)

    def _authenticate(self, transport: Any) -> None:
        pk = self._paramiko
        used_password = False

        def handler(title: str, instructions: str, prompts: Sequence[tuple[str, bool]]) -> list[str]:
            nonlocal used_password
            answers = []
            for text, echo in prompts:
                if self._password is not None and not used_password and "password" in text.lower():
                    used_password = True
                    answers.append(self._password.reveal())
                else:
                    answers.append(self._prompt(text, echo))
            return answers

        try:
            transport.auth_interactive(self.username, handler)
        except pk.BadAuthenticationType as e:
            raise AuthException(f"the server does not offer keyboard-interactive login for {self.username!r} (it allows: {', '.join(e.allowed_types)})", self.hostname) from e
        except pk.SSHException as e:
            raise AuthException(f"keyboard-interactive login as {self.username!r} failed: {e}", self.hostname) from e


