"""`/model` without a name: the models the provider offers, from `GET {base_url}/models`.

Any failure (no such endpoint, a timeout, an unexpected body) becomes a one-line explanation:
listing models is a convenience, never a reason to disturb the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycodex._records import dataclass
from pycodex.client.transport import HttpClient, Timeouts, TransportError
from pycodex.config import ConfigError, ModelProviderInfo

TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class ModelListing:
    models: tuple[str, ...] = ()
    error: str | None = None


async def list_models(
    provider: ModelProviderInfo,
    env: Mapping[str, str],
    *,
    http: HttpClient | None = None,
) -> ModelListing:
    """`http`: a client to use instead of a new one (which is closed afterwards)."""
    url = provider.url_for("/models")
    client = http or HttpClient(timeouts=Timeouts(connect=TIMEOUT_S, read=TIMEOUT_S))
    try:
        response = await client.get(url, headers=_headers(provider, env))
    except ConfigError as err:
        return ModelListing(error=str(err))
    except TransportError as err:
        return ModelListing(error=f"could not reach {url}: {type(err).__name__}")
    finally:
        if http is None:
            await client.aclose()
    if response.status_code >= 400:
        return ModelListing(error=f"{url} answered HTTP {response.status_code}")
    try:
        return ModelListing(models=_model_ids(response.json()))
    except ValueError:
        return ModelListing(error=f"{url} did not return a model list")


def _headers(provider: ModelProviderInfo, env: Mapping[str, str]) -> dict[str, str]:
    headers = {"accept": "application/json", **provider.headers(env)}
    key = provider.api_key(env)
    if key:
        headers["authorization"] = f"Bearer {key}"
    return headers


def _model_ids(body: Any) -> tuple[str, ...]:
    """OpenAI's `{"data": [{"id": ...}]}`, or upstream Codex's `{"models": [{"slug": ...}]}`."""
    if not isinstance(body, dict):
        raise ValueError("not an object")
    entries = body.get("data", body.get("models"))
    if not isinstance(entries, list):
        raise ValueError("no model list")
    ids = []
    for entry in entries:
        if isinstance(entry, dict):
            name = entry.get("id", entry.get("slug"))
            if isinstance(name, str) and name:
                ids.append(name)
    return tuple(sorted(dict.fromkeys(ids)))
