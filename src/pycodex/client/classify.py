"""Turning failures seen on the wire into the error tree of `pycodex.protocol.errors`.

Classification happens here, at the boundary, so the engine only ever sees typed errors.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pycodex.protocol.errors import (
    ContextWindowExceeded,
    InvalidRequest,
    ModelError,
    QuotaExceeded,
    RateLimited,
    StreamDisconnected,
    UsageNotIncluded,
)

# Pattern texts, compiled on first use by `re`'s own cache: errors are rare, and compiling them
# all at import cost exec ~1.6 ms of start-up.
_CONTEXT_PATTERN = "|".join(
    (
        r"maximum context length",
        r"context[ _-]length[ _-]exceeded",
        r"context window",
        r"too many tokens|prompt is too long|exceeds the context",
        # llama.cpp: "exceed_context_size_error", "the request exceeds the available context size"
        r"exceed_context_size|available context size",
    )
)
_AUTH_CODES = {"invalid_api_key": 401, "authentication_error": 401, "permission_denied": 403}
_REQUESTED_TOKENS = r"requested (\d+) tokens|resulted in (\d+) tokens"
# "Please try again in 6ms.", "try again in 1.5s", "Please retry after 20 seconds",
# "try again in 1m30s"; Gemini's JSON error details: "retryDelay": "20s".
_WAIT_PART = (
    r"\d+(?:\.\d+)?\s*(?:ms|milliseconds?|h|hours?|m|mins?|minutes?|s|secs?|seconds?)(?![a-z])"
)
_TRY_AGAIN = (
    rf"(?:try again|retry)(?:\s+(?:in|after))?\s+((?:{_WAIT_PART}\s*)+)"
    rf'|retry_?delay"?\s*[:=]\s*"?((?:{_WAIT_PART}\s*)+)'
)
_WAIT_PIECE = r"(\d+(?:\.\d+)?)\s*([a-z]+)"

QUOTA_MESSAGE = (
    "Quota exceeded. Check your plan and billing details (the provider answered "
    "429 insufficient_quota)."
)


def error_fields(body: bytes | str) -> tuple[str | None, str]:
    """The `error.code` and `error.message` of an OpenAI-style error body (best effort)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None, text.strip()
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code = error.get("code") or error.get("type")
        message = error.get("message")
        return (str(code) if code else None), (str(message) if message else text.strip())
    if isinstance(error, str):
        return None, error
    return None, text.strip()


def is_context_overflow(code: str | None, message: str) -> bool:
    if code == "context_length_exceeded":
        return True
    return re.search(_CONTEXT_PATTERN, message, re.IGNORECASE) is not None


def requested_tokens(message: str) -> int | None:
    match = re.search(_REQUESTED_TOKENS, message, re.IGNORECASE)
    if match is None:
        return None
    return int(next(group for group in match.groups() if group))


def context_error(message: str) -> ContextWindowExceeded:
    return ContextWindowExceeded(
        "Your input exceeds the context window of this model: " + message,
        requested_tokens=requested_tokens(message),
    )


def classify_client_error(status: int, body: bytes, auth_hint: str | None = None) -> ModelError:
    """A 4xx (other than a retried 429) that ends the request for good.

    `auth_hint` (e.g. "check the key in OPENAI_API_KEY") is appended to 401 and 403 errors, the
    ones a person fixes outside pycodex.
    """
    code, message = error_fields(body)
    if status == 429 and code == "insufficient_quota":
        return QuotaExceeded(QUOTA_MESSAGE)
    if code == "usage_not_included":
        return UsageNotIncluded(message)
    if is_context_overflow(code, message):
        return context_error(message)
    reason = _reason(status)
    detail = message or reason
    text = f"unexpected status {status} {reason}: {detail}"
    if status in (401, 403):
        text += f" ({auth_hint or _AUTH_FIX[status]})"
    return InvalidRequest(text, status, code)


_AUTH_FIX = {
    401: "the provider rejected the API key: check that it is set and valid",
    403: "the API key is not allowed to use this model or endpoint",
}


def classify_failed_event(error: dict[str, Any]) -> ModelError:
    """The error of a `response.failed` event."""
    code = error.get("code")
    code = str(code) if code else None
    message = str(error.get("message") or "response failed")
    if is_context_overflow(code, message):
        return context_error(message)
    if code == "insufficient_quota":
        return QuotaExceeded(QUOTA_MESSAGE)
    if code == "usage_not_included":
        return UsageNotIncluded(message)
    if code in {"invalid_prompt", "invalid_request_error"}:
        return InvalidRequest(message, 400, code)
    if code in _AUTH_CODES:
        status = _AUTH_CODES[code]
        return InvalidRequest(f"{message} ({_AUTH_FIX[status]})", status, code)
    if code == "model_output_invalid":
        # Re-sending would only repeat the same unusable answer (the translating clients already
        # retried once), so this ends the turn.
        return ModelError(f"model_output_invalid: {message}")
    if code == "rate_limit_exceeded":
        return RateLimited(message, retry_after_s=retry_after_from_message(message))
    return StreamDisconnected(f"stream disconnected before completion: {message}")


def retry_after_from_message(message: str | bytes) -> float | None:
    """Seconds a rate-limit message asks to wait ("Please try again in 1.5s"), if it says."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    match = re.search(_TRY_AGAIN, text, re.IGNORECASE)
    if match is None:
        return None
    total = 0.0
    for number, unit in re.findall(_WAIT_PIECE, match.group(1) or match.group(2), re.IGNORECASE):
        total += float(number) * _unit_seconds(unit.lower())
    return total


def _unit_seconds(unit: str) -> float:
    if unit.startswith(("ms", "milli")):
        return 0.001
    if unit.startswith("h"):
        return 3600.0
    return 60.0 if unit.startswith("m") else 1.0


def retry_after_from_headers(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (delta seconds or an HTTP date in any
    zone). A negative, NaN or unreadable value counts as absent; a date in the past as 0.
    The result is not capped: the caller decides how long it is willing to wait."""
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    return seconds if seconds is not None else _seconds_until(value)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 else None  # NaN compares false as well


def _seconds_until(date: str) -> float | None:
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime  # rare: an HTTP-date Retry-After

    try:
        moment = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000" or an unknown zone name: the date is taken as UTC
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _reason(status: int) -> str:
    from http import HTTPStatus  # only on an error; its enum costs ~1 ms of start-up

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
