"""A fake model server in its own process, streaming replies of many small text deltas.

`python -m bench.delta_server DELTAS STREAMS NODELAY` prints its origin (`http://127.0.0.1:PORT`)
and serves, until stdin closes, `STREAMS` replies on `POST /v1/responses` of `DELTAS`
`response.output_text.delta` events each (between `response.created` and `response.completed`),
and as many one-delta replies on `POST /one/v1/responses`. Each event is one write, as a real
server streams tokens; NODELAY=1 turns Nagle off so each write is its own TCP segment (the
hardest case for a client: one read per event).

It runs apart from the benchmark so that serving costs none of the measured process's CPU and
takes no turns at its GIL.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support import sse_builders as sse
from support.fake_server import FakeModelServer


def reply(deltas: int) -> list[dict[str, Any]]:
    item = {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress"}
    events = [sse.response_created(), sse.output_item_added({**item, "content": []})]
    events += [sse.output_text_delta(f"tok{index} ") for index in range(deltas)]
    text = "".join(f"tok{index} " for index in range(deltas))
    return [*events, sse.output_item_done(sse.message(text)), sse.completed()]


def main(argv: list[str]) -> None:
    deltas, streams, nodelay = int(argv[0]), int(argv[1]), argv[2] == "1"
    many = [sse.encode_sse_event(event) for event in reply(deltas)]
    one = [sse.encode_sse_event(event) for event in reply(1)]
    server = FakeModelServer(nodelay=nodelay).start()
    for _ in range(streams):
        server.expect_stream("/v1/responses", many, kind="sse")
        server.expect_stream("/one/v1/responses", one, kind="sse")
    print(server.origin, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    server.close()  # unused scripts are fine here: no assert_done


if __name__ == "__main__":
    main(sys.argv[1:])
