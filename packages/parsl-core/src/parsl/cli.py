"""The ``parsl`` command: ``parsl plugins`` lists installed plugins, ``parsl version``; plugin
distributions add subcommands through the ``parsl.commands`` entry-point group (each a
``main(argv) -> int``, e.g. parsl-data's ``parsl globus login``)."""
from __future__ import annotations

import argparse
import sys
from typing import Any


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


def _plugin_command(ep: Any, rest: list[str]) -> int:
    try:
        fn = ep.load()
    except ModuleNotFoundError as e:
        dist = ep.dist.metadata["Name"] if ep.dist is not None else "its distribution"
        print(f"parsl {ep.name} needs the module {e.name!r}: install the extra that provides it (pip install '{dist}[{ep.name}]')", file=sys.stderr)
        return 1
    return int(fn(rest) or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parsl", description="Parsl command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("plugins", help="list installed executors, providers, channels, launchers, staging and containers")
    sub.add_parser("version", help="print the parsl-core version")
    from importlib import metadata

    commands = {ep.name: ep for ep in metadata.entry_points(group="parsl.commands") if ep.name not in ("plugins", "version")}
    for name, ep in sorted(commands.items()):
        dist = ep.dist.metadata["Name"] if ep.dist is not None else "a plugin"
        sub.add_parser(name, help=f"{name} commands (from {dist}); parsl {name} --help", add_help=False)
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in commands:
        return _plugin_command(commands[argv[0]], argv[1:])
    args = parser.parse_args(argv)
    if args.command == "plugins":
        return _plugins()
    import parsl

    print(parsl.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
