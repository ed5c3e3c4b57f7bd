"""Tests of the incremental SSE decoder against the WHATWG event-stream rules."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from pycodex.client.sse import SSEDecoder, SSEEvent, aiter_sse


def decode_all(*chunks: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.close()


def bytewise(stream: bytes) -> list[bytes]:
    return [stream[i : i + 1] for i in range(len(stream))]


def test_single_event_with_type() -> None:
    assert decode_all(b"event: response.created\ndata: {}\n\n") == [
        SSEEvent(data="{}", event="response.created")
    ]


def test_default_event_type_is_message() -> None:
    assert decode_all(b"data: hi\n\n") == [SSEEvent(data="hi", event="message")]


def test_empty_event_field_means_message() -> None:
    assert decode_all(b"event:\ndata: x\n\n") == [SSEEvent(data="x", event="message")]


def test_event_type_does_not_leak_into_next_event() -> None:
    events = decode_all(b"event: a\ndata: 1\n\ndata: 2\n\n")
    assert [e.event for e in events] == ["a", "message"]


@pytest.mark.parametrize("terminator", [b"\n", b"\r", b"\r\n"])
def test_every_line_terminator(terminator: bytes) -> None:
    stream = terminator.join([b"event: e", b"data: a", b"data: b", b"", b"data: c", b"", b""])
    assert decode_all(stream) == [SSEEvent(data="a\nb", event="e"), SSEEvent(data="c")]


def test_mixed_terminators_in_one_stream() -> None:
    assert decode_all(b"data: a\r\ndata: b\rdata: c\n\r\n") == [SSEEvent(data="a\nb\nc")]


def test_crlf_split_across_chunks_is_one_terminator() -> None:
    # If the LF after a chunk-final CR counted as its own line, "data: 1" would be dispatched
    # early and "data: 2" would become a separate event.
    events = decode_all(b"data: 1\r", b"\ndata: 2\r", b"\n\r", b"\n")
    assert events == [SSEEvent(data="1\n2")]


def test_cr_at_chunk_end_followed_by_non_lf() -> None:
    assert decode_all(b"data: 1\r", b"\r") == [SSEEvent(data="1")]


def test_cr_then_empty_chunk_then_lf() -> None:
    assert decode_all(b"data: 1\r", b"", b"\n", b"\n") == [SSEEvent(data="1")]


def test_every_split_point_gives_same_events() -> None:
    stream = "event: t\r\ndata: é€😀\r\n: note\r\nid: 7\r\n\r\ndata: z\rretry: 5\r\r".encode()
    expected = decode_all(stream)
    assert expected == [
        SSEEvent(data="é€😀", event="t", id="7"),
        SSEEvent(data="z", id="7", retry=5),
    ]
    for cut in range(len(stream) + 1):
        assert decode_all(stream[:cut], stream[cut:]) == expected, cut
    assert decode_all(*bytewise(stream)) == expected


def test_comment_lines_are_ignored() -> None:
    assert decode_all(b": keep-alive\n\n:\ndata: x\n: mid\n\n") == [SSEEvent(data="x")]


def test_field_without_colon_has_empty_value() -> None:
    # A bare "data" line appends an empty line to the data buffer.
    assert decode_all(b"data\ndata\n\n") == [SSEEvent(data="\n")]
    assert decode_all(b"data\n\n") == [SSEEvent(data="")]


def test_only_one_leading_space_is_stripped() -> None:
    assert decode_all(b"data:  two\n\ndata:none\n\n") == [
        SSEEvent(data=" two"),
        SSEEvent(data="none"),
    ]


def test_value_keeps_later_colons() -> None:
    assert decode_all(b'data: {"a": "b:c"}\n\n') == [SSEEvent(data='{"a": "b:c"}')]


def test_multiline_data_joined_with_newline() -> None:
    assert decode_all(b"data: one\ndata: two\ndata: three\n\n") == [
        SSEEvent(data="one\ntwo\nthree")
    ]


def test_block_without_data_dispatches_nothing() -> None:
    assert decode_all(b"event: x\n\nid: 1\n\n\n\n") == []


def test_unknown_fields_are_ignored() -> None:
    assert decode_all(b"foo: bar\ndata: x\nData: y\n\n") == [SSEEvent(data="x")]


def test_id_persists_and_nul_ids_are_ignored() -> None:
    events = decode_all(b"id: 1\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\nid\ndata: d\n\n")
    assert [e.id for e in events] == ["1", "1", "1", ""]


def test_retry_requires_ascii_digits() -> None:
    decoder = SSEDecoder()
    events = decoder.feed("retry: 10x\nretry: ²\nretry: 250\n\ndata: a\n\n".encode())
    assert events == [SSEEvent(data="a", retry=250)]
    assert decoder.retry == 250
    assert decoder.last_event_id is None


def test_utf8_split_across_chunks() -> None:
    payload = "data: héllo 😀 wörld\n\n".encode()
    assert decode_all(*bytewise(payload)) == [SSEEvent(data="héllo 😀 wörld")]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert decode_all(b"data: a\xffb\n\n") == [SSEEvent(data="a\ufffdb")]


def test_bom_at_stream_start_is_stripped() -> None:
    assert decode_all(b"\xef\xbb\xbfdata: x\n\n") == [SSEEvent(data="x")]


def test_bom_split_across_chunks_is_stripped() -> None:
    assert decode_all(b"\xef", b"\xbb", b"\xbfevent: e\ndata: x\n\n") == [
        SSEEvent(data="x", event="e")
    ]


def test_bom_only_stripped_once() -> None:
    # A second BOM is part of the first line's field name, which then matches nothing.
    assert decode_all(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n") == [SSEEvent(data="y")]


def test_bom_later_in_stream_is_kept() -> None:
    assert decode_all(b"data: a\n\n\xef\xbb\xbfdata: b\n\n") == [SSEEvent(data="a")]


def test_half_event_at_eof_is_discarded() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: done\n\ndata: half") == [SSEEvent(data="done")]
    assert decoder.close() == []


def test_event_without_blank_line_at_eof_is_discarded() -> None:
    assert decode_all(b"data: a\n\ndata: b\n") == [SSEEvent(data="a")]


def test_trailing_cr_completes_event_before_close() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [SSEEvent(data="a")]
    assert decoder.close() == []


def test_feed_after_close_is_an_error() -> None:
    decoder = SSEDecoder()
    decoder.close()
    with pytest.raises(RuntimeError):
        decoder.feed(b"data: x\n\n")


def test_one_megabyte_event_in_4k_chunks() -> None:
    payload = "x" * (1024 * 1024 - 7) + "é€😀"
    stream = b"event: big\ndata: " + payload.encode() + b"\n\n"
    chunks = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]
    assert decode_all(*chunks) == [SSEEvent(data=payload, event="big")]


def test_hundred_thousand_small_events() -> None:
    frames = []
    for i in range(100_000):
        body = json.dumps({"type": "response.output_text.delta", "delta": f"t{i}"})
        frames.append(f"event: response.output_text.delta\ndata: {body}\n\n")
    stream = "".join(frames).encode()
    # An odd chunk size so frame boundaries land everywhere inside chunks.
    events = decode_all(*(stream[i : i + 4093] for i in range(0, len(stream), 4093)))
    assert len(events) == 100_000
    assert json.loads(events[0].data)["delta"] == "t0"
    assert json.loads(events[-1].data)["delta"] == "t99999"
    assert all(e.event == "response.output_text.delta" for e in events)


async def test_aiter_sse_decodes_an_async_stream() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for piece in (b"data: 1\r", b"\n\r\ndata: ", b"2\n\ndata: half"):
            yield piece

    assert [e async for e in aiter_sse(chunks())] == [SSEEvent(data="1"), SSEEvent(data="2")]
