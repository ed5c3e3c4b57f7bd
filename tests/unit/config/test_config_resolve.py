"""`resolve_config`: precedence, profiles, validation errors and warnings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pycodex.config import (
    Config,
    ConfigError,
    ConfigOverrides,
    SandboxWorkspaceWrite,
    parse_cli_override,
    resolve_config,
)
from pycodex.protocol.policies import (
    AskForApproval,
    EnvironmentInherit,
    SandboxMode,
    SandboxPolicy,
    ShellEnvironmentPolicy,
)
from pycodex.tools.builtin import build_default_tools


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CODEX_HOME; the process cwd is a separate `work` directory next to it."""
    codex_home = tmp_path / "codex_home"
    codex_home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return codex_home


def resolve(
    home: Path, toml: str | None = None, *, cli: tuple[str, ...] = (), **flags: Any
) -> Config:
    if toml is not None:
        (home / "config.toml").write_text(toml)
    pairs = [parse_cli_override(raw) for raw in cli]
    return resolve_config(ConfigOverrides(cli_overrides=pairs, **flags), env={}, codex_home=home)


def error_of(
    home: Path, toml: str | None = None, *, cli: tuple[str, ...] = (), **flags: Any
) -> str:
    with pytest.raises(ConfigError) as caught:
        resolve(home, toml, cli=cli, **flags)
    return str(caught.value)


def test_defaults_without_any_file(home: Path) -> None:
    config = resolve(home)
    assert config.model == "gpt-5.1-codex"
    assert config.approval_policy is AskForApproval.ON_REQUEST
    assert config.sandbox_mode is SandboxMode.READ_ONLY
    assert config.cwd == Path.cwd()
    assert config.codex_home == home
    assert config.config_file == home / "config.toml"
    assert config.project_doc_max_bytes == 32768
    assert config.project_root_markers == (".git",)
    assert config.web_search == "cached"
    assert config.profile is None
    assert config.notify is None
    assert config.shell_environment_policy == ShellEnvironmentPolicy()
    assert config.sandbox_workspace_write == SandboxWorkspaceWrite()
    assert config.warnings == ()
    assert config.sandbox_policy() == SandboxPolicy.read_only()


PRECEDENCE_TOML = """
model = "from-file"
model_reasoning_effort = "low"
model_verbosity = "low"
model_context_window = 1000
approval_policy = "untrusted"

[profiles.p]
model = "from-profile"
model_reasoning_effort = "medium"
model_verbosity = "medium"
"""


def test_precedence_across_all_levels(home: Path) -> None:
    cli = ('model="from-cli"', "model_reasoning_effort=high")
    config = resolve(home, PRECEDENCE_TOML, cli=cli, profile="p", model="from-flag")
    assert config.model == "from-flag"  # flag beats -c, profile and file
    assert config.model_reasoning_effort == "high"  # -c beats profile and file
    assert config.model_verbosity == "medium"  # profile beats file
    assert config.model_context_window == 1000  # file beats defaults
    assert config.approval_policy is AskForApproval.UNTRUSTED
    assert config.model_reasoning_summary is None  # default
    assert config.profile == "p"


def test_profile_selected_by_config_key_and_by_cli(home: Path) -> None:
    toml = 'profile = "a"\n[profiles.a]\nmodel = "A"\n[profiles.b]\nmodel = "B"\n'
    assert resolve(home, toml).model == "A"
    assert resolve(home, toml, cli=("profile=b",)).model == "B"
    assert resolve(home, toml, cli=("profile=b",), profile="a").model == "A"


def test_profile_from_file(home: Path) -> None:
    (home / "fast.config.toml").write_text('model = "fast-model"\napproval_policy = "never"\n')
    config = resolve(home, 'model = "base"\n', profile="fast")
    assert (config.model, config.approval_policy) == ("fast-model", AskForApproval.NEVER)


def test_profile_file_wins_over_table_key_by_key(home: Path) -> None:
    (home / "both.config.toml").write_text('model = "file"\n')
    toml = '[profiles.both]\nmodel = "table"\nmodel_verbosity = "high"\n'
    config = resolve(home, toml, profile="both")
    assert (config.model, config.model_verbosity) == ("file", "high")


def test_profile_tables_deep_merge(home: Path) -> None:
    toml = """
[sandbox_workspace_write]
network_access = true
[profiles.p.sandbox_workspace_write]
exclude_slash_tmp = true
"""
    settings = resolve(home, toml, profile="p").sandbox_workspace_write
    assert (settings.network_access, settings.exclude_slash_tmp) == (True, True)


