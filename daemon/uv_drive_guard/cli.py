"""`uv-drive-guard`: the command line. Imports stay lazy: `scan` never loads the tray,
Pillow or the notification libraries (benchmarks/bench_scan.py measures start-up)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_FAILED = 1  # `autostart`: the change could not be made


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
            "Finds every uv directory on external drives, probes what each drive's filesystem "
            "can do, and says what uv will do there, with fixes that work. With PATHs: only "
            "those places, and the drives that hold them. "
            "Exit status: 0 no errors, 1 at least one error finding, 2 usage or internal error."
        ),
    )
    scan.add_argument("paths", nargs="*", metavar="PATH", help="a directory on a drive to check")
    scan.add_argument("--json", action="store_true", help="print one JSON document (docs/scan-json.md)")
    scan.add_argument("--no-probe", action="store_true", help="judge drives by filesystem name only")
    scan.add_argument("--no-uv", action="store_true", help="do not ask uv where it keeps things")
    scan.add_argument("--config", metavar="FILE", help="settings file (default: the user's)")
    fix = commands.add_parser(
        "fix",
        help="apply one fix that scan offered (shows exactly what changes first)",
        description=(
            "Applies one fix from `scan`, by its id: every changed file is journaled with its "
            "previous bytes, then written atomically; the result is checked by scanning again "
            "and asking uv. `undo` puts everything back."
        ),
    )
    fix.add_argument("fix_id", metavar="ID", help="the fix id that scan printed")
    fix.add_argument("paths", nargs="*", metavar="PATH", help="the paths the scan was given, if any")
    fix.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
    fix.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    fix.add_argument("--no-verify", action="store_true", help="do not scan again or ask uv afterwards")
    fix.add_argument("--config", metavar="FILE", help="settings file (default: the user's)")
    undo = commands.add_parser("undo", help="undo a fix (by default the last one), keeping later edits")
    undo.add_argument("entry", nargs="?", metavar="JOURNAL-ID", help="an id from `history`")
    undo.add_argument(
        "--force", action="store_true", help="put back the bytes from before the fix, discarding later edits"
    )
    undo.add_argument("-y", "--yes", action="store_true", help="with --force: do not ask before discarding")
    run = commands.add_parser(
        "run",
        help="the daemon: watch drives, tray icon, notifications with fix buttons",
        description="Watches for drives, scans each one that is plugged in, and notifies when uv would break there.",
    )
    run.add_argument("--headless", action="store_true", help="no tray icon: notifications (or the log) only")
    run.add_argument("--config", metavar="FILE", help="settings file (default: the user's)")
    history = commands.add_parser("history", help="list applied fixes, newest first")
    history.add_argument("--json", action="store_true", help="print the journal entries as JSON")
    envs = commands.add_parser(
        "envs",
        help="environments kept on this computer for projects on drives",
        description="Lists them (drive, project, size, last seen); --remove deletes one, after asking.",
    )
    envs.add_argument("--json", action="store_true", help="print them as JSON")
    envs.add_argument("--remove", metavar="ID", help="delete an environment (or all of a drive's) by its id")
    envs.add_argument("-y", "--yes", action="store_true", help="with --remove: do not ask")
    env = commands.add_parser(
        "env",
        help="print the environment this computer keeps for a project on a drive (for editors)",
    )
    env.add_argument("path", nargs="?", default=".", metavar="PATH", help="a directory in the project")
    env.add_argument("--python", action="store_true", help="print its interpreter instead")
    autostart = commands.add_parser(
        "autostart",
        help="start the daemon at login, or stop doing so",
        description=(
            "Linux: an XDG autostart entry (or a systemd user unit), macOS: a LaunchAgent, Windows: the "
            "Run key. `status` says whether it is written, whether it will start at login (or the "
            "desktop's own settings switched it off) and whether the daemon runs now. Exit status: "
            "0 done, 1 the change could not be made, 2 usage error or no autostart on this system."
        ),
    )
    autostart.add_argument("action", choices=("enable", "disable", "status"), help="what to do")
    autostart.add_argument(
        "--systemd", action="store_true", help="Linux: a systemd user unit for graphical-session.target instead"
    )
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
    from .app.portable import follow

    follow(snapshot)  # a known drive at a new place: the shell integration follows it
    if args.json:
        json.dump(render.to_json(snapshot, findings), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render.to_text(snapshot, findings))
    return EXIT_FINDINGS if any(f.severity is Severity.ERROR for f in findings) else EXIT_OK


def _fixing(args: argparse.Namespace) -> int:
    from .fixing import commands

    if args.command == "history":
        print("\n".join(commands.history_lines(as_json=args.json)))
        return EXIT_OK
    if args.command == "undo":
        ask = (lambda _q: True) if args.yes else commands.ask_terminal
        outcome = commands.run_undo(args.entry, force=args.force, confirm=ask)
    else:
        from . import config, scan

        options = scan.Options.from_config(config.load(_path(args.config)), args.paths)
        confirm = (lambda _question: True) if args.yes else commands.ask_terminal
        outcome = commands.run_fix(
            args.fix_id, dict(os.environ), options, dry_run=args.dry_run, confirm=confirm, check=not args.no_verify
        )
    stream = sys.stdout if outcome.status == EXIT_OK else sys.stderr
    print("\n".join(outcome.lines), file=stream)
    return outcome.status


def _autostart(args: argparse.Namespace) -> int:
    from .app import autostart

    store = autostart.native()
    if store is None:
        print(f"uv-drive-guard: starting at login is not supported on {sys.platform}", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "status":
        from .app.desktop import running

        print("\n".join(autostart.status_lines(store, running())))
        return EXIT_OK
    try:
        if args.action == "disable":
            print(store.disable())
        elif args.systemd:
            done = autostart.enable_systemd(store)
            if done is None:
                print("uv-drive-guard: --systemd is for Linux only", file=sys.stderr)
                return EXIT_USAGE
            print(done)
        else:
            print(store.enable())
    except (OSError, ValueError) as exc:  # read-only folder, registry refused, a command we will not write
        print(f"uv-drive-guard: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _portable(args: argparse.Namespace) -> int:
    from . import config
    from .fixing import commands, portable_cmds

    roots = config.load()["scope"]["mount_roots"]
    if args.command == "env":
        status, text = portable_cmds.environment(args.path, python=args.python, mount_roots=roots)
        print(text, file=sys.stdout if status == EXIT_OK else sys.stderr)
        return status
    if args.remove:
        confirm = (lambda _question: True) if args.yes else _ask(commands.ask_terminal)
        status, lines = portable_cmds.remove(args.remove, confirm)
        print("\n".join(lines), file=sys.stdout if status == EXIT_OK else sys.stderr)
        return status
    print("\n".join(portable_cmds.lines(portable_cmds.kept(mount_roots=roots), as_json=args.json)))
    return EXIT_OK


def _ask(ask: Callable[[str], bool]) -> Callable[[str], bool]:
    def confirm(question: str) -> bool:
        print(question, end="")
        return ask("Delete them?")

    return confirm


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def main(argv: Sequence[str] | None = None) -> int:
    # Names on a drive need not be UTF-8; print them escaped rather than fail on them.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help/--version
        return int(exc.code or 0)
    if args.command == "run":
        from .app.main import run

        return run(headless=args.headless, verbose=args.verbose, settings_path=_path(args.config))
    logging.basicConfig(level=logging.WARNING - 10 * args.verbose, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "scan":
            return _scan(args)
        if args.command == "autostart":
            return _autostart(args)
        if args.command in ("envs", "env"):
            return _portable(args)
        return _fixing(args)
    except Exception as exc:  # the last line of defence: say it, exit 2, never a traceback
        from .config import ConfigError

        if isinstance(exc, ConfigError):
            print(f"uv-drive-guard: {exc}", file=sys.stderr)
        else:
            logging.getLogger(__name__).exception("internal error")
        return EXIT_USAGE
