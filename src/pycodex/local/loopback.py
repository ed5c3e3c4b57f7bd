"""Small JSON requests to the local llama-server over loopback (standard library only).

The managed server listens on 127.0.0.1 only; these calls carry no key and go through no proxy.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

from pycodex._records import dataclass


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any  # the decoded JSON, or None when the body was not JSON


def request_json(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    *,
    host: str = "127.0.0.1",
    timeout_s: float = 5.0,
) -> Reply | None:
    """One request; None when the server cannot be reached or hangs up."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"} if payload is not None else {}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = None
    return Reply(response.status, decoded)


def healthy(port: int, *, host: str = "127.0.0.1") -> bool:
    reply = request_json(port, "GET", "/health", host=host, timeout_s=2.0)
    return reply is not None and reply.status == 200


def context_size(port: int, *, host: str = "127.0.0.1") -> int | None:
    """The context window of one request slot, from `/props` (else `/v1/models`)."""
    reply = request_json(port, "GET", "/props", host=host)
    if reply is not None and isinstance(reply.body, dict):
        settings = reply.body.get("default_generation_settings")
        value = settings.get("n_ctx") if isinstance(settings, dict) else None
        if isinstance(value, int) and value > 0:
            return value
    reply = request_json(port, "GET", "/v1/models", host=host)
    if reply is not None and isinstance(reply.body, dict):
        for entry in reply.body.get("data") or []:
            meta = entry.get("meta") if isinstance(entry, dict) else None
            value = meta.get("n_ctx") if isinstance(meta, dict) else None
            if isinstance(value, int) and value > 0:
                return value
    return None


@dataclass(frozen=True, slots=True)
class SlotActivity:
    busy: bool  # a slot is processing a request now
    last_task: int | None  # the newest task id any slot took: it changes with every request


def slot_activity(port: int, *, host: str = "127.0.0.1") -> SlotActivity | None:
    """What the request slots are doing; None when `/slots` cannot be read."""
    reply = request_json(port, "GET", "/slots", host=host)
    if reply is None or reply.status != 200 or not isinstance(reply.body, list):
        return None
    slots = [slot for slot in reply.body if isinstance(slot, dict)]
    tasks = [slot["id_task"] for slot in slots if isinstance(slot.get("id_task"), int)]
    busy = any(slot.get("is_processing") for slot in slots)
    return SlotActivity(busy, max(tasks) if tasks else None)


def slot_action(port: int, action: str, filename: str, *, timeout_s: float = 120.0) -> bool:
    """`POST /slots/0?action=save|restore` with `filename` under `--slot-save-path`."""
    reply = request_json(
        port, "POST", f"/slots/0?action={action}", {"filename": filename}, timeout_s=timeout_s
    )
    return reply is not None and reply.status == 200
