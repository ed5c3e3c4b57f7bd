"""The patch data model (`Patch` and its hunks) and `parse_patch`, which turns patch text into it.

The parser checks only the shape of the text; whether the chunks fit the files on disk is the
applier's business. It is lenient where models are sloppy in harmless ways: whitespace around the
markers, blank lines between file operations, a patch wrapped in a shell heredoc, and an empty line
inside a chunk (read as an empty context line).
"""

from __future__ import annotations

import re

from pycodex._records import dataclass
from pycodex.apply_patch.errors import PatchParseError

BEGIN_MARKER = "*** Begin Patch"
END_MARKER = "*** End Patch"
END_OF_FILE_MARKER = "*** End of File"
MOVE_PREFIX = "*** Move to:"
CHUNK_MARKER = "@@"

_HUNK_HEADER = re.compile(r"^\*\*\* (Add File|Delete File|Update File):(.*)$")
_HEREDOC_OPENER = re.compile(r"^(?:\S+\s+)*<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1$")
_EXPECTED_HEADER = "a hunk header '*** Add File:', '*** Delete File:' or '*** Update File:'"
_SHOWN_LINE_LIMIT = 200


@dataclass(frozen=True)
class AddFile:
    """Create (or overwrite) `path` with `contents`."""

    path: str
    contents: str


@dataclass(frozen=True)
class DeleteFile:
    """Remove the file at `path`."""

    path: str


@dataclass(frozen=True)
class UpdateChunk:
    """One `@@` section: replace `old_lines` by `new_lines`, located after `change_context`."""

    change_context: str | None
    old_lines: tuple[str, ...]
    new_lines: tuple[str, ...]
    is_end_of_file: bool


@dataclass(frozen=True)
class UpdateFile:
    """Edit `path` chunk by chunk, then optionally rename it to `move_to`."""

    path: str
    move_to: str | None
    chunks: tuple[UpdateChunk, ...]


Hunk = AddFile | DeleteFile | UpdateFile


@dataclass(frozen=True)
class Patch:
    """The file operations of one patch, in the order they were written."""

    hunks: tuple[Hunk, ...]


class _Cursor:
    """Walks the lines between the Begin and End markers, remembering original line numbers."""

    def __init__(self, lines: list[str], first_number: int) -> None:
        self._lines = lines
        self._first_number = first_number
        self._index = 0

    def done(self) -> bool:
        return self._index >= len(self._lines)

    def peek(self) -> str:
        return self._lines[self._index]

    def advance(self) -> str:
        line = self._lines[self._index]
        self._index += 1
        return line

    def number(self) -> int:
        """The 1-based line number of the line `peek` would return."""
        return self._first_number + self._index


def parse_patch(text: str) -> Patch:
    """Parse patch text; raises `PatchParseError` naming the offending line and what it expected."""
    body, first_number, end_number = _envelope(text)
    cursor = _Cursor(body, first_number)
    hunks: list[Hunk] = []
    while not cursor.done():
        if not cursor.peek().strip():
            cursor.advance()
            continue
        hunks.append(_parse_hunk(cursor))
    if not hunks:
        raise PatchParseError(end_number, f"expected {_EXPECTED_HEADER} before '{END_MARKER}'")
    return Patch(tuple(hunks))


def _shown(line: str) -> str:
    if len(line) > _SHOWN_LINE_LIMIT:
        line = line[:_SHOWN_LINE_LIMIT] + "..."
    return f"'{line}'"


