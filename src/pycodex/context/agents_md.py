"""AGENTS.md discovery: the instruction files that apply to a working directory.

Global: `$CODEX_HOME/AGENTS.override.md`, else `$CODEX_HOME/AGENTS.md`.
Project: every directory from the project root down to the working directory, where the project
root is the nearest ancestor of the working directory holding one of `project_root_markers`
(`.git` by default; without a match, only the working directory itself is searched; the search
stops at `GIT_CEILING_DIRECTORIES`, as git's does). In each
directory the first existing file of `AGENTS.override.md`, `AGENTS.md` and then
`project_doc_fallback_filenames` is taken; an empty one contributes nothing, so an empty override
silences a directory.

Project files share a budget of `project_doc_max_bytes`: the file that overflows it is cut and
marked, later files are left out and named. The model gets one user message, most general first,
each file labelled with its path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pycodex._records import dataclass
from pycodex.context.prompt_files import (
    decode_lenient,
    read_prompt,
    read_text_lenient,
    xml_attribute,
)
from pycodex.protocol.context_markers import AGENTS_MD_PREFIX

if TYPE_CHECKING:
    from pycodex.config import Config

OVERRIDE_FILENAME = "AGENTS.override.md"
DEFAULT_FILENAME = "AGENTS.md"
HEADER_PREFIX = AGENTS_MD_PREFIX


@dataclass(frozen=True, slots=True)
class InstructionFile:
    """One instruction file as the model sees it."""

    path: Path
    text: str
    scope: str  # "global" or "project"
    truncated_bytes: int = 0  # how much of the file was cut to fit the budget


@dataclass(frozen=True, slots=True)
class InstructionDiscovery:
    files: tuple[InstructionFile, ...]
    omitted: tuple[Path, ...]  # project files left out entirely because the budget was spent
    warnings: tuple[str, ...]


def find_project_root(
    cwd: Path, markers: Sequence[str], environ: Mapping[str, str] | None = None
) -> Path | None:
    """The nearest ancestor of `cwd` (itself included) that holds one of `markers`.

    Like git, the search never goes up into a directory named in `GIT_CEILING_DIRECTORIES`
    (`environ`, this process's environment by default), nor above one; `cwd` itself is always
    searched.
    """
    ceilings = _ceilings(os.environ if environ is None else environ)
    for directory in (cwd, *cwd.parents):
        if directory != cwd and Path(os.path.realpath(directory)) in ceilings:
            return None
        if any((directory / marker).exists() for marker in markers):
            return directory
    return None


def _ceilings(environ: Mapping[str, str]) -> frozenset[Path]:
    entries = environ.get("GIT_CEILING_DIRECTORIES", "").split(":")
    return frozenset(Path(os.path.realpath(entry)) for entry in entries if entry.startswith("/"))


def project_directories(cwd: Path, markers: Sequence[str]) -> list[Path]:
    """The directories searched for project files, root first, `cwd` last."""
    cwd = Path(cwd).absolute()
    root = find_project_root(cwd, markers)
    if root is None:
        return [cwd]
    chain = [cwd]
    while chain[-1] != root:  # `root` is `cwd` or one of its ancestors, so this ends
        chain.append(chain[-1].parent)
    return list(reversed(chain))


def discover_instruction_files(config: Config) -> InstructionDiscovery:
    warnings: list[str] = []
    files: list[InstructionFile] = []
    global_path = _first_existing(config.codex_home, (OVERRIDE_FILENAME, DEFAULT_FILENAME))
    if global_path is not None:
        text = _read(global_path, warnings)
        if text:
            files.append(InstructionFile(global_path, text, "global"))
    project, omitted = _project_files(config, warnings)
    files.extend(project)
    return InstructionDiscovery(tuple(files), tuple(omitted), tuple(warnings))


def _project_files(config: Config, warnings: list[str]) -> tuple[list[InstructionFile], list[Path]]:
    if config.project_doc_max_bytes <= 0:
        return [], []  # upstream's way of switching project docs off
    names = (OVERRIDE_FILENAME, DEFAULT_FILENAME, *config.project_doc_fallback_filenames)
    budget = config.project_doc_max_bytes
    files: list[InstructionFile] = []
    omitted: list[Path] = []
    for directory in project_directories(config.cwd, config.project_root_markers):
        path = _first_existing(directory, names)
        text = _read(path, warnings) if path is not None else None
        if path is None or not text:
            continue
        if budget <= 0:
            omitted.append(path)
            continue
        kept, cut = _fit(text, budget)
        budget -= len(kept.encode("utf-8"))
        files.append(InstructionFile(path, kept, "project", truncated_bytes=cut))
        if cut:
            budget = 0
    if omitted or any(f.truncated_bytes for f in files):
        warnings.append(
            f"AGENTS.md files exceed project_doc_max_bytes ({config.project_doc_max_bytes}); "
            "the model sees them truncated"
        )
    return files, omitted


def _first_existing(directory: Path, names: Sequence[str]) -> Path | None:
    for name in names:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def _read(path: Path, warnings: list[str]) -> str | None:
    data, warning = read_text_lenient(path, "AGENTS.md")
    if warning is not None:
        warnings.append(warning)
    if data is None:
        return None
    text = decode_lenient(data).strip()
    return text or None


def _fit(text: str, budget: int) -> tuple[str, int]:
    """`text` cut to at most `budget` UTF-8 bytes (never inside a character), and the bytes cut."""
    data = text.encode("utf-8")
    if len(data) <= budget:
        return text, 0
    kept = data[:budget].decode("utf-8", errors="ignore")
    return kept, len(data) - len(kept.encode("utf-8"))


def render_instructions(discovery: InstructionDiscovery, cwd: Path) -> str | None:
    """The text of the user message carrying the instruction files, or None when there are none."""
    if not discovery.files:
        return None
    parts = [f"{HEADER_PREFIX}{cwd}", "", "<INSTRUCTIONS>", read_prompt("agents_md_intro.md")]
    for file in discovery.files:
        scope = ' scope="global"' if file.scope == "global" else ""
        parts.extend(["", f"<file path={xml_attribute(str(file.path))}{scope}>", file.text])
        if file.truncated_bytes:
            parts.append(
                f"[... {file.truncated_bytes} more bytes not shown: the instruction files exceed "
                "the size limit; read the file itself if you need the rest]"
            )
        parts.append("</file>")
    if discovery.omitted:
        names = ", ".join(str(path) for path in discovery.omitted)
        parts.extend(["", f"Not shown because of the size limit (read them if relevant): {names}"])
    parts.append("</INSTRUCTIONS>")
    return "\n".join(parts)
