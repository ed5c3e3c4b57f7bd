"""The checks of `pycodex doctor`, each a small function returning one `Check`.

A check never raises: whatever goes wrong is its result, with the reason and what to do about
it. Nothing here prints; `doctor_command` decides how results are shown.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pycodex._records import dataclass, replace
from pycodex.client.factory import ModelListError, make_model_client, served_models
from pycodex.client.request import ModelSettings, Prompt, RequestContext
from pycodex.config import Config, ConfigError, load_dotenv
from pycodex.protocol.errors import ModelError
from pycodex.protocol.items import Message, user_message
from pycodex.protocol.policies import SandboxMode
from pycodex.protocol.response_events import OutputItemDone

Status = Literal["ok", "warn", "fail"]
NETWORK_TIMEOUT_S = 5.0
LIVE_TIMEOUT_S = 60.0
LIVE_PROMPT = "Reply with exactly OK."
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


def dotenv_check(path: Path) -> Check:
    if not path.is_file():
        return Check("dotenv", "ok", f"no {path} (optional)")
    try:
        values = load_dotenv(path)
    except ConfigError as err:
        return Check("dotenv", "fail", str(err), f"make {path} a readable UTF-8 file")
    return Check("dotenv", "ok", f"{path}: {len(values)} variable(s) loaded")


def provider_check(config: Config) -> Check:
    provider = config.model_provider
    detail = (
        f"'{config.model_provider_id}' ({provider.name}): wire API {provider.wire_api} "
        f"at {provider.base_url}, model {config.model}"
    )
    if provider.wire_api == "chat":
        detail += f", kind {provider.provider_kind or 'generic'}"
    return Check("provider", "ok", detail)


def api_key_check(config: Config) -> Check:
    provider = config.model_provider
    try:
        key = provider.api_key(config.env)
    except ConfigError as err:
        variable = provider.env_key or "the provider's env_key"
        fix = f"export {variable}=... or put it in {config.codex_home / '.env'}"
        return Check("api_key", "fail", str(err), fix)
    if key is None:
        return Check("api_key", "ok", "not needed: the provider names no env_key (key-less)")
    # Never the key itself: doctor output gets pasted into bug reports.
    return Check("api_key", "ok", f"set ({len(key)} characters)")


def proxy_check(env: Mapping[str, str], base_url: str) -> Check:
    found = {name: _proxy_value(env, name) for name in PROXY_VARIABLES}
    found = {name: value for name, value in found.items() if value}
    if not found:
        return Check("proxy", "ok", "no proxy variables set")
    detail = ", ".join(f"{name}={_redacted(value)}" for name, value in found.items())
    host = urlsplit(base_url).hostname or ""
    bypass = [h.strip() for h in found.get("NO_PROXY", "").split(",") if h.strip()]
    proxied = any(name != "NO_PROXY" for name in found)
    if proxied and host in _LOCAL_HOSTS and host not in bypass and "*" not in bypass:
        fix = f"add {host} to NO_PROXY so requests to the local server skip the proxy"
        return Check("proxy", "warn", detail + f"; {host} is not in NO_PROXY", fix)
    return Check("proxy", "ok", detail)


def uses_proxy(env: Mapping[str, str]) -> bool:
    return any(_proxy_value(env, name) for name in PROXY_VARIABLES if name != "NO_PROXY")


async def dns_check(base_url: str) -> Check:
    host, port = _host_port(base_url)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(NETWORK_TIMEOUT_S):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as err:
        reason = "timed out" if isinstance(err, TimeoutError) else str(err)
        fix = "check the host name in base_url, your DNS settings or network connection"
        return Check("dns", "fail", f"cannot resolve {host}: {reason}", fix)
    addresses = sorted({str(info[4][0]) for info in infos})
    return Check("dns", "ok", f"{host} → {', '.join(addresses[:3])}")


async def connect_check(base_url: str, *, proxied: bool) -> Check:
    """A TCP connection (and a TLS handshake for https) to the base URL's host."""
    host, port = _host_port(base_url)
    secure = urlsplit(base_url).scheme == "https"
    started = time.monotonic()
    try:
        async with asyncio.timeout(NETWORK_TIMEOUT_S):
            context = ssl.create_default_context() if secure else None
            _reader, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname=host if secure else None
            )
            writer.close()
            await writer.wait_closed()
    except ssl.SSLError as err:
        fix = "check the server certificate, or SSL_CERT_FILE for a private CA"
        return Check("connect", "fail", f"TLS handshake with {host}:{port} failed: {err}", fix)
    except (OSError, TimeoutError) as err:
        reason = "timed out" if isinstance(err, TimeoutError) else (err.strerror or str(err))
        detail = f"cannot connect to {host}:{port}: {reason}"
        if proxied:
            # The real requests go through the proxy, which may reach what we cannot.
            return Check("connect", "warn", detail + " (requests use the proxy)")
        return Check("connect", "fail", detail, _connect_fix(host))
    elapsed = (time.monotonic() - started) * 1000
    what = "TCP and TLS" if secure else "TCP"
    return Check("connect", "ok", f"{what} to {host}:{port} in {elapsed:.0f} ms")


