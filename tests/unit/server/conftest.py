"""Fixtures of the server tests: a running `pycodex serve` (memory store) and clients for it.

A test module that needs another server (the SQLite store, an auth token) defines its own `serve`,
which the client fixtures then use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import openai
import pytest

from support.fake_server import FakeModelServer
from support.serve import ServeHandle, running_serve


@pytest.fixture
def serve(fake_server: FakeModelServer, tmp_path: Path) -> Iterator[ServeHandle]:
    with running_serve(fake_server, tmp_path, store="memory") as handle:
        yield handle


@pytest.fixture
async def client(serve: ServeHandle) -> AsyncIterator[openai.AsyncOpenAI]:
    """The openai SDK, without retries, pointed at the server."""
    async with openai.AsyncOpenAI(base_url=serve.base_url, api_key="k", max_retries=0) as opened:
        yield opened


@pytest.fixture
async def http(serve: ServeHandle) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client on the server's origin (paths start with /v1)."""
    async with httpx.AsyncClient(base_url=serve.origin) as opened:
        yield opened
