"""Task lines: one JSON object per line of a tasks file, read into `BatchTask` records.

A task names what to ask (`id`, `prompt`), where (`cwd`, or `repo` at `ref`), and per-task
overrides of the batch's exec options (`model`, `profile`, `config`, `output_schema`, `images`,
`sandbox`, `timeout_s`); `metadata` is any JSON, copied into the task's result. Relative paths
are taken from the tasks file's directory. A bad line is a `TaskFileError` naming its number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pycodex._records import dataclass

SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access")
_KEYS = frozenset(
    {
        "id",
        "prompt",
        "cwd",
        "repo",
        "ref",
        "model",
        "profile",
        "config",
        "output_schema",
        "images",
        "sandbox",
        "timeout_s",
        "metadata",
    }
)

TaskId = str | int
JsonValue = Any


class TaskFileError(Exception):
    """A tasks file (or task mapping) that cannot be used; the message is one line."""


@dataclass(frozen=True, slots=True)
class BatchTask:
    """One agent run of a batch. `config` holds `-c key=value` texts, applied after the batch's."""

    id: TaskId
    prompt: str
    cwd: Path | None = None
    repo: str | None = None
    ref: str | None = None
    model: str | None = None
    profile: str | None = None
    config: tuple[str, ...] = ()
    output_schema: Path | dict[str, JsonValue] | None = None
    images: tuple[Path, ...] | None = None
    sandbox: str | None = None
    timeout_s: float | None = None
    metadata: JsonValue = None

    @property
    def key(self) -> str:
        """The id as text: results are matched to tasks by it."""
        return str(self.id)

    def to_wire(self) -> dict[str, JsonValue]:
        """The task as a task line (paths as text), e.g. to ship it to another machine."""
        line: dict[str, JsonValue] = {"id": self.id, "prompt": self.prompt}
        optional = {
            "cwd": str(self.cwd) if self.cwd is not None else None,
            "repo": self.repo,
            "ref": self.ref,
            "model": self.model,
            "profile": self.profile,
            "config": list(self.config) or None,
            "output_schema": (
                str(self.output_schema)
                if isinstance(self.output_schema, Path)
                else self.output_schema
            ),
            "images": [str(p) for p in self.images] if self.images is not None else None,
            "sandbox": self.sandbox,
            "timeout_s": self.timeout_s,
            "metadata": self.metadata,
        }
        line.update((key, value) for key, value in optional.items() if value is not None)
        return line


def load_tasks(path: Path) -> list[BatchTask]:
    """Every task of a JSONL tasks file; relative paths are taken from the file's directory."""
    try:
        with path.open("rb") as handle:
            data = handle.read()
    except OSError as err:
        raise TaskFileError(f"cannot read tasks file {path}: {err.strerror}") from None
    return parse_tasks(_lines(data, path), base_dir=path.parent.absolute(), source=str(path))


def _lines(data: bytes, path: Path) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TaskFileError(f"{path}:{number}: not UTF-8 text") from None


def parse_tasks(
    lines: Iterable[tuple[int, str]], *, base_dir: Path, source: str = "tasks"
) -> list[BatchTask]:
    """Tasks from numbered JSON lines (blank lines skipped); ids must be unique."""
    tasks: list[BatchTask] = []
    seen: dict[str, int] = {}
    for number, text in lines:
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as err:
            raise TaskFileError(f"{source}:{number}: not a JSON object ({err})") from None
        task = _parse_located(value, base_dir, f"{source}:{number}")
        if task.key in seen:
            raise TaskFileError(
                f"{source}:{number}: id {task.id!r} already used on line {seen[task.key]}"
            )
        seen[task.key] = number
        tasks.append(task)
    return tasks


def task_from_mapping(value: Mapping[str, JsonValue], *, base_dir: Path | None = None) -> BatchTask:
    """One task from a task-line mapping (the Python API's form of a task line)."""
    return _parse_located(dict(value), base_dir or Path.cwd(), f"task {value.get('id')!r}")


def _parse_located(value: JsonValue, base_dir: Path, where: str) -> BatchTask:
    try:
        return parse_task(value, base_dir)
    except TaskFileError as err:
        raise TaskFileError(f"{where}: {err}") from None


