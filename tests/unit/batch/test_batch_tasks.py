"""Task lines: what is accepted, what each error says, and `config` as `-c` texts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pycodex.batch.tasks import BatchTask, TaskFileError, load_tasks, parse_task
from pycodex.batch.toml_values import toml_value
from pycodex.config import parse_cli_override


def write(tmp_path: Path, *lines: Any) -> Path:
    path = tmp_path / "tasks.jsonl"
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text)
    return path


def test_a_full_task_line(tmp_path: Path) -> None:
    (tmp_path / "img.png").write_bytes(b"png")
    path = write(
        tmp_path,
        {
            "id": "a",
            "prompt": "do it",
            "cwd": "project",
            "model": "m",
            "profile": "p",
            "config": {"model_reasoning_effort": "low", "features.x": True},
            "output_schema": "schema.json",
            "images": ["img.png"],
            "sandbox": "workspace-write",
            "timeout_s": 30,
            "metadata": {"expected": 42},
        },
        "",
        {"id": 7, "prompt": "seven", "repo": "https://example.invalid/r.git", "ref": "main"},
        {"id": "ssh", "prompt": "x", "repo": "git@example.invalid:r.git"},
        {"id": "local", "prompt": "x", "repo": "../r"},
    )
    first, second, ssh, local = load_tasks(path)
    assert first == BatchTask(
        id="a",
        prompt="do it",
        cwd=tmp_path / "project",
        model="m",
        profile="p",
        config=('model_reasoning_effort="low"', "features.x=true"),
        output_schema=tmp_path / "schema.json",
        images=(tmp_path / "img.png",),
        sandbox="workspace-write",
        timeout_s=30.0,
        metadata={"expected": 42},
    )
    assert (second.id, second.repo, second.ref) == (7, "https://example.invalid/r.git", "main")
    assert ssh.repo == "git@example.invalid:r.git"
    assert local.repo == str(tmp_path / "../r")
    assert parse_task(first.to_wire(), Path("/elsewhere")) == first  # shipped to a worker


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "a task line must be a JSON object"),
        ('{"id": true, "prompt": "x"}', "'id' is required"),
        ('{"id": "", "prompt": "x"}', "'id' is required"),
        ('{"id": 1}', "'prompt' is required"),
        ('{"id": 1, "prompt": "  "}', "'prompt' is required"),
        ('{"id": 1, "prompt": "x", "cwd": "a", "repo": "b"}', "give 'cwd' or 'repo', not both"),
        ('{"id": 1, "prompt": "x", "ref": "main"}', "'ref' needs 'repo'"),
        ('{"id": 1, "prompt": "x", "repo": "--upload-pack=evil"}', "cannot start with '-'"),
        ('{"id": 1, "prompt": "x", "timeout_s": 0}', "'timeout_s' must be a positive"),
        ('{"id": 1, "prompt": "x", "timeout_s": "5"}', "'timeout_s' must be a positive"),
        ('{"id": 1, "prompt": "x", "images": "a.png"}', "'images' must be a list"),
        ('{"id": 1, "prompt": "x", "output_schema": 3}', "'output_schema' must be"),
        ('{"id": 1, "prompt": "x", "config": {"a": null}}', "'config': null has no TOML form"),
        ('{"id": 1, "prompt": "x", "config": ["novalue"]}', "'key=value' texts"),
        ('{"id": 1, "prompt": "x", "config": {"a..b": 1}}', "not a valid dotted key"),
        ('{"id": 1, "prompt": "x", "model": 5}', "'model' must be a non-empty string"),
    ],
)
def test_errors_name_the_line_and_the_key(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, {"id": 0, "prompt": "fine"}, line)
    with pytest.raises(TaskFileError) as caught:
        load_tasks(path)
    text = str(caught.value)
    assert text.startswith(f"{path}:2: ") and message in text and "\n" not in text


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(TaskFileError, match=r"cannot read tasks file .*missing"):
        load_tasks(tmp_path / "missing")
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"id": 1, "prompt": "x"}\n\xff\xfe\n')
    with pytest.raises(TaskFileError, match=r"bad.jsonl:2: not UTF-8 text"):
        load_tasks(path)


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        'quote " and backslash \\ and newline \n and tab \t',
        "del \x7f and control \x01",
        "astral \U0001f600 and accents é",
        0,
        -3,
        2.5,
        1e-7,
        True,
        [1, "two", [3.0], {"k": False}],
        {"a": 1, "needs quoting": {"b.c": "d"}},
    ],
)
def test_json_values_become_the_same_toml_values(value: Any) -> None:
    key, parsed = parse_cli_override(f"some.key={toml_value(value)}")
    assert (key, parsed) == ("some.key", value)
