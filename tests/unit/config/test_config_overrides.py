"""`-c key=value` parsing."""

from __future__ import annotations

from typing import Any

import pytest

from pycodex.config import ConfigError, parse_cli_override
from pycodex.config.overrides import split_key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('model="o3"', ("model", "o3")),
        ("model=o3", ("model", "o3")),
        ("model_context_window=1000", ("model_context_window", 1000)),
        (
            "sandbox_workspace_write.network_access=true",
            ("sandbox_workspace_write.network_access", True),
        ),
        ('notify=["a", "b"]', ("notify", ["a", "b"])),
        ("features={a = true, b = false}", ("features", {"a": True, "b": False})),
        ("ratio=0.5", ("ratio", 0.5)),
        ('model_providers.fake.base_url="http://x"', ("model_providers.fake.base_url", "http://x")),
        # Not valid TOML: the raw text is kept, spaces and all.
        ("developer_instructions=be brief", ("developer_instructions", "be brief")),
        ("url=http://localhost:1/v1", ("url", "http://localhost:1/v1")),
        # Only the first '=' splits; the rest belongs to the value.
        ("header=a=b", ("header", "a=b")),
        ("model=", ("model", "")),
        (" model = o3 ", ("model", "o3")),
    ],
)
def test_parse_cli_override_values(raw: str, expected: tuple[str, Any]) -> None:
    assert parse_cli_override(raw) == expected


def test_quoted_string_true_stays_a_string() -> None:
    assert parse_cli_override("key='true'") == ("key", "true")
    assert parse_cli_override("key=true") == ("key", True)


def test_newline_cannot_smuggle_extra_keys() -> None:
    assert parse_cli_override('model="a"\nother=1') == ("model", '"a"\nother=1')


@pytest.mark.parametrize("raw", ["foo", "=value", ""])
def test_missing_key_or_equals_is_an_error(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_cli_override(raw)
    assert str(caught.value) == f"config error: -c/--config expects key=value, got {raw!r}"


def test_malformed_key_is_an_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_cli_override("a..b=1")
    assert str(caught.value) == "config error: -c/--config: invalid key 'a..b'"


def test_split_key_understands_toml_quoting() -> None:
    assert split_key("a.b.c") == ("a", "b", "c")
    assert split_key('model_providers."my.gw".base_url') == ("model_providers", "my.gw", "base_url")
