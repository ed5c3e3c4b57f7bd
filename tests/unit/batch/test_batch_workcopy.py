"""Working copies made with real git and real files, and the diffs read back from them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pycodex.batch import workcopy
from pycodex.batch.tasks import BatchTask

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]


def make_repo(path: Path) -> Path:
    path.mkdir()
    subprocess.run([*GIT, "-C", str(path), "init", "-q", "-b", "main"], check=True)
    (path / "a.txt").write_text("one\n")
    subprocess.run([*GIT, "-C", str(path), "add", "a.txt"], check=True)
    subprocess.run([*GIT, "-C", str(path), "commit", "-qm", "one"], check=True)
    subprocess.run([*GIT, "-C", str(path), "branch", "old"], check=True)
    (path / "a.txt").write_text("two\n")
    subprocess.run([*GIT, "-C", str(path), "commit", "-qam", "two"], check=True)
    (path / "a.txt").write_text("uncommitted\n")
    return path


def prepare(tmp_path: Path, task: BatchTask, default: Path | None = None) -> workcopy.WorkingCopy:
    task_dir = tmp_path / "work-root" / "tasks" / "x"
    task_dir.mkdir(parents=True)
    return workcopy.prepare(task, default, task_dir, tmp_path / "work-root")


def test_copy_of_a_directory_and_its_diff(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "keep.txt").write_text("keep\n")
    (source / "change.txt").write_text("before\n")
    (source / "gone.txt").write_text("bye\n")
    (source / "sub" / "link").symlink_to("../keep.txt")
    os.mkfifo(source / "pipe")  # copying a FIFO would block: it is skipped
    copy = prepare(tmp_path, BatchTask(id=1, prompt="p", cwd=source))
    assert copy.path != source and (copy.path / "sub" / "link").is_symlink()
    assert not (copy.path / "pipe").exists()
    assert not (copy.path / ".git").exists()  # the baseline lives outside the copy
    assert workcopy.diff(copy) == ""
    (copy.path / "change.txt").write_text("after\n")
    (copy.path / "gone.txt").unlink()
    (copy.path / "new.txt").write_text("new\n")
    patch = workcopy.diff(copy)
    assert "--- a/change.txt\n+++ b/change.txt\n@@ -1 +1 @@\n-before\n+after\n" in patch
    assert "deleted file mode 100644\n" in patch and "-bye\n" in patch
    assert "new file mode 100644\n" in patch and "+++ b/new.txt\n@@ -0,0 +1 @@\n+new\n" in patch
    assert (source / "change.txt").read_text() == "before\n"  # the source is untouched
    applied = tmp_path / "applied"
    subprocess.run(["cp", "-r", str(source), str(applied)], check=True)
    (applied / "pipe").unlink()
    subprocess.run(["git", "apply", "-"], input=patch.encode(), cwd=applied, check=True)
    assert (applied / "change.txt").read_text() == "after\n"


def test_an_empty_directory_needs_no_git_until_written(tmp_path: Path) -> None:
    copy = prepare(tmp_path, BatchTask(id=1, prompt="p"))
    assert list(copy.path.iterdir()) == [] and workcopy.diff(copy) == ""
    assert not copy.git_dir.exists()
    (copy.path / "out.bin").write_bytes(bytes(range(256)))
    patch = workcopy.diff(copy)
    assert "new file mode 100644" in patch and "GIT binary patch" in patch


def test_default_directory_is_copied_for_a_task_without_one(tmp_path: Path) -> None:
    default = tmp_path / "default"
    default.mkdir()
    (default / "f.txt").write_text("x\n")
    copy = prepare(tmp_path, BatchTask(id=1, prompt="p"), default)
    assert (copy.path / "f.txt").read_text() == "x\n"


def test_the_work_root_inside_the_copied_directory_is_not_copied(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x\n")
    copy = prepare(tmp_path, BatchTask(id=1, prompt="p", cwd=tmp_path))
    assert (copy.path / "f.txt").exists()
    assert not (copy.path / "work-root").exists()


def test_clone_of_a_local_repository_at_a_ref(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    at_head = prepare(tmp_path / "h", BatchTask(id=1, prompt="p", repo=str(repo)))
    assert (at_head.path / "a.txt").read_text() == "two\n"  # committed work only
    at_old = prepare(tmp_path / "o", BatchTask(id=1, prompt="p", repo=str(repo), ref="old"))
    assert (at_old.path / "a.txt").read_text() == "one\n"
    (at_old.path / "a.txt").write_text("edited\n")
    (at_old.path / "b.txt").write_text("b\n")
    subprocess.run([*GIT, "-C", str(at_old.path), "commit", "-qam", "agent commits"], check=True)
    patch = workcopy.diff(at_old)
    assert "-one\n+edited\n" in patch  # from the starting commit, commits included
    assert "+++ b/b.txt" in patch


def test_clone_of_a_url_goes_through_one_mirror(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    url = f"file://{repo}"
    first = prepare(tmp_path / "1", BatchTask(id=1, prompt="p", repo=url, ref="old"))
    assert (first.path / "a.txt").read_text() == "one\n"
    mirrors = list((tmp_path / "1" / "work-root" / "repos").glob("*.git"))
    assert len(mirrors) == 1
    remote = subprocess.run(
        ["git", "-C", str(first.path), "remote", "get-url", "origin"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert remote.stdout.strip() == url
    # A commit made after the mirror was: the mirror is fetched again.
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qam", "three"], check=True)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    task_dir = tmp_path / "1" / "work-root" / "tasks" / "y"
    task_dir.mkdir(parents=True)
    later = workcopy.prepare(
        BatchTask(id=2, prompt="p", repo=url, ref=head),
        None,
        task_dir,
        tmp_path / "1" / "work-root",
    )
    assert (later.path / "a.txt").read_text() == "uncommitted\n"


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (
            BatchTask(id=1, prompt="p", repo="REPO", ref="no-such-ref"),
            "has no commit 'no-such-ref'",
        ),
        (BatchTask(id=1, prompt="p", repo="/nonexistent/repo"), "cannot clone /nonexistent/repo"),
        (BatchTask(id=1, prompt="p", cwd=Path("/nonexistent/dir")), "is not a directory"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, task: BatchTask, message: str) -> None:
    if task.repo == "REPO":
        task = BatchTask(id=1, prompt="p", repo=str(make_repo(tmp_path / "repo")), ref=task.ref)
    with pytest.raises(workcopy.WorkingCopyError, match=message) as caught:
        prepare(tmp_path, task)
    assert "\n" not in str(caught.value)
