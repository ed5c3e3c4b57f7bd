"""The sandbox seam: every command pycodex spawns is passed through `prepare_command` first.

Nothing is confined yet; enforcement (Landlock/seccomp on Linux, Seatbelt on macOS) arrives in a
later issue and only this module will change. Until then the command runs as given, and
`CODEX_SANDBOX` is deliberately left unset: programs read it as a promise that they are confined,
and making that promise falsely would be worse than saying nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pycodex.protocol.policies import SandboxPolicy


@dataclass(frozen=True, slots=True)
class PreparedCommand:
    """The command line to execute and what the sandbox adds to its environment.

    `enforced` is True only when the policy is really applied by the operating system.
    """

    argv: tuple[str, ...]
    env_overrides: dict[str, str] = field(default_factory=dict)
    enforced: bool = False


def sandbox_enforcement_available() -> bool:
    """Whether this platform can confine commands; no enforcement exists yet."""
    return False


def prepare_command(argv: Sequence[str], cwd: Path, policy: SandboxPolicy) -> PreparedCommand:
    """Wrap `argv` for `policy`. Today every mode runs unconfined and unchanged.

    `cwd` and `policy` are part of the signature because the confined variants need them (the
    working directory is a writable root under workspace-write).
    """
    if not argv:
        raise ValueError("cannot run an empty command")
    del cwd, policy  # unused until enforcement lands
    return PreparedCommand(argv=tuple(argv))
