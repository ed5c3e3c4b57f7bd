"""`apply_chunks`: the new text of a file after the chunks of one `*** Update File` section.

Pure string work: no file system access. Chunks are located in order, each search starting where
the previous chunk ended, and all replacements are spliced in at the end so earlier edits never
shift the positions later chunks were found at.
"""

from __future__ import annotations

from collections.abc import Sequence

from pycodex._records import dataclass
from pycodex.apply_patch.errors import AmbiguousMatchError, PatchApplyError
from pycodex.apply_patch.matching import seek_sequence
from pycodex.apply_patch.parser import UpdateChunk


@dataclass(frozen=True)
class _Replacement:
    start: int
    removed: int
    inserted: tuple[str, ...]


@dataclass(frozen=True)
class _ChunkPlace:
    """Which chunk of which file is being located, for error messages."""

    path: str
    number: int
    total: int

    def describe(self) -> str:
        return f"{self.path} (chunk {self.number} of {self.total})"


def apply_chunks(original: str, chunks: Sequence[UpdateChunk], path: str) -> str:
    """Return `original` with every chunk applied; the result ends with a newline unless empty.

    CRLF files keep their CRLF line endings. Raises `PatchApplyError` naming `path` and the chunk
    that could not be placed.
    """
    newline = "\r\n" if _uses_crlf(original) else "\n"
    lines = original.split(newline)
    if lines[-1] == "":
        lines.pop()
    replacements = _locate_chunks(lines, chunks, path)
    for replacement in sorted(replacements, key=lambda r: r.start, reverse=True):
        end = replacement.start + replacement.removed
        lines[replacement.start : end] = replacement.inserted
    return newline.join(lines) + newline if lines else ""


def _uses_crlf(text: str) -> bool:
    crlf_count = text.count("\r\n")
    return crlf_count > 0 and crlf_count == text.count("\n")


def _locate_chunks(
    lines: Sequence[str], chunks: Sequence[UpdateChunk], path: str
) -> list[_Replacement]:
    cursor = 0
    replacements: list[_Replacement] = []
    for number, chunk in enumerate(chunks, start=1):
        place = _ChunkPlace(path, number, len(chunks))
        if chunk.change_context is not None:
            cursor = _find_context(lines, chunk.change_context, cursor, place) + 1
        if not chunk.old_lines:
            # A pure insertion lands right after its context line, or at the end of the file.
            at = cursor if chunk.change_context is not None else len(lines)
            replacements.append(_Replacement(at, 0, chunk.new_lines))
            continue
        replacement = _find_old_lines(lines, chunk, cursor, place)
        replacements.append(replacement)
        cursor = replacement.start + replacement.removed
    return replacements


def _find_context(lines: Sequence[str], context: str, cursor: int, place: _ChunkPlace) -> int:
    try:
        found = seek_sequence(lines, [context], cursor)
    except AmbiguousMatchError as error:
        raise _ambiguity(error, place, [context], what="context line was") from None
    if found is None:
        raise PatchApplyError(
            f"Failed to find context line '@@ {context}' in {place.describe()}.", place.path
        )
    return found


def _find_old_lines(
    lines: Sequence[str], chunk: UpdateChunk, cursor: int, place: _ChunkPlace
) -> _Replacement:
    old, new = chunk.old_lines, chunk.new_lines
    try:
        found = seek_sequence(lines, old, cursor, chunk.is_end_of_file)
        if found is None and old[-1] == "":
            # A blank line closing a chunk is usually a separator, not a line of the file.
            old, new = _drop_trailing_blanks(old, new)
            found = seek_sequence(lines, old, cursor, chunk.is_end_of_file) if old else None
    except AmbiguousMatchError as error:
        raise _ambiguity(error, place, chunk.old_lines, what="expected lines were") from None
    if found is None:
        expected = "\n".join(chunk.old_lines)
        raise PatchApplyError(
            f"Failed to find expected lines in {place.describe()}:\n{expected}", place.path
        )
    return _Replacement(found, len(old), new)


def _drop_trailing_blanks(
    old: tuple[str, ...], new: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Drop the blank lines closing `old`, and as many of those closing `new`."""
    old_kept = len(old)
    while old_kept and old[old_kept - 1] == "":
        old_kept -= 1
    new_kept = len(new)
    while new_kept and len(new) - new_kept < len(old) - old_kept and new[new_kept - 1] == "":
        new_kept -= 1
    return old[:old_kept], new[:new_kept]


def _ambiguity(
    error: AmbiguousMatchError, place: _ChunkPlace, expected: Sequence[str], what: str
) -> AmbiguousMatchError:
    line_numbers = ", ".join(str(position + 1) for position in error.positions)
    return AmbiguousMatchError(
        f"Ambiguous match in {place.describe()}: the {what} not found exactly and "
        f"{error}, at lines {line_numbers}. Add surrounding context lines (or an '@@' line) "
        f"so the chunk matches exactly one place:\n" + "\n".join(expected),
        place.path,
        error.positions,
    )
