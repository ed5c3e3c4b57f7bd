"""The error tree of model requests, classified where the failure happens (the client).

    ModelError
    ├── ContextWindowExceeded     the prompt does not fit; compaction may recover it
    ├── QuotaExceeded             billing quota gone (429 insufficient_quota); never retried
    ├── UsageNotIncluded          the plan does not include this model or feature
    ├── InvalidRequest            HTTP 4xx other than 429: the request itself is wrong
    ├── UnexpectedResponse        an answer that is no event stream: a redirect not followed,
    │                             a 200 with JSON or HTML, a body in an unknown coding
    ├── RetryLimitReached         HTTP retries exhausted (last status kept)
    └── RetryableError            the turn may retry the whole request
        ├── StreamDisconnected    the stream ended early, failed with a server error, or idled
        │   └── IdleTimeout
        ├── ServerError           HTTP 5xx after the HTTP-level retries
        └── RateLimited           429 with a Retry-After the client chose not to wait out

Errors carry data; constructors do no I/O. `str(error)` is the one line shown to people.
"""

from __future__ import annotations


class ModelError(Exception):
    """Base of every failure of a model request."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ContextWindowExceeded(ModelError):
    def __init__(self, message: str, requested_tokens: int | None = None) -> None:
        super().__init__(message)
        self.requested_tokens = requested_tokens


class QuotaExceeded(ModelError):
    pass


class UsageNotIncluded(ModelError):
    pass


class InvalidRequest(ModelError):
    def __init__(self, message: str, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class UnexpectedResponse(ModelError):
    """The server answered, but not with a stream pycodex can read; sending the same request
    again would get the same answer, so it is not retried."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RetryLimitReached(ModelError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"exceeded retry limit, last status: {status} {reason}")
        self.status = status


class RetryableError(ModelError):
    """A failure after which sending the same request again may succeed."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StreamDisconnected(RetryableError):
    pass


class IdleTimeout(StreamDisconnected):
    pass


class ServerError(RetryableError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(RetryableError):
    pass
