"""Policies that travel between layers: sandbox mode, approval policy, shell environment policy.

The string values are the ones users write in `config.toml` and on the command line, so they are
shared by config parsing, the context layer (which describes them to the model) and execution.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pycodex._records import dataclass, field


class SandboxMode(StrEnum):
    READ_ONLY = "read-only"
    WORKSPACE_WRITE = "workspace-write"
    DANGER_FULL_ACCESS = "danger-full-access"


class AskForApproval(StrEnum):
    """When the agent asks the user before running something.

    `untrusted` and `on-failure` are legacy values upstream retired; configs still carry them.
    """

    UNTRUSTED = "untrusted"
    ON_FAILURE = "on-failure"
    ON_REQUEST = "on-request"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class SandboxPolicy:
    """What a spawned command may touch. Every spawn takes one of these."""

    mode: SandboxMode
    writable_roots: tuple[Path, ...] = ()
    network_access: bool = False
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False

    @classmethod
    def full_access(cls) -> SandboxPolicy:
        return cls(mode=SandboxMode.DANGER_FULL_ACCESS, network_access=True)

    @classmethod
    def read_only(cls) -> SandboxPolicy:
        return cls(mode=SandboxMode.READ_ONLY)

    @property
    def has_full_network_access(self) -> bool:
        return self.mode is SandboxMode.DANGER_FULL_ACCESS or self.network_access


class EnvironmentInherit(StrEnum):
    ALL = "all"
    CORE = "core"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class ShellEnvironmentPolicy:
    """`[shell_environment_policy]`: which environment variables commands see.

    Patterns are shell-style globs matched case-insensitively against variable names.
    """

    inherit: EnvironmentInherit = EnvironmentInherit.ALL
    ignore_default_excludes: bool = False
    exclude: tuple[str, ...] = ()
    include_only: tuple[str, ...] = ()
    set: dict[str, str] = field(default_factory=dict)
