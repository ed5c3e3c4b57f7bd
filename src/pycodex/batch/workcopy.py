"""Per-task working copies, and the patch the agent made in one.

- `repo` (+ `ref`): a clone checked out at `ref` (detached; default the repository's HEAD). A
  local repository is cloned with hard links; a URL is mirrored once per work root (under a file
  lock, so parallel tasks share it) and each task clones the mirror. Only committed work is in
  a clone: uncommitted changes of a local repository are not.
- `cwd`: a copy of the directory as it is (symbolic links kept as links; sockets and FIFOs
  skipped). Its baseline is recorded in a git directory outside the copy, which the agent never
  sees, so the copy need not be a repository and a repository's own history is left alone.
- neither: a copy of the batch's `-C` directory when one was given, else an empty directory.

The diff is git's binary-safe patch from the starting point to the copy's final state, new
files included (files the copy's `.gitignore` ignores are not). An empty directory costs no git
process unless something was written in it. Everything here blocks; the task
runner calls it on a worker thread.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pycodex._records import dataclass
from pycodex.batch.tasks import BatchTask

# Settings of the user's git configuration that would change what `git diff` prints.
_GIT_CONFIG = (
    "core.autocrlf=false",
    "core.safecrlf=false",
    "core.quotepath=false",
    "core.fsmonitor=false",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.relative=false",
    "diff.renames=false",
    "color.ui=false",
)
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class WorkingCopyError(Exception):
    """A working copy that could not be made or read; the message is one line."""


@dataclass(frozen=True, slots=True)
class WorkingCopy:
    path: Path
    """Where the agent runs."""
    git_dir: Path
    """The repository that records the baseline (the clone's own, or one beside the copy)."""
    base: str
    """The commit or tree the diff starts from."""


def prepare(
    task: BatchTask, default_dir: Path | None, task_dir: Path, work_root: Path
) -> WorkingCopy:
    """Make the task's working copy under `task_dir` (which must exist)."""
    work = task_dir / "work"
    baseline = task_dir / "baseline.git"
    if task.repo is not None:
        return _clone(task.repo, task.ref, work, work_root)
    source = task.cwd if task.cwd is not None else default_dir
    if source is None:
        work.mkdir()
        return WorkingCopy(work, baseline, EMPTY_TREE)  # its git directory is made if needed
    _copy_tree(source, work, work_root)
    _git(["init", "--quiet", "--bare", str(baseline)], what="record the baseline")
    copy = WorkingCopy(work, baseline, EMPTY_TREE)
    return WorkingCopy(work, baseline, _record(copy, "record the baseline"))


def diff(copy: WorkingCopy) -> str:
    """The patch from the baseline to the copy as it is now (empty text when nothing changed)."""
    if copy.base == EMPTY_TREE and not copy.git_dir.exists():
        if not any(copy.path.iterdir()):
            return ""  # an empty directory that stayed empty: no git at all
        _git(["init", "--quiet", "--bare", str(copy.git_dir)], what="record the changes")
    git = _git_args(copy)
    _git([*git, "add", "--all", "--", "."], what="record the changes")
    return _git(
        [*git, "diff-index", "--cached", "--patch", "--binary", "--no-color", "--no-ext-diff",
         "--no-textconv", copy.base, "--"],
        what="compute the diff",
    )  # fmt: skip


def remove(task_dir: Path) -> None:
    shutil.rmtree(task_dir, ignore_errors=True)


def _git_args(copy: WorkingCopy) -> list[str]:
    return ["--git-dir", str(copy.git_dir), "--work-tree", str(copy.path)]


def _record(copy: WorkingCopy, what: str) -> str:
    """Stage the whole copy; return the tree it makes."""
    git = _git_args(copy)
    _git([*git, "add", "--all", "--", "."], what=what)
    return _git([*git, "write-tree"], what=what).strip()


def _clone(repo: str, ref: str | None, work: Path, work_root: Path) -> WorkingCopy:
    url_like = "://" in repo or not Path(repo).exists()
    commit: str | None = None
    # A URL's mirror may predate the commit asked for: fetch once more before giving up.
    for refresh in (False, True) if url_like else (False,):
        source = _mirror(repo, work_root, refresh) if url_like else repo
        shutil.rmtree(work, ignore_errors=True)
        _git(["clone", "--quiet", "--no-checkout", "--", source, str(work)], what=f"clone {repo}")
        commit = _resolve(work, ref or "HEAD")
        if commit is not None or ref is None:
            break
    if commit is None:
        raise WorkingCopyError(f"{repo} has no commit {ref or 'HEAD'!r}")
    if url_like:
        _git(["-C", str(work), "remote", "set-url", "origin", repo], what=f"clone {repo}")
    _git(["-C", str(work), "checkout", "--quiet", "--detach", commit], what=f"check out {ref}")
    return WorkingCopy(work, work / ".git", commit)


def _resolve(work: Path, ref: str) -> str | None:
    for candidate in (ref, f"origin/{ref}"):
        found = subprocess.run(
            ["git", "-C", str(work), "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"],
            capture_output=True,
            text=True,
            env=_env(),
        )
        if found.returncode == 0:
            return found.stdout.strip()
    return None


def _mirror(url: str, work_root: Path, refresh: bool) -> str:
    """A local mirror of `url`, made once per work root and shared by its tasks."""
    mirror = _mirror_path(url, work_root)
    with _locked(mirror):
        if not mirror.is_dir():
            partial = mirror.with_suffix(".partial")
            shutil.rmtree(partial, ignore_errors=True)
            _git(["clone", "--quiet", "--mirror", "--", url, str(partial)], what=f"clone {url}")
            partial.rename(mirror)
        elif refresh:
            _git(["-C", str(mirror), "fetch", "--quiet", "--prune"], what=f"fetch {url}")
    return str(mirror)


def _mirror_path(url: str, work_root: Path) -> Path:
    digest = hashlib.sha256(url.encode()).hexdigest()[:20]
    return work_root / "repos" / f"{digest}.git"


@contextmanager
def _locked(mirror: Path) -> Iterator[None]:
    mirror.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(mirror.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _copy_tree(source: Path, work: Path, work_root: Path) -> None:
    real = source.resolve()
    if not real.is_dir():
        raise WorkingCopyError(f"cwd {source} is not a directory")
    skip = str(work_root.resolve())

    def ignore(directory: str, names: list[str]) -> set[str]:
        # Working copies may live inside the copied tree (a task whose cwd holds the work root).
        return {name for name in names if os.path.join(directory, name) == skip}

    try:
        shutil.copytree(real, work, symlinks=True, ignore=ignore, copy_function=_copy_file)
    except (OSError, shutil.Error) as err:
        raise WorkingCopyError(f"cannot copy {source}: {_first_line(str(err))}") from None


def _copy_file(source: str, target: str) -> None:
    if stat.S_ISREG(os.lstat(source).st_mode):  # a FIFO would block the copy; sockets cannot be
        shutil.copy2(source, target)


def _git(args: list[str], *, what: str) -> str:
    command = ["git", *(part for setting in _GIT_CONFIG for part in ("-c", setting)), *args]
    try:
        done = subprocess.run(command, capture_output=True, env=_env(), stdin=subprocess.DEVNULL)
    except OSError as err:
        raise WorkingCopyError(f"cannot {what}: git: {err.strerror}") from None
    if done.returncode != 0:
        reason = _first_line(done.stderr.decode("utf-8", "replace")) or f"exit {done.returncode}"
        raise WorkingCopyError(f"cannot {what}: {reason}")
    return done.stdout.decode("utf-8", "replace")


def _env() -> dict[str, str]:
    # No credential prompts (nobody can answer them) and no pager; messages in English.
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C"}


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (fatal or lines or [""])[0]
