"""Errors raised by the sessions package.

```
SessionError                      base of everything below
├── SessionNotFoundError          no rollout matches an id or prefix, or more than one does
└── RolloutWriteError             the recorder's writer thread failed to create or append to a file
```

Constructors only store data; the message is one line a person can act on.
"""

from __future__ import annotations

from pathlib import Path


class SessionError(Exception):
    """Base class of session file errors."""


class SessionNotFoundError(SessionError):
    """No single recorded session matches `query`; `candidates` lists the ambiguous matches."""

    def __init__(self, query: str, candidates: tuple[Path, ...] = ()) -> None:
        self.query = query
        self.candidates = candidates
        if candidates:
            message = (
                f"session id prefix {query!r} is ambiguous: it matches {len(candidates)} sessions"
            )
        else:
            message = f"no recorded session matches {query!r}"
        super().__init__(message)


class RolloutWriteError(SessionError):
    """Writing the rollout file at `path` failed; later records were not written."""

    def __init__(self, path: Path, cause: OSError) -> None:
        self.path = path
        self.cause = cause
        super().__init__(f"cannot write session file {path}: {cause.strerror or cause}")
