"""Entry point of the `qawl` console script.

Each command group lives in its own module with `register(subparsers)`; a command's handler returns the
process exit code (0 success, 1 some records failed, 2 usage error).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from qawl import __version__
from qawl.errors import QawlError

COMMAND_MODULES = ("qawl.cli.data", "qawl.cli.extract", "qawl.cli.train", "qawl.cli.evaluate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qawl", description="Who said what in Arabic news.")
    parser.add_argument("--version", action="version", version=f"qawl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command group not present in this build
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.handler(args) or 0)
    except QawlError as exc:
        print(f"qawl: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qawl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
