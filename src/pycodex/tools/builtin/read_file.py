"""The `read_file` tool: numbered lines of a text file, either a plain slice or a code block.

Every line comes back as `L<number>: <text>`, cut at `MAX_LINE_CHARS` characters so one minified
line cannot flood the context. A file with a NUL byte in its first 8 KiB is refused as binary;
bytes that are not UTF-8 are decoded with the replacement character rather than refused.

Indentation mode picks the block of code around an anchor line by indentation alone, so it works
for any language without a parser. The rule, on lines whose indentation is measured with tabs
expanded to `TAB_WIDTH` columns (whitespace-only lines have no indentation and never end a block):

1. The anchor is `indentation.anchor_line` (default: `offset`). A blank anchor moves to the next
   non-blank line (or the previous one at the end of the file); an anchor on a comment or
   decorator moves down to the code line it introduces at the same indentation.
2. Climb: level 1 is the innermost block holding the anchor, opened by the anchor itself when
   the next code line is indented deeper, else by the nearest less-indented line above it (its
   parent). Each further level moves to the parent's parent. `max_levels` caps the climb; 0
   climbs to the top level. The line the climb stops on is the block's header.
3. The block is the header plus every following line indented deeper than it, blank lines kept
   inside, trailing blank lines dropped; a closing bracket line (`}`, `]`, `)`) at the header's
   own indentation right after it is kept too, so brace languages get their closing line.
4. With `include_siblings`, the block widens to the whole body of the header's parent (every
   line under it, the parent line itself excluded), i.e. the header's block and its siblings;
   at the top level that is the whole file.
5. With `include_header` (the default), comment and decorator lines directly above the block at
   its indentation are prepended.
6. At most `max_lines` (default and upper bound: `limit`) lines are returned: the block's start
   when the anchor falls within that many lines of it, else a window centred on the anchor.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any, Literal

from pycodex._records import dataclass
from pycodex.tools.base import BaseTool, ToolContext, ToolError

MAX_LINE_CHARS = 500
TAB_WIDTH = 4
_BINARY_SNIFF_BYTES = 8192
_HEADER_PREFIXES = ("#", "//", "--", "/*", "@")
_CLOSING_BRACKETS = ("}", "]", ")")
_EMPTY_FILE = "(empty file)"


@dataclass(frozen=True, slots=True)
class IndentationOptions:
    """How to choose the block in indentation mode."""

    anchor_line: int | None = None
    max_levels: int = 0
    include_siblings: bool = False
    include_header: bool = True
    max_lines: int | None = None


@dataclass(frozen=True, slots=True)
class ReadFileArgs:
    file_path: str
    offset: int = 1
    limit: int = 2000
    mode: Literal["slice", "indentation"] = "slice"
    indentation: IndentationOptions | None = None


READ_FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "file_path": {
            "type": "string",
            "description": "Path of the file; relative paths start at the cwd.",
        },
        "offset": {
            "type": "integer",
            "minimum": 1,
            "default": 1,
            "description": "First line to return (1-based).",
        },
        "limit": {
            "type": "integer",
            "minimum": 1,
            "default": 2000,
            "description": "Most lines to return.",
        },
        "mode": {
            "type": "string",
            "enum": ["slice", "indentation"],
            "default": "slice",
            "description": "'slice' returns lines from offset; 'indentation' returns the code "
            "block around the anchor line.",
        },
        "indentation": {
            "anyOf": [{"$ref": "#/$defs/IndentationOptions"}, {"type": "null"}],
            "default": None,
            "description": "Options for indentation mode.",
        },
    },
    "required": ["file_path"],
    "$defs": {
        "IndentationOptions": {
            "type": "object",
            "description": "How to choose the block in indentation mode.",
            "properties": {
                "anchor_line": {
                    "anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}],
                    "default": None,
                    "description": "Line to centre the block on (1-based); default: offset.",
                },
                "max_levels": {
                    "type": "integer",
                    "minimum": 0,
                    "default": 0,
                    "description": "How many enclosing levels to climb; 0 climbs to the top.",
                },
                "include_siblings": {
                    "type": "boolean",
                    "default": False,
                    "description": "Also return the neighbouring blocks under the same parent.",
                },
                "include_header": {
                    "type": "boolean",
                    "default": True,
                    "description": "Prepend comment and decorator lines directly above the block.",
                },
                "max_lines": {
                    "anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}],
                    "default": None,
                    "description": "Most lines to return; default and upper bound: limit.",
                },
            },
        },
    },
}


def resolve_tool_path(cwd: Path, raw: str) -> Path:
    """The absolute path a tool argument names: `~` expanded, relative paths taken from cwd."""
    path = Path(raw).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else cwd / path))


class ReadFileTool(BaseTool[ReadFileArgs]):
    name = "read_file"
    description = (
        "Read a local text file and return its lines numbered as `L<n>: text`. Mode 'slice' "
        "(default) returns `limit` lines from `offset`; mode 'indentation' returns the block of "
        "code enclosing `indentation.anchor_line`, found by indentation."
    )
    input_schema = READ_FILE_SCHEMA
    args_type = ReadFileArgs
    read_only = True

    async def run(self, context: ToolContext, args: ReadFileArgs) -> str:
        path = resolve_tool_path(context.cwd, args.file_path)
        if args.mode == "slice":
            return await asyncio.to_thread(_read_slice, path, args.offset, args.limit)
        options = args.indentation or IndentationOptions()
        return await asyncio.to_thread(_read_indented_block, path, args, options)


def _check_regular_file(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ToolError(f"file not found: {path}") from None
    except OSError as err:
        raise ToolError(f"cannot read {path}: {err.strerror}") from None
    if stat.S_ISDIR(mode):
        raise ToolError(f"{path} is a directory, not a file (use list_dir)")
    # Opening a FIFO or a device could block the tool forever, so only plain files are read.
    if not stat.S_ISREG(mode):
        raise ToolError(f"{path} is not a regular file")


def _reject_binary(head: bytes, path: Path) -> None:
    if b"\0" in head[:_BINARY_SNIFF_BYTES]:
        raise ToolError(f"{path} looks like a binary file; read_file only reads text")


def _decode_line(raw: bytes) -> str:
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw.decode("utf-8", errors="replace")


def _format_line(number: int, text: str) -> str:
    return f"L{number}: {text[:MAX_LINE_CHARS]}"


def _past_end(what: str, value: int, count: int) -> ToolError:
    return ToolError(f"{what} {value} is past the end of the file ({count} lines)")


def _read_slice(path: Path, offset: int, limit: int) -> str:
    _check_regular_file(path)
    selected: list[str] = []
    count = 0
    try:
        with path.open("rb") as handle:
            _reject_binary(handle.read(_BINARY_SNIFF_BYTES), path)
            handle.seek(0)
            # Streamed line by line so a slice near the top of a huge file stays cheap.
            for count, raw in enumerate(handle, start=1):
                if count >= offset + limit:
                    break
                if count >= offset:
                    selected.append(_format_line(count, _decode_line(raw)))
    except OSError as err:
        raise ToolError(f"cannot read {path}: {err.strerror}") from None
    if count == 0:
        return _EMPTY_FILE
    if offset > count:
        raise _past_end("offset", offset, count)
    return "\n".join(selected)


def _read_all_lines(path: Path) -> list[str]:
    _check_regular_file(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ToolError(f"cannot read {path}: {err.strerror}") from None
    _reject_binary(data, path)
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return [_decode_line(line) for line in lines] if data else []


def _read_indented_block(path: Path, args: ReadFileArgs, options: IndentationOptions) -> str:
    lines = _read_all_lines(path)
    if not lines:
        return _EMPTY_FILE
    anchor_line = options.anchor_line or args.offset
    if anchor_line > len(lines):
        raise _past_end("anchor_line", anchor_line, len(lines))
    indents = [_indentation(line) for line in lines]
    anchor = _settle_anchor(lines, indents, anchor_line - 1)
    start, end = _block_range(lines, indents, anchor, options)
    cap = min(options.max_lines or args.limit, args.limit)
    first, last = _window(start, end, anchor, cap)
    return "\n".join(_format_line(i + 1, lines[i]) for i in range(first, last + 1))


def _indentation(line: str) -> int | None:
    """Leading width in columns, or None for a whitespace-only line."""
    if not line.strip():
        return None
    width = 0
    for char in line[: len(line) - len(line.lstrip(" \t"))]:
        width = width + TAB_WIDTH - width % TAB_WIDTH if char == "\t" else width + 1
    return width


def _is_header_line(line: str) -> bool:
    return line.lstrip().startswith(_HEADER_PREFIXES)


def _next_code_line(indents: list[int | None], index: int, step: int) -> int | None:
    index += step
    while 0 <= index < len(indents):
        if indents[index] is not None:
            return index
        index += step
    return None


def _settle_anchor(lines: list[str], indents: list[int | None], anchor: int) -> int:
    if indents[anchor] is None:
        below = _next_code_line(indents, anchor, 1)
        found = below if below is not None else _next_code_line(indents, anchor, -1)
        if found is None:
            return anchor
        anchor = found
    while _is_header_line(lines[anchor]):
        following = _next_code_line(indents, anchor, 1)
        if following is None or indents[following] != indents[anchor]:
            break
        anchor = following
    return anchor


def _parent_of(indents: list[int | None], index: int) -> int | None:
    level = indents[index]
    if level is None:
        return None
    for candidate in range(index - 1, -1, -1):
        indent = indents[candidate]
        if indent is not None and indent < level:
            return candidate
    return None


def _block_end(lines: list[str], indents: list[int | None], header: int) -> int:
    level = indents[header]
    end = header
    if level is None:
        return end
    for index in range(header + 1, len(lines)):
        indent = indents[index]
        if indent is None:
            continue
        if indent <= level:
            if indent == level and lines[index].lstrip().startswith(_CLOSING_BRACKETS):
                end = index
            break
        end = index
    return end


def _block_range(
    lines: list[str], indents: list[int | None], anchor: int, options: IndentationOptions
) -> tuple[int, int]:
    header = _climb(indents, anchor, options.max_levels)
    start, end = header, _block_end(lines, indents, header)
    if options.include_siblings:
        start, end = _parent_body(lines, indents, header)
    if options.include_header:
        start = _with_leading_header(lines, indents, start)
    return start, end


def _climb(indents: list[int | None], anchor: int, max_levels: int) -> int:
    level = indents[anchor]
    following = _next_code_line(indents, anchor, 1)
    follower_level = None if following is None else indents[following]
    opens_block = level is not None and follower_level is not None and follower_level > level
    header, levels = anchor, (1 if opens_block else 0)
    while max_levels == 0 or levels < max_levels:
        parent = _parent_of(indents, header)
        if parent is None:
            break
        header, levels = parent, levels + 1
    return header


def _parent_body(lines: list[str], indents: list[int | None], header: int) -> tuple[int, int]:
    parent = _parent_of(indents, header)
    outer = -1 if parent is None else indents[parent]
    assert outer is not None  # a parent is always a code line
    first = _next_code_line(indents, -1 if parent is None else parent, 1)
    last = header
    for index in range(header + 1, len(lines)):
        indent = indents[index]
        if indent is None:
            continue
        if indent <= outer:
            break
        last = index
    return (header if first is None else first), last


def _with_leading_header(lines: list[str], indents: list[int | None], start: int) -> int:
    while start > 0 and indents[start - 1] == indents[start]:
        if not _is_header_line(lines[start - 1]):
            break
        start -= 1
    return start


def _window(start: int, end: int, anchor: int, cap: int) -> tuple[int, int]:
    if end - start + 1 <= cap:
        return start, end
    if anchor < start + cap:
        return start, start + cap - 1
    first = min(anchor - cap // 2, end - cap + 1)
    return first, first + cap - 1
