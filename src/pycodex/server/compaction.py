"""Remote compaction for model servers that have none.

A Codex-style client compacts its history by sending it with one last item,
`{"type": "context_compaction"}` (or `"compaction"`), and expects back a single item of that type
whose `encrypted_content` stands for the whole history on later requests. The compat server asks
the downstream model for a summary (prompt in `prompts/compaction_summary.md`) and returns it as a
token the server can trust later:

    token = "pcx1." + b64url(payload) + "." + b64url(HMAC-SHA256(secret, payload))
    payload = JSON {"v": 1, "summary": "<the summary>"}

The token is integrity-protected, not encrypted: the summary inside is readable by whoever holds
it, but nobody without the secret (`$CODEX_HOME/serve/secret`, made on first use, mode 0600) can
forge or alter one. The key file is published whole (written aside, then linked into place), so
a crash never leaves an empty key behind, and a key of the wrong length is refused. On a later
request a compaction item whose token verifies becomes a user message carrying the summary; one
that does not verify is the client's error (400).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pycodex.server.errors import ApiError, ServeSetupError
from pycodex.server.private_files import publish_private

COMPACTION_TYPES = ("context_compaction", "compaction")
_TOKEN_PREFIX = "pcx1"
_TOKEN_VERSION = 1


SECRET_BYTES = 32


class SecretKeyError(ServeSetupError):
    """The signing key file cannot be read or does not hold a key; the message says which."""


def load_or_create_secret(path: Path) -> bytes:
    """The server's signing key; created once (atomically, mode 0600), refused when malformed."""
    key = _read_secret(path)
    if key is not None:
        return key
    fresh = secrets.token_bytes(SECRET_BYTES)
    if publish_private(path, fresh.hex().encode("ascii")):
        return fresh
    key = _read_secret(path)  # another server published its key first: use that one
    if key is None:
        raise SecretKeyError(f"the signing key {path} vanished while it was being created")
    return key


def _read_secret(path: Path) -> bytes | None:
    try:
        text = path.read_bytes().decode("ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise SecretKeyError(f"cannot read the signing key {path}: {err}") from None
    remedy = "delete it to have a new one made (summaries signed with it stop verifying)"
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise SecretKeyError(f"the signing key {path} is not hex text; {remedy}") from None
    if len(key) != SECRET_BYTES:
        raise SecretKeyError(
            f"the signing key {path} holds {len(key)} bytes, not {SECRET_BYTES}; {remedy}"
        )
    return key


def sign_summary(secret: bytes, summary: str) -> str:
    payload = json.dumps({"v": _TOKEN_VERSION, "summary": summary}, ensure_ascii=False).encode()
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    return f"{_TOKEN_PREFIX}.{_b64(payload)}.{_b64(mac)}"


def verify_summary(secret: bytes, token: str) -> str | None:
    """The summary inside a token this server signed, or None for anything else."""
    prefix, _, rest = token.partition(".")
    encoded_payload, _, encoded_mac = rest.partition(".")
    if prefix != _TOKEN_PREFIX:
        return None
    try:
        payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
    except (ValueError, binascii.Error):
        return None
    expected = hmac.new(secret, payload, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        return None
    data = json.loads(payload)  # signed by this server, so well-formed
    if not isinstance(data, dict) or data.get("v") != _TOKEN_VERSION:
        return None
    summary = data.get("summary")
    return summary if isinstance(summary, str) else None


def compaction_marker(items: Sequence[Mapping[str, Any]]) -> str | None:
    """The marker type when the input ends with a request to compact (no content yet)."""
    if not items:
        return None
    last = items[-1]
    kind = last.get("type")
    if kind in COMPACTION_TYPES and not last.get("encrypted_content"):
        return str(kind)
    return None


def expand_compactions(secret: bytes, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The input with each signed compaction item turned into a user message with its summary."""
    expanded: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if item.get("type") not in COMPACTION_TYPES:
            expanded.append(dict(item))
            continue
        token = item.get("encrypted_content")
        if not token:
            continue  # an unanswered marker left in the history carries nothing
        summary = verify_summary(secret, token) if isinstance(token, str) else None
        if summary is None:
            raise ApiError.invalid_request(
                "the compaction item's encrypted_content was not issued by this server "
                "(or was altered)",
                param=f"input[{index}].encrypted_content",
                code="invalid_encrypted_content",
            )
        expanded.append(user_message(f"{_prompt('compaction_handoff.md')}\n\n{summary}"))
    return expanded


def summary_request(body: Mapping[str, Any], history: list[dict[str, Any]]) -> dict[str, Any]:
    """The request that asks the downstream model to summarize `history`.

    It keeps the client's instructions and tools so the prompt prefix matches the conversation's
    (a prefix-cache hit on servers that have one; Anthropic also insists on tool definitions when
    the history holds tool calls), and forbids tool calls instead.
    """
    request = {
        key: body[key]
        for key in ("model", "instructions", "tools", "max_output_tokens", "metadata")
        if body.get(key) is not None
    }
    request["input"] = [*history, user_message(_prompt("compaction_summary.md"))]
    if request.get("tools"):
        request["tool_choice"] = "none"
    return request


def user_message(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def _prompt(name: str) -> str:
    prompts = Path(__file__).with_name("prompts")
    return prompts.joinpath(name).read_text("utf-8").strip()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
