"""`uv-drive-guard`: the command line. Imports stay lazy: `scan` never loads the tray,
Pillow or the notification libraries (benchmarks/bench_scan.py measures start-up).

Whatever goes wrong ends in one line on stderr, never a traceback: Ctrl-C (exit 130), a pipe
closed early (quiet, as `ls | head`), output that cannot be written, settings that cannot be
used, a file the system refuses. Only a real bug says "internal error", with its traceback in
the log file it names.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from .fixing.outcome import Outcome

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_FAILED = 1  # `autostart`: the change could not be made
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C
EXIT_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `ls` in `ls | head`
NAME = "uv-drive-guard"


class OutputError(Exception):
    """Writing to stdout or stderr failed: a full disk, a closed pipe, a device that refuses."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error


class _Parser(argparse.ArgumentParser):
    """argparse drops a failed write of --help, --version or a usage error silently (exit 0 after
    `--version > /dev/full`); here it is an output error like any other."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if message:
            _say(message, err=(file or sys.stderr) is sys.stderr, end="")


def _config_option(parser: argparse.ArgumentParser) -> None:
    from .config import user_config_path
    from .core.paths import tilde

    where = tilde(str(user_config_path()), str(Path.home()))
    parser.add_argument("--config", metavar="FILE", help=f"settings file (default: {where})".replace("%", "%%"))


def _global_options(parser: argparse.ArgumentParser, *, after: bool) -> None:
    """-v and --version work before the command and after it (`-v run` and `run -v`)."""
    dest = "verbose_after" if after else "verbose"
    parser.add_argument("-v", "--verbose", action="count", default=0, dest=dest, help="log to the console")
    parser.add_argument("--version", action="version", version=f"{NAME} {__version__}")


def _command(commands: argparse._SubParsersAction[_Parser], name: str, **kw: Any) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, **kw)
    _global_options(parser, after=True)
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=NAME,
        description="Tells you how uv will behave on your external drives, and how to fix it.",
    )
    _global_options(parser, after=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    scan = _command(
        commands,
        "scan",
        help="check mounted drives (or PATHs) and say what uv will do there",
        description=(
            "Finds every uv directory on external drives, probes what each drive's filesystem "
            "can do, and says what uv will do there, with fixes that work. With PATHs: only "
            "those places, the drives that hold them, and those holding what uv uses there. "
            "Exit status: 0 no errors, 1 at least one error finding, 2 a usage error, settings "
            "that cannot be used, output that cannot be written or an internal error, 130 interrupted."
        ),
    )
    scan.add_argument("paths", nargs="*", default=[], metavar="PATH", help="a directory on a drive to check")
    scan.add_argument("--json", action="store_true", help="print one JSON document (docs/scan-json.md)")
    scan.add_argument("--no-probe", action="store_true", help="judge drives by filesystem name only")
    scan.add_argument(
        "--no-uv", action="store_true", help="do not ask uv where it keeps things, even with [uv] confirm = true"
    )
    _config_option(scan)
    explain = _command(
        commands,
        "explain",
        help="after uv failed: which drive (if any) is why, and the fix",
        description=(
            "With uv's output (piped in, `explain FILE`, or `explain -` then paste it and press "
            "Ctrl-D): says which of uv's messages a drive explains, on which drive and filesystem, "
            "why, and the fixes with their ids; and which are not about drives (resolution, "
            "network, interpreters, builds). With no output, in the folder where uv failed: judges "
            "every place a uv command run here would use. Exit status: 0 no drive explains a "
            "failure, 1 a drive does, 2 usage or settings errors, 3 messages no rule knows."
        ),
    )
    explain.add_argument(
        "file", nargs="?", metavar="FILE", help="uv's output saved to a file; - reads it from standard input"
    )
    explain.add_argument("--json", action="store_true", help="print one JSON document (docs/explain-json.md)")
    _config_option(explain)
    fix = _command(
        commands,
        "fix",
        help="apply one fix that scan offered (shows exactly what changes first)",
        description=(
            "Applies one fix from `scan`, by its id: every changed file is journaled with its "
            "previous bytes, then written atomically; the result is checked by scanning again "
            "and asking uv. `undo` puts everything back."
        ),
    )
    fix.add_argument("fix_id", metavar="ID", help="the fix id that scan printed")
    fix.add_argument("paths", nargs="*", default=[], metavar="PATH", help="the paths the scan was given, if any")
    fix.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
    fix.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    fix.add_argument("--no-verify", action="store_true", help="do not scan again or ask uv afterwards")
    _config_option(fix)
    undo = _command(commands, "undo", help="undo a fix (by default the last one), keeping later edits")
    undo.add_argument("entry", nargs="?", metavar="JOURNAL-ID", help="an id from `history`")
    undo.add_argument(
        "--force", action="store_true", help="put back the bytes from before the fix, discarding later edits"
    )
    undo.add_argument("-y", "--yes", action="store_true", help="with --force: do not ask before discarding")
    run = _command(
        commands,
        "run",
        help="the daemon: watch drives, tray icon, notifications with fix buttons",
        description="Watches for drives, scans each one that is plugged in, and notifies when uv would break there.",
    )
    run.add_argument("--headless", action="store_true", help="no tray icon: notifications (or the log) only")
    _config_option(run)
    rules = _command(
        commands,
        "rules",
        help="what each finding's code (UVD...) means",
        description=(
            "Every rule: its code, when it is raised, its severities, the uv behaviour it rests on "
            "(a row of docs/uv-facts.md, a uv issue) and the fixes it offers. With CODEs: those alone."
        ),
    )
    rules.add_argument("codes", nargs="*", metavar="CODE", help="a code a scan or notice showed, e.g. UVD005")
    rules.add_argument("--markdown", action="store_true", help="print one Markdown table")
    history = _command(commands, "history", help="list applied fixes, newest first")
    history.add_argument("--json", action="store_true", help="print the journal entries as JSON")
    envs = _command(
        commands,
        "envs",
        help="environments kept on this computer for projects on drives",
        description="Lists them (drive, project, size, last seen); --remove deletes one, after asking.",
    )
    envs.add_argument("--json", action="store_true", help="print them as JSON")
    envs.add_argument("--remove", metavar="ID", help="delete an environment (or all of a drive's) by its id")
    envs.add_argument("-y", "--yes", action="store_true", help="with --remove: do not ask")
    _config_option(envs)
    env = _command(
        commands,
        "env",
        help="print the environment this computer keeps for a project on a drive (for editors)",
    )
    env.add_argument("path", nargs="?", default=".", metavar="PATH", help="a directory in the project")
    env.add_argument("--python", action="store_true", help="print its interpreter instead")
    _config_option(env)
    autostart = _command(
        commands,
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


# --- the commands ------------------------------------------------------------------------------


def _scan(args: argparse.Namespace) -> int:
    from . import scan
    from .core import render
    from .core.model import Severity

    options = scan.Options.from_config(_settings(args), args.paths)
    if args.no_probe:
        options = scan.replace(options, probe=False)
    if args.no_uv:
        options = scan.replace(options, confirm_with_uv=False)
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        _say(f"{NAME}: no such path: {', '.join(missing)}", err=True)
        return EXIT_USAGE
    snapshot, findings = scan.run(dict(os.environ), options)
    from .app.portable import follow

    follow(snapshot, findings)  # a known drive at a new place, what the hint says: the shell integration follows
    if args.json:
        _say(json.dumps(render.to_json(snapshot, findings), indent=2))
    else:
        _say(render.to_text(snapshot, findings))
    return EXIT_FINDINGS if any(f.severity is Severity.ERROR for f in findings) else EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    from . import explain, scan

    options = scan.Options.from_config(_settings(args))
    cwd = os.getcwd()
    text = _uv_output(args.file)
    if text is not None and not text.strip() and args.file is None:
        text = None  # nothing piped in (a script's empty stdin): explain this folder
    env = dict(os.environ)
    report = explain.here(env, options, cwd) if text is None else explain.from_output(text, env, options, cwd)
    if args.json:
        _say(json.dumps(explain.to_json(report), indent=2))
    else:
        _say(explain.to_text(report))
        if text is None and sys.stdin is not None and sys.stdin.isatty():
            _say(
                "(To explain what uv printed: `uv sync 2>&1 | uv-drive-guard explain`, or `explain -`, paste, Ctrl-D.)"
            )
    return explain.exit_status(report)


def _uv_output(file: str | None) -> str | None:
    """uv's output: FILE, `-` or piped standard input; None when there is none (a terminal)."""
    from .explain import MAX_OUTPUT

    if file is not None and file != "-":
        with open(file, encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_OUTPUT)
    stdin = sys.stdin
    if stdin is None or (file is None and stdin.isatty()):
        return None
    if file == "-" and stdin.isatty():
        _say("Paste uv's output, then press Ctrl-D (Ctrl-Z and Enter on Windows):", err=True)
    return stdin.read(MAX_OUTPUT)


