"""Fixtures shared by the end-to-end tests: a CODEX_HOME aimed at the fake server, a workdir."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.cli import write_config
from support.fake_server import FakeModelServer


@pytest.fixture
def home(tmp_path: Path, fake_server: FakeModelServer) -> Path:
    """`$CODEX_HOME` with a config.toml whose `fake` provider is the fake server."""
    codex_home = tmp_path / "codex-home"
    write_config(codex_home, fake_server)
    return codex_home


@pytest.fixture
def work(tmp_path: Path) -> Path:
    directory = tmp_path / "work"
    directory.mkdir()
    return directory
