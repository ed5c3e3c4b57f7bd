"""Skills: `SKILL.md` files whose front matter names and describes them.

Searched, most specific first: `.agents/skills/*/SKILL.md` in the working directory and each parent
up to the project root, then `~/.agents/skills/*/SKILL.md`, then `$CODEX_HOME/skills/*/SKILL.md`.
When two skills share a name the more specific one is kept. The model gets names, descriptions
and paths only, within a byte budget, and opens a skill's file when it decides to use it.

The front matter is the simple `key: value` subset of YAML, parsed here to avoid a dependency:

    ---
    name: release-notes
    description: Write release notes from the git log.
    ---
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pycodex._records import dataclass
from pycodex.context.agents_md import project_directories
from pycodex.context.prompt_files import decode_lenient, read_prompt, read_text_lenient

if TYPE_CHECKING:
    from pycodex.config import Config

SKILL_FILENAME = "SKILL.md"
SKILLS_BUDGET_BYTES = 2048
MAX_NAME_CHARS = 64
MAX_DESCRIPTION_CHARS = 300

_KEY_LINE = re.compile(r"^([A-Za-z0-9_-]+)\s*:(.*)$")
_BLOCK_MARKERS = {"", ">", "|", ">-", "|-", ">+", "|+"}


@dataclass(frozen=True, slots=True)
class Skill:
    name: str
    description: str
    path: Path


@dataclass(frozen=True, slots=True)
class SkillDiscovery:
    skills: tuple[Skill, ...]
    warnings: tuple[str, ...]


class FrontMatterError(ValueError):
    """The front matter of a skill file is missing or not in the `key: value` form."""


def parse_front_matter(text: str) -> dict[str, str]:
    """The `key: value` pairs between the opening and closing `---` lines."""
    lines = text.removeprefix("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("does not start with a '---' front matter line")
    fields: dict[str, str] = {}
    last_key: str | None = None
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            return {key: _unquote(value.strip()) for key, value in fields.items()}
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t" and last_key is not None:
            # An indented line continues the previous value (YAML's folded form).
            fields[last_key] = (fields[last_key] + " " + line.strip()).strip()
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            raise FrontMatterError(f"line {number}: expected 'key: value', got {line.strip()!r}")
        last_key, value = match.group(1), match.group(2).strip()
        fields[last_key] = "" if value in _BLOCK_MARKERS else value
    raise FrontMatterError("front matter is not closed by a '---' line")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def load_skill(path: Path) -> Skill:
    """Read and check one `SKILL.md`; raises FrontMatterError or OSError."""
    data, warning = read_text_lenient(path, "skill")
    if data is None:
        raise OSError(warning)
    fields = parse_front_matter(decode_lenient(data))
    name = " ".join(fields.get("name", "").split())
    description = " ".join(fields.get("description", "").split())
    if not name:
        raise FrontMatterError("missing 'name'")
    if not description:
        raise FrontMatterError("missing 'description'")
    if len(name) > MAX_NAME_CHARS:
        raise FrontMatterError(f"name longer than {MAX_NAME_CHARS} characters")
    return Skill(name=name, description=description, path=path)


def skill_roots(config: Config) -> list[Path]:
    """The directories whose subdirectories may hold skills, most specific first."""
    project = project_directories(config.cwd, config.project_root_markers)
    roots = [directory / ".agents" / "skills" for directory in reversed(project)]
    home = config.env.get("HOME")
    if home:
        roots.append(Path(home) / ".agents" / "skills")
    roots.append(config.codex_home / "skills")
    return list(dict.fromkeys(roots))


def discover_skills(roots: Iterable[Path]) -> SkillDiscovery:
    skills: dict[str, Skill] = {}
    warnings: list[str] = []
    for path in _skill_files(roots):
        try:
            skill = load_skill(path)
        except FrontMatterError as err:
            warnings.append(f"skill {path} skipped: {err}")
            continue
        except OSError as err:
            warnings.append(str(err))
            continue
        skills.setdefault(skill.name, skill)  # the first found is the most specific
    return SkillDiscovery(tuple(skills.values()), tuple(warnings))


def _skill_files(roots: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        try:
            children = sorted(root.iterdir()) if root.is_dir() else []
        except OSError:
            continue  # an unreadable skills directory holds nothing we can offer
        files.extend(child / SKILL_FILENAME for child in children if child.is_dir())
    return [path for path in files if path.is_file()]


def render_skills(skills: Sequence[Skill], budget: int = SKILLS_BUDGET_BYTES) -> str | None:
    """The skills section of the developer message, or None when there are no skills."""
    if not skills:
        return None
    lines: list[str] = []
    used = 0
    for skill in skills:
        line = f"- {skill.name}: {_shorten(skill.description)} (file: {skill.path})"
        size = len(line.encode("utf-8")) + 1
        if used + size > budget:
            break
        lines.append(line)
        used += size
    omitted = skills[len(lines) :]
    if omitted:
        where = ", ".join(dict.fromkeys(str(skill.path.parent.parent) for skill in omitted))
        lines.append(
            f"- ({len(omitted)} more skills not listed to save space; their folders are in {where})"
        )
    return "\n".join(["<skills>", read_prompt("skills_intro.md"), "", *lines, "</skills>"])


def _shorten(text: str) -> str:
    if len(text) <= MAX_DESCRIPTION_CHARS:
        return text
    return text[: MAX_DESCRIPTION_CHARS - 3].rstrip() + "..."
