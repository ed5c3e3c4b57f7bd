"""A stand-in for llama.cpp's `llama-server`, run as a real process by the local-model tests.

It takes llama-server's command line (the flags pycodex passes; others are ignored), listens on
`--host`/`--port`, and answers what pycodex uses, shaped like the real server's replies:
`GET /health`, `/props` (n_ctx), `/v1/models`, `/slots`; `POST /slots/0?action=save|restore`
with files under `--slot-save-path`; `POST /v1/chat/completions` streaming chunks.

Environment:
- `FAKE_LLAMA_SCRIPT`: a JSON file with the replies to give, in order: `{"text": "..."}` or
  `{"tool": ["name", "{json arguments}"]}`; once used up, every answer is "OK".
- `FAKE_LLAMA_LOG`: a JSONL file; every request is appended as `{"method", "path", "body"}`
  and the start as `{"argv": [...]}`.
- `FAKE_LLAMA_FAIL=load`: print a model-load error the way llama-server does and exit 1.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _flag(argv: list[str], name: str, default: str = "") -> str:
    return argv[argv.index(name) + 1] if name in argv else default


class _State:
    def __init__(self, argv: list[str]) -> None:
        self.alias = _flag(argv, "--alias", "fake-model")
        self.n_ctx = int(_flag(argv, "--ctx-size", "4096"))
        self.slots = Path(_flag(argv, "--slot-save-path", "."))
        self.lock = threading.Lock()
        self.processing = False
        self.task = 0  # llama-server numbers every request it takes
        self.cached: list[Any] = []  # the last prompt's messages: the slot's "KV cache"
        script = os.environ.get("FAKE_LLAMA_SCRIPT")
        self.replies: list[dict[str, Any]] = json.loads(Path(script).read_text()) if script else []

    def next_reply(self) -> dict[str, Any]:
        with self.lock:
            return self.replies.pop(0) if self.replies else {"text": "OK"}


def _log(entry: dict[str, Any]) -> None:
    path = os.environ.get("FAKE_LLAMA_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")


class _Handler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        _log({"method": "GET", "path": self.path, "body": None})
        state = self.state
        if self.path == "/health":
            self._json(200, {"status": "ok"})
        elif self.path == "/props":
            self._json(200, {"default_generation_settings": {"n_ctx": state.n_ctx}})
        elif self.path == "/v1/models":
            model = {"id": state.alias, "object": "model", "meta": {"n_ctx": state.n_ctx}}
            self._json(200, {"object": "list", "data": [model]})
        elif self.path == "/slots":
            slot = {"id": 0, "is_processing": state.processing, "id_task": state.task}
            self._json(200, [slot])
        else:
            self._json(404, {"error": {"code": 404, "message": "File Not Found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        _log({"method": "POST", "path": self.path, "body": body})
        if self.path.startswith("/slots/0?action="):
            self._slot_action(self.path.rpartition("=")[2], body["filename"])
        elif self.path == "/v1/chat/completions":
            self._complete(body)
        else:
            self._json(404, {"error": {"code": 404, "message": "File Not Found"}})

    def _slot_action(self, action: str, filename: str) -> None:
        path = self.state.slots / filename
        if action == "save":
            path.write_text(json.dumps(self.state.cached))
            self._json(200, {"id_slot": 0, "filename": filename, "n_saved": len(self.state.cached)})
        elif action == "restore" and path.is_file():
            self.state.cached = json.loads(path.read_text())
            self._json(
                200, {"id_slot": 0, "filename": filename, "n_restored": len(self.state.cached)}
            )
        else:
            self._json(400, {"error": {"code": 400, "message": f"cannot {action} {filename}"}})

    def _complete(self, body: dict[str, Any]) -> None:
        state = self.state
        state.processing = True
        state.task += 1
        try:
            reply = state.next_reply()
            state.cached = body.get("messages", [])
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for chunk in _chunks(reply, state.alias):
                data = f"data: {json.dumps(chunk)}\n\n".encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            done = b"data: [DONE]\n\n"
            self.wfile.write(f"{len(done):x}\r\n".encode() + done + b"\r\n0\r\n\r\n")
            self.wfile.flush()
        finally:
            state.processing = False

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _chunks(reply: dict[str, Any], model: str) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
                "choices": [choice]}  # fmt: skip

    if "tool" in reply:
        name, arguments = reply["tool"]
        call = {"index": 0, "id": "call_fake", "type": "function",
                "function": {"name": name, "arguments": arguments}}  # fmt: skip
        deltas = [chunk({"role": "assistant", "tool_calls": [call]}), chunk({}, "tool_calls")]
    else:
        deltas = [chunk({"role": "assistant", "content": reply["text"]}), chunk({}, "stop")]
    usage = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
    return [*deltas, {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
                      "choices": [], "usage": usage}]  # fmt: skip


def main(argv: list[str]) -> int:
    _log({"argv": argv})
    if os.environ.get("FAKE_LLAMA_FAIL") == "load":
        print("llama_model_load: error loading model: tensor data is not within file bounds")
        print("srv    load_model: failed to load model")
        return 1
    _Handler.state = _State(argv)
    server = ThreadingHTTPServer(
        (_flag(argv, "--host", "127.0.0.1"), int(_flag(argv, "--port"))), _Handler
    )
    print(
        f"srv  llama_server: listening on http://127.0.0.1:{server.server_address[1]}", flush=True
    )
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
