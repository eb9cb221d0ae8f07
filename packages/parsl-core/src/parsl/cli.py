"""The ``parsl`` command: ``parsl plugins`` lists installed plugins, ``parsl version``."""
from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parsl", description="Parsl command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("plugins", help="list installed executors, providers, channels, launchers, staging and containers")
    sub.add_parser("version", help="print the parsl-core version")
    args = parser.parse_args(argv)
    if args.command == "plugins":
        return _plugins()
    import parsl

    print(parsl.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
