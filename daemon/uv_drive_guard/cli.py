"""`uv-drive-guard`: the command line. Imports stay lazy: `scan` never loads the tray,
Pillow or the notification libraries (benchmarks/bench_scan.py measures start-up)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uv-drive-guard",
        description="Tells you how uv will behave on your external drives, and how to fix it.",
    )
    parser.add_argument("--version", action="version", version=f"uv-drive-guard {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log to the console")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    scan = commands.add_parser(
        "scan",
        help="check mounted drives (or PATHs) and say what uv will do there",
        description=(
            "Finds every uv directory on external drives (or under PATH), probes what each "
            "drive's filesystem can do, and says what uv will do there, with fixes that work. "
            "Exit status: 0 no errors, 1 at least one error finding, 2 usage or internal error."
        ),
    )
    scan.add_argument("paths", nargs="*", metavar="PATH", help="a directory on a drive to check")
    scan.add_argument("--json", action="store_true", help="print one JSON document (docs/scan-json.md)")
    scan.add_argument("--no-probe", action="store_true", help="judge drives by filesystem name only")
    scan.add_argument("--no-uv", action="store_true", help="do not ask uv where it keeps things")
    scan.add_argument("--config", metavar="FILE", help="settings file (default: the user's)")
    return parser


def _scan(args: argparse.Namespace) -> int:
    from . import config, scan
    from .core import render
    from .core.model import Severity

    settings = config.load(_path(args.config))
    options = scan.Options.from_config(settings, args.paths)
    if args.no_probe:
        options = scan.replace(options, probe=False)
    if args.no_uv:
        options = scan.replace(options, confirm_with_uv=False)
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        print(f"uv-drive-guard: no such path: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    snapshot, findings = scan.run(dict(os.environ), options)
    if args.json:
        json.dump(render.to_json(snapshot, findings), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render.to_text(snapshot, findings))
    return EXIT_FINDINGS if any(f.severity is Severity.ERROR for f in findings) else EXIT_OK


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help/--version
        return int(exc.code or 0)
    logging.basicConfig(level=logging.WARNING - 10 * args.verbose, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return _scan(args)
    except Exception as exc:  # the last line of defence: say it, exit 2, never a traceback
        from .config import ConfigError

        if isinstance(exc, ConfigError):
            print(f"uv-drive-guard: {exc}", file=sys.stderr)
        else:
            logging.getLogger(__name__).exception("internal error")
        return EXIT_USAGE
