"""Which paths a confined command may write, and which paths inside them stay read-only.

Shared by every sandbox mechanism so bubblewrap and Landlock enforce the same layout. Paths are
canonical (symlinks resolved) because both mechanisms act on what a path resolves to: a root
given as a symlink must be granted at its target, or the grant would not cover it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from pycodex._records import dataclass
from pycodex.protocol.policies import SandboxMode, SandboxPolicy

# The one list of names kept read-only inside every writable root, by the sandbox (bubblewrap and
# Landlock alike) and by apply_patch. A command that could rewrite `.git/hooks` or `.git/config`
# would run code outside the sandbox on the next `git` call; `.codex` holds configuration and
# `.agents` skills the agent itself trusts (a planted skill is shown to the next session's
# model); `.aws` holds cloud credentials and a config whose `credential_process` runs commands.
PROTECTED_NAMES = (".git", ".codex", ".agents", ".aws")


@dataclass(frozen=True, slots=True)
class WritableLayout:
    """The writable roots (parents before children) and the read-only paths within them."""

    writable: tuple[Path, ...]
    protected: tuple[Path, ...]


def layout_for(
    policy: SandboxPolicy, cwd: Path, environ: Mapping[str, str] | None = None
) -> WritableLayout:
    """The layout `policy` grants to a command started in `cwd`.

    `environ` supplies `TMPDIR` (this process's environment by default, as upstream Codex does).
    Roots that do not exist are left out: there is nothing to grant, and bind mounts need them.
    """
    if policy.mode is not SandboxMode.WORKSPACE_WRITE:
        return WritableLayout(writable=(), protected=())
    env = os.environ if environ is None else environ
    # Relative roots are taken relative to the working directory (joining keeps absolute ones).
    candidates: list[Path] = [cwd, *(cwd / root for root in policy.writable_roots)]
    if not policy.exclude_tmpdir_env_var and env.get("TMPDIR"):
        candidates.append(Path(env["TMPDIR"]))
    if not policy.exclude_slash_tmp:
        candidates.append(Path("/tmp"))
    writable = _canonical_existing(candidates)
    return WritableLayout(writable=writable, protected=protected_paths(writable))


def protected_paths(roots: Iterable[Path]) -> tuple[Path, ...]:
    """The existing `PROTECTED_NAMES` entries of each root (and, when one is a symlink, what it
    resolves to), plus what a `gitdir:` file points to."""
    found: list[Path] = []
    for root in roots:
        for name in PROTECTED_NAMES:
            entry = root / name
            if not os.path.lexists(entry):
                continue
            found.append(entry)
            found.append(Path(os.path.realpath(entry)))
            if name == ".git" and entry.is_file():
                target = git_pointer_target(entry)
                if target is not None:
                    found.append(target)
    return _unique(path for path in found if path.exists())


def git_pointer_target(git_file: Path) -> Path | None:
    """The directory named by a worktree's or submodule's `.git` file (`gitdir: <path>`)."""
    try:
        text = git_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "gitdir" and value.strip():
            # A relative gitdir is relative to the directory holding the `.git` file.
            return Path(os.path.realpath(git_file.parent / value.strip()))
    return None


def is_within(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _canonical_existing(paths: Iterable[Path]) -> tuple[Path, ...]:
    resolved = (Path(os.path.realpath(path)) for path in paths)
    existing = [path for path in resolved if path.is_dir()]
    # Parents first, so a nested root's bind mount lands on top of its parent's.
    return _unique(sorted(existing, key=lambda path: (len(path.parts), str(path))))


def _unique(paths: Iterable[Path]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(paths))
