"""AGENTS.md discovery and the user-instructions message."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from context_fixtures import FixtureRepo, make_unreadable, write

from pycodex.context.agents_md import (
    discover_instruction_files,
    find_project_root,
    project_directories,
    render_instructions,
)


def test_files_from_global_then_root_down_to_cwd(fixture_repo: FixtureRepo) -> None:
    found = discover_instruction_files(fixture_repo.config())
    assert found.warnings == ()
    assert [(f.path, f.scope, f.text) for f in found.files] == [
        (fixture_repo.codex_home / "AGENTS.md", "global", "Global: answer in English."),
        (fixture_repo.repo / "AGENTS.md", "project", "Root: run `make test` before finishing."),
        (
            fixture_repo.repo / "pkg/AGENTS.override.md",
            "project",
            "Pkg override: never touch generated/.",
        ),
        (fixture_repo.cwd / "NOTES.md", "project", "Sub notes: fixtures live in data/."),
    ]


def test_global_override_wins(fixture_repo: FixtureRepo) -> None:
    write(fixture_repo.codex_home / "AGENTS.override.md", "Global override.\n")
    found = discover_instruction_files(fixture_repo.config())
    assert found.files[0].path == fixture_repo.codex_home / "AGENTS.override.md"
    assert found.files[0].text == "Global override."


def test_fallback_names_are_used_only_when_configured(fixture_repo: FixtureRepo) -> None:
    found = discover_instruction_files(fixture_repo.config(project_doc_fallback_filenames=()))
    assert fixture_repo.cwd / "NOTES.md" not in [f.path for f in found.files]


def test_agents_md_beats_a_fallback_name(fixture_repo: FixtureRepo) -> None:
    write(fixture_repo.cwd / "AGENTS.md", "Sub agents file.\n")
    found = discover_instruction_files(fixture_repo.config())
    assert found.files[-1].path == fixture_repo.cwd / "AGENTS.md"


def test_empty_override_silences_its_directory(fixture_repo: FixtureRepo) -> None:
    write(fixture_repo.repo / "pkg/AGENTS.override.md", "  \n")
    paths = [f.path for f in discover_instruction_files(fixture_repo.config()).files]
    assert fixture_repo.repo / "pkg/AGENTS.md" not in paths
    assert fixture_repo.repo / "pkg/AGENTS.override.md" not in paths


def test_without_a_root_marker_only_cwd_is_searched(tmp_path: Path) -> None:
    cwd = tmp_path / "a" / "b"
    cwd.mkdir(parents=True)
    assert project_directories(cwd, (".git",)) == [cwd]
    assert project_directories(cwd, ()) == [cwd]


def test_the_search_stops_at_git_ceiling_directories(tmp_path: Path) -> None:
    (tmp_path / "outer" / ".git").mkdir(parents=True)
    cwd = tmp_path / "outer" / "ceiling" / "work"
    cwd.mkdir(parents=True)
    assert find_project_root(cwd, (".git",), environ={}) == tmp_path / "outer"
    ceiling = {"GIT_CEILING_DIRECTORIES": f"/nonexistent:{tmp_path / 'outer' / 'ceiling'}"}
    assert find_project_root(cwd, (".git",), environ=ceiling) is None
    # The working directory itself is always searched, even when it is the ceiling.
    assert find_project_root(tmp_path / "outer", (".git",), environ={
        "GIT_CEILING_DIRECTORIES": str(tmp_path / "outer")}) == tmp_path / "outer"  # fmt: skip


def test_custom_root_markers(fixture_repo: FixtureRepo) -> None:
    write(fixture_repo.repo / "pkg/pyproject.toml", "")
    dirs = project_directories(fixture_repo.cwd, ("pyproject.toml",))
    assert dirs == [fixture_repo.repo / "pkg", fixture_repo.cwd]
    found = discover_instruction_files(
        fixture_repo.config(project_root_markers=("pyproject.toml",))
    )
    assert fixture_repo.repo / "AGENTS.md" not in [f.path for f in found.files]


def test_budget_truncates_the_overflowing_file_and_drops_the_rest(
    fixture_repo: FixtureRepo,
) -> None:
    root_text = "Root: run `make test` before finishing."  # 39 bytes
    found = discover_instruction_files(fixture_repo.config(project_doc_max_bytes=50))
    project = [f for f in found.files if f.scope == "project"]
    assert len(root_text) == 39
    assert [f.text for f in project] == [root_text, "Pkg overrid"]  # 50 - 39 = 11 bytes left
    cut = len("Pkg override: never touch generated/.") - 11
    assert project[1].truncated_bytes == cut
    assert found.omitted == (fixture_repo.cwd / "NOTES.md",)
    assert found.warnings == (
        "AGENTS.md files exceed project_doc_max_bytes (50); the model sees them truncated",
    )
    text = render_instructions(found, fixture_repo.cwd)
    assert text is not None
    assert f"Pkg overrid\n[... {cut} more bytes not shown" in text
    assert (
        f"Not shown because of the size limit (read them if relevant): {found.omitted[0]}" in text
    )


def test_truncation_never_splits_a_character(fixture_repo: FixtureRepo) -> None:
    write(fixture_repo.repo / "AGENTS.md", "ééé")  # 6 bytes
    found = discover_instruction_files(fixture_repo.config(project_doc_max_bytes=3))
    first = next(f for f in found.files if f.scope == "project")
    assert (first.text, first.truncated_bytes) == ("é", 4)


def test_zero_budget_switches_project_docs_off(fixture_repo: FixtureRepo) -> None:
    found = discover_instruction_files(fixture_repo.config(project_doc_max_bytes=0))
    assert [f.scope for f in found.files] == ["global"]


def test_non_utf8_is_decoded_with_replacement(fixture_repo: FixtureRepo) -> None:
    write(fixture_repo.repo / "AGENTS.md", b"caf\xe9 rules")
    found = discover_instruction_files(fixture_repo.config())
    assert found.files[1].text == "caf\ufffd rules"


def test_unreadable_file_is_a_warning_and_the_rest_still_loads(fixture_repo: FixtureRepo) -> None:
    (fixture_repo.repo / "AGENTS.md").unlink()
    bad = make_unreadable(fixture_repo.repo / "AGENTS.md")
    found = discover_instruction_files(fixture_repo.config())
    assert len(found.warnings) == 1
    assert found.warnings[0].startswith(f"could not read AGENTS.md file {bad}: ")
    assert [f.path.name for f in found.files] == ["AGENTS.md", "AGENTS.override.md", "NOTES.md"]


def test_rendered_message_labels_each_file(fixture_repo: FixtureRepo) -> None:
    found = discover_instruction_files(fixture_repo.config())
    text = render_instructions(found, fixture_repo.cwd)
    assert text is not None
    assert text.startswith(f"# AGENTS.md instructions for {fixture_repo.cwd}\n\n<INSTRUCTIONS>\n")
    assert text.endswith("</INSTRUCTIONS>")
    assert f'<file path="{fixture_repo.codex_home / "AGENTS.md"}" scope="global">' in text
    positions = [text.index(f'<file path="{f.path}"') for f in found.files]
    assert positions == sorted(positions)


def test_nothing_to_render_without_files(fixture_repo: FixtureRepo) -> None:
    found = discover_instruction_files(fixture_repo.config())
    assert render_instructions(replace(found, files=()), fixture_repo.cwd) is None
