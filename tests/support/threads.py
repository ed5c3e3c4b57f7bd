"""A `Config` for in-process thread-manager tests, aimed at the fake model server."""

from __future__ import annotations

from pathlib import Path

from pycodex.config import Config
from pycodex.config.agents import AgentsConfig
from pycodex.protocol.policies import AskForApproval
from support.clients import fake_provider
from support.fake_server import FakeModelServer


def manager_config(server: FakeModelServer, home: Path, **agents: int) -> Config:
    """Ephemeral (no session files), approval `never`, the model unknown to the catalog."""
    return Config(
        codex_home=home,
        cwd=home,
        model="test-model",
        model_provider_id="fake",
        model_provider=fake_provider(server),
        approval_policy=AskForApproval.NEVER,
        ephemeral=True,
        agents=AgentsConfig(**agents),
        env={"FAKE_KEY": "k"},
    )