def _history(args: argparse.Namespace) -> int:
    from .fixing import workflow

    _say("\n".join(workflow.history_lines(as_json=args.json)))
    return EXIT_OK


def _undo(args: argparse.Namespace) -> int:
    from .fixing import workflow

    ask = (lambda _question: True) if args.yes else _ask_terminal(workflow.ask_terminal)
    return _said(workflow.run_undo(args.entry, force=args.force, confirm=ask, say=_waiting))


def _fix(args: argparse.Namespace) -> int:
    from . import scan
    from .fixing import workflow

    ask = (lambda _question: True) if args.yes else _ask_terminal(workflow.ask_terminal)
    options = scan.Options.from_config(_settings(args), args.paths)
    return _said(
        workflow.run_fix(
            args.fix_id,
            dict(os.environ),
            options,
            dry_run=args.dry_run,
            confirm=ask,
            check=not args.no_verify,
            say=_waiting,
        )
    )


def _said(outcome: Outcome) -> int:
    """A fix's or an undo's outcome, as it reads, on stdout (stderr when it failed)."""
    from .core.render import visible

    _say(visible("\n".join(outcome.lines)), err=outcome.status != EXIT_OK)
    return outcome.status


def _waiting(line: str) -> None:
    """What `fix` and `undo` say while they wait for another writer: on stderr, at once."""
    _say(f"{NAME}: {line}", err=True)


