"""Model providers: built-ins, provider tables, keys, headers and URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.config import (
    OPENAI_PROVIDER,
    OSS_PROVIDER,
    Config,
    ConfigError,
    ConfigOverrides,
    ModelProviderInfo,
    parse_cli_override,
    resolve_config,
)


def resolve(
    home: Path, toml: str = "", *, env: dict[str, str] | None = None, cli: tuple[str, ...] = ()
) -> Config:
    (home / "config.toml").write_text(toml)
    overrides = ConfigOverrides(cwd=home, cli_overrides=[parse_cli_override(raw) for raw in cli])
    return resolve_config(overrides, env=env or {}, codex_home=home)


def config_error(home: Path, toml: str, *, cli: tuple[str, ...] = ()) -> str:
    with pytest.raises(ConfigError) as caught:
        resolve(home, toml, cli=cli)
    return str(caught.value)


def test_default_provider_is_openai(tmp_path: Path) -> None:
    config = resolve(tmp_path)
    assert config.model_provider_id == "openai"
    assert config.model_provider == OPENAI_PROVIDER
    assert config.model_provider.base_url == "https://api.openai.com/v1"
    assert config.model_provider.wire_api == "responses"
    assert config.model_provider.requires_openai_auth


def test_oss_provider_is_the_managed_local_chat_server(tmp_path: Path) -> None:
    config = resolve(tmp_path, 'model_provider = "oss"\n')
    assert config.model_provider == OSS_PROVIDER
    assert config.model_provider.managed
    assert config.model_provider.base_url == "http://127.0.0.1:11435/v1"
    assert config.model_provider.wire_api == "chat"
    assert config.model_provider.api_key({}) is None


def test_moving_the_oss_provider_makes_it_a_server_of_your_own(tmp_path: Path) -> None:
    table = 'model_provider = "oss"\n[model_providers.oss]\nbase_url = "http://127.0.0.1:8080/v1"\n'
    moved = resolve(tmp_path, table).model_provider
    assert (moved.base_url, moved.managed) == ("http://127.0.0.1:8080/v1", False)
    kind_only = 'model_provider = "oss"\n[model_providers.oss]\nprovider_kind = "vllm"\n'
    assert resolve(tmp_path, kind_only).model_provider.managed
    by_env = resolve(
        tmp_path, 'model_provider = "oss"\n', env={"CODEX_OSS_BASE_URL": "http://127.0.0.1:9/v1"}
    )
    assert not by_env.model_provider.managed


def test_openai_base_url_precedence(tmp_path: Path) -> None:
    env = {"OPENAI_BASE_URL": "http://env:1/v1"}
    assert resolve(tmp_path, env=env).model_provider.base_url == "http://env:1/v1"
    toml = 'openai_base_url = "http://file:2/v1"\n'
    assert resolve(tmp_path, toml, env=env).model_provider.base_url == "http://file:2/v1"
    cli = ('openai_base_url="http://cli:3/v1"',)
    assert resolve(tmp_path, toml, env=env, cli=cli).model_provider.base_url == "http://cli:3/v1"


def test_user_provider_table(tmp_path: Path) -> None:
    toml = """
