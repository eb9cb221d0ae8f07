"""The ``parsl`` command: ``parsl plugins`` lists installed plugins, ``parsl version``; other
sub-commands (``parsl status``, ``parsl report``...) come from ``parsl.commands`` plugins: an
entry point naming a function ``main(argv: list[str]) -> int``."""
from __future__ import annotations

import argparse
import os
import sys


def _plugins() -> int:
    from .plugins import KINDS, describe

    rows = describe()
    if not rows:
        print("no plugins installed")
        return 0
    width = max(len(r.name) for r in rows)
    kind = None
    for r in rows:
        if r.kind != kind:
            kind = r.kind
            print(f"{KINDS[kind]}:")
        origin = f"{r.distribution} {r.version}" if r.distribution else r.source
        print(f"  {r.name:<{width}}  {r.target}  ({origin})")
    return 0


_BUILTIN = ("plugins", "version")


def _plugin_command(name: str, argv: list[str]) -> int:
    from .errors import PluginError
    from .plugins import get

    try:
        command = get("command", name)
    except PluginError as e:
        print(f"parsl: {e}", file=sys.stderr)
        return 2
    return int(command(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and not argv[0].startswith("-") and argv[0] not in _BUILTIN:
        return _plugin_command(argv[0], argv[1:])
    from .plugins import names

    parser = argparse.ArgumentParser(prog="parsl", description="Parsl command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("plugins", help="list installed executors, providers, channels, launchers, staging, containers and commands")
    sub.add_parser("version", help="print the parsl-core version")
    for name in names("command"):
        sub.add_parser(name, help=f"from a plugin: parsl {name} --help", add_help=False)
    args = parser.parse_args(argv)
    if args.command == "plugins":
        try:
            return _plugins()
        except BrokenPipeError:  # `parsl plugins | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    import parsl

    print(parsl.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