def _rules(args: argparse.Namespace) -> int:
    from .core import rules

    codes = [code.upper() for code in args.codes]
    unknown = [code for code in codes if code not in rules.RULES]
    if unknown:
        _say(f"{NAME}: no rule {', '.join(unknown)}; `{NAME} rules` lists them", err=True)
        return EXIT_USAGE
    chosen = tuple(rules.RULES[code] for code in codes) or rules.CATALOGUE
    if args.markdown and codes:
        _say(f"{NAME}: --markdown prints the whole table; leave out the codes", err=True)
        return EXIT_USAGE
    _say(rules.markdown() if args.markdown else rules.listing(chosen), end="")
    return 0


def _autostart(args: argparse.Namespace) -> int:
    from .app import autostart

    store = autostart.native()
    if store is None:
        _say(f"{NAME}: starting at login is not supported on {sys.platform}", err=True)
        return EXIT_USAGE
    if args.action == "status":
        from .app.desktop import running

        _say("\n".join(autostart.status_lines(store, running())))
        return EXIT_OK
    try:
        if args.action == "disable":
            _say(store.disable())
        elif args.systemd:
            done = autostart.enable_systemd(store)
            if done is None:
                _say(f"{NAME}: --systemd is for Linux only", err=True)
                return EXIT_USAGE
            _say(done)
        else:
            _say(store.enable())
    except (OSError, ValueError) as exc:  # read-only folder, registry refused, a command we will not write
        _say(f"{NAME}: {exc}", err=True)
        return EXIT_FAILED
    return EXIT_OK


def _env(args: argparse.Namespace) -> int:
    from .fixing.portable import cmds as portable_cmds

    roots = _settings(args)["scope"]["mount_roots"]
    status, text = portable_cmds.environment(args.path, python=args.python, mount_roots=roots)
    _say(text, err=status != EXIT_OK)
    return status


def _envs(args: argparse.Namespace) -> int:
    from .fixing import workflow
    from .fixing.portable import cmds as portable_cmds

    roots = _settings(args)["scope"]["mount_roots"]
    if args.remove:
        confirm = (lambda _question: True) if args.yes else _ask(_ask_terminal(workflow.ask_terminal))
        status, lines = portable_cmds.remove(args.remove, confirm)
        _say("\n".join(lines), err=status != EXIT_OK)
        return status
    _say("\n".join(portable_cmds.lines(portable_cmds.kept(mount_roots=roots), as_json=args.json)))
    return EXIT_OK


def _ask(ask: Callable[[str], bool]) -> Callable[[str], bool]:
    def confirm(question: str) -> bool:
        _say(question, end="")
        return ask("Delete them?")

    return confirm


