"""The `<environment_context>` user message: where commands run and under which rules.

It is part of the initial context and is sent again (appended, never edited in place) whenever one
of its facts changes between turns: the working directory, the policies, or simply the date.
"""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

from pycodex._records import dataclass
from pycodex.context.prompt_files import xml_text
from pycodex.protocol.context_markers import ENVIRONMENT_CONTEXT_TAG
from pycodex.protocol.items import InputText, Message
from pycodex.protocol.policies import AskForApproval, SandboxMode, SandboxPolicy

ENVIRONMENT_TAG = ENVIRONMENT_CONTEXT_TAG
DEFAULT_SHELL = "bash"


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
        cls,
        cwd: Path,
        approval: AskForApproval,
        sandbox: SandboxPolicy,
        shell_path: str | None,
        today: date | None = None,
    ) -> EnvironmentContext:
        return cls(
            cwd=cwd,
            shell=Path(shell_path).name if shell_path else DEFAULT_SHELL,
            current_date=(today or date.today()).isoformat(),
            timezone=local_timezone_name(),
            approval_policy=approval,
            sandbox_mode=sandbox.mode,
            network_access=sandbox.has_full_network_access,
            writable_roots=sandbox.writable_roots,
        )

    def to_text(self) -> str:
        network = "enabled" if self.network_access else "restricted"
        lines = [
            ENVIRONMENT_TAG,
            f"  <cwd>{xml_text(str(self.cwd))}</cwd>",
            f"  <shell>{xml_text(self.shell)}</shell>",
            f"  <current_date>{self.current_date}</current_date>",
            f"  <timezone>{xml_text(self.timezone)}</timezone>",
            f"  <approval_policy>{self.approval_policy.value}</approval_policy>",
            f"  <sandbox_mode>{self.sandbox_mode.value}</sandbox_mode>",
            f"  <network_access>{network}</network_access>",
        ]
        if self.writable_roots:
            lines.append("  <writable_roots>")
            lines.extend(f"    <root>{xml_text(str(root))}</root>" for root in self.writable_roots)
            lines.append("  </writable_roots>")
        lines.append("</environment_context>")
        return "\n".join(lines)

    def to_message(self) -> Message:
        return Message(role="user", content=[InputText(text=self.to_text())])


def local_timezone_name() -> str:
    """An IANA name such as `Europe/Paris` when the system says one, else the abbreviation."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        return tz
    try:
        # /etc/localtime is usually a symlink into the zoneinfo tree; its tail is the IANA name.
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except OSError:
        name = ""
    return name or time.tzname[0]