def test_unknown_profile(home: Path) -> None:
    message = error_of(home, "", profile="ghost")
    assert message == (
        "config error: command line: profile: unknown profile 'ghost': no [profiles.ghost] "
        f"table in {home / 'config.toml'} and no file {home / 'ghost.config.toml'}"
    )
    from_file = error_of(home, 'profile = "ghost"\n')
    assert from_file.startswith(f"config error: {home / 'config.toml'}: profile: unknown profile")


def test_profile_name_cannot_be_a_path(home: Path) -> None:
    assert error_of(home, "", profile="../x") == (
        "config error: command line: profile: invalid profile name '../x'"
    )


def test_cli_override_replaces_tables_and_creates_paths(home: Path) -> None:
    toml = "[sandbox_workspace_write]\nnetwork_access = true\nexclude_slash_tmp = true\n"
    config = resolve(home, toml, cli=("sandbox_workspace_write={exclude_tmpdir_env_var=true}",))
    assert config.sandbox_workspace_write == SandboxWorkspaceWrite(exclude_tmpdir_env_var=True)
    dotted = resolve(home, toml, cli=("sandbox_workspace_write.network_access=false",))
    assert dotted.sandbox_workspace_write == SandboxWorkspaceWrite(exclude_slash_tmp=True)


def test_flags(home: Path, tmp_path: Path) -> None:
    config = resolve(
        home,
        'approval_policy = "never"\nsandbox_mode = "read-only"\n',
        approval_policy=AskForApproval.ON_FAILURE,
        sandbox_mode=SandboxMode.WORKSPACE_WRITE,
        model_provider="oss",
        cwd=Path("../codex_home"),
        additional_writable_roots=(Path("extra"), Path("/abs")),
        ephemeral=True,
        base_instructions="base",
        developer_instructions="dev",
        output_schema={"type": "object"},
        show_raw_agent_reasoning=True,
    )
    assert config.approval_policy is AskForApproval.ON_FAILURE
    assert config.sandbox_mode is SandboxMode.WORKSPACE_WRITE
    assert config.model_provider_id == "oss"
    assert config.cwd == home
    assert config.additional_writable_roots == (tmp_path / "work" / "extra", Path("/abs"))
    assert config.ephemeral
    assert (config.base_instructions, config.developer_instructions) == ("base", "dev")
    assert config.output_schema == {"type": "object"}
    assert config.show_raw_agent_reasoning


def test_missing_cwd_is_an_error(home: Path, tmp_path: Path) -> None:
    message = error_of(home, cwd=Path("missing"))
    assert (
        message
        == f"config error: command line: cwd: {tmp_path / 'work' / 'missing'} is not a directory"
    )


def test_workspace_write_sandbox_policy(home: Path, tmp_path: Path) -> None:
    toml = f"""
sandbox_mode = "workspace-write"
[sandbox_workspace_write]
writable_roots = ["{tmp_path / "abs"}", "rel"]
network_access = true
exclude_tmpdir_env_var = true
"""
    config = resolve(home, toml, additional_writable_roots=(Path("/added"),))
    policy = config.sandbox_policy()
    assert policy == SandboxPolicy(
        mode=SandboxMode.WORKSPACE_WRITE,
        writable_roots=(tmp_path / "work", Path("/added"), tmp_path / "abs", home / "rel"),
        network_access=True,
        exclude_tmpdir_env_var=True,
    )


def test_danger_full_access_policy(home: Path) -> None:
    config = resolve(home, sandbox_mode=SandboxMode.DANGER_FULL_ACCESS)
    assert config.sandbox_policy() == SandboxPolicy.full_access()


def test_relative_paths_follow_the_file_that_set_them(home: Path, tmp_path: Path) -> None:
    config = resolve(home, 'model_instructions_file = "prompts/base.md"\n')
    assert config.model_instructions_file == home / "prompts" / "base.md"
    from_cli = resolve(home, "", cli=('model_instructions_file="mine.md"',))
    assert from_cli.model_instructions_file == tmp_path / "work" / "mine.md"
    legacy = resolve(home, 'experimental_instructions_file = "old.md"\n')
    assert legacy.model_instructions_file == home / "old.md"