def parse_task(value: JsonValue, base_dir: Path) -> BatchTask:
    """Check one decoded task line; errors name the key (the caller adds the line)."""
    if not isinstance(value, dict):
        raise TaskFileError("a task line must be a JSON object")
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise TaskFileError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    task_id = value.get("id")
    if isinstance(task_id, bool) or not isinstance(task_id, str | int) or task_id == "":
        raise TaskFileError("'id' is required: a non-empty string or an integer")
    prompt = value.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise TaskFileError("'prompt' is required: a non-empty string")
    if value.get("cwd") is not None and value.get("repo") is not None:
        raise TaskFileError("give 'cwd' or 'repo', not both")
    if value.get("ref") is not None and value.get("repo") is None:
        raise TaskFileError("'ref' needs 'repo'")
    repo = _string(value, "repo")
    if repo is not None and repo.startswith("-"):
        raise TaskFileError(f"'repo' cannot start with '-': {repo!r}")
    return BatchTask(
        id=task_id,
        prompt=prompt,
        cwd=_path(value, "cwd", base_dir),
        repo=_repo(repo, base_dir),
        ref=_string(value, "ref"),
        model=_string(value, "model"),
        profile=_string(value, "profile"),
        config=config_overrides(value.get("config")),
        output_schema=_schema(value.get("output_schema"), base_dir),
        images=_images(value.get("images"), base_dir),
        sandbox=_sandbox(value.get("sandbox")),
        timeout_s=_timeout(value.get("timeout_s")),
        metadata=value.get("metadata"),
    )


def _string(value: dict[str, JsonValue], key: str) -> str | None:
    item = value.get(key)
    if item is None:
        return None
    if not isinstance(item, str) or not item:
        raise TaskFileError(f"'{key}' must be a non-empty string")
    return item


def _path(value: dict[str, JsonValue], key: str, base_dir: Path) -> Path | None:
    text = _string(value, key)
    return None if text is None else base_dir / Path(text).expanduser()


def _repo(repo: str | None, base_dir: Path) -> str | None:
    """A URL (`scheme://`, `user@host:path`) stays as written; a local path is made absolute."""
    if repo is None or "://" in repo or _scp_like(repo):
        return repo
    return str(base_dir / Path(repo).expanduser())


def _scp_like(repo: str) -> bool:
    head, colon, _ = repo.partition(":")
    return bool(colon) and "/" not in head and "@" in head


def _schema(item: JsonValue, base_dir: Path) -> Path | dict[str, JsonValue] | None:
    if item is None or isinstance(item, dict):
        return item
    if isinstance(item, str) and item:
        return base_dir / Path(item).expanduser()
    raise TaskFileError("'output_schema' must be a JSON Schema object or a path to one")


def _images(item: JsonValue, base_dir: Path) -> tuple[Path, ...] | None:
    if item is None:
        return None
    if not isinstance(item, list) or not all(isinstance(p, str) and p for p in item):
        raise TaskFileError("'images' must be a list of paths")
    return tuple(base_dir / Path(p).expanduser() for p in item)


def _sandbox(item: JsonValue) -> str | None:
    if item is None or item in SANDBOX_MODES:
        return item  # type: ignore[no-any-return]
    raise TaskFileError(f"'sandbox' must be one of {', '.join(SANDBOX_MODES)}, got {item!r}")


def _timeout(item: JsonValue) -> float | None:
    if item is None:
        return None
    if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
        raise TaskFileError("'timeout_s' must be a positive number of seconds")
    if item <= 0:
        raise TaskFileError("'timeout_s' must be a positive number of seconds")
    return float(item)


def config_overrides(item: JsonValue) -> tuple[str, ...]:
    """`config` as `-c` texts: an object of key -> JSON value, or a list of `key=value` texts."""
    from pycodex.batch.toml_values import toml_value
    from pycodex.config import ConfigError
    from pycodex.config.overrides import split_key

    if item is None:
        return ()
    if isinstance(item, list):
        if not all(isinstance(entry, str) and "=" in entry for entry in item):
            raise TaskFileError("'config' as a list holds 'key=value' texts")
        pairs = [tuple(entry.split("=", 1)) for entry in item]
        texts = tuple(item)
    elif isinstance(item, dict):
        pairs = [(key, value) for key, value in item.items()]
        try:
            texts = tuple(f"{key}={toml_value(value)}" for key, value in pairs)
        except ValueError as err:
            raise TaskFileError(f"'config': {err}") from None
    else:
        raise TaskFileError("'config' must be an object of overrides or a list of 'key=value'")
    for key, _ in pairs:
        try:
            split_key(str(key).strip())
        except ConfigError:
            raise TaskFileError(f"'config': {key!r} is not a valid dotted key") from None
    return texts
