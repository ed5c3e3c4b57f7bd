"""`ApiError`: a failure the compat server reports to its client in the OpenAI error shape.

Raised anywhere below a route; the route turns it into an HTTP error response when nothing has been
streamed yet, or into `response.failed` once the event stream has begun. Error bodies look like the
OpenAI API's, so every Responses client classifies them as it would a real server's:

    {"error": {"message": "...", "type": "invalid_request_error", "param": null, "code": "..."}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType

# The HTTP status a Responses error code is reported with when it ends a request before any
# event was streamed (or a non-streaming request whose response failed).
_STATUS_FOR_CODE: Mapping[str, int] = MappingProxyType(
    {
        "context_length_exceeded": 400,
        "invalid_request_error": 400,
        "invalid_api_key": 401,
        "permission_denied": 403,
        "rate_limit_exceeded": 429,
        "insufficient_quota": 429,
        "server_is_overloaded": 503,
        "model_output_invalid": 502,
        "server_error": 502,
    }
)
_TYPE_FOR_STATUS: Mapping[int, str] = MappingProxyType(
    {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
)


class ApiError(Exception):
    """An error with everything needed to answer the client: status, code, message, headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        error_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.error_type = error_type or _default_type(status)
        self.headers = dict(headers or {})

    @classmethod
    def invalid_request(
        cls, message: str, *, param: str | None = None, code: str | None = None
    ) -> ApiError:
        """A 400 for a request the client got wrong."""
        return cls(400, message, param=param, code=code, error_type="invalid_request_error")

    @classmethod
    def from_code(
        cls,
        code: str,
        message: str,
        *,
        downstream_status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiError:
        """The HTTP error for a Responses error code (from `providers.errors` classification)."""
        return cls(status_for_code(code, downstream_status), message, code=code, headers=headers)

    def body(self) -> bytes:
        error = {
            "message": self.message,
            "type": self.error_type,
            "param": self.param,
            "code": self.code,
        }
        return json.dumps({"error": error}, ensure_ascii=False).encode()


def status_for_code(code: str, downstream_status: int | None = None) -> int:
    """The status to answer with; the downstream's own status wins where it is more precise.

    A downstream 404 (unknown model) or 503 says more than the generic row of the table, so
    client errors keep their 4xx and server errors their 5xx.
    """
    status = _STATUS_FOR_CODE.get(code, 502)
    if downstream_status is None:
        return status
    if code == "invalid_request_error" and 400 <= downstream_status < 500:
        return downstream_status
    if code == "server_error" and 500 <= downstream_status < 600:
        return downstream_status if downstream_status != 529 else 503
    return status


def _default_type(status: int) -> str:
    if status in _TYPE_FOR_STATUS:
        return _TYPE_FOR_STATUS[status]
    return "invalid_request_error" if status < 500 else "server_error"
