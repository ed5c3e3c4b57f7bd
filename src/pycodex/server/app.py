"""Routing, client authentication and the request log.

    GET  /health                     {"status": "ok"} (no token needed: for load balancers)
    POST /v1/responses, /responses   the Responses API (`responses_route`)
    GET  /v1/models, /models         the downstream's model list, passed through

With an auth token configured, every other route wants `Authorization: Bearer <token>`. The
request log has one line per request: method, path, status, duration. Headers are never logged,
so neither the client's token nor the downstream key can end up in it.
"""

from __future__ import annotations

import hmac
import logging
import time

from pycodex.server.errors import ApiError
from pycodex.server.http_server import HttpRequest, HttpResponder
from pycodex.server.responses_route import ServeContext, handle_responses

logger = logging.getLogger("pycodex.server")

_RESPONSES_PATHS = frozenset({"/v1/responses", "/responses"})
_MODELS_PATHS = frozenset({"/v1/models", "/models"})
_JSON = {"content-type": "application/json"}


class ServeApp:
    def __init__(self, ctx: ServeContext, auth_token: str | None = None) -> None:
        self.ctx = ctx
        self._auth_token = auth_token

    async def handle(self, request: HttpRequest, responder: HttpResponder) -> None:
        clock = time.perf_counter()
        try:
            await self._route(request, responder)
        except ApiError as err:
            if responder.started:
                raise  # cannot happen after the stream began: the pipeline reports failures
            await responder.send(err.status, err.body(), {**_JSON, **err.headers})
        finally:
            elapsed_ms = (time.perf_counter() - clock) * 1000
            status = responder.status if responder.status is not None else "-"
            logger.info("%s %s %s %.1f ms", request.method, request.path, status, elapsed_ms)

    async def _route(self, request: HttpRequest, responder: HttpResponder) -> None:
        path = request.path.rstrip("/") or "/"
        if path == "/health":
            _require_method(request, "GET")
            await responder.send(200, b'{"status":"ok"}', _JSON)
            return
        self._check_auth(request)
        if path in _RESPONSES_PATHS:
            _require_method(request, "POST")
            await handle_responses(self.ctx, request, responder)
        elif path in _MODELS_PATHS:
            _require_method(request, "GET")
            status, body, content_type = await self.ctx.downstream.models()
            await responder.send(status, body, {"content-type": content_type})
        else:
            raise ApiError(404, f"Unknown path: {request.method} {path}", code="not_found")

    def _check_auth(self, request: HttpRequest) -> None:
        if self._auth_token is None:
            return
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), self._auth_token.encode()
        )
        if not ok:
            raise ApiError(
                401,
                "Incorrect or missing API key: send 'Authorization: Bearer <token>' with the "
                "token this server was started with.",
                code="invalid_api_key",
                error_type="invalid_request_error",
                headers={"www-authenticate": "Bearer"},
            )


def _require_method(request: HttpRequest, method: str) -> None:
    if request.method != method:
        raise ApiError(
            405,
            f"Method {request.method} is not allowed on {request.path}; use {method}.",
            code="method_not_allowed",
            headers={"allow": method},
        )