def _envelope(text: str) -> tuple[list[str], int, int]:
    """Return the lines between the markers, the number of the first one and of the End line."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    filled = [index for index, line in enumerate(lines) if line.strip()]
    if not filled:
        raise PatchParseError(1, f"expected '{BEGIN_MARKER}', got an empty patch")
    first, last = filled[0], filled[-1]
    opener = _HEREDOC_OPENER.match(lines[first].strip())
    if opener and last > first and lines[last].strip() == opener.group(2):
        inner = [index for index in filled if first < index < last]
        if not inner:
            raise PatchParseError(first + 2, f"expected '{BEGIN_MARKER}' inside the heredoc")
        first, last = inner[0], inner[-1]
    if lines[first].strip() != BEGIN_MARKER:
        raise PatchParseError(first + 1, f"expected '{BEGIN_MARKER}', got {_shown(lines[first])}")
    if last == first or lines[last].strip() != END_MARKER:
        raise PatchParseError(
            last + 1, f"expected '{END_MARKER}' as the last line, got {_shown(lines[last])}"
        )
    return lines[first + 1 : last], first + 2, last + 1


def _parse_hunk(cursor: _Cursor) -> Hunk:
    number = cursor.number()
    line = cursor.advance()
    header = _HUNK_HEADER.match(line.strip())
    if header is None:
        raise PatchParseError(number, f"expected {_EXPECTED_HEADER}, got {_shown(line)}")
    kind, path = header.group(1), header.group(2).strip()
    if not path:
        raise PatchParseError(number, f"expected a path after '*** {kind}:'")
    if kind == "Add File":
        return _parse_add(cursor, path)
    if kind == "Delete File":
        return DeleteFile(path)
    return _parse_update(cursor, path, number)


def _parse_add(cursor: _Cursor, path: str) -> AddFile:
    added: list[str] = []
    while not cursor.done() and cursor.peek().startswith("+"):
        added.append(cursor.advance()[1:])
    contents = "".join(f"{line}\n" for line in added)
    return AddFile(path, contents)


def _parse_update(cursor: _Cursor, path: str, header_number: int) -> UpdateFile:
    move_to: str | None = None
    if not cursor.done() and cursor.peek().strip().startswith(MOVE_PREFIX):
        number = cursor.number()
        move_to = cursor.advance().strip()[len(MOVE_PREFIX) :].strip()
        if not move_to:
            raise PatchParseError(number, f"expected a path after '{MOVE_PREFIX}'")
    chunks: list[UpdateChunk] = []
    while not cursor.done():
        line = cursor.peek()
        if not line.strip():
            cursor.advance()
            continue
        if line.startswith("***"):
            break
        chunks.append(_parse_chunk(cursor, path, is_first=not chunks))
    if not chunks:
        raise PatchParseError(
            header_number, f"expected at least one chunk of changes for '*** Update File: {path}'"
        )
    return UpdateFile(path, move_to, tuple(chunks))


def _parse_chunk_header(cursor: _Cursor, path: str, is_first: bool) -> str | None:
    """Consume the `@@` line if there is one and return its context text."""
    line = cursor.peek()
    if line.strip() == CHUNK_MARKER:
        cursor.advance()
        return None
    if line.startswith(CHUNK_MARKER + " "):
        cursor.advance()
        return line[len(CHUNK_MARKER) + 1 :]
    if is_first:
        return None
    raise PatchParseError(
        cursor.number(),
        f"expected '{CHUNK_MARKER}' to start the next chunk of {path}, got {_shown(line)}",
    )


def _parse_chunk(cursor: _Cursor, path: str, is_first: bool) -> UpdateChunk:
    context = _parse_chunk_header(cursor, path, is_first)
    old: list[str] = []
    new: list[str] = []
    is_end_of_file = False
    while not cursor.done():
        line = cursor.peek()
        if line.strip() == END_OF_FILE_MARKER:
            if not old and not new:
                break
            cursor.advance()
            is_end_of_file = True
            break
        marker, rest = line[:1], line[1:]
        if marker in ("", " "):
            old.append(rest)
            new.append(rest)
        elif marker == "-":
            old.append(rest)
        elif marker == "+":
            new.append(rest)
        elif old or new:
            break
        else:
            raise PatchParseError(
                cursor.number(),
                f"expected a chunk line starting with ' ', '-' or '+', got {_shown(line)}",
            )
        cursor.advance()
    if not old and not new:
        raise PatchParseError(
            cursor.number(), f"expected at least one ' ', '-' or '+' line in this chunk of {path}"
        )
    return UpdateChunk(context, tuple(old), tuple(new), is_end_of_file)
