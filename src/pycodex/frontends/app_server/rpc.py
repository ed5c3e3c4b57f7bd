"""The app-server's wire messages: one JSON object per line, without a `jsonrpc` member.

Client requests carry string ids (the SDK uses UUIDs); the server's own requests (approvals) use
integer ids counting from 0. A line that is not JSON, or not a request, notification or response,
is answered with an error and otherwise ignored: nothing a client sends stops the server.
"""

from __future__ import annotations

import json
from typing import Any

from pycodex._records import dataclass

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# The SDK maps an error in -32000..-32099 whose data says `server_overloaded` to ServerBusyError
# and retries it.
SERVER_OVERLOADED = -32001
OVERLOADED_DATA = "server_overloaded"

RequestId = str | int


class RpcError(Exception):
    """A request failed; becomes the `error` member of its response."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_wire(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid_params(message: str) -> RpcError:
    return RpcError(INVALID_PARAMS, message)


def invalid_request(message: str) -> RpcError:
    return RpcError(INVALID_REQUEST, message)


@dataclass(frozen=True, slots=True)
class Request:
    id: RequestId
    method: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Notification:
    method: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Response:
    """The client's answer to one of the server's requests."""

    id: RequestId
    result: Any = None
    error: dict[str, Any] | None = None


Message = Request | Notification | Response


class BadMessage(Exception):
    """A line that is not a message; `request_id` is set when the line named one."""

    def __init__(self, error: RpcError, request_id: RequestId | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.request_id = request_id


def parse_message(line: bytes) -> Message:
    """One line of input as a message; raises BadMessage."""
    try:
        raw = json.loads(line)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadMessage(RpcError(PARSE_ERROR, f"invalid JSON: {err}")) from None
    if not isinstance(raw, dict):
        raise BadMessage(RpcError(INVALID_REQUEST, "a message must be a JSON object"))
    raw_id = raw.get("id")
    request_id = raw_id if _is_id(raw_id) else None
    if "id" in raw and request_id is None:
        raise BadMessage(invalid_request("`id` must be a string or an integer"))
    method = raw.get("method")
    if method is None:
        if request_id is None or ("result" not in raw and "error" not in raw):
            raise BadMessage(invalid_request("a message needs a `method`, or an `id` and a result"))
        error = raw.get("error")
        return Response(request_id, raw.get("result"), error if isinstance(error, dict) else None)
    if not isinstance(method, str) or not method:
        raise BadMessage(invalid_request("`method` must be a non-empty string"), request_id)
    params = raw.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise BadMessage(invalid_params("`params` must be a JSON object"), request_id)
    if request_id is None:
        return Notification(method, params)
    return Request(request_id, method, params)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
