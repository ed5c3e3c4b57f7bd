"""`/model` without a name: the models the provider offers, from `GET {base_url}/models`.

Any failure (no such endpoint, a timeout, an unexpected body) becomes a one-line explanation:
listing models is a convenience, never a reason to disturb the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

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
    transport: httpx.AsyncBaseTransport | None = None,
) -> ModelListing:
    url = provider.url_for("/models")
    try:
        headers = _headers(provider, env)
        async with httpx.AsyncClient(timeout=TIMEOUT_S, transport=transport) as client:
            response = await client.get(url, headers=headers)
    except ConfigError as err:
        return ModelListing(error=str(err))
    except httpx.HTTPError as err:
        return ModelListing(error=f"could not reach {url}: {type(err).__name__}")
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
