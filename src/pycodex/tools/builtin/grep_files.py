"""The `grep_files` tool: which files contain a regex match, most recently modified first.

It answers "where is X?" with file paths only, one per line, leaving the reading to `read_file`.
Ripgrep does the search when it is installed; otherwise a pure-Python walk gives the same answer
for the same tree under these rules, which are ripgrep's defaults:

- hidden files and directories (name starting with `.`, so `.git` too) are skipped, unless
  the `include` glob names them (a glob outranks the hidden rule, as in ripgrep);
- symbolic links are not followed;
- a file is binary, and skipped, when a NUL byte shows up in its first 64 KiB or before a match;
- the pattern is matched line by line, so it never spans a newline;
- results are ordered by modification time over the whole result set, newest first, ties by
  path (ripgrep's `--sortr=modified` only orders entries within each directory, so its output is
  re-sorted the same way);
- `include` globs without a `/` match file names at any depth, globs with one match the path
  relative to the searched directory (ripgrep runs there for that reason), `{a,b}`
  alternatives are expanded, a leading `!` excludes (directories too); a whitelist glob never
  stops the walk from entering a directory; a file named as `path` is searched regardless.

Known differences: the fallback ignores `.gitignore`/`.ignore` files (ripgrep honours them) and
uses Python's `re` dialect, which differs from ripgrep's in rare constructs.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.tools.base import BaseTool, ToolContext, ToolError
from pycodex.tools.builtin.read_file import resolve_tool_path

SEARCH_TIMEOUT_SECONDS = 30.0
NO_MATCHES = "No matches found."
# Ripgrep sniffs for NUL bytes one 64 KiB read buffer at a time; the fallback mirrors that.
_BINARY_SNIFF_BYTES = 64 * 1024
_BRACES = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class GrepFilesArgs:
    pattern: str
    include: str | None = None
    path: str | None = None
    limit: int = 100


GREP_FILES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "pattern": {
            "type": "string",
            "minLength": 1,
            "description": "Regular expression to look for in files.",
        },
        "include": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "description": "Glob limiting the files searched, e.g. '*.py' or '*.{ts,tsx}'.",
        },
        "path": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "description": "Directory (or file) to search; default: the cwd.",
        },
        "limit": {
            "type": "integer",
            "minimum": 1,
            "default": 100,
            "description": "Most file paths to return.",
        },
    },
    "required": ["pattern"],
}


class GrepFilesTool(BaseTool[GrepFilesArgs]):
    name = "grep_files"
    description = (
        "Find the files whose contents match a regular expression; returns their paths, newest "
        "modification first, one per line. Narrow with an `include` glob and a `path`."
    )
    input_schema = GREP_FILES_SCHEMA
    args_type = GrepFilesArgs
    read_only = True

    def __init__(self, use_ripgrep: bool | None = None) -> None:
        # None: use ripgrep when it is on PATH. True/False force one engine (tests compare both).
        self._use_ripgrep = use_ripgrep

    async def run(self, context: ToolContext, args: GrepFilesArgs) -> str:
        root = resolve_tool_path(context.cwd, args.path or ".")
        if not await asyncio.to_thread(root.exists):
            raise ToolError(f"path not found: {root}")
        ripgrep = None if self._use_ripgrep is False else shutil.which("rg")
        if self._use_ripgrep and ripgrep is None:
            raise ToolError("grep_files was set to use ripgrep, but `rg` is not installed")
        if ripgrep is not None:
            workdir = root if await asyncio.to_thread(root.is_dir) else root.parent
            found = await _search_with_ripgrep(ripgrep, root, workdir, args)
        else:
            deadline = time.monotonic() + SEARCH_TIMEOUT_SECONDS
            found = await asyncio.to_thread(_search_in_python, root, args, deadline)
        paths = await asyncio.to_thread(_newest_first, found)
        return "\n".join(paths[: args.limit]) if paths else NO_MATCHES


def _timed_out() -> ToolError:
    return ToolError(f"grep_files timed out after {SEARCH_TIMEOUT_SECONDS:g} s; narrow the search")


async def _search_with_ripgrep(
    ripgrep: str, root: Path, workdir: Path, args: GrepFilesArgs
) -> list[str]:
    command = [ripgrep, "--files-with-matches", "--sortr=modified", "--regexp", args.pattern]
    if args.include:
        command += ["--glob", args.include]
    command += ["--", str(root)]
    process = await asyncio.create_subprocess_exec(
        *command,
        # ripgrep matches globs containing `/` against paths relative to its working directory.
        cwd=workdir,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), SEARCH_TIMEOUT_SECONDS)
    except TimeoutError:
        raise _timed_out() from None
    finally:
        # Reached on timeout and on cancellation alike: never leave rg running.
        if process.returncode is None:
            process.kill()
            await process.wait()
    paths = stdout.decode("utf-8", errors="replace").splitlines()
    # Exit 2 means an error; with some output it was partial (say, one unreadable file).
    if process.returncode == 2 and not paths:
        lines = stderr.decode("utf-8", errors="replace").splitlines()
        raise ToolError("grep_files failed: " + " ".join(ln.strip() for ln in lines if ln.strip()))
    return paths


def _search_in_python(root: Path, args: GrepFilesArgs, deadline: float) -> list[str]:
    try:
        regex = re.compile(args.pattern)
    except re.error as err:
        raise ToolError(f"invalid regex {args.pattern!r}: {err}") from None
    include = _IncludeGlob.parse(args.include) if args.include else None
    found: list[str] = []
    for path in _candidate_files(str(root), include):
        if time.monotonic() > deadline:
            raise _timed_out()
        if _contains_match(path, regex):
            found.append(path)
    return found


def _newest_first(paths: list[str]) -> list[str]:
    stamped: list[tuple[int, str]] = []
    for path in paths:
        try:
            stamped.append((os.stat(path).st_mtime_ns, path))
        except OSError:  # deleted since it matched: nothing left to read
            continue
    stamped.sort(key=lambda item: (-item[0], item[1]))
    return [path for _, path in stamped]


@dataclass(frozen=True, slots=True)
class _IncludeGlob:
    patterns: tuple[str, ...]
    negated: bool

    @classmethod
    def parse(cls, glob: str) -> _IncludeGlob:
        negated = glob.startswith("!")
        return cls(tuple(_expand_braces(glob[1:] if negated else glob)), negated)

    def hits(self, relative: str) -> bool:
        name = relative.rsplit("/", 1)[-1]
        for pattern in self.patterns:
            target = relative if "/" in pattern else name
            if fnmatchcase(target, pattern.lstrip("/")):
                return True
            # `**/x` also matches `x` at the top, where there is no slash for `**/` to eat.
            if pattern.startswith("**/") and fnmatchcase(target, pattern[3:]):
                return True
        return False

    def verdict(self, relative: str, is_dir: bool) -> bool | None:
        """True to take the entry, False to skip it, None to leave it to the hidden rule."""
        if self.hits(relative):
            return not self.negated
        # A miss on a whitelist skips files only: `*.py` must still look inside directories.
        return None if self.negated or is_dir else False


def _expand_braces(glob: str) -> list[str]:
    match = _BRACES.search(glob)
    if match is None:
        return [glob]
    head, tail = glob[: match.start()], glob[match.end() :]
    expanded: list[str] = []
    for alternative in match.group(1).split(","):
        expanded += _expand_braces(head + alternative + tail)
    return expanded


def _candidate_files(root: str, include: _IncludeGlob | None) -> Iterator[str]:
    if not os.path.isdir(root):
        yield root
        return
    for directory, dirnames, filenames in os.walk(root):
        prefix = os.path.relpath(directory, root)
        prefix = "" if prefix == "." else prefix.replace(os.sep, "/") + "/"
        dirnames[:] = [
            name
            for name in dirnames
            if _admits(name, prefix + name, True, include)
            and not os.path.islink(os.path.join(directory, name))
        ]
        for name in filenames:
            path = os.path.join(directory, name)
            if _admits(name, prefix + name, False, include) and not os.path.islink(path):
                yield path


def _admits(name: str, relative: str, is_dir: bool, include: _IncludeGlob | None) -> bool:
    verdict = None if include is None else include.verdict(relative, is_dir)
    return not name.startswith(".") if verdict is None else verdict


def _contains_match(path: str, regex: re.Pattern[str]) -> bool:
    try:
        with open(path, "rb") as handle:
            if b"\0" in handle.read(_BINARY_SNIFF_BYTES):
                return False
            handle.seek(0)
            for raw in handle:
                if b"\0" in raw:
                    return False
                line = raw.rstrip(b"\n").decode("utf-8", errors="replace")
                if regex.search(line):
                    return True
    except OSError:
        return False
    return False
