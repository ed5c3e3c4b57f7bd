"""The patch format parser and applier (layer L1, a pure library).

Modules:

- `parser`: the patch data model (`Patch`, `AddFile`, `DeleteFile`, `UpdateFile`, `UpdateChunk`)
  and `parse_patch`.
- `matching`: `seek_sequence`, locating a chunk's lines with increasing whitespace tolerance.
- `update`: `apply_chunks`, the new text of one file after its chunks.
- `applier`: `plan_patch` (in memory) and `apply_patch_text` (to disk, all or nothing).
- `changes`: the outcome types `FileChange` and `ApplyResult`.
- `roots`: resolving patch paths and refusing those outside the writable roots.
- `writer`: committing planned changes with rollback on failure.
- `errors`: the error tree rooted at `PatchError`.
- `resources`: `load_grammar` (Lark, for the freeform tool) and `load_tool_instructions`.
"""

from typing import TYPE_CHECKING

from pycodex._lazy import lazy_attributes

if TYPE_CHECKING:
    from pycodex.apply_patch.applier import apply_patch_text, plan_patch
    from pycodex.apply_patch.changes import ApplyResult, ChangeKind, FileChange
    from pycodex.apply_patch.errors import (
        AmbiguousMatchError,
        PatchApplyError,
        PatchError,
        PatchParseError,
        PathNotWritableError,
    )
    from pycodex.apply_patch.matching import seek_sequence
    from pycodex.apply_patch.parser import (
        AddFile,
        DeleteFile,
        Hunk,
        Patch,
        UpdateChunk,
        UpdateFile,
        parse_patch,
    )
    from pycodex.apply_patch.resources import load_grammar, load_tool_instructions
    from pycodex.apply_patch.update import apply_chunks

# Loaded on first use, so describing the apply_patch tool (its grammar and instructions) at
# start-up does not load the parser and applier.
_EXPORTS = {
    "apply_patch_text": "pycodex.apply_patch.applier",
    "plan_patch": "pycodex.apply_patch.applier",
    "ApplyResult": "pycodex.apply_patch.changes",
    "ChangeKind": "pycodex.apply_patch.changes",
    "FileChange": "pycodex.apply_patch.changes",
    "AmbiguousMatchError": "pycodex.apply_patch.errors",
    "PatchApplyError": "pycodex.apply_patch.errors",
    "PatchError": "pycodex.apply_patch.errors",
    "PatchParseError": "pycodex.apply_patch.errors",
    "PathNotWritableError": "pycodex.apply_patch.errors",
    "seek_sequence": "pycodex.apply_patch.matching",
    "AddFile": "pycodex.apply_patch.parser",
    "DeleteFile": "pycodex.apply_patch.parser",
    "Hunk": "pycodex.apply_patch.parser",
    "Patch": "pycodex.apply_patch.parser",
    "UpdateChunk": "pycodex.apply_patch.parser",
    "UpdateFile": "pycodex.apply_patch.parser",
    "parse_patch": "pycodex.apply_patch.parser",
    "load_grammar": "pycodex.apply_patch.resources",
    "load_tool_instructions": "pycodex.apply_patch.resources",
    "apply_chunks": "pycodex.apply_patch.update",
}

__all__ = [
    "AddFile",
    "AmbiguousMatchError",
    "ApplyResult",
    "ChangeKind",
    "DeleteFile",
    "FileChange",
    "Hunk",
    "Patch",
    "PatchApplyError",
    "PatchError",
    "PatchParseError",
    "PathNotWritableError",
    "UpdateChunk",
    "UpdateFile",
    "apply_chunks",
    "apply_patch_text",
    "load_grammar",
    "load_tool_instructions",
    "parse_patch",
    "plan_patch",
    "seek_sequence",
]

__getattr__ = lazy_attributes(__name__, _EXPORTS)
