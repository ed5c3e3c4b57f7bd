"""What every task of a batch shares: exec options (`ExecOptions`), batch settings
(`BatchSettings`), and the `pycodex exec` command line one task runs with.

A task's own fields beat the batch's: `model`, `profile`, `sandbox`, `output_schema` and
`images` replace the batch's value; `config` overrides come after the batch's, so on the same key
the task's wins.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pycodex._records import dataclass, field
from pycodex.batch.tasks import BatchTask


@dataclass(frozen=True, slots=True)
class ExecOptions:
    """`pycodex exec` options for every task (the batch command line's exec flags).

    `cd` is the directory a task without `cwd` or `repo` gets a copy of (none: an empty
    directory). `extra_args` are further exec flags passed as they are (`--oss`,
    `--local-provider NAME`); `env` adds environment variables to every exec process.
    """

    model: str | None = None
    profile: str | None = None
    sandbox: str | None = None
    full_auto: bool = False
    yolo: bool = False
    cd: Path | None = None
    add_dirs: tuple[Path, ...] = ()
    ephemeral: bool = False
    config: tuple[str, ...] = ()
    output_schema: Path | None = None
    images: tuple[Path, ...] = ()
    extra_args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def to_wire(self) -> dict[str, object]:
        """Plain data, to ship the options to another machine (`from_wire` reads it back)."""
        return {
            "model": self.model,
            "profile": self.profile,
            "sandbox": self.sandbox,
            "full_auto": self.full_auto,
            "yolo": self.yolo,
            "cd": _text(self.cd),
            "add_dirs": [str(p) for p in self.add_dirs],
            "ephemeral": self.ephemeral,
            "config": list(self.config),
            "output_schema": _text(self.output_schema),
            "images": [str(p) for p in self.images],
            "extra_args": list(self.extra_args),
            "env": dict(self.env),
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, object]) -> ExecOptions:
        def paths(key: str) -> tuple[Path, ...]:
            return tuple(Path(str(p)) for p in _list(data.get(key)))

        return cls(
            model=_opt(data.get("model")),
            profile=_opt(data.get("profile")),
            sandbox=_opt(data.get("sandbox")),
            full_auto=bool(data.get("full_auto")),
            yolo=bool(data.get("yolo")),
            cd=_opt_path(data.get("cd")),
            add_dirs=paths("add_dirs"),
            ephemeral=bool(data.get("ephemeral")),
            config=tuple(str(c) for c in _list(data.get("config"))),
            output_schema=_opt_path(data.get("output_schema")),
            images=paths("images"),
            extra_args=tuple(str(a) for a in _list(data.get("extra_args"))),
            env={str(k): str(v) for k, v in _dict(data.get("env")).items()},
        )


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """How the batch runs its tasks.

    `retries`: extra attempts for a failed or timed-out task (counted across runs of the same
    results file). `timeout_s`: the default limit on one exec run. `max_concurrent_requests`:
    model requests in flight at once over the whole batch (None: no cap). `direct`: exec
    processes talk to the model server themselves, without the batch's request proxy (no cap,
    no shared back-off on 429). `cancel_grace_s`: how long a cancelled or timed-out exec has to
    end its turn after SIGINT before it is killed. `work_root`: the directory under which the
    batch makes its working copies (default: the user's cache directory, see
    `executors.work_directory`).
    """

    retries: int = 0
    timeout_s: float | None = None
    max_concurrent_requests: int | None = None
    direct: bool = False
    keep_workdirs: bool = False
    cancel_grace_s: float = 10.0
    work_root: Path | None = None

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError("retries cannot be negative")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if self.max_concurrent_requests is not None and self.max_concurrent_requests < 1:
            raise ValueError("max_concurrent_requests must be at least 1")
        if self.direct and self.max_concurrent_requests is not None:
            raise ValueError("max_concurrent_requests needs the request proxy (not direct)")

    def to_wire(self) -> dict[str, object]:
        return {
            "retries": self.retries,
            "timeout_s": self.timeout_s,
            "max_concurrent_requests": self.max_concurrent_requests,
            "direct": self.direct,
            "keep_workdirs": self.keep_workdirs,
            "cancel_grace_s": self.cancel_grace_s,
            "work_root": _text(self.work_root),
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, object]) -> BatchSettings:
        timeout, cap, grace = (
            data.get("timeout_s"),
            data.get("max_concurrent_requests"),
            data.get("cancel_grace_s"),
        )
        return cls(
            retries=int(str(data.get("retries") or 0)),
            timeout_s=float(str(timeout)) if timeout is not None else None,
            max_concurrent_requests=int(str(cap)) if cap is not None else None,
            direct=bool(data.get("direct")),
            keep_workdirs=bool(data.get("keep_workdirs")),
            cancel_grace_s=float(str(grace)) if grace is not None else 10.0,
            work_root=_opt_path(data.get("work_root")),
        )


def pycodex_command() -> list[str]:
    """How to start pycodex: the `pycodex` script beside this interpreter, else `-m pycodex`."""
    script = Path(sys.executable).parent / "pycodex"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "pycodex"]


def exec_arguments(
    options: ExecOptions, task: BatchTask, workdir: Path, schema: Path | None
) -> list[str]:
    """The `exec` arguments of one task; the prompt goes on stdin (`-`).

    `--skip-git-repo-check` always: every task runs in a throwaway working copy, which is what
    the check is there to ask for.
    """
    args = ["exec", "--json", "--skip-git-repo-check", "-C", str(workdir)]
    model = task.model or options.model
    profile = task.profile or options.profile
    if model:
        args += ["-m", model]
    if profile:
        args += ["-p", profile]
    if task.sandbox:
        args += ["-s", task.sandbox]  # the task's sandbox beats --full-auto and --yolo
    else:
        args += ["-s", options.sandbox] if options.sandbox else []
        args += ["--full-auto"] if options.full_auto else []
        args += ["--yolo"] if options.yolo else []
    for directory in options.add_dirs:
        args += ["--add-dir", str(directory)]
    if options.ephemeral:
        args.append("--ephemeral")
    for override in (*options.config, *task.config):
        args += ["-c", override]
    if schema is not None:
        args += ["--output-schema", str(schema)]
    for image in task.images if task.images is not None else options.images:
        args += ["-i", str(image)]
    args += options.extra_args
    return args


def _text(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def _opt(value: object) -> str | None:
    return str(value) if value is not None else None


def _opt_path(value: object) -> Path | None:
    return Path(str(value)) if value is not None else None


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _dict(value: object) -> dict[object, object]:
    return dict(value) if isinstance(value, dict) else {}
