"""Start-up time: describing the built-in tools must not load what only running them needs.

`pycodex exec` builds its first request from the tool specs; the process machinery, the patch
parser and applier and the approval rules load when a tool first runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pycodex.apply_patch import load_grammar, load_tool_instructions
from pycodex.execution.unified import ProcessManager
from pycodex.protocol.items import FunctionCall
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import ToolContext
from pycodex.tools.builtin.apply_patch_tool import ApplyPatchFreeformTool, ApplyPatchFunctionTool
from pycodex.tools.builtin.unified_exec import ExecCommandTool, UnifiedExecState
from pycodex.tools.registry import ToolRegistry, dispatch
from pycodex.tools.services import ToolServices

# Loaded only when a tool runs: package prefixes, and stdlib modules nothing else at start-up needs.
RUN_TIME_ONLY = (
    "pycodex.apply_patch.applier",
    "pycodex.apply_patch.matching",
    "pycodex.apply_patch.nofollow",
    "pycodex.apply_patch.parser",
    "pycodex.apply_patch.roots",
    "pycodex.apply_patch.update",
    "pycodex.apply_patch.writer",
    "pycodex.execution.capture",
    "pycodex.execution.env",
    "pycodex.execution.fdio",
    "pycodex.execution.landlock",
    "pycodex.execution.process",
    "pycodex.execution.sandbox",
    "pycodex.execution.seccomp",
    "pycodex.execution.session",
    "pycodex.execution.spawn",
    "pycodex.execution.unified",
    "pycodex.tools.approvals",
    "pycodex.tools.simple_command",
    "pycodex.tools.builtin.read_file",
)
STDLIB_RUN_TIME_ONLY = ("shlex", "secrets", "difflib", "termios", "pty", "importlib.resources")

# Everything start-up does with the tools: every variant of the set, its specs, the rules.
PROBE = """
import json, sys, tempfile
from pathlib import Path
from pycodex.config import Config
from pycodex.tools.builtin import build_default_tools
from pycodex.tools.rules import PrefixRules

home = Path(tempfile.mkdtemp())
variants = ({}, {"unified_exec": False}, {"shell_tool": True}, {"apply_patch_freeform": False})
for features in variants:
    registry, services = build_default_tools(Config(codex_home=home, cwd=home, features=features))
    registry.specs()
    services.prefix_rules = PrefixRules.load(home)
print(json.dumps(sorted(sys.modules)))
"""


def test_building_the_tool_specs_loads_no_run_time_machinery() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(proc.stdout)
    heavy = [name for name in loaded if name.startswith(RUN_TIME_ONLY)]
    assert heavy == []
    assert [name for name in STDLIB_RUN_TIME_ONLY if name in loaded] == []
    assert "pycodex.tools.builtin.unified_exec" in loaded  # the probe did describe the tools


def test_apply_patch_specs_carry_the_packaged_grammar_and_instructions() -> None:
    freeform = ApplyPatchFreeformTool().spec()
    assert freeform["description"] == load_tool_instructions()
    assert freeform["format"]["definition"] == load_grammar()
    assert ApplyPatchFunctionTool().spec()["description"] == load_tool_instructions()


async def test_the_process_manager_is_created_on_first_use(tmp_path: Path) -> None:
    state = UnifiedExecState()
    await ToolServices(unified_exec=state).shutdown()  # nothing ran: nothing to start or stop
    assert state._processes is None
    context = ToolContext(
        call_id="call-1",
        turn_id="turn-1",
        cwd=tmp_path,
        sandbox_policy=SandboxPolicy.full_access(),
    )
    call = FunctionCall(
        name="exec_command",
        arguments=json.dumps({"cmd": "echo hi", "login": False}),
        call_id="call-1",
    )
    _, output = await dispatch(ToolRegistry([ExecCommandTool(state)]), call, context)
    assert output.success, output.text
    assert output.text.endswith("Output:\nhi\n")
    assert isinstance(state.processes, ProcessManager)
    await state.shutdown()
