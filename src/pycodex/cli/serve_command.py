"""`pycodex serve`: a Responses API endpoint in front of a Chat Completions or Messages server.

    pycodex serve --downstream-url http://127.0.0.1:8000/v1 [--wire-api chat|messages]
                  [--provider-kind vllm|llamacpp|ollama|openai|generic] [--api-key-env NAME]
                  [--host 127.0.0.1] [--port N] [--auth-token-env NAME] [--workers N]
                  [--allowed-host NAME]... [--allowed-origin ORIGIN]...
                  [--store sqlite|memory] [--store-max-age-days D] [--store-max-mb MB]
                  [--trajectory-file PATH]
    pycodex serve --provider ID      (base_url, env_key and wire_api from config.toml)

Prints `pycodex serve: listening on http://HOST:PORT/v1 ...` on stderr once the socket is bound
(with `--port 0`, the port the system chose) and serves until SIGINT or SIGTERM. Exit code 2 for
usage and configuration errors (a non-loopback `--host` without `--auth-token-env` among them),
1 when the socket cannot be bound or a worker process died.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from pycodex.config import ConfigError, ConfigOverrides, find_codex_home, resolve_config
from pycodex.providers.kinds import ProviderKind, provider_kind
from pycodex.server import DownstreamTarget, ResponsesServer, ServeOptions
from pycodex.server.access import is_loopback_host
from pycodex.server.errors import ServeSetupError
from pycodex.server.store import DEFAULT_MAX_AGE_S, DEFAULT_MAX_BYTES, StoreLimits

DEFAULT_PORT = 8790


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _parser() -> _Parser:
    parser = _Parser(prog="pycodex serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--downstream-url", help="base URL of the model server, e.g. .../v1")
    parser.add_argument("--provider", help="a provider id from config.toml instead of a URL")
    parser.add_argument("--wire-api", choices=("chat", "messages"), help="default: chat")
    parser.add_argument("--provider-kind", help="vllm, llamacpp, ollama, openai or generic")
    parser.add_argument("--api-key-env", help="environment variable with the downstream key")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on; beyond loopback needs a token"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--auth-token-env", help="environment variable with the client token")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes sharing the port (default 1)"
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="accept this Host name besides IP addresses and localhost ('*': any)",
    )
    parser.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="accept browser requests from this origin besides this machine's ('*': any)",
    )
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument(
        "--store-max-age-days",
        type=float,
        default=DEFAULT_MAX_AGE_S / 86400,
        help="forget stored responses older than this (default 30)",
    )
    parser.add_argument(
        "--store-max-mb",
        type=float,
        default=DEFAULT_MAX_BYTES / 2**20,
        help="drop the oldest stored responses beyond this size (default 1024)",
    )
    parser.add_argument("--trajectory-file", type=Path)
    parser.add_argument("--keep-alive", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning"))
    return parser


def run_serve_command(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
        options = _options(args, os.environ)
    except (UsageError, ConfigError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    log_format = (
        "%(asctime)s %(message)s" if args.workers == 1 else "%(asctime)s [%(process)d] %(message)s"
    )
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr, format=log_format)
    try:
        if args.workers == 1:
            asyncio.run(_serve(options))
            return 0
        from pycodex.server.workers import serve_with_workers

        return serve_with_workers(
            options, args.workers, lambda url: _banner(options, url, args.workers)
        )
    except ServeSetupError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    except OSError as err:
        sys.stderr.write(f"error: cannot listen on {options.host}:{options.port}: {err}\n")
        return 1


def _options(args: argparse.Namespace, env: Mapping[str, str]) -> ServeOptions:
    if (args.downstream_url is None) == (args.provider is None):
        raise UsageError("give exactly one of --downstream-url and --provider")
    try:
        kind = provider_kind(args.provider_kind)
    except ValueError as err:
        raise UsageError(f"--provider-kind: {err}") from None
    if args.provider is not None:
        target = _target_from_config(args, env, kind)
    else:
        if not args.downstream_url.startswith(("http://", "https://")):
            raise UsageError("--downstream-url must be an http:// or https:// URL")
        target = DownstreamTarget(
            base_url=args.downstream_url,
            wire_api=args.wire_api or "chat",
            kind=kind,
            api_key=_env_value(env, args.api_key_env, "--api-key-env"),
        )
    if args.keep_alive < 0:
        raise UsageError("--keep-alive must not be negative")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.workers > 1 and args.store == "memory":
        raise UsageError(
            "--workers needs --store sqlite: the memory store lives inside one process, so a "
            "previous_response_id would be found only by the worker that stored it"
        )
    if args.store_max_age_days <= 0 or args.store_max_mb <= 0:
        raise UsageError("--store-max-age-days and --store-max-mb must be positive")
    auth_token = _env_value(env, args.auth_token_env, "--auth-token-env")
    if auth_token is None and not is_loopback_host(args.host):
        raise UsageError(
            f"--host {args.host} is not a loopback address: serving beyond this machine needs "
            "--auth-token-env NAME (clients must then send that token)"
        )
    limits = StoreLimits(
        max_age_s=args.store_max_age_days * 86400, max_bytes=int(args.store_max_mb * 2**20)
    )
    return ServeOptions(
        target=target,
        codex_home=find_codex_home(env),
        host=args.host,
        port=args.port,
        auth_token=auth_token,
        store=args.store,
        trajectory_file=args.trajectory_file,
        keep_alive_s=args.keep_alive,
        allowed_hosts=tuple(args.allowed_host),
        allowed_origins=tuple(args.allowed_origin),
        store_limits=limits,
    )


def _target_from_config(
    args: argparse.Namespace, env: Mapping[str, str], kind: ProviderKind
) -> DownstreamTarget:
    config = resolve_config(
        ConfigOverrides(cli_overrides=[("model_provider", args.provider)]), env=env
    )
    provider = config.model_provider
    wire_api = args.wire_api or provider.wire_api
    if wire_api == "responses":
        raise UsageError(
            f"provider '{provider.id}' already speaks the Responses API; pass --wire-api "
            "chat or messages if it also speaks one of those"
        )
    api_key = _env_value(env, args.api_key_env, "--api-key-env") or provider.api_key(config.env)
    assert wire_api in ("chat", "messages")
    return DownstreamTarget(
        base_url=provider.base_url,
        wire_api=wire_api,
        kind=kind,
        api_key=api_key,
        headers=provider.headers(config.env),
        query_params=dict(provider.query_params),
        idle_timeout_s=provider.stream_idle_timeout_ms / 1000,
    )


def _env_value(env: Mapping[str, str], name: str | None, flag: str) -> str | None:
    if name is None:
        return None
    value = env.get(name, "").strip()
    if not value:
        raise UsageError(f"{flag}: the environment variable {name} is not set")
    return value


async def _serve(options: ServeOptions) -> None:
    server = ResponsesServer(options)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    _banner(options, server.base_url, 1)
    try:
        await stop.wait()
    finally:
        await server.close()


def _banner(options: ServeOptions, base_url: str, workers: int) -> None:
    target = options.target
    processes = f", {workers} workers" if workers > 1 else ""
    sys.stderr.write(
        f"pycodex serve: listening on {base_url} "
        f"(downstream {target.wire_api} at {target.display_url()}, kind {target.kind.name}"
        f"{processes})\n"
    )
    sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(run_serve_command(sys.argv[1:]))
