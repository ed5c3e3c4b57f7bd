"""`provider_kind` in `[model_providers.<id>]`: validated against the providers' kind table."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.config import Config, ConfigError, ConfigOverrides, parse_cli_override, resolve_config
from pycodex.providers.kinds import PROVIDER_KINDS


def resolve(home: Path, toml: str, cli: tuple[str, ...] = ()) -> Config:
    (home / "config.toml").write_text(toml)
    overrides = ConfigOverrides(cwd=home, cli_overrides=[parse_cli_override(raw) for raw in cli])
    return resolve_config(overrides, env={}, codex_home=home)


LOCAL = """model_provider = "local"
[model_providers.local]
base_url = "http://127.0.0.1:8080/v1"
wire_api = "chat"
"""


@pytest.mark.parametrize(("spelling", "kind"), [("vllm", "vllm"), ("llama.cpp", "llamacpp")])
def test_kind_is_read_and_normalized(tmp_path: Path, spelling: str, kind: str) -> None:
    config = resolve(tmp_path, LOCAL + f'provider_kind = "{spelling}"\n')
    assert config.model_provider.provider_kind == kind
    assert kind in PROVIDER_KINDS
    assert config.warnings == ()


def test_kind_defaults(tmp_path: Path) -> None:
    assert resolve(tmp_path, LOCAL).model_provider.provider_kind is None
    oss = resolve(tmp_path, 'model_provider = "oss"\n').model_provider
    assert oss.provider_kind == "llamacpp"  # pycodex's own llama.cpp server
    changed = resolve(
        tmp_path, 'model_provider = "oss"\n', ('model_providers.oss.provider_kind="vllm"',)
    )
    assert changed.model_provider.provider_kind == "vllm"


def test_unknown_kind_names_file_key_and_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, LOCAL + 'provider_kind = "tgi"\n')
    message = str(caught.value)
    assert "config.toml" in message and "model_providers.local.provider_kind" in message
    assert "unknown provider kind 'tgi'" in message and "vllm" in message
