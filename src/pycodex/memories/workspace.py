"""The memory folder as a git repository: baseline, inputs, diff.

The folder `memories_v2/` is a git repository of its own (branch `main`). Its last commit is the
baseline: the state the current `memory_summary.md` was written from. Before consolidation the
rollout summaries are synced from the store; what changed since the baseline (`git diff`
against it, new files included) goes into `phase2_workspace_diff.md` for the agent to read
first. After an accepted summary the diff file is removed and everything is committed as the
new baseline.

git runs with the user's configuration switched off (no global or system config, no hooks, no
signing), committing as `pycodex <pycodex@localhost>`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from pycodex._records import dataclass
from pycodex.memories.layout import AD_HOC_INSTRUCTIONS, DIFF_FILE_NAME, MemoryPaths
from pycodex.memories.stage_one import summary_file_name, summary_file_text
from pycodex.memories.store import Stage1Output

BASELINE_MESSAGE = "pycodex memory baseline"
GIT_NAME = "pycodex"
GIT_EMAIL = "pycodex@localhost"
# A diff this long is cut: the agent can still read every file itself.
MAX_DIFF_CHARS = 200_000
_EXCLUDED = (DIFF_FILE_NAME, "*.tmp")


class WorkspaceError(Exception):
    """A git step failed; `str()` is one line naming it."""


@dataclass(frozen=True)
class WorkspaceDiff:
    status: list[str]  # `A path`, `M path`, `D path`
    diff: str

    @property
    def changed(self) -> bool:
        return bool(self.status)


async def git(root: Path, *args: str, check: bool = True) -> tuple[int, str]:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": GIT_NAME,
        "GIT_AUTHOR_EMAIL": GIT_EMAIL,
        "GIT_COMMITTER_NAME": GIT_NAME,
        "GIT_COMMITTER_EMAIL": GIT_EMAIL,
        "LC_ALL": "C",
    }
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CEILING_DIRECTORIES"):
        env.pop(name, None)
    command = ["git", "-C", str(root), "-c", "core.hooksPath=" + os.devnull]
    command += ["-c", "commit.gpgSign=false", "-c", "core.quotePath=false", *args]
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
    except OSError as err:
        raise WorkspaceError(f"cannot run git: {err.strerror or err}") from None
    out, errors = await process.communicate()
    code = process.returncode or 0
    if check and code != 0:
        detail = " ".join(errors.decode("utf-8", "replace").split())[:200]
        raise WorkspaceError(f"git {args[0]} failed in {root}: {detail or f'exit {code}'}")
    return code, out.decode("utf-8", "replace")


async def prepare(paths: MemoryPaths) -> None:
    """Create the folder, its seeded files and, the first time, the git baseline."""
    from pycodex.memories.prompts import read_memory_prompt

    root = paths.root
    paths.notes.mkdir(parents=True, exist_ok=True)
    if not paths.ad_hoc_instructions.exists():
        text = read_memory_prompt("ad_hoc_instructions.md") + "\n"
        paths.ad_hoc_instructions.write_text(text, encoding="utf-8")
    if not (root / ".git").is_dir():
        await git(root, "init", "--quiet")
        await git(root, "symbolic-ref", "HEAD", "refs/heads/main")
    exclude = root / ".git" / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    exclude.write_text("".join(f"{pattern}\n" for pattern in _EXCLUDED), encoding="utf-8")
    code, _ = await git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
    if code != 0:
        # The first baseline holds only the seeded file: whatever else is already here (the
        # summaries stage one just wrote) is new to the consolidation agent.
        await git(root, "add", "--", str(AD_HOC_INSTRUCTIONS))
        await git(root, "commit", "--quiet", "-m", BASELINE_MESSAGE)


def sync_rollout_summaries(paths: MemoryPaths, outputs: list[Stage1Output]) -> None:
    """Make `rollout_summaries/` hold exactly one file per selected output."""
    directory = paths.rollout_summaries
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {summary_file_name(output): output for output in outputs}
    for existing in directory.iterdir():
        if existing.name not in wanted and existing.is_file():
            existing.unlink()
    for name, output in wanted.items():
        target = directory / name
        text = summary_file_text(output)
        if not target.is_file() or target.read_text(encoding="utf-8", errors="replace") != text:
            target.write_text(text, encoding="utf-8")


async def workspace_diff(paths: MemoryPaths) -> WorkspaceDiff:
    """What changed since the baseline, untracked files included."""
    root = paths.root
    await git(root, "add", "--all")
    _, names = await git(root, "diff", "--cached", "--name-status", "--no-renames", "HEAD")
    status = [" ".join(line.split("\t", 1)) for line in names.splitlines() if line.strip()]
    if not status:
        return WorkspaceDiff([], "")
    _, diff = await git(root, "diff", "--cached", "--no-renames", "--no-color", "HEAD")
    if len(diff) > MAX_DIFF_CHARS:
        diff = diff[:MAX_DIFF_CHARS] + "\n[... diff cut here: read the files themselves ...]\n"
    return WorkspaceDiff(status, diff)


def write_diff_file(paths: MemoryPaths, diff: WorkspaceDiff) -> None:
    text = "\n".join(
        [
            "# Memory Workspace Diff",
            "",
            "Written by pycodex for this consolidation run. Read this file first and do not "
            "edit it: it is removed when the run ends. It shows what changed in this folder "
            "since `memory_summary.md` was last written.",
            "",
            "## Status",
            "",
            *diff.status,
            "",
            "## Diff",
            "",
            "```diff",
            diff.diff.rstrip("\n"),
            "```",
            "",
        ]
    )
    paths.diff_file.write_text(text, encoding="utf-8")


async def commit_baseline(paths: MemoryPaths) -> None:
    """Remove the diff file and commit the folder as it is now."""
    paths.diff_file.unlink(missing_ok=True)
    root = paths.root
    await git(root, "add", "--all")
    code, _ = await git(root, "diff", "--cached", "--quiet", "HEAD", check=False)
    has_head = (await git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False))[0] == 0
    if has_head and code == 0:
        return  # nothing changed since the last baseline
    await git(root, "commit", "--quiet", "--allow-empty", "-m", BASELINE_MESSAGE)


async def restore_summary(paths: MemoryPaths) -> None:
    """Put back the baseline's `memory_summary.md` (or remove a new one) after a rejected run."""
    root = paths.root
    name = paths.summary.name
    code, _ = await git(root, "cat-file", "-e", f"HEAD:{name}", check=False)
    if code == 0:
        await git(root, "checkout", "HEAD", "--", name)
    else:
        paths.summary.unlink(missing_ok=True)
    paths.diff_file.unlink(missing_ok=True)