async def live_check(config: Config, *, discover_model: bool) -> Check:
    """One real request through the same client a run would use."""
    try:
        config = await _doctor_config(config, discover_model)
        async with asyncio.timeout(LIVE_TIMEOUT_S):
            started = time.monotonic()
            text = await _ask(config)
    except (ModelError, ConfigError, ModelListError) as err:
        return Check("live", "fail", f"{type(err).__name__}: {err}", _live_fix(err, config))
    except TimeoutError:
        fix = "check that the server is not overloaded and the model is loaded"
        return Check("live", "fail", f"no answer within {LIVE_TIMEOUT_S:.0f} s", fix)
    elapsed = (time.monotonic() - started) * 1000
    detail = f"model {config.model} answered {text.strip()[:60]!r} in {elapsed:.0f} ms"
    if text.strip().strip(".").upper() != "OK":
        return Check(
            "live", "warn", detail + " (expected OK)", "the model may follow prompts badly"
        )
    return Check("live", "ok", detail)


def sandbox_check(config: Config) -> Check:
    from pycodex.execution import sandbox

    probe = getattr(sandbox, "sandbox_status", None)
    if probe is None:
        return Check("sandbox", "warn", "this build cannot report its sandbox mechanism")
    status = probe()
    mechanism = getattr(status, "mechanism", None)
    detail = str(getattr(status, "detail", ""))
    if mechanism is not None:
        return Check("sandbox", "ok", f"{mechanism}: {detail}")
    fix = str(getattr(sandbox, "INSTALL_HINT", "install bubblewrap"))
    if config.sandbox_mode is SandboxMode.DANGER_FULL_ACCESS:
        return Check("sandbox", "warn", f"unavailable ({detail}); not needed in full access", fix)
    mode = config.sandbox_mode.value
    return Check("sandbox", "fail", f"unavailable, but sandbox mode is {mode}: {detail}", fix)


async def served_model_config(config: Config) -> Config:
    """The config with the model the server lists, when its list can be read (else unchanged:
    the live check reports the problem)."""
    try:
        return await _doctor_config(config, True)
    except (ModelListError, ConfigError):
        return config


async def _doctor_config(config: Config, discover_model: bool) -> Config:
    # Fail fast: doctor is diagnosing, not waiting out a flaky server.
    provider = replace(
        config.model_provider,
        request_max_retries=min(config.model_provider.request_max_retries, 1),
        stream_idle_timeout_ms=min(config.model_provider.stream_idle_timeout_ms, 30_000),
    )
    config = replace(config, model_provider=provider)
    if discover_model:
        models = await served_models(provider, config.env)
        config = replace(config, model=config.model if config.model in models else models[0])
    return config


async def _ask(config: Config) -> str:
    settings = ModelSettings(model=config.model, reasoning_effort=config.model_reasoning_effort)
    client = make_model_client(config, settings=settings, originator="pycodex_doctor")
    ids = uuid.uuid4().hex
    context = RequestContext(ids, ids, "doctor", f"doctor-{ids}")
    texts: list[str] = []
    try:
        async for event in client.stream(Prompt(input=[user_message(LIVE_PROMPT)]), context):
            if isinstance(event, OutputItemDone) and isinstance(event.item, Message):
                texts.append(event.item.text)
    finally:
        await client.aclose()
    return "\n".join(texts)


def _live_fix(err: Exception, config: Config) -> str:
    message = str(err)
    if "401" in message or "403" in message:
        return "check the API key and that it may use this model"
    if isinstance(err, ModelListError):
        return "pass the model with -m MODEL"
    if "404" in message or "model" in message.lower():
        return f"check that the server serves model '{config.model}' (-m MODEL)"
    return "see the reason above; run again with --skip-live to check the rest"


def _connect_fix(host: str) -> str:
    if host in _LOCAL_HOSTS:
        return "start the local model server, or point base_url at where it listens"
    return "check base_url, firewalls and whether the server is up"


def _host_port(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    default = 443 if parts.scheme == "https" else 80
    return parts.hostname or "", parts.port or default


def _proxy_value(env: Mapping[str, str], name: str) -> str:
    return env.get(name) or env.get(name.lower()) or ""


def _redacted(value: str) -> str:
    """A proxy URL without its password (`http://user:secret@host` → `http://user:***@host`)."""
    parts = urlsplit(value)
    if parts.password:
        return value.replace(f":{parts.password}@", ":***@", 1)
    return value
