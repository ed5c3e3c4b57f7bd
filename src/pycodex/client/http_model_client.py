"""`HttpModelClient`: what every pycodex model client shares, whatever its wire API.

The provider, the model settings, the API key (resolved at construction, so a missing key is a
configuration error before any turn starts), the retry policy, the lazily created and owned
`transport.HttpClient`, and building from a `Config`. Subclasses add `stream()`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Self

from pycodex._records import replace
from pycodex.client.http_retries import new_http_client
from pycodex.client.request import ModelSettings, RetryPolicy
from pycodex.client.transport import HttpClient

if TYPE_CHECKING:
    from pycodex.config import Config, ModelProviderInfo

DEFAULT_ORIGINATOR = "pycodex_exec"


class HttpModelClient:
    def __init__(
        self,
        provider: ModelProviderInfo,
        settings: ModelSettings,
        *,
        env: Mapping[str, str] | None = None,
        http: HttpClient | None = None,
        originator: str = DEFAULT_ORIGINATOR,
    ) -> None:
        self.provider = provider
        self.settings = settings
        self.originator = originator
        self._env = dict(os.environ if env is None else env)
        self._http = http
        self._owns_http = http is None
        self._api_key = provider.api_key(self._env)
        self.retry_policy = RetryPolicy(
            stream_max_retries=provider.stream_max_retries,
            base_delay_s=provider.retry_base_delay_ms / 1000,
        )

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        http: HttpClient | None = None,
        originator: str = "",
        settings: ModelSettings | None = None,
    ) -> Self:
        """`settings` (from the model catalog) wins over the raw config values."""
        settings = settings or ModelSettings(
            model=config.model,
            reasoning_effort=config.model_reasoning_effort,
            reasoning_summary=config.model_reasoning_summary,
            verbosity=config.model_verbosity,
        )
        return cls(
            config.model_provider,
            settings,
            env=config.env,
            http=http,
            originator=originator or DEFAULT_ORIGINATOR,
        )

    def with_model(self, model: str) -> Self:
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.settings = replace(self.settings, model=model)
        return clone

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    def _client(self) -> HttpClient:
        if self._http is None:
            self._http = new_http_client(self.provider)
        return self._http
