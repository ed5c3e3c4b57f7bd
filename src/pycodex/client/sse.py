"""Incremental Server-Sent Events decoder: bytes in, `SSEEvent`s out.

Summary of the WHATWG rules this module follows
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):

- The stream is UTF-8. One byte order mark at the very start of the stream is dropped.
- Lines end with CRLF, LF or a lone CR.
- An empty line dispatches the event built so far. If no `data` field was seen, nothing is
  dispatched and the event type is reset.
- A line starting with `:` is a comment and is ignored (servers send these as keep-alives).
- Otherwise the field name runs up to the first `:`, and the value is what follows it, with one
  leading space removed. A line without a colon is a field with an empty value.
- `data` appends the value plus a newline to the data buffer; the final newline is removed at
  dispatch, so several `data` lines join with "\\n".
- `event` sets the event type for the event being built (default "message").
- `id` sets the last event id, unless the value contains NUL. The id persists across events.
- `retry` sets the reconnection time in milliseconds if the value is all ASCII digits.
- Any other field is ignored.
- At end of stream, an event that was not terminated by an empty line is discarded.

Performance: the decoder is linear in its input. Bytes of an unfinished line are kept as a list
of pieces and joined once, when the line ends; each chunk is scanned for terminators once.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterable

from pycodex._records import dataclass

__all__ = ["SSEDecoder", "SSEEvent", "aiter_sse"]

_BOM = b"\xef\xbb\xbf"
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event.

    `id` is the stream's last event id at dispatch time (it persists across events, as the spec
    says); `retry` is the reconnection time most recently set by the stream, in milliseconds.
    Both are None until the stream sets them.
    """

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turns a byte stream, fed in arbitrary chunks, into `SSEEvent`s.

    >>> decoder = SSEDecoder()
    >>> decoder.feed(b"event: ping\\ndata: 1\\n")
    []
    >>> decoder.feed(b"\\n")
    [SSEEvent(data='1', event='ping', id=None, retry=None)]
    """

    def __init__(self) -> None:
        # Pieces of the line that has not seen its terminator yet.
        self._partial: list[bytes] = []
        # A chunk that ended in CR already ended its line; an LF opening the next chunk is the
        # second half of that CRLF and must not count as an empty line.
        self._skip_leading_lf = False
        self._at_stream_start = True
        self._data: list[str] = []
        self._event_type = ""
        self._last_event_id: str | None = None
        self._retry: int | None = None
        self._closed = False

    @property
    def last_event_id(self) -> str | None:
        """The last event id set by the stream, to send back as `Last-Event-ID` on reconnect."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The reconnection time (ms) most recently set by a `retry` field, if any."""
        return self._retry

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Decode one chunk; return the events it completed (often none)."""
        if self._closed:
            raise RuntimeError("SSEDecoder.feed() called after close()")
        if self._skip_leading_lf and chunk:
            self._skip_leading_lf = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
        if not chunk:
            return []
        if b"\r" in chunk:
            lines = _LINE_BREAK.split(chunk)
            self._skip_leading_lf = chunk[-1] == 0x0D
        else:
            # The common case (LF only) takes the much faster C-level split.
            lines = chunk.split(b"\n")
        if len(lines) == 1:
            self._partial.append(chunk)
            return []
        tail = lines.pop()
        if self._partial:
            self._partial.append(lines[0])
            lines[0] = b"".join(self._partial)
            self._partial.clear()
        if self._at_stream_start:
            self._at_stream_start = False
            if lines[0].startswith(_BOM):
                lines[0] = lines[0][len(_BOM) :]
        if tail:
            self._partial.append(tail)
        events: list[SSEEvent] = []
        self._process_lines(lines, events)
        return events

    def close(self) -> list[SSEEvent]:
        """Signal end of stream.

        Every event terminated by an empty line has already been returned by `feed` (a trailing
        CR counts as a terminator at once), so what is left is at most a half-received event.
        Following the spec, it is discarded rather than dispatched: a truncated `data` payload
        would otherwise look like a complete one. The list return keeps `events += close()`
        call sites uniform with `feed`.
        """
        self._closed = True
        self._partial.clear()
        self._data.clear()
        self._event_type = ""
        return []

    def _process_lines(self, lines: list[bytes], events: list[SSEEvent]) -> None:
        # One loop over all complete lines of a chunk: this is the hot path for streams of many
        # small events, so it avoids a method call per line and handles the common fields first.
        data = self._data
        for raw in lines:
            if not raw:
                if data:
                    event_type = self._event_type or "message"
                    joined = "\n".join(data)
                    events.append(SSEEvent(joined, event_type, self._last_event_id, self._retry))
                    data.clear()
                self._event_type = ""
                continue
            colon = raw.find(b":")
            if colon == 0:
                continue  # comment
            if colon < 0:
                field, value = raw, b""
            else:
                field = raw[:colon]
                value = raw[colon + 2 :] if raw[colon + 1 : colon + 2] == b" " else raw[colon + 1 :]
            # Values are decoded per whole line, so a character split across chunks is intact.
            if field == b"data":
                data.append(value.decode("utf-8", "replace"))
            elif field == b"event":
                self._event_type = value.decode("utf-8", "replace")
            else:
                self._other_field(field, value)

    def _other_field(self, field: bytes, value: bytes) -> None:
        if field == b"id":
            if b"\0" not in value:
                self._last_event_id = value.decode("utf-8", "replace")
        elif field == b"retry" and value.isdigit():  # bytes.isdigit is ASCII-only
            self._retry = int(value)


async def aiter_sse(chunks: AsyncIterable[bytes]) -> AsyncGenerator[SSEEvent, None]:
    """Decode an async byte stream (e.g. `response.aiter_bytes()`) into events.

    Accepts any async iterable of bytes; returns an async generator (an `AsyncIterator` that can
    also be `aclose()`d). Closing the underlying HTTP response stays the caller's job, so that it
    happens even when the consumer stops iterating early.
    """
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.close():
        yield event
