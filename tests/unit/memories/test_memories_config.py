"""`[features] memories` and `[memories]`: defaults, clamps, unknown keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.config import ConfigError, ConfigOverrides, resolve_config
from pycodex.config.memories import MemoriesConfig


def resolve(home: Path, text: str, *overrides: tuple[str, object]):  # type: ignore[no-untyped-def]
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(text, encoding="utf-8")
    return resolve_config(
        ConfigOverrides(cli_overrides=list(overrides)), env={"CODEX_HOME": str(home)}
    )


def test_memories_are_off_by_default_with_upstream_defaults(tmp_path: Path) -> None:
    config = resolve(tmp_path / "home", "")
    assert config.memories_enabled is False
    assert config.memories == MemoriesConfig()
    assert (config.memories.max_rollouts_per_startup, config.memories.max_rollout_age_days) == (
        2,
        10,
    )
    assert config.memories.min_rollout_idle_hours == 6
    assert config.memories.max_raw_memories_for_consolidation == 256
    assert config.memories.generate_memories and config.memories.use_memories


def test_keys_are_read_and_windows_clamped(tmp_path: Path) -> None:
    config = resolve(
        tmp_path / "home",
        "[features]\nmemories = true\n[memories]\nmin_rollout_idle_hours = 0\n"
        "max_rollout_age_days = 365\nextract_model = 'small'\nconsolidation_model = 'big'\n"
        "use_memories = false\ngenerate_memories = false\nmax_rollouts_per_startup = 7\n",
    )
    assert config.memories_enabled
    memories = config.memories
    assert (memories.min_rollout_idle_hours, memories.max_rollout_age_days) == (1, 90)
    assert (memories.extract_model, memories.consolidation_model) == ("small", "big")
    assert (memories.use_memories, memories.generate_memories) == (False, False)
    assert memories.max_rollouts_per_startup == 7
    clamped = resolve(tmp_path / "home", "[memories]\nmin_rollout_idle_hours = 100\n")
    assert clamped.memories.min_rollout_idle_hours == 48


def test_unknown_memories_keys_warn_and_upstream_only_ones_do_not(tmp_path: Path) -> None:
    config = resolve(
        tmp_path / "home", "[memories]\ndual_write = true\nmax_unused_days = 3\nsize = 1\n"
    )
    assert config.warnings == (f"{tmp_path}/home/config.toml: unknown key 'memories.size' ignored",)


def test_a_bad_value_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"memories\.max_rollouts_per_startup"):
        resolve(tmp_path / "home", "[memories]\nmax_rollouts_per_startup = -1\n")
    with pytest.raises(ConfigError, match=r"memories\.use_memories"):
        resolve(tmp_path / "home", "[memories]\nuse_memories = 'yes'\n")


def test_cli_overrides_reach_the_memories_table(tmp_path: Path) -> None:
    config = resolve(
        tmp_path / "home", "", ("memories.use_memories", False), ("features.memories", True)
    )
    assert config.memories_enabled and not config.memories.use_memories
