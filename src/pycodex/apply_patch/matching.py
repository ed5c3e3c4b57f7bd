"""`seek_sequence`: locating a chunk's lines in a file with increasing whitespace tolerance.

Models often get indentation, trailing blanks or typographic punctuation slightly wrong, so after an
exact search fails the search is repeated on normalised lines. A normalised match is only trusted
when it is unique: editing the wrong one of two look-alike places is worse than failing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pycodex._records import dataclass
from pycodex.apply_patch.errors import AmbiguousMatchError

_TYPOGRAPHIC_TO_ASCII = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a", " "),
        **dict.fromkeys("\u202f\u205f\u3000", " "),
        "\u2026": "...",
    }
)


def normalise_punctuation(line: str) -> str:
    """Strip surrounding whitespace and map curly quotes, dashes and odd spaces to ASCII."""
    return line.translate(_TYPOGRAPHIC_TO_ASCII).strip()


@dataclass(frozen=True)
class Tolerance:
    """One way of comparing lines; `description` completes "the lines match only when ..."."""

    description: str
    key: Callable[[str], str]


TOLERANCES: tuple[Tolerance, ...] = (
    Tolerance("compared exactly", lambda line: line),
    Tolerance("ignoring trailing whitespace", str.rstrip),
    Tolerance("ignoring leading and trailing whitespace", str.strip),
    Tolerance("ignoring whitespace and typographic punctuation", normalise_punctuation),
)


def seek_sequence(
    lines: Sequence[str], pattern: Sequence[str], start: int, at_end: bool = False
) -> int | None:
    """Return the index at which `pattern` occurs in `lines` at or after `start`, or None.

    Tolerances are tried from strictest to loosest. An exact match takes the first occurrence; a
    looser one must be unique or `AmbiguousMatchError` is raised (without a path: the caller knows
    it). With `at_end` the position that ends at the last line is tried first.
    """
    if not pattern:
        return start
    last_start = len(lines) - len(pattern)
    if last_start < start:
        return None
    if at_end:
        for tolerance in TOLERANCES:
            if _occurs_at(lines, pattern, last_start, tolerance.key):
                return last_start
    for level, tolerance in enumerate(TOLERANCES):
        positions = _occurrences(lines, pattern, start, tolerance.key, stop_at_first=level == 0)
        if len(positions) == 1:
            return positions[0]
        if len(positions) > 1:
            raise AmbiguousMatchError(
                f"the lines match {len(positions)} places only when {tolerance.description}",
                None,
                positions,
            )
    return None


def _occurs_at(
    lines: Sequence[str], pattern: Sequence[str], at: int, key: Callable[[str], str]
) -> bool:
    return all(key(lines[at + offset]) == key(wanted) for offset, wanted in enumerate(pattern))


def _occurrences(
    lines: Sequence[str],
    pattern: Sequence[str],
    start: int,
    key: Callable[[str], str],
    stop_at_first: bool,
) -> list[int]:
    keyed_lines = [key(line) for line in lines]
    keyed_pattern = [key(line) for line in pattern]
    width = len(keyed_pattern)
    found: list[int] = []
    for at in range(start, len(keyed_lines) - width + 1):
        if keyed_lines[at : at + width] == keyed_pattern:
            found.append(at)
            if stop_at_first:
                break
    return found
