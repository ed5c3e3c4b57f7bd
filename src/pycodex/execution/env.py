"""The environment a spawned command sees, decided by `[shell_environment_policy]`.

Steps, in the order upstream Codex applies them:
1. start from all, the core, or none of the variables of `base` (`inherit`);
2. unless `ignore_default_excludes`, drop names that look like credentials (`*KEY*`, `*SECRET*`,
   `*TOKEN*`), so an API key in the agent's environment is not handed to every command;
3. drop names matching the `exclude` globs;
4. add the `set` entries;
5. when `include_only` is non-empty, keep only names matching one of its globs.

Globs are shell-style and matched case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import assert_never

from pycodex.protocol.policies import EnvironmentInherit, ShellEnvironmentPolicy

# Enough for a shell to find programs, its home and temp directory, and to print text in the
# user's locale and terminal.
CORE_VARIABLE_PATTERNS: tuple[str, ...] = (
    "HOME",
    "LOGNAME",
    "PATH",
    "SHELL",
    "USER",
    "USERNAME",
    "TMPDIR",
    "TEMP",
    "TMP",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TERM",
    "COLORTERM",
    "TZ",
)

DEFAULT_EXCLUDE_PATTERNS: tuple[str, ...] = ("*KEY*", "*SECRET*", "*TOKEN*")

# What the unified-exec tools overlay on a command's environment, as upstream does: output meant
# for a model reads best without colours, pagers or terminal capabilities.
EXEC_SESSION_ENV: Mapping[str, str] = {
    "NO_COLOR": "1",
    "TERM": "dumb",
    "LANG": "C.UTF-8",
    "LC_CTYPE": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "COLORTERM": "",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "GH_PAGER": "cat",
    "CODEX_CI": "1",
}


def matches_any(name: str, patterns: Iterable[str]) -> bool:
    """Whether `name` matches one of the glob `patterns`, ignoring case."""
    folded = name.upper()
    return any(fnmatchcase(folded, pattern.upper()) for pattern in patterns)


def build_command_env(policy: ShellEnvironmentPolicy, base: Mapping[str, str]) -> dict[str, str]:
    """The environment for a command under `policy`, starting from `base` (usually os.environ)."""
    env = _inherited(policy.inherit, base)
    if not policy.ignore_default_excludes:
        env = {k: v for k, v in env.items() if not matches_any(k, DEFAULT_EXCLUDE_PATTERNS)}
    if policy.exclude:
        env = {k: v for k, v in env.items() if not matches_any(k, policy.exclude)}
    env.update(policy.set)
    if policy.include_only:
        env = {k: v for k, v in env.items() if matches_any(k, policy.include_only)}
    return env


def _inherited(inherit: EnvironmentInherit, base: Mapping[str, str]) -> dict[str, str]:
    match inherit:
        case EnvironmentInherit.ALL:
            return dict(base)
        case EnvironmentInherit.CORE:
            return {k: v for k, v in base.items() if matches_any(k, CORE_VARIABLE_PATTERNS)}
        case EnvironmentInherit.NONE:
            return {}
        case _:
            assert_never(inherit)
