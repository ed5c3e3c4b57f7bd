"""The stored-response routes of the Responses API.

    GET    /v1/responses/{id}               the response object as it completed
    DELETE /v1/responses/{id}               {"id", "object": "response", "deleted": true}
    GET    /v1/responses/{id}/input_items   the items the response was generated from, as a list
                                            page: ?after=ITEM_ID&limit=1..100&order=asc|desc

Input items are every item the response was answered from: the conversation of the response it
continued, then its own input (each item has an `id`; the server gives one to items sent without).
The list is newest first unless `order=asc`; `limit` defaults to 20. A response stored with
`"store": false`, or one that expired, is a 404, as is one an earlier response of whose
conversation is gone (its input can no longer be listed whole).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from pycodex.server.errors import ApiError, invalid_value, unsupported
from pycodex.server.http_server import HttpResponder
from pycodex.server.responses_route import ServeContext
from pycodex.server.store import BrokenChain, JsonItem, StoredResponse

DEFAULT_PAGE = 20
MAX_PAGE = 100
_JSON = {"content-type": "application/json"}


async def retrieve_response(
    ctx: ServeContext, response_id: str, query: str, responder: HttpResponder
) -> None:
    if _params(query).get("stream", "false") != "false":
        raise unsupported("stream", "Streaming a stored response again is not supported.")
    stored = await _stored(ctx, response_id)
    await responder.send(200, _json(stored.response), _JSON)


async def delete_response(ctx: ServeContext, response_id: str, responder: HttpResponder) -> None:
    if not await ctx.store.delete(response_id):
        raise _not_found(response_id)
    deleted = {"id": response_id, "object": "response", "deleted": True}
    await responder.send(200, _json(deleted), _JSON)


async def list_input_items(
    ctx: ServeContext, response_id: str, query: str, responder: HttpResponder
) -> None:
    params = _params(query)
    limit = _limit(params.get("limit"))
    order = params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid_value("order", order, "'asc' or 'desc'")
    stored = await _stored(ctx, response_id)
    items = await _input_of(ctx, stored)
    if order == "desc":
        items.reverse()
    start = 0
    after = params.get("after")
    if after is not None:
        position = next((i for i, item in enumerate(items) if item.get("id") == after), None)
        if position is None:
            raise invalid_value("after", after, "the id of an input item of this response")
        start = position + 1
    page = items[start : start + limit]
    listing = {
        "object": "list",
        "data": page,
        "first_id": page[0].get("id") if page else None,
        "last_id": page[-1].get("id") if page else None,
        "has_more": start + limit < len(items),
    }
    await responder.send(200, _json(listing), _JSON)


async def _stored(ctx: ServeContext, response_id: str) -> StoredResponse:
    stored = await ctx.store.get(response_id)
    if stored is None:
        raise _not_found(response_id)
    return stored


async def _input_of(ctx: ServeContext, stored: StoredResponse) -> list[JsonItem]:
    if stored.parent_id is None:
        return list(stored.input_items)
    try:
        earlier = await ctx.store.conversation(stored.parent_id)
    except BrokenChain as err:
        earlier = None
        gone = err.missing_id
    else:
        gone = stored.parent_id
    if earlier is None:
        raise ApiError(
            404,
            f"The input items of response '{stored.response_id}' can no longer be listed: an "
            f"earlier response of its conversation ('{gone}') expired or was deleted.",
            code="not_found",
        )
    return [*earlier, *stored.input_items]


def _params(query: str) -> dict[str, str]:
    """The query's parameters, the last value of each (`include[]` and friends are ignored)."""
    try:
        parsed = parse_qs(query, keep_blank_values=True, strict_parsing=False)
    except ValueError:
        raise ApiError.invalid_request("The query string is malformed.") from None
    return {key: values[-1] for key, values in parsed.items()}


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise invalid_value("limit", raw, f"an integer from 1 to {MAX_PAGE}")
    return int(raw)


def _not_found(response_id: str) -> ApiError:
    return ApiError(
        404,
        f"No response with id '{response_id}' is stored here (it was never stored, was "
        "deleted, or expired).",
        param="response_id",
        code="not_found",
    )


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
