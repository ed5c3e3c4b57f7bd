"""The `list_dir` tool: a page of a directory tree, depth-first, one entry per line.

Entries are sorted by name within each directory and indented two spaces per level below the
listed directory; directories end in `/` and symbolic links in `@` (links are never followed, so
a link to a directory is not descended into). `offset` and `limit` page through the flattened
listing, so a model can walk a large tree one page at a time. Subdirectories that cannot be read
are shown but not descended into.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.tools.base import BaseTool, ToolContext, ToolError
from pycodex.tools.builtin.read_file import resolve_tool_path

_INDENT = "  "


@dataclass(frozen=True, slots=True)
class ListDirArgs:
    dir_path: str
    offset: int = 1
    limit: int = 25
    depth: int = 2


LIST_DIR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "dir_path": {
            "type": "string",
            "description": "Directory to list; relative paths start at the cwd.",
        },
        "offset": {
            "type": "integer",
            "minimum": 1,
            "default": 1,
            "description": "First entry to return (1-based).",
        },
        "limit": {
            "type": "integer",
            "minimum": 1,
            "default": 25,
            "description": "Most entries to return.",
        },
        "depth": {
            "type": "integer",
            "minimum": 1,
            "default": 2,
            "description": "How many levels to descend; 1 lists direct children only.",
        },
    },
    "required": ["dir_path"],
}


class ListDirTool(BaseTool[ListDirArgs]):
    name = "list_dir"
    description = (
        "List a local directory tree depth-first, sorted by name, indented per level; "
        "directories end in '/', symlinks in '@'. Page with offset/limit; depth sets how far "
        "down to go."
    )
    input_schema = LIST_DIR_SCHEMA
    args_type = ListDirArgs
    read_only = True

    async def run(self, context: ToolContext, args: ListDirArgs) -> str:
        path = resolve_tool_path(context.cwd, args.dir_path)
        return await asyncio.to_thread(_list_page, path, args)


def _list_page(path: Path, args: ListDirArgs) -> str:
    _check_directory(path)
    # One entry past the page tells whether more remain without walking the whole tree.
    start = args.offset - 1
    page = list(islice(_walk(path, args.depth, 0), start, start + args.limit + 1))
    if not page and args.offset > 1:
        raise ToolError(f"offset {args.offset} is past the last entry of {path}")
    lines = [f"Absolute path: {path}", *page[: args.limit]]
    if len(page) > args.limit:
        lines.append(f"More than {args.limit} entries found")
    return "\n".join(lines)


def _check_directory(path: Path) -> None:
    if not path.exists():
        raise ToolError(f"directory not found: {path}")
    if not path.is_dir():
        raise ToolError(f"{path} is not a directory (use read_file for files)")


def _walk(directory: Path, depth: int, level: int) -> Iterator[str]:
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as err:
        if level == 0:
            raise ToolError(f"cannot list {directory}: {err.strerror}") from None
        return
    for entry in entries:
        is_link = entry.is_symlink()
        is_dir = not is_link and _is_dir(entry)
        suffix = "@" if is_link else "/" if is_dir else ""
        yield f"{_INDENT * level}{entry.name}{suffix}"
        if is_dir and level + 1 < depth:
            yield from _walk(Path(entry.path), depth, level + 1)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
