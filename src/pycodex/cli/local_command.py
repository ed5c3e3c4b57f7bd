"""`pycodex local install | status | start | stop | remove`: the local model and its server.

    install   fetch the model and build llama-server into the cache (progress on stderr)
    status    what is installed and whether the server runs (`--json` for scripts)
    start     install if needed, start the server in the background, print its URL
    stop      stop the server (it also stops by itself after an idle timeout)
    remove    stop the server and delete everything `install` put in the cache

Exit codes: 0 done, 1 the step failed (one `error:` line says why), 2 a bad command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, NoReturn

from pycodex.cli.local_progress import TerminalProgress
from pycodex.local.errors import LocalModelError
from pycodex.local.install import install, install_status, remove
from pycodex.local.manifest import Manifest, load_manifest
from pycodex.local.paths import LocalPaths
from pycodex.local.server import ServerSettings, ensure_server, running_server, stop_server


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see `pycodex local --help`)")


def _parser() -> _Parser:
    p = _Parser(prog="pycodex local", description="Manage pycodex's local model server.")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("install", help="fetch the model and build llama-server")
    status = commands.add_parser("status", help="what is installed and running")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    start = commands.add_parser("start", help="start the server in the background")
    start.add_argument("--port", type=int, help="port to listen on (default 11435, else free)")
    start.add_argument("--ctx-size", type=int, help="context window in tokens")
    start.add_argument("--threads", type=int, help="threads (default: measured)")
    start.add_argument("--idle-timeout", type=float, help="seconds without use before it stops")
    commands.add_parser("stop", help="stop the server")
    commands.add_parser("remove", help="stop the server and delete the model and the build")
    return p


def run_local_command(argv: list[str]) -> int:
    try:
        ns = _parser().parse_args(argv)
        paths = LocalPaths.from_env(os.environ)
        manifest = load_manifest(os.environ)
        settings = _settings(ns) if ns.command == "start" else None
    except _UsageError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    except LocalModelError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    try:
        return _run(ns, paths, manifest, settings)
    except LocalModelError as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted: run the same command again to continue\n")
        return 130


def _run(
    ns: argparse.Namespace, paths: LocalPaths, manifest: Manifest, settings: ServerSettings | None
) -> int:
    if ns.command == "install":
        status = install(paths, manifest, progress(), os.environ)
        sys.stdout.write(f"model: {status.model_file}\nserver: {status.binary}\n")
        return 0
    if ns.command == "status":
        report = status_report(paths, manifest)
        sys.stdout.write(json.dumps(report, indent=1) + "\n" if ns.json else _human(report))
        return 0
    if ns.command == "start":
        assert settings is not None
        if not install_status(paths, manifest).ready:
            install(paths, manifest, progress(), os.environ)
        state = ensure_server(paths, manifest, settings, os.environ)
        sys.stdout.write(f"{state.base_url}\n")
        return 0
    if ns.command == "stop":
        sys.stdout.write("stopped\n" if stop_server(paths) else "not running\n")
        return 0
    stop_server(paths)
    remove(paths, manifest)
    sys.stdout.write(f"removed the local model and llama-server from {paths.root}\n")
    return 0


def progress() -> TerminalProgress:
    return TerminalProgress(sys.stderr, on_terminal=sys.stderr.isatty())


def status_report(paths: LocalPaths, manifest: Manifest) -> dict[str, Any]:
    status = install_status(paths, manifest)
    state = running_server(paths)
    server: dict[str, Any] = {"running": state is not None}
    if state is not None:
        server.update(
            base_url=state.base_url,
            pid=state.server_pid,
            model=state.model_id,
            n_ctx=state.n_ctx,
            threads=state.threads,
        )
    return {
        "cache_dir": str(paths.root),
        "model": {
            "id": manifest.model.id,
            "file": str(status.model_file),
            "installed": status.model_ready,
            "parts_downloaded": status.parts_downloaded,
            "parts": manifest.model.parts,
        },
        "llama_server": {
            "binary": str(status.binary),
            "built": status.binary_ready,
            "instruction_sets": list(status.build_features) if status.build_features else None,
        },
        "server": server,
        "log": str(paths.server_log),
    }


def _human(report: dict[str, Any]) -> str:
    model, binary, server = report["model"], report["llama_server"], report["server"]
    if model["installed"]:
        model_line = f"installed ({model['file']})"
    else:
        fetched = f"{model['parts_downloaded']}/{model['parts']}"
        model_line = f"not installed ({fetched} parts downloaded)"
    binary_line = f"built ({binary['binary']})" if binary["built"] else "not built"
    if server["running"]:
        server_line = (
            f"running at {server['base_url']} (pid {server['pid']}, context {server['n_ctx']} "
            f"tokens, {server['threads']} thread(s))"
        )
    else:
        server_line = "not running (starts on first use of `pycodex exec --oss`)"
    return (
        f"cache:        {report['cache_dir']}\n"
        f"model:        {model['id']}: {model_line}\n"
        f"llama-server: {binary_line}\n"
        f"server:       {server_line}\n"
    )


def _settings(ns: argparse.Namespace) -> ServerSettings:
    base = ServerSettings.from_env(os.environ)
    for name in ("port", "ctx_size", "threads", "idle_timeout"):
        value = getattr(ns, name)
        if value is not None and value <= 0 and name != "port":
            raise _UsageError(f"--{name.replace('_', '-')} must be positive")
    return ServerSettings(
        port=ns.port if ns.port is not None else base.port,
        ctx_size=ns.ctx_size or base.ctx_size,
        idle_timeout_s=ns.idle_timeout or base.idle_timeout_s,
        threads=ns.threads or base.threads,
    )