def _ask_terminal(ask: Callable[[str], bool]) -> Callable[[str], bool]:
    """End of input (Ctrl-D) at the question is a no, not an error."""

    def confirm(question: str) -> bool:
        try:
            return ask(question)
        except EOFError:
            _say("")
            return False

    return confirm


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The defaults overlaid by the user's file, or by the one --config names (which must be there)."""
    from . import config

    return config.load(_path(args.config), required=args.config is not None)


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace, verbose: int) -> int:
    if args.command == "run":
        from .app.main import run

        status = run(headless=args.headless, verbose=verbose, settings_path=_path(args.config))
        if status == EXIT_INTERRUPTED:
            _say(f"{NAME}: interrupted", err=True)
        return status
    logging.basicConfig(level=logging.WARNING - 10 * verbose, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    return COMMANDS[args.command](args)


# Each subcommand but `run` (the daemon, which sets up its own logging): its handler.
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "scan": _scan,
    "explain": _explain,
    "fix": _fix,
    "undo": _undo,
    "history": _history,
    "rules": _rules,
    "envs": _envs,
    "env": _env,
    "autostart": _autostart,
}


# --- one line for whatever goes wrong ---------------------------------------------------------


def _say(text: str, *, err: bool = False, end: str = "\n") -> None:
    """Write to stdout (or stderr); a stream that refuses raises OutputError."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # pythonw: no console at all
        return
    try:
        stream.write(text + end)
        if err:
            stream.flush()
    except OSError as exc:
        raise OutputError(exc) from exc


def _flush() -> None:
    """What is still buffered goes out now, inside main: not as an error at the interpreter's exit."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError as exc:
            raise OutputError(exc) from exc
        except ValueError:  # closed
            continue


def _complain(text: str) -> None:
    """The one line; when even stderr refuses, there is nowhere left to say it."""
    try:
        _say(f"{NAME}: {text}", err=True)
    except OutputError:
        _discard(sys.stderr)


def _discard(stream: object) -> None:
    """Point a stream that failed at /dev/null, so the interpreter's last flush does not complain."""
    try:
        fileno = stream.fileno()  # type: ignore[attr-defined]
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fileno)
        os.close(null)
    except (AttributeError, OSError, ValueError):
        pass


def _quit_on_second_interrupt() -> None:
    """After Ctrl-C the drives' bounded threads finish their clean-up (a probe removes its scratch
    directory); a second Ctrl-C does not wait for them."""
    with contextlib.suppress(ValueError):  # not the main thread (main() called from a thread)
        signal.signal(signal.SIGINT, lambda *_: os._exit(EXIT_INTERRUPTED))


def _internal_error(exc: BaseException, argv: Sequence[str], verbose: int) -> None:
    """A real bug: its traceback goes to the log file (and with -v to the console), one line here."""
    import traceback

    from .app.desktop import log_file
    from .core.paths import tilde

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    where = log_file()
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        with where.open("a", encoding="utf-8") as log:
            log.write(f"{_now()} ERROR {__name__}: internal error in `{' '.join(argv)}`\n{text}")
        said = f"details in {tilde(str(where), str(Path.home()))}"
    except OSError as error:
        said = f"the details could not be written to {where}: {error.strerror}"
    if verbose:
        _complain(text.rstrip())
    _complain(f"internal error ({type(exc).__name__}: {exc}); {said}")


def _now() -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S")


def _os_error(exc: OSError) -> str:
    """`PATH: why`, as the system says it."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def main(argv: Sequence[str] | None = None) -> int:
    # Names on a drive need not be UTF-8; print them escaped rather than fail on them.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    verbose = 0
    try:
        parser = _parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help/--version
            _flush()
            return int(exc.code or 0)
        verbose = args.verbose + getattr(args, "verbose_after", 0)
        status = _dispatch(parser, args, verbose)
        _flush()
        return status
    except KeyboardInterrupt:
        _quit_on_second_interrupt()
        _complain("interrupted")
        return EXIT_INTERRUPTED
    except OutputError as exc:
        _discard(sys.stdout)
        if isinstance(exc.error, BrokenPipeError):
            return EXIT_PIPE  # the reader has all it wanted
        _complain(f"cannot write the output: {exc}")
        return EXIT_USAGE
    except Exception as exc:  # the last line of defence: one line, exit 2, never a traceback
        from .config import ConfigError

        if isinstance(exc, ConfigError):
            _complain(str(exc))
        elif isinstance(exc, OSError):
            _complain(_os_error(exc))
        else:
            _internal_error(exc, sys.argv[1:] if argv is None else argv, verbose)
        return EXIT_USAGE
