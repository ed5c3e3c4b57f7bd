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
from typing import Any

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


class ServeSetupError(Exception):
    """The server cannot start as configured (a bad key file, a store it cannot open): the
    message is one line for the person who started it."""


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


# -- the 400s of request validation (validation, input_validation) ---------------------------------


def check_type(value: Any, param: str, kind: Any, wanted: str) -> None:
    """A 400 unless `value` is absent (None) or of `kind`; booleans are not numbers."""
    if value is None:
        return
    wrong_bool = isinstance(value, bool) and kind is not bool
    if wrong_bool or not isinstance(value, kind):
        raise wrong_type(param, wanted, value)


def wrong_type(param: str, wanted: str, value: Any) -> ApiError:
    if value is None:
        return missing(param)
    return ApiError.invalid_request(
        f"Invalid type for '{param}': expected {wanted}, but got {_json_type(value)}.",
        param=param,
        code="invalid_type",
    )


def missing(param: str) -> ApiError:
    return ApiError.invalid_request(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def invalid_value(param: str, value: Any, wanted: str) -> ApiError:
    shown = json.dumps(value, ensure_ascii=False)[:80] if value is not None else "nothing"
    return ApiError.invalid_request(
        f"Invalid value for '{param}': expected {wanted}, but got {shown}.",
        param=param,
        code="invalid_value",
    )


def unsupported(param: str, message: str) -> ApiError:
    return ApiError.invalid_request(
        f"Unsupported parameter '{param}': {message}", param=param, code="unsupported_parameter"
    )


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
