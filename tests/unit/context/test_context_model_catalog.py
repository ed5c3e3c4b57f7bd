"""The model catalog: longest-prefix lookup, config overrides, user catalog overlays."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from context_fixtures import FixtureRepo, write

from pycodex.context.model_catalog import load_packaged_catalog, resolve_model_info


def test_packaged_catalog_is_valid() -> None:
    catalog, warnings = load_packaged_catalog()
    assert warnings == []
    assert {"gpt-5", "gpt-5-codex", "gpt-4.1", "o3", "o4-mini", "gpt-oss", "qwen"} <= set(
        catalog.entries
    )


def test_codex_model_refines_the_gpt5_entry(fixture_repo: FixtureRepo) -> None:
    info, warnings = resolve_model_info(fixture_repo.config(model="gpt-5.1-codex-max"))
    assert warnings == []
    assert info.known
    assert (info.context_window, info.auto_compact_token_limit) == (272000, 244800)
    assert info.effective_context_window == 258400
    assert (info.reasoning_effort, info.reasoning_summary) == ("medium", "auto")
    assert not info.supports_verbosity
    assert (info.shell_tool, info.apply_patch, info.parallel_tool_calls) == (
        "exec_command",
        "freeform",
        True,
    )


def test_plain_gpt5_supports_verbosity(fixture_repo: FixtureRepo) -> None:
    info, _ = resolve_model_info(fixture_repo.config(model="gpt-5.1", model_verbosity="low"))
    assert info.supports_verbosity and info.verbosity == "low"


def test_non_reasoning_models(fixture_repo: FixtureRepo) -> None:
    info, warnings = resolve_model_info(fixture_repo.config(model="gpt-4.1-mini"))
    assert warnings == []
    assert info.context_window == 1047576
    assert (info.reasoning_effort, info.reasoning_summary) == (None, None)
    assert (info.shell_tool, info.apply_patch) == ("shell_command", "function")


def test_o_series_reasons(fixture_repo: FixtureRepo) -> None:
    for slug in ("o3", "o4-mini"):
        info, _ = resolve_model_info(fixture_repo.config(model=slug))
        assert (info.context_window, info.reasoning_effort) == (200000, "medium")


def test_open_model_slugs_match_after_an_organisation_prefix(fixture_repo: FixtureRepo) -> None:
    info, warnings = resolve_model_info(fixture_repo.config(model="Qwen/Qwen3-Coder-30B-A3B"))
    assert warnings == []
    assert info.context_window == 262144
    assert info.instructions_file == "open_model_instructions.md"
    assert not info.parallel_tool_calls
    small, _ = resolve_model_info(fixture_repo.config(model="qwen2.5-coder:7b"))
    assert (small.context_window, small.tool_output_token_limit) == (32768, 4000)
    oss, _ = resolve_model_info(fixture_repo.config(model="gpt-oss-120b"))
    assert (oss.supports_reasoning, oss.reasoning_summary) == (True, "none")


def test_unknown_model_gets_defaults_and_one_warning(fixture_repo: FixtureRepo) -> None:
    info, warnings = resolve_model_info(fixture_repo.config(model="mystery-9"))
    assert not info.known
    assert info.context_window == 128000
    assert (info.shell_tool, info.apply_patch, info.parallel_tool_calls) == (
        "shell_command",
        "function",
        False,
    )
    assert len(warnings) == 1
    assert "'mystery-9' is not in the model catalog" in warnings[0]


def test_config_keys_override_the_catalog(fixture_repo: FixtureRepo) -> None:
    config = fixture_repo.config(
        model="gpt-5-codex",
        model_context_window=100000,
        tool_output_token_limit=2500,
        model_reasoning_effort="high",
        model_reasoning_summary="detailed",
    )
    info, warnings = resolve_model_info(config)
    assert warnings == []
    assert info.context_window == 100000
    assert info.auto_compact_token_limit == 90000  # follows the smaller window
    assert info.tool_output_token_limit == 2500
    assert (info.reasoning_effort, info.reasoning_summary) == ("high", "detailed")
    explicit, _ = resolve_model_info(replace(config, model_auto_compact_token_limit=5000))
    assert explicit.auto_compact_token_limit == 5000


def test_settings_a_known_model_rejects_are_dropped_with_a_warning(
    fixture_repo: FixtureRepo,
) -> None:
    config = fixture_repo.config(model="gpt-4.1", model_reasoning_effort="high")
    info, warnings = resolve_model_info(config)
    assert info.reasoning_effort is None
    assert warnings == ["model_reasoning_effort='high' ignored: gpt-4.1 does not support reasoning"]
    info, warnings = resolve_model_info(fixture_repo.config(model_verbosity="high"))
    assert info.verbosity is None
    assert warnings == ["model_verbosity='high' ignored: gpt-5-codex does not support it"]


def test_unknown_model_keeps_explicit_reasoning_settings(fixture_repo: FixtureRepo) -> None:
    info, _ = resolve_model_info(
        fixture_repo.config(model="mystery-9", model_reasoning_effort="low")
    )
    assert info.reasoning_effort == "low"


def test_user_catalog_overlays_and_reports_bad_values(fixture_repo: FixtureRepo) -> None:
    catalog = {
        "models": [
            {"prefix": "gpt-5-codex", "context_window": "big", "tool_output_token_limit": 7000},
            {
                "prefix": "qwen3-coder-mine",
                "parallel_tool_calls": True,
                "instructions_file": "p.md",
            },
            {"context_window": 5},
        ]
    }
    path = write(fixture_repo.codex_home / "models.json", json.dumps(catalog))
    info, warnings = resolve_model_info(fixture_repo.config())
    assert info.context_window == 272000  # the bad value is ignored, the packaged one stays
    assert info.tool_output_token_limit == 7000
    assert warnings == [
        f"{path}: models[0] (gpt-5-codex).context_window: expected a positive integer, "
        'got "big"; ignored',
        f"{path}: models[2]: missing string key 'prefix'; entry ignored",
    ]
    mine, _ = resolve_model_info(fixture_repo.config(model="qwen3-coder-mine-7b"))
    assert mine.context_window == 262144  # inherited from the qwen3-coder entry
    assert mine.parallel_tool_calls
    assert mine.instructions_file == str(fixture_repo.codex_home / "p.md")


def test_user_catalog_that_is_not_json_is_a_warning(fixture_repo: FixtureRepo) -> None:
    path = write(fixture_repo.codex_home / "models.json", "{not json")
    info, warnings = resolve_model_info(fixture_repo.config())
    assert info.context_window == 272000
    assert warnings == [
        f"{path}: invalid JSON at line 1: Expecting property name enclosed in "
        "double quotes; file ignored"
    ]


def test_missing_user_catalog_is_fine(tmp_path: Path, fixture_repo: FixtureRepo) -> None:
    assert not (fixture_repo.codex_home / "models.json").exists()
    _, warnings = resolve_model_info(fixture_repo.config())
    assert warnings == []
