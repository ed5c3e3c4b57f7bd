"""`--oss`, `--local-provider NAME` and `--vllm-endpoint URL`: a local model server in one flag.

Each flag becomes ordinary `-c` overrides placed before the user's own, so the one precedence
rule of `config.resolve` still decides and a user's `-c model_providers.oss.base_url=...` wins:

    --oss                    model_provider = "oss" (built in: pycodex's own llama.cpp server
                             with the default local model, installed and started on first use)
    --local-provider ollama  the `oss` provider at that server's usual local address and kind
      (or lmstudio, vllm, llamacpp; any other NAME selects `[model_providers.NAME]`)
    --vllm-endpoint URL      a `vllm` provider: Chat Completions at URL, provider_kind "vllm"

Servers of your own serve whatever model they loaded, so without `-m` the model comes from
`GET {base_url}/models`: the configured model when the server lists it, else the first listed.
The managed server's model and address come from `cli/local_managed.py` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pycodex._records import dataclass, replace
from pycodex.cli.exec_args import ExecArgs
from pycodex.client.factory import served_models
from pycodex.client.transport import HttpClient
from pycodex.config import Config, ConfigError

OSS_ID = "oss"
VLLM_ID = "vllm"
VLLM_KEY_ENV = "VLLM_API_KEY"
OSS_BASE_URL_ENV = "CODEX_OSS_BASE_URL"


@dataclass(frozen=True, slots=True)
class LocalServer:
    base_url: str
    kind: str


LOCAL_SERVERS: Mapping[str, LocalServer] = {
    "ollama": LocalServer("http://localhost:11434/v1", "ollama"),
    "lmstudio": LocalServer("http://localhost:1234/v1", "generic"),
    "vllm": LocalServer("http://localhost:8000/v1", "vllm"),
    "llamacpp": LocalServer("http://localhost:8080/v1", "llamacpp"),
}


def local_overrides(args: ExecArgs, env: Mapping[str, str]) -> list[tuple[str, Any]]:
    """The `-c` pairs the local-server flags stand for (empty when none was given)."""
    if args.vllm_endpoint is not None:
        at = f"model_providers.{VLLM_ID}"
        pairs: list[tuple[str, Any]] = [
            ("model_provider", VLLM_ID),
            (f"{at}.base_url", vllm_base_url(args.vllm_endpoint)),
            (f"{at}.wire_api", "chat"),
            (f"{at}.provider_kind", "vllm"),
        ]
        if env.get(VLLM_KEY_ENV):
            pairs.append((f"{at}.env_key", VLLM_KEY_ENV))  # a server started with --api-key
        return pairs
    if args.local_provider is not None:
        server = LOCAL_SERVERS.get(_normalized(args.local_provider))
        if server is None:
            return [("model_provider", args.local_provider)]
        pairs = [
            ("model_provider", OSS_ID),
            (f"model_providers.{OSS_ID}.provider_kind", server.kind),
        ]
        if not env.get(OSS_BASE_URL_ENV):
            pairs.append((f"model_providers.{OSS_ID}.base_url", server.base_url))
        return pairs
    return [("model_provider", OSS_ID)] if args.oss else []


def vllm_base_url(url: str) -> str:
    """vLLM serves the OpenAI API under /v1; a bare `http://host:8000` gets it added."""
    url = url.rstrip("/")
    return url + "/v1" if urlsplit(url).path in ("", "/") else url


def wants_served_model(args: ExecArgs) -> bool:
    """Whether the model should be read from the local server (no `-m` given)."""
    local = args.oss or args.local_provider is not None or args.vllm_endpoint is not None
    return local and args.model is None


async def with_served_model(config: Config, http: HttpClient | None = None) -> Config:
    """`config` with a model the provider serves; raises `ModelListError` when none can be read."""
    models = await served_models(config.model_provider, config.env, http=http)
    chosen = config.model if config.model in models else models[0]
    return replace(config, model=chosen)


def check_api_key(config: Config) -> None:
    """Raise `ConfigError` when the provider's key is missing; with no provider configured at
    all, the message also says how to run without a key."""
    try:
        config.model_provider.api_key(config.env)
    except ConfigError as err:
        if config.model_provider_id != "openai" or _provider_configured(config):
            raise
        hint = "; or run offline with pycodex's local model: add --oss (see docs/local.md)"
        raise ConfigError(
            err.message + hint, file=err.file, key=err.key, origin=err.origin
        ) from None


def _provider_configured(config: Config) -> bool:
    """Whether the user named a provider or a base URL (then the offline hint would mislead)."""
    return config.model_provider.base_url != "https://api.openai.com/v1"


def _normalized(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())