def test_everything_else_is_read(home: Path) -> None:
    toml = """
model_reasoning_summary = "detailed"
model_auto_compact_token_limit = 5000
project_doc_max_bytes = 10
project_doc_fallback_filenames = ["CLAUDE.md"]
project_root_markers = [".hg", ".git"]
developer_instructions = "be terse"
notify = ["notify-send", "codex"]
tool_output_token_limit = 2500
hide_agent_reasoning = true
show_raw_agent_reasoning = true
[shell_environment_policy]
inherit = "core"
ignore_default_excludes = true
exclude = ["AWS_*"]
include_only = ["PATH"]
set = { CI = "1" }
[features]
unified_exec = true
[mcp_servers.docs]
command = "docs-mcp"
[history]
persistence = "none"
"""
    config = resolve(home, toml)
    assert config.model_reasoning_summary == "detailed"
    assert config.model_auto_compact_token_limit == 5000
    assert (config.project_doc_max_bytes, config.project_doc_fallback_filenames) == (
        10,
        ("CLAUDE.md",),
    )
    assert config.project_root_markers == (".hg", ".git")
    assert config.developer_instructions == "be terse"
    assert config.notify == ("notify-send", "codex")
    assert config.tool_output_token_limit == 2500
    assert config.hide_agent_reasoning and config.show_raw_agent_reasoning
    assert config.shell_environment_policy == ShellEnvironmentPolicy(
        inherit=EnvironmentInherit.CORE,
        ignore_default_excludes=True,
        exclude=("AWS_*",),
        include_only=("PATH",),
        set={"CI": "1"},
    )
    assert config.features == {"unified_exec": True}
    assert config.mcp_servers == {"docs": {"command": "docs-mcp"}}
    assert config.history == {"persistence": "none"}
    assert config.history_persistence == "none"
    assert config.warnings == (
        f"{home / 'config.toml'}: 'show_raw_agent_reasoning' is accepted but not supported yet; "
        "it has no effect",
    )


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('web_search = "live"', "live"),
        ('web_search = "disabled"', "disabled"),
        ("[tools]\nweb_search = true", "live"),
        ("[tools]\nweb_search = false", "disabled"),
        ("[features]\nweb_search_request = true", "live"),
        ('web_search = "cached"\n[tools]\nweb_search = true', "cached"),
    ],
)
def test_web_search_modes_and_legacy_forms(home: Path, toml: str, expected: str) -> None:
    assert resolve(home, toml + "\n").web_search == expected


@pytest.mark.parametrize("value", ["untrusted", "on-failure", "on-request", "never"])
def test_every_approval_value_is_accepted(home: Path, value: str) -> None:
    assert resolve(home, f'approval_policy = "{value}"\n').approval_policy.value == value


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ('approval_policy = "sometimes"', "approval_policy",
         "expected one of untrusted, on-failure, on-request, never, got 'sometimes'"),
        ('sandbox_mode = "yolo"', "sandbox_mode",
         "expected one of read-only, workspace-write, danger-full-access, got 'yolo'"),
        ('model_reasoning_effort = "maximal"', "model_reasoning_effort",
         "expected one of minimal, low, medium, high, xhigh, max, ultra, none, got 'maximal'"),
        ('model_reasoning_summary = "short"', "model_reasoning_summary",
         "expected one of auto, concise, detailed, none, got 'short'"),
        ('model_verbosity = "loud"', "model_verbosity",
         "expected one of low, medium, high, got 'loud'"),
        ('web_search = true', "web_search",
         "expected one of live, cached, disabled, got true"),
        ("model = 5", "model", "expected a string, got 5"),
        ("model_context_window = -5", "model_context_window",
         "expected a non-negative integer, got -5"),
        ("model_context_window = true", "model_context_window",
         "expected a non-negative integer, got true"),
        ('project_doc_max_bytes = "big"', "project_doc_max_bytes",
         "expected a non-negative integer, got 'big'"),
        ('notify = "say"', "notify", "expected an array of strings, got 'say'"),
        ("notify = [1]", "notify", "expected an array of strings, got an array holding 1"),
        ('hide_agent_reasoning = "yes"', "hide_agent_reasoning",
         "expected a boolean (true or false), got 'yes'"),
        ("sandbox_workspace_write = 1", "sandbox_workspace_write", "expected a table, got 1"),
        ('[sandbox_workspace_write]\nnetwork_access = "on"',
         "sandbox_workspace_write.network_access", "expected a boolean (true or false), got 'on'"),
        ('[sandbox_workspace_write]\nwritable_roots = [""]',
         "sandbox_workspace_write.writable_roots", "expected a path, got an empty string"),
        ('[shell_environment_policy]\ninherit = "some"', "shell_environment_policy.inherit",
         "expected one of all, core, none, got 'some'"),
        ("[shell_environment_policy]\nset = { A = 1 }", "shell_environment_policy.set.A",
         "expected a string, got 1"),
        ('[features]\nx = "on"', "features.x", "expected a boolean (true or false), got 'on'"),
        ('mcp_servers = []', "mcp_servers", "expected a table, got an array"),
        ('profiles = "p"\nprofile = "p"', "profiles", "expected a table, got 'p'"),
    ],
)  # fmt: skip
def test_bad_values_name_file_and_key(home: Path, toml: str, key: str, problem: str) -> None:
    assert error_of(home, toml + "\n") == f"config error: {home / 'config.toml'}: {key}: {problem}"


