"""Choosing the model client for a configuration, and asking a server which models it serves.

The provider table decides the wire API (`[model_providers.<id>] wire_api`), never the model
name: `responses` → `ResponsesModelClient`, `chat` → `ChatCompletionsModelClient`, `messages` →
`AnthropicMessagesModelClient`. All three implement `client.model_client.ModelClient`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, assert_never

from pycodex.client.model_client import ModelClient
from pycodex.client.request import ModelSettings
from pycodex.client.responses import ResponsesModelClient
from pycodex.client.transport import HttpClient, Timeouts, TransportError

if TYPE_CHECKING:
    from pycodex.client.translating_client import WarningSink
    from pycodex.config import Config, ModelProviderInfo

MODEL_LIST_TIMEOUT_S = 10.0


def make_model_client(
    config: Config,
    *,
    settings: ModelSettings | None,
    originator: str,
    http: HttpClient | None = None,
    on_warning: WarningSink | None = None,
) -> ModelClient:
    """The client for `config.model_provider`; raises `ConfigError` when its key is missing.

    `on_warning` hears, once each, what a translating client had to leave out of a request
    (hosted tools such as web_search that the downstream cannot run).
    """
    wire_api = config.model_provider.wire_api
    if wire_api == "responses":
        return ResponsesModelClient.from_config(
            config, http=http, originator=originator, settings=settings
        )
    # The translating clients (and the providers/ translators) load only when configured.
    if wire_api == "chat":
        from pycodex.client.chat import ChatCompletionsModelClient

        return ChatCompletionsModelClient.from_config(
            config, http=http, originator=originator, settings=settings, on_warning=on_warning
        )
    if wire_api == "messages":
        from pycodex.client.messages import AnthropicMessagesModelClient

        return AnthropicMessagesModelClient.from_config(
            config, http=http, originator=originator, settings=settings, on_warning=on_warning
        )
    assert_never(wire_api)


class ModelListError(Exception):
    """The provider's model list could not be read; `str()` is one line."""


async def served_models(
    provider: ModelProviderInfo,
    env: Mapping[str, str],
    *,
    http: HttpClient | None = None,
) -> list[str]:
    """The model ids `GET {base_url}/models` lists, in the server's order.

    Reads OpenAI's `{"data": [{"id": ...}]}` (vLLM, llama.cpp, Ollama, LM Studio) and Anthropic's
    `{"data": [{"id": ...}]}` alike. Raises `ModelListError`, or `ConfigError` for a missing key.
    """
    url = provider.url_for("/models")
    headers = {"accept": "application/json", **provider.headers(env)}
    key = provider.api_key(env)
    if key:
        headers["authorization"] = f"Bearer {key}"
    client = http or HttpClient(
        timeouts=Timeouts(connect=MODEL_LIST_TIMEOUT_S, read=MODEL_LIST_TIMEOUT_S)
    )
    try:
        response = await client.get(url, headers=headers)
    except TransportError as err:
        raise ModelListError(f"cannot reach {url}: {type(err).__name__}: {err}") from None
    finally:
        if http is None:
            await client.aclose()
    if response.status_code >= 400:
        raise ModelListError(f"{url} answered HTTP {response.status_code}")
    try:
        ids = _model_ids(response.json())
    except ValueError:
        raise ModelListError(f"{url} did not return a model list") from None
    if not ids:
        raise ModelListError(f"{url} lists no models")
    return ids


def _model_ids(body: Any) -> list[str]:
    entries = body.get("data", body.get("models")) if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise ValueError("no model list")
    ids: list[str] = []
    for entry in entries:
        name = entry.get("id", entry.get("name")) if isinstance(entry, dict) else None
        if isinstance(name, str) and name and name not in ids:
            ids.append(name)
    return ids
