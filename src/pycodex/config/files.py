"""Where configuration lives on disk and how its files are read.

`$CODEX_HOME` (default `~/.codex`) holds `config.toml`, profile files `<name>.config.toml` and a
`.env` file. Everything here reads files only when called.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pycodex.config.errors import ConfigError

CONFIG_FILE_NAME = "config.toml"
DOTENV_FILE_NAME = ".env"

# tomllib (3.11) reports the position only inside the message text, e.g.
# "Invalid value (at line 3, column 5)" or "... (at end of document)".
_TOML_POSITION = re.compile(
    r"^(?P<what>.*?) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)
_DOTENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_DOUBLE_QUOTE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def find_codex_home(env: Mapping[str, str]) -> Path:
    """`CODEX_HOME` when set (it must name an existing directory), else `~/.codex`.

    The default need not exist yet: a first run has no config at all.
    """
    configured = env.get("CODEX_HOME", "")
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            problem = "is not a directory" if path.exists() else "does not exist"
            raise ConfigError(f"{path} {problem}", key="CODEX_HOME", origin="environment")
        return path.resolve()
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".codex"


def read_toml_file(path: Path) -> dict[str, Any] | None:
    """The parsed table of a TOML file, or None when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", file=path) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(describe_toml_error(exc), file=path) from exc


def describe_toml_error(exc: tomllib.TOMLDecodeError) -> str:
    """Turn tomllib's message into `invalid TOML at line L, column C: what went wrong`."""
    text = str(exc)
    match = _TOML_POSITION.match(text)
    if match is None:
        return f"invalid TOML: {_lower_first(text)}"
    what = _lower_first(match.group("what"))
    if match.group("line") is None:
        return f"invalid TOML at end of file: {what}"
    return f"invalid TOML at line {match.group('line')}, column {match.group('col')}: {what}"


def load_dotenv(path: Path) -> dict[str, str]:
    """Parse a `.env` file into a dict; a missing file gives an empty dict.

    Understands `KEY=VALUE`, an optional `export ` prefix, single quotes (literal), double quotes
    (with backslash escapes), `#` comments and blank lines. Keys starting with `CODEX_` are dropped:
    those steer pycodex itself and must come from the real environment. Callers merge the result
    under the process environment, so variables already set win.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", file=path) from exc
    values: dict[str, str] = {}
    for line in text.splitlines():
        parsed = _parse_dotenv_line(line)
        if parsed is None:
            continue
        key, value = parsed
        if key.upper().startswith("CODEX_"):
            continue
        values[key] = value
    return values


def _parse_dotenv_line(line: str) -> tuple[str, str] | None:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if stripped.startswith(("export ", "export\t")):
        stripped = stripped[len("export") :].lstrip()
    key, sep, rest = stripped.partition("=")
    key = key.strip()
    # Lines that are not assignments are skipped rather than fatal: a stray line in .env should
    # not stop the agent from starting.
    if not sep or not _DOTENV_KEY.match(key):
        return None
    return key, _parse_dotenv_value(rest.strip())


def _parse_dotenv_value(raw: str) -> str:
    if raw[:1] == "'":
        end = raw.find("'", 1)
        return raw[1:end] if end != -1 else raw[1:]
    if raw[:1] == '"':
        return _parse_double_quoted(raw[1:])
    # Unquoted: a `#` starts a comment only after whitespace, so `a#b` keeps its hash.
    comment = re.search(r"\s#", raw)
    if comment is not None:
        raw = raw[: comment.start()]
    return raw.strip()


def _parse_double_quoted(body: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == '"':
            break
        if char == "\\" and index + 1 < len(body):
            following = body[index + 1]
            out.append(_DOUBLE_QUOTE_ESCAPES.get(following, "\\" + following))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
