"""Skills: front matter parsing, discovery order, the budgeted list."""

from __future__ import annotations

from pathlib import Path

import pytest
from context_fixtures import FixtureRepo, make_unreadable, skill_file, write

from pycodex.context.skills import (
    FrontMatterError,
    Skill,
    discover_skills,
    parse_front_matter,
    render_skills,
    skill_roots,
)


def test_front_matter_simple_form() -> None:
    text = '---\nname: "fmt"\ndescription: Format code.\n# a comment\nextra: x\n---\nbody\n'
    assert parse_front_matter(text) == {"name": "fmt", "description": "Format code.", "extra": "x"}


def test_front_matter_folded_values() -> None:
    text = "---\nname: fmt\ndescription: >\n  Format code\n  before review.\n---\n"
    assert parse_front_matter(text)["description"] == "Format code before review."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\n", "does not start with a '---' front matter line"),
        ("---\nname: x\n", "front matter is not closed by a '---' line"),
        ("---\nname x\n---\n", "line 2: expected 'key: value', got 'name x'"),
        ("", "does not start with a '---' front matter line"),
    ],
)
def test_front_matter_errors(text: str, message: str) -> None:
    with pytest.raises(FrontMatterError, match=message):
        parse_front_matter(text)


def test_discovery_most_specific_first_and_broken_skipped(fixture_repo: FixtureRepo) -> None:
    found = discover_skills(skill_roots(fixture_repo.config()))
    assert [(s.name, s.path) for s in found.skills] == [
        ("lint", fixture_repo.cwd / ".agents/skills/lint/SKILL.md"),
        ("release", fixture_repo.repo / ".agents/skills/release/SKILL.md"),
        ("notes", fixture_repo.home / ".agents/skills/notes/SKILL.md"),
        ("deploy", fixture_repo.codex_home / "skills/deploy/SKILL.md"),
    ]
    broken = fixture_repo.codex_home / "skills/broken/SKILL.md"
    assert found.warnings == (
        f"skill {broken} skipped: does not start with a '---' front matter line",
    )


def test_missing_description_and_unreadable_file_are_warnings(fixture_repo: FixtureRepo) -> None:
    no_description = write(
        fixture_repo.repo / ".agents/skills/bare/SKILL.md", "---\nname: bare\n---\n"
    )
    unreadable = make_unreadable(fixture_repo.repo / ".agents/skills/locked/SKILL.md")
    found = discover_skills(skill_roots(fixture_repo.config()))
    assert "bare" not in [s.name for s in found.skills]
    assert f"skill {no_description} skipped: missing 'description'" in found.warnings
    assert any(w.startswith(f"could not read skill file {unreadable}") for w in found.warnings)
    assert "release" in [s.name for s in found.skills]


def test_non_utf8_skill_still_loads(tmp_path: Path) -> None:
    write(tmp_path / "s/odd/SKILL.md", b"---\nname: odd\ndescription: caf\xe9\n---\n")
    found = discover_skills([tmp_path / "s"])
    assert found.skills[0].description == "caf\ufffd"


def test_list_shows_names_descriptions_and_paths_not_bodies(fixture_repo: FixtureRepo) -> None:
    write(
        fixture_repo.codex_home / "skills/deploy/SKILL.md", skill_file("deploy", "Ship.", "SECRET")
    )
    found = discover_skills(skill_roots(fixture_repo.config()))
    text = render_skills(found.skills)
    assert text is not None
    assert text.startswith("<skills>\n") and text.endswith("\n</skills>")
    deploy = fixture_repo.codex_home / "skills/deploy/SKILL.md"
    assert f"- deploy: Ship. (file: {deploy})" in text
    assert "SECRET" not in text


def test_list_respects_the_budget_and_says_how_many_were_omitted(tmp_path: Path) -> None:
    skills = [
        Skill(f"skill-{i:02}", "d" * 100, tmp_path / "skills" / f"skill-{i:02}" / "SKILL.md")
        for i in range(40)
    ]
    text = render_skills(skills, budget=2048)
    assert text is not None
    listed = [line for line in text.splitlines() if line.startswith("- skill-")]
    assert 0 < len(listed) < 40
    assert sum(len(line) + 1 for line in listed) <= 2048
    assert f"- ({40 - len(listed)} more skills not listed to save space; " in text
    assert str(tmp_path / "skills") in text.splitlines()[-2]


def test_long_descriptions_are_shortened(tmp_path: Path) -> None:
    text = render_skills([Skill("big", "x" * 1000, tmp_path / "SKILL.md")])
    assert text is not None
    assert "x" * 297 + "..." in text and "x" * 298 not in text


def test_no_skills_no_section() -> None:
    assert render_skills([]) is None