def test_bad_values_in_profiles_name_the_profile_key(home: Path) -> None:
    message = error_of(home, '[profiles.p]\napproval_policy = "sometimes"\n', profile="p")
    assert message.startswith(f"config error: {home / 'config.toml'}: profiles.p.approval_policy:")
    (home / "q.config.toml").write_text("model_verbosity = 3\n")
    from_file = error_of(home, "", profile="q")
    assert from_file == (
        f"config error: {home / 'q.config.toml'}: model_verbosity: "
        "expected one of low, medium, high, got 3"
    )


def test_bad_cli_value_for_known_key(home: Path) -> None:
    assert error_of(home, "", cli=("approval_policy=sometimes",)) == (
        "config error: -c/--config: approval_policy: expected one of untrusted, on-failure, "
        "on-request, never, got 'sometimes'"
    )
    assert error_of(home, "", cli=("profile=1",)) == (
        "config error: -c/--config: profile: expected a string, got 1"
    )


@pytest.mark.parametrize(
    ("toml", "key", "allowed"),
    [
        ('approval_policy = "sometimes"', "approval_policy", "untrusted, on-failure, on-request, never"),
        ('sandbox_mode = "sometimes"', "sandbox_mode", "read-only, workspace-write, danger-full-access"),
        ('[history]\npersistence = "sometimes"', "history.persistence", "save-all, none"),
        ('[profiles.p]\nweb_search = "sometimes"', "profiles.p.web_search", "live, cached, disabled"),
    ],
)  # fmt: skip
def test_a_bad_enum_value_is_an_error_even_when_a_later_layer_replaces_it(
    home: Path, toml: str, key: str, allowed: str
) -> None:
    cli = ("approval_policy=never", "sandbox_mode=read-only", "history.persistence=none")
    with pytest.raises(ConfigError) as caught:
        resolve(home, toml + "\n", profile="p" if "profiles" in toml else None, cli=cli)
    assert str(caught.value) == (
        f"config error: {home / 'config.toml'}: {key}: expected one of {allowed}, got 'sometimes'"
    )


def test_a_bad_enum_value_in_a_cli_override_names_the_flag(home: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(home, "", cli=("shell_environment_policy.inherit=some",))
    assert str(caught.value) == (
        "config error: -c/--config: shell_environment_policy.inherit: "
        "expected one of all, core, none, got 'some'"
    )


def test_unknown_keys_warn_once_each_and_never_fail(home: Path) -> None:
    (home / "p.config.toml").write_text('colour = 1\nprofile = "x"\n')
    toml = """
foo = 1
[sandbox_workspace_write]
network = true
[shell_environment_policy]
inherit_all = true
[profiles.p]
bar = 2
[profiles.other]
ignored_because_not_selected = 1
"""
    config = resolve(home, toml, profile="p", cli=("sdk_option=1", "sandbox_workspace_write.x=1"))
    config_file, profile_file = home / "config.toml", home / "p.config.toml"
    assert config.warnings == (
        f"{config_file}: unknown key 'foo' ignored",
        f"{config_file}: unknown key 'sandbox_workspace_write.network' ignored",
        f"{config_file}: unknown key 'shell_environment_policy.inherit_all' ignored",
        f"{config_file}: unknown key 'profiles.p.bar' ignored",
        f"{profile_file}: unknown key 'colour' ignored",
        f"{profile_file}: unknown key 'profile' ignored",
        "-c/--config: unknown key 'sdk_option' ignored",
        "-c/--config: unknown key 'sandbox_workspace_write.x' ignored",
    )


def test_upstream_keys_are_accepted_silently(home: Path) -> None:
    toml = """
file_opener = "vscode"
chatgpt_base_url = "https://chatgpt.com"
preferred_auth_method = "apikey"
forced_login_method = "api"
disable_response_storage = true
windows_wsl_setup_acknowledged = true
experimental_use_rmcp_client = true
instructions = "ignored"
[tui]
notifications = true
[notice]
hide_full_access_warning = true
[projects."/home/u/repo"]
trust_level = "trusted"
[tools]
view_image = true
"""
    assert resolve(home, toml).warnings == ()


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("", True),
        ("[tools]\nview_image = false", False),
        ("tools_view_image = false", False),
        ("include_view_image_tool = false", False),
        ("include_view_image_tool = false\n[tools]\nview_image = true", True),
    ],
)
def test_view_image_tool_switch_and_its_older_spellings(
    home: Path, toml: str, expected: bool
) -> None:
    config = resolve(home, toml + "\n")
    assert config.view_image_tool is expected
    assert config.warnings == ()
    names = build_default_tools(config)[0].names()
    assert ("view_image" in names) is expected


