"""Stage one's answer, slug and summary file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.memories.layout import memory_paths
from pycodex.memories.stage_one import (
    StageOneError,
    clean_slug,
    parse_answer,
    summary_file_name,
    summary_file_text,
    write_summary_file,
)
from pycodex.memories.store import Stage1Output


def output(**changes: object) -> Stage1Output:
    values: dict[str, object] = {
        "thread_id": "01a23afc-315a-7275-a1a1-11b93243c03d",
        "source_updated_at": 1_750_000_000.0,
        "rollout_path": "/h/sessions/r.jsonl",
        "cwd": "/p",
        "started_at": "2025-06-15T14:40:00.123Z",
        "rollout_summary": "Summary.\n",
        "rollout_slug": "fix_parser",
        "generated_at": 1_750_000_100.0,
    }
    values.update(changes)
    return Stage1Output(**values)  # type: ignore[arg-type]


def test_the_answer_must_be_exactly_the_two_strings() -> None:
    answer = parse_answer('{"rollout_summary": "s", "rollout_slug": "x"}')
    assert (answer.rollout_summary, answer.rollout_slug, answer.empty) == ("s", "x", False)
    assert parse_answer('{"rollout_summary": " ", "rollout_slug": ""}').empty
    with pytest.raises(StageOneError, match="unknown field 'raw_memory'"):
        parse_answer('{"rollout_summary": "s", "rollout_slug": "x", "raw_memory": "m"}')
    with pytest.raises(StageOneError, match="not JSON"):
        parse_answer("Sure! Here is the summary")
    with pytest.raises(StageOneError, match="must both be strings"):
        parse_answer('{"rollout_summary": "s", "rollout_slug": null}')
    with pytest.raises(StageOneError, match="not a JSON object"):
        parse_answer("[1]")


def test_secrets_in_the_answer_are_redacted() -> None:
    answer = parse_answer(
        '{"rollout_summary": "key sk-proj-abcdefghijklmnopqrstuv", "rollout_slug": "x"}'
    )
    assert "abcdefghijklmnop" not in answer.rollout_summary


def test_slugs_are_file_name_safe() -> None:
    assert clean_slug("Fix-Parser bug!") == "fix_parser_bug"
    assert clean_slug("../../etc/passwd") == "etc_passwd"
    assert clean_slug("") == clean_slug("???") == "session"
    assert len(clean_slug("a" * 500)) == 60


def test_file_name_and_body() -> None:
    assert summary_file_name(output()) == "2025-06-15T14-40-00-c03d-fix_parser.md"
    assert summary_file_text(output()) == (
        "thread_id: 01a23afc-315a-7275-a1a1-11b93243c03d\n"
        "updated_at: 2025-06-15T15:06:40+00:00\n"
        "rollout_path: /h/sessions/r.jsonl\n"
        "cwd: /p\n\nSummary.\n"
    )


def test_a_new_slug_replaces_the_old_file_of_the_same_session(tmp_path: Path) -> None:
    paths = memory_paths(tmp_path)
    first = write_summary_file(paths, output())
    second = write_summary_file(paths, output(rollout_slug="parser_fix_again"))
    assert not first.exists() and second.exists()
    assert [p.name for p in paths.rollout_summaries.iterdir()] == [second.name]
