"""The small-model tool set (`minimal_tools` in the model catalog): which tools, and a shell
without the login profile's noise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pycodex.config import Config
from pycodex.context.model_catalog import resolve_model_info
from pycodex.protocol.items import FunctionCall
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import BaseTool, ToolContext
from pycodex.tools.builtin import build_default_tools
from pycodex.tools.builtin.shell import MinimalShellCommandTool, ShellCommandTool
from pycodex.tools.registry import ToolRegistry, dispatch

LOCAL_MODEL = "qwen2.5-coder-1.5b-instruct"


def test_the_local_model_gets_two_simple_tools_and_early_compaction(tmp_path: Path) -> None:
    config = Config(codex_home=tmp_path, cwd=tmp_path, model=LOCAL_MODEL)
    info, warnings = resolve_model_info(config)
    assert warnings == []
    assert info.minimal_tools and info.instructions_file == "small_model_instructions.md"
    assert (info.context_window, info.auto_compact_token_limit) == (16384, 9000)
    tools, _services = build_default_tools(config, info)
    specs = tools.specs()
    assert [spec["name"] for spec in specs] == ["shell_command", "apply_patch"]
    assert specs[0]["parameters"]["required"] == ["command"]
    assert list(specs[0]["parameters"]["properties"]) == ["command"]
    # A server that really has less room wins over the catalog (`pycodex exec --oss` sets it).
    smaller = Config(
        codex_home=tmp_path, cwd=tmp_path, model=LOCAL_MODEL, model_context_window=8192
    )
    info, _ = resolve_model_info(smaller)
    assert (info.context_window, info.auto_compact_token_limit) == (8192, 8192 * 90 // 100)


def test_other_models_keep_the_full_set(tmp_path: Path) -> None:
    config = Config(codex_home=tmp_path, cwd=tmp_path, model="qwen2.5-coder-7b-instruct")
    info, _ = resolve_model_info(config)
    assert not info.minimal_tools
    names = [spec.get("name") for spec in build_default_tools(config, info)[0].specs()]
    assert "update_plan" in names and len(names) > 2


async def run(tool: BaseTool[object], command: str, cwd: Path) -> str:
    context = ToolContext(
        call_id="c1", turn_id="t1", cwd=cwd, sandbox_policy=SandboxPolicy.full_access()
    )
    call = FunctionCall(name=tool.name, arguments=json.dumps({"command": command}), call_id="c1")
    item, _output = await dispatch(ToolRegistry([tool]), call, context)
    return str(item.to_wire()["output"])


async def test_the_minimal_shell_skips_the_login_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bash_profile").write_text("echo 'pyenv: cannot rehash: noise from the profile'\n")
    monkeypatch.setenv("HOME", str(home))
    minimal = await run(MinimalShellCommandTool(), "echo hi", tmp_path)
    assert minimal.startswith("Exit code: 0\n") and minimal.endswith("Output:\nhi\n")
    assert "noise" not in minimal
    login = await run(ShellCommandTool(), "echo hi", tmp_path)
    assert "noise from the profile" in login  # what the minimal tool spares the model
