"""Routing, the checks every request passes, and the request log.

    GET    /health                                 {"status": "ok"} (no checks: load balancers)
    POST   /v1/responses                           the Responses API (`responses_route`)
    GET    /v1/responses/{id}                      a stored response (`stored_routes`)
    DELETE /v1/responses/{id}
    GET    /v1/responses/{id}/input_items
    GET    /v1/models                              the downstream's model list, passed through

Every path also answers without the `/v1` prefix. Before routing, a request must come from an
accepted host and origin (`access`), carry the bearer token when one is configured, and a POST
must be JSON. The request log has one line per request: method, path, status, duration. Headers
are never logged, so neither the client's token nor the downstream key can end up in it.
"""

from __future__ import annotations

import hmac
import logging
import time

from pycodex.server.access import AccessPolicy, check_json_content_type
from pycodex.server.errors import ApiError
from pycodex.server.http_server import HttpRequest, HttpResponder
from pycodex.server.responses_route import ServeContext, handle_responses
from pycodex.server.stored_routes import delete_response, list_input_items, retrieve_response

logger = logging.getLogger("pycodex.server")

_JSON = {"content-type": "application/json"}


class ServeApp:
    def __init__(
        self,
        ctx: ServeContext,
        auth_token: str | None = None,
        access: AccessPolicy | None = None,
    ) -> None:
        self.ctx = ctx
        self._auth_token = auth_token
        self._access = access or AccessPolicy()

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
        self._access.check(request.headers)
        self._check_auth(request)
        parts = path.removeprefix("/v1").strip("/").split("/")
        match parts:
            case ["responses"]:
                _require_method(request, "POST")
                check_json_content_type(request.headers)
                await handle_responses(self.ctx, request, responder)
            case ["responses", response_id]:
                _require_method(request, "GET", "DELETE")
                if request.method == "GET":
                    await retrieve_response(self.ctx, response_id, request.query, responder)
                else:
                    await delete_response(self.ctx, response_id, responder)
            case ["responses", response_id, "input_items"]:
                _require_method(request, "GET")
                await list_input_items(self.ctx, response_id, request.query, responder)
            case ["models"]:
                _require_method(request, "GET")
                status, body, content_type = await self.ctx.downstream.models()
                await responder.send(status, body, {"content-type": content_type})
            case _:
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


def _require_method(request: HttpRequest, *methods: str) -> None:
    if request.method not in methods:
        allowed = ", ".join(methods)
        raise ApiError(
            405,
            f"Method {request.method} is not allowed on {request.path}; use {allowed}.",
            code="method_not_allowed",
            headers={"allow": allowed},
        )
