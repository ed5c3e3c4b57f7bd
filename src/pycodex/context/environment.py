"""The `<environment_context>` user message and the permissions developer message."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from pycodex.protocol.items import InputText, Message, developer_message
from pycodex.protocol.policies import AskForApproval, SandboxMode, SandboxPolicy


@dataclass(frozen=True, slots=True)
class EnvironmentContext:
    """The facts about where commands run; a change between turns is announced again."""

    cwd: Path
    shell: str
    current_date: str
    timezone: str
    approval_policy: AskForApproval
    sandbox_mode: SandboxMode
    network_access: bool
    writable_roots: tuple[Path, ...]

    @classmethod
    def capture(
        cls, cwd: Path, approval: AskForApproval, sandbox: SandboxPolicy, shell_path: str | None
    ) -> EnvironmentContext:
        return cls(
            cwd=cwd,
            shell=Path(shell_path or os.environ.get("SHELL", "/bin/bash")).name or "bash",
            current_date=date.today().isoformat(),
            timezone=_timezone_name(),
            approval_policy=approval,
            sandbox_mode=sandbox.mode,
            network_access=sandbox.has_full_network_access,
            writable_roots=sandbox.writable_roots,
        )

    def to_message(self) -> Message:
        lines = [
            "<environment_context>",
            f"  <cwd>{escape(str(self.cwd))}</cwd>",
            f"  <shell>{escape(self.shell)}</shell>",
            f"  <current_date>{self.current_date}</current_date>",
            f"  <timezone>{escape(self.timezone)}</timezone>",
            f"  <approval_policy>{self.approval_policy.value}</approval_policy>",
            f"  <sandbox_mode>{self.sandbox_mode.value}</sandbox_mode>",
            f"  <network_access>{'enabled' if self.network_access else 'restricted'}"
            "</network_access>",
        ]
        if self.writable_roots:
            lines.append("  <writable_roots>")
            lines.extend(f"    <root>{escape(str(r))}</root>" for r in self.writable_roots)
            lines.append("  </writable_roots>")
        lines.append("</environment_context>")
        return Message(role="user", content=[InputText(text="\n".join(lines))])


def _timezone_name() -> str:
    tz = os.environ.get("TZ")
    if tz:
        return tz
    try:
        return str(Path("/etc/timezone").read_text().strip()) or time.tzname[0]
    except OSError:
        return time.tzname[0]


_SANDBOX_TEXT = {
    SandboxMode.READ_ONLY: (
        "The sandbox is read-only: commands may read any file but cannot write files or reach "
        "the network."
    ),
    SandboxMode.WORKSPACE_WRITE: (
        "The sandbox is workspace-write: commands may read any file and write inside the "
        "working directory and the writable roots listed in the environment context; "
        "`.git` stays read-only. Network access is {network}."
    ),
    SandboxMode.DANGER_FULL_ACCESS: (
        "There is no sandbox: commands run with the user's full permissions and network access."
    ),
}

_APPROVAL_TEXT = {
    AskForApproval.NEVER: (
        "Approval policy is `never`: nobody will be asked to approve anything. Work within the "
        "sandbox; if something cannot be done there, say so instead of trying to escape it."
    ),
    AskForApproval.ON_REQUEST: (
        "Approval policy is `on-request`: when a command truly needs to run outside the sandbox "
        "(network access, writing elsewhere), run it with `sandbox_permissions` set to "
        '"require_escalated" and a one-sentence `justification`; the user decides.'
    ),
    AskForApproval.ON_FAILURE: (
        "Approval policy is `on-failure`: commands run in the sandbox first; if one fails because "
        "of the sandbox, the user may be asked to let it run outside."
    ),
    AskForApproval.UNTRUSTED: (
        "Approval policy is `untrusted`: the user is asked before any command that is not a "
        "known read-only command runs."
    ),
}


def permissions_message(approval: AskForApproval, sandbox: SandboxPolicy) -> Message:
    network = "enabled" if sandbox.network_access else "disabled"
    text = "<permissions>\n" + _SANDBOX_TEXT[sandbox.mode].format(network=network)
    text += "\n" + _APPROVAL_TEXT[approval] + "\n</permissions>"
    return developer_message(text)