model_provider = "gw"
[model_providers.gw]
name = "Gateway"
base_url = "https://gw.example/v1/"
env_key = "GW_KEY"
env_key_instructions = "ask the platform team"
wire_api = "chat"
query_params = { api-version = "2025-01-01" }
http_headers = { X-Team = "core" }
env_http_headers = { X-Project = "GW_PROJECT", X-Absent = "GW_ABSENT" }
request_max_retries = 1
stream_max_retries = 0
stream_idle_timeout_ms = 1000
retry_base_delay_ms = 5
supports_websockets = false
"""
    config = resolve(tmp_path, toml)
    provider = config.model_provider
    assert provider == ModelProviderInfo(
        id="gw",
        name="Gateway",
        base_url="https://gw.example/v1/",
        env_key="GW_KEY",
        env_key_instructions="ask the platform team",
        wire_api="chat",
        query_params={"api-version": "2025-01-01"},
        http_headers={"X-Team": "core"},
        env_http_headers={"X-Project": "GW_PROJECT", "X-Absent": "GW_ABSENT"},
        request_max_retries=1,
        stream_max_retries=0,
        stream_idle_timeout_ms=1000,
        retry_base_delay_ms=5,
    )
    assert config.warnings == ()
    env = {"GW_KEY": "k", "GW_PROJECT": "p1", "GW_ABSENT": ""}
    assert provider.headers(env) == {"X-Team": "core", "X-Project": "p1"}
    assert provider.api_key(env) == "k"
    assert provider.url_for("/chat/completions") == (
        "https://gw.example/v1/chat/completions?api-version=2025-01-01"
    )


def test_new_provider_defaults(tmp_path: Path) -> None:
    toml = 'model_provider = "x"\n[model_providers.x]\nbase_url = "http://h/v1"\n'
    provider = resolve(tmp_path, toml).model_provider
    assert (provider.name, provider.wire_api, provider.env_key) == ("x", "responses", None)
    assert (provider.request_max_retries, provider.stream_max_retries) == (4, 5)
    assert (provider.stream_idle_timeout_ms, provider.retry_base_delay_ms) == (300_000, 200)
    assert provider.url_for("responses") == "http://h/v1/responses"
    assert provider.api_key({}) is None


def test_table_with_builtin_id_merges_into_it(tmp_path: Path) -> None:
    toml = '[model_providers.openai]\nhttp_headers = { X-A = "1" }\nstream_max_retries = 9\n'
    provider = resolve(tmp_path, toml).model_provider
    assert provider.name == "OpenAI"
    assert provider.env_key == "OPENAI_API_KEY"
    assert provider.base_url == "https://api.openai.com/v1"
    assert provider.http_headers == {"X-A": "1"}
    assert provider.stream_max_retries == 9


def test_cli_override_reaches_provider_tables(tmp_path: Path) -> None:
    cli = (
        'model_providers.fake.base_url="http://127.0.0.1:9/v1"',
        "model_providers.fake.wire_api=messages",
        "model_provider=fake",
    )
    provider = resolve(tmp_path, cli=cli).model_provider
    assert (provider.id, provider.base_url, provider.wire_api) == (
        "fake",
        "http://127.0.0.1:9/v1",
        "messages",
    )


def test_url_for_joins_slashes_and_encodes_query_params() -> None:
    provider = ModelProviderInfo(
        id="p", name="p", base_url="http://h/v1/", query_params={"v": "1 2", "k": "a&b"}
    )
    assert provider.url_for("/responses") == "http://h/v1/responses?v=1+2&k=a%26b"
    # A path that already has a query gets the configured parameters appended with '&'.
    assert provider.url_for("models?limit=5") == "http://h/v1/models?limit=5&v=1+2&k=a%26b"


def test_codex_api_key_beats_openai_api_key() -> None:
    env = {"CODEX_API_KEY": "codex", "OPENAI_API_KEY": "openai"}
    assert OPENAI_PROVIDER.api_key(env) == "codex"
    assert OPENAI_PROVIDER.api_key({"OPENAI_API_KEY": "openai", "CODEX_API_KEY": ""}) == "openai"


def test_codex_api_key_is_only_for_openai() -> None:
    other = ModelProviderInfo(id="gw", name="gw", base_url="http://h", env_key="GW_KEY")
    with pytest.raises(ConfigError) as caught:
        other.api_key({"CODEX_API_KEY": "codex", "GW_KEY": "  "})
    assert str(caught.value) == (
        "config error: model_providers.gw.env_key: provider 'gw' needs an API key in GW_KEY, "
        "which is not set"
    )


def test_missing_openai_key_names_both_variables() -> None:
    with pytest.raises(ConfigError) as caught:
        OPENAI_PROVIDER.api_key({})
    assert str(caught.value) == (
        "config error: model_providers.openai.env_key: provider 'openai' needs an API key in "
        "CODEX_API_KEY or OPENAI_API_KEY, which is not set "
        "(create a key at https://platform.openai.com/api-keys)"
    )


def test_unknown_model_provider(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'model_provider = "nope"\n')
    assert message == (
        f"config error: {tmp_path / 'config.toml'}: model_provider: unknown model provider "
        "'nope' (known providers: openai, oss)"
    )


def test_unknown_model_provider_from_cli(tmp_path: Path) -> None:
    message = config_error(tmp_path, "", cli=("model_provider=nope",))
    assert message.startswith("config error: -c/--config: model_provider: unknown model provider")


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ('base_url = "http://h"\nwire_api = "grpc"', "wire_api",
         "expected one of responses, chat, messages, got 'grpc'"),
        ('name = "x"', "", "base_url is required for a provider that is not built in"),
        ('base_url = "h:80"', "base_url", "expected an http:// or https:// URL, got 'h:80'"),
        ('base_url = "http://h"\nrequest_max_retries = -1', "request_max_retries",
         "expected a non-negative integer, got -1"),
        ('base_url = "http://h"\nstream_idle_timeout_ms = "10"', "stream_idle_timeout_ms",
         "expected a non-negative integer, got '10'"),
        ('base_url = "http://h"\nhttp_headers = { X = 1 }', "http_headers.X",
         "expected a string, got 1"),
    ],
)  # fmt: skip
def test_provider_validation(tmp_path: Path, table: str, key: str, problem: str) -> None:
    message = config_error(tmp_path, f"[model_providers.bad]\n{table}\n")
    dotted = "model_providers.bad" + (f".{key}" if key else "")
    assert message == f"config error: {tmp_path / 'config.toml'}: {dotted}: {problem}"


def test_unknown_provider_keys_warn(tmp_path: Path) -> None:
    toml = '[model_providers.x]\nbase_url = "http://h"\nbearer = "t"\n'
    config = resolve(tmp_path, toml)
    assert config.warnings == (
        f"{tmp_path / 'config.toml'}: unknown key 'model_providers.x.bearer' ignored",
    )


def test_requires_openai_auth_uses_the_openai_keys(tmp_path: Path) -> None:
    """Upstream's flag for a gateway that takes the user's OpenAI credentials."""
    toml = (
        'model_provider = "gw"\n[model_providers.gw]\nbase_url = "http://h/v1"\n'
        "requires_openai_auth = true\n"
    )
    provider = resolve(tmp_path, toml).model_provider
    assert provider.api_key({"OPENAI_API_KEY": "openai"}) == "openai"
    assert provider.api_key({"CODEX_API_KEY": "codex", "OPENAI_API_KEY": "openai"}) == "codex"
    with pytest.raises(ConfigError) as caught:
        provider.api_key({})
    assert "needs an API key in CODEX_API_KEY or OPENAI_API_KEY" in str(caught.value)
    # Its own env_key still wins.
    own = resolve(tmp_path, toml + 'env_key = "GW_KEY"\n').model_provider
    assert own.api_key({"GW_KEY": "gw", "OPENAI_API_KEY": "openai"}) == "gw"