@pytest.mark.parametrize(
    ("toml", "expected"),
    [("tools_web_search = true", "live"), ("tools_web_search_request = false", "disabled")],
)
def test_top_level_legacy_web_search_spellings(home: Path, toml: str, expected: str) -> None:
    assert resolve(home, toml + "\n").web_search == expected


def test_keys_pycodex_does_not_act_on_yet_warn_once_each(home: Path) -> None:
    (home / "p.config.toml").write_text('compact_prompt = "again"\n')
    toml = """
compact_prompt = "Summarize."
model_max_output_tokens = 1000
[history]
persistence = "save-all"
max_bytes = 1000
[profiles.p]
model_max_output_tokens = 2000
"""
    config = resolve(home, toml, profile="p", cli=("compact_prompt=x", "zsh_path=/bin/zsh"))
    config_file = home / "config.toml"
    not_yet = "is accepted but not supported yet; it has no effect"
    assert config.warnings == (
        f"{config_file}: 'compact_prompt' {not_yet}",
        f"{config_file}: 'model_max_output_tokens' {not_yet}",
        f"{config_file}: 'history.max_bytes' {not_yet}",
        f"-c/--config: 'zsh_path' {not_yet}",
    )


def test_typescript_sdk_invocation(home: Path) -> None:
    """The exact `--config` forms `@openai/codex-sdk` passes, with CODEX_API_KEY in the env."""
    cli = (
        'openai_base_url="http://127.0.0.1:8080/v1"',
        'model_reasoning_effort="low"',
        "sandbox_workspace_write.network_access=true",
        'web_search="live"',
        'approval_policy="never"',
        "some_future_sdk_option=1",
    )
    pairs = [parse_cli_override(raw) for raw in cli]
    overrides = ConfigOverrides(
        model="gpt-test",
        sandbox_mode=SandboxMode.WORKSPACE_WRITE,
        additional_writable_roots=(home,),
        cli_overrides=pairs,
    )
    env = {"CODEX_API_KEY": "sk-run", "OPENAI_API_KEY": "sk-user"}
    config = resolve_config(overrides, env=env, codex_home=home)
    assert config.model_provider.url_for("responses") == "http://127.0.0.1:8080/v1/responses"
    assert config.model_provider.api_key(config.env) == "sk-run"
    assert (config.model, config.model_reasoning_effort, config.web_search) == (
        "gpt-test",
        "low",
        "live",
    )
    assert config.approval_policy is AskForApproval.NEVER
    policy = config.sandbox_policy()
    assert policy.network_access and home in policy.writable_roots
    assert config.warnings == ("-c/--config: unknown key 'some_future_sdk_option' ignored",)


def test_flag_beats_cli_override_for_policies(home: Path) -> None:
    config = resolve(
        home,
        "",
        cli=("approval_policy=never", "sandbox_mode=danger-full-access"),
        approval_policy=AskForApproval.UNTRUSTED,
        sandbox_mode=SandboxMode.READ_ONLY,
    )
    assert config.approval_policy is AskForApproval.UNTRUSTED
    assert config.sandbox_mode is SandboxMode.READ_ONLY
