"""Model providers: where requests go, how they authenticate, which wire protocol they speak.

Two providers are built in: `openai` (the default, Responses API) and `oss`, the local model
server pycodex installs and runs itself (llama.cpp's llama-server, Chat Completions; see
`pycodex.local`). Pointing `oss` anywhere else (`CODEX_OSS_BASE_URL`, a `base_url` in
`[model_providers.oss]`, `--local-provider`) makes it a plain provider for your own server.
`[model_providers.<id>]` tables add providers, and a table whose id is built in overrides that
provider's fields one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlencode

from pycodex._records import dataclass, field, replace
from pycodex.config.coerce import Reader, describe_value
from pycodex.config.errors import ConfigError

# A sibling in layer L1 holding pure data: validating against its table keeps one list of kinds.
from pycodex.providers.kinds import provider_kind

WireApi = Literal["responses", "chat", "messages"]
WIRE_APIS: tuple[WireApi, ...] = ("responses", "chat", "messages")

OPENAI_PROVIDER_ID = "openai"
OSS_PROVIDER_ID = "oss"
# The key the TypeScript SDK hands to `codex exec` for one run; it beats OPENAI_API_KEY.
CODEX_API_KEY_ENV = "CODEX_API_KEY"

PROVIDER_KEYS = frozenset(
    {
        "name",
        "base_url",
        "env_key",
        "env_key_instructions",
        "wire_api",
        "query_params",
        "http_headers",
        "env_http_headers",
        "request_max_retries",
        "stream_max_retries",
        "stream_idle_timeout_ms",
        "retry_base_delay_ms",
        "requires_openai_auth",
        "provider_kind",
    }
)
# Upstream keys with no effect here (websocket transport); accepted without a warning.
PROVIDER_KEYS_ACCEPTED = frozenset({"supports_websockets", "websocket_connect_timeout_ms"})
_INTEGER_FIELDS = (
    "request_max_retries",
    "stream_max_retries",
    "stream_idle_timeout_ms",
    "retry_base_delay_ms",
)
_MAP_FIELDS = ("query_params", "http_headers", "env_http_headers")


@dataclass(frozen=True)
class ModelProviderInfo:
    """One entry of the provider table, fully resolved."""

    id: str
    name: str
    base_url: str
    env_key: str | None = None
    env_key_instructions: str | None = None
    wire_api: WireApi = "responses"
    query_params: dict[str, str] = field(default_factory=dict)
    http_headers: dict[str, str] = field(default_factory=dict)
    env_http_headers: dict[str, str] = field(default_factory=dict)
    request_max_retries: int = 4
    stream_max_retries: int = 5
    stream_idle_timeout_ms: int = 300_000
    retry_base_delay_ms: int = 200
    requires_openai_auth: bool = False
    provider_kind: str | None = None
    """The kind of Chat Completions server (`pycodex.providers.kinds`); None means generic."""
    managed: bool = False
    """The server is pycodex's own local model server: the CLI installs and starts it, and sets
    `base_url` to where it listens. Only the built-in `oss` provider, while nobody moved it."""

    def api_key(self, env: Mapping[str, str]) -> str | None:
        """The key to send as a bearer token, or None for providers that need none.

        Raises `ConfigError` when the provider names an environment variable that is unset or empty.
        """
        names = self._key_variables()
        for name in names:
            value = env.get(name, "").strip()
            if value:
                return value
        if not names:
            return None
        wanted = " or ".join(names)
        message = f"provider '{self.id}' needs an API key in {wanted}, which is not set"
        if self.env_key_instructions:
            message += f" ({self.env_key_instructions})"
        raise ConfigError(message, key=f"model_providers.{self.id}.env_key")

    def headers(self, env: Mapping[str, str]) -> dict[str, str]:
        """Static headers plus those whose value comes from a set, non-empty env variable."""
        headers = dict(self.http_headers)
        for header, variable in self.env_http_headers.items():
            value = env.get(variable, "").strip()
            if value:
                headers[header] = value
        return headers

    def url_for(self, path: str) -> str:
        """`base_url` joined with `path`, plus the configured query parameters."""
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        if self.query_params:
            url += ("&" if "?" in url else "?") + urlencode(self.query_params)
        return url

    def _key_variables(self) -> tuple[str, ...]:
        names: list[str] = []
        if self.id == OPENAI_PROVIDER_ID:
            names.append(CODEX_API_KEY_ENV)
        if self.env_key and self.env_key not in names:
            names.append(self.env_key)
        if self.requires_openai_auth and not names:
            # Upstream's "standard OpenAI authentication": the keys the openai provider reads.
            names += [CODEX_API_KEY_ENV, OPENAI_PROVIDER.env_key or "OPENAI_API_KEY"]
        return tuple(names)


OPENAI_PROVIDER = ModelProviderInfo(
    id=OPENAI_PROVIDER_ID,
    name="OpenAI",
    base_url="https://api.openai.com/v1",
    env_key="OPENAI_API_KEY",
    env_key_instructions="create a key at https://platform.openai.com/api-keys",
    wire_api="responses",
    requires_openai_auth=True,
)
# The managed server's usual address; the CLI replaces it with the one the server really has.
MANAGED_LOCAL_BASE_URL = "http://127.0.0.1:11435/v1"
OSS_PROVIDER = ModelProviderInfo(
    id=OSS_PROVIDER_ID,
    name="pycodex local model",
    base_url=MANAGED_LOCAL_BASE_URL,
    wire_api="chat",
    provider_kind="llamacpp",
    managed=True,
)


def builtin_providers(env: Mapping[str, str]) -> dict[str, ModelProviderInfo]:
    """The built-in providers with their environment overrides applied."""
    openai = OPENAI_PROVIDER
    if env.get("OPENAI_BASE_URL"):
        openai = replace(openai, base_url=env["OPENAI_BASE_URL"])
    oss = OSS_PROVIDER
    if env.get("CODEX_OSS_BASE_URL"):
        oss = replace(oss, base_url=env["CODEX_OSS_BASE_URL"], managed=False)
    return {OPENAI_PROVIDER_ID: openai, OSS_PROVIDER_ID: oss}


def resolve_providers(reader: Reader, env: Mapping[str, str]) -> dict[str, ModelProviderInfo]:
    """Built-ins, then `[model_providers.*]` tables, then the top-level `openai_base_url`.

    `openai_base_url` is applied last so a per-run `-c openai_base_url=...` (what the SDK sends)
    always reaches the request, whatever the user's files say.
    """
    providers = builtin_providers(env)
    tables = reader.table(("model_providers",)) or {}
    for provider_id in tables:
        reader.table(("model_providers", provider_id))
        providers[provider_id] = _provider_from_table(
            reader, provider_id, providers.get(provider_id)
        )
    openai_base_url = reader.string(("openai_base_url",))
    if openai_base_url:
        _check_url(reader, ("openai_base_url",), openai_base_url)
        providers[OPENAI_PROVIDER_ID] = replace(
            providers[OPENAI_PROVIDER_ID], base_url=openai_base_url
        )
    return providers


def _provider_from_table(
    reader: Reader, provider_id: str, builtin: ModelProviderInfo | None
) -> ModelProviderInfo:
    at = ("model_providers", provider_id)
    explicit_url = reader.string((*at, "base_url"))
    if explicit_url is None and builtin is None:
        raise reader.error(at, "base_url is required for a provider that is not built in")
    base_url = explicit_url or (builtin.base_url if builtin else "")
    _check_url(reader, (*at, "base_url"), base_url)
    start = builtin or ModelProviderInfo(id=provider_id, name=provider_id, base_url=base_url)
    changes: dict[str, Any] = {"base_url": base_url}
    if explicit_url is not None:
        changes["managed"] = False  # a server of the user's own
    for key in ("name", "env_key", "env_key_instructions"):
        changes[key] = reader.string((*at, key))
    changes["wire_api"] = reader.choice((*at, "wire_api"), WIRE_APIS)
    for key in _MAP_FIELDS:
        changes[key] = reader.string_map((*at, key))
    for key in _INTEGER_FIELDS:
        changes[key] = reader.integer((*at, key))
    changes["requires_openai_auth"] = reader.boolean((*at, "requires_openai_auth"))
    changes["provider_kind"] = _provider_kind(reader, (*at, "provider_kind"))
    present = {key: value for key, value in changes.items() if value is not None}
    return replace(start, **present)


def _provider_kind(reader: Reader, path: tuple[str, ...]) -> str | None:
    """The canonical kind name (`llama.cpp` → `llamacpp`), or None when the key is absent."""
    name = reader.string(path)
    if name is None:
        return None
    try:
        return provider_kind(name).name
    except ValueError as err:
        raise reader.error(path, str(err)) from None


def _check_url(reader: Reader, path: tuple[str, ...], url: str) -> None:
    if not url.startswith(("http://", "https://")):
        message = f"expected an http:// or https:// URL, got {describe_value(url)}"
        raise reader.error(path, message)
