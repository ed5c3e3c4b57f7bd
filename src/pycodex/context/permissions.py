"""The developer-message sections about rules: permissions and collaboration mode.

The prose lives in `prompts/permissions/` and `prompts/collaboration/`; this module picks the
files for the policies in effect and wraps them in tags the engine can recognise in history.
"""

from __future__ import annotations

from typing import Literal

from pycodex.context.prompt_files import read_prompt
from pycodex.protocol.policies import AskForApproval, SandboxMode, SandboxPolicy

CollaborationMode = Literal["default", "plan"]
COLLABORATION_MODES: tuple[CollaborationMode, ...] = ("default", "plan")

PERMISSIONS_TAG = "<permissions>"
COLLABORATION_TAG = "<collaboration_mode>"

_SANDBOX_FILES = {
    SandboxMode.READ_ONLY: "permissions/sandbox_read_only.md",
    SandboxMode.WORKSPACE_WRITE: "permissions/sandbox_workspace_write.md",
    SandboxMode.DANGER_FULL_ACCESS: "permissions/sandbox_danger_full_access.md",
}

_APPROVAL_FILES = {
    AskForApproval.NEVER: "permissions/approval_never.md",
    AskForApproval.ON_REQUEST: "permissions/approval_on_request.md",
    AskForApproval.ON_FAILURE: "permissions/approval_on_failure.md",
    AskForApproval.UNTRUSTED: "permissions/approval_untrusted.md",
}


def permissions_text(approval: AskForApproval, sandbox: SandboxPolicy) -> str:
    network = "enabled" if sandbox.network_access else "disabled"
    sandbox_text = read_prompt(_SANDBOX_FILES[sandbox.mode]).replace("{network}", network)
    approval_text = read_prompt(_APPROVAL_FILES[approval])
    return f"{PERMISSIONS_TAG}\n{sandbox_text}\n{approval_text}\n</permissions>"


def collaboration_mode_text(mode: CollaborationMode) -> str:
    return f"{COLLABORATION_TAG}\n{read_prompt(f'collaboration/{mode}.md')}\n</collaboration_mode>"
