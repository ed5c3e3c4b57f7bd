"""A hook's trust key and hash, computed exactly as upstream Codex computes them.

A user's hook runs only when `[hooks.state."<key>"] trusted_hash` equals its current hash, so a
config.toml trusted by upstream Codex is trusted here too, and the other way round.

- key: `<absolute source file>:<event_snake>:<group index>:<handler index>`
- hash: `"sha256:" + sha256(canonical JSON of the handler's identity)`, where the identity is
  `{"event_name": <event_snake>, "matcher": <matcher> (only when set and used by the event),
  "hooks": [{"type": "command", "command": ..., "timeout": <effective seconds>, "async": ...,
  "statusMessage": ... (only when set)}]}` and the canonical JSON has sorted keys, no spaces and
  raw (not `\\u`-escaped) non-ASCII text, as Rust's serde_json writes it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pycodex.hooks.events import SNAKE_NAMES, HookEventName

TrustStatus = Literal["trusted", "untrusted", "modified"]


def hook_key(source: Path, event: HookEventName, group: int, handler: int) -> str:
    return f"{source}:{SNAKE_NAMES[event]}:{group}:{handler}"


def hook_hash(
    event: HookEventName,
    *,
    matcher: str | None,
    command: str,
    timeout_s: int,
    is_async: bool = False,
    status_message: str | None = None,
) -> str:
    """The `sha256:` hash of one handler; `matcher` is None when the event ignores it."""
    handler: dict[str, Any] = {
        "type": "command",
        "command": command,
        "timeout": timeout_s,
        "async": is_async,
    }
    if status_message is not None:
        handler["statusMessage"] = status_message
    identity: dict[str, Any] = {"event_name": SNAKE_NAMES[event], "hooks": [handler]}
    if matcher is not None:
        identity["matcher"] = matcher
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def trust_status(current_hash: str, trusted_hash: str | None) -> TrustStatus:
    if trusted_hash is None:
        return "untrusted"
    return "trusted" if trusted_hash == current_hash else "modified"
