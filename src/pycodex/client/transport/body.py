"""Content codings of a response body, decoded piece by piece as the body arrives.

The client asks for `Accept-Encoding: identity`, but some servers and proxies compress anyway.
`gzip` (and `x-gzip`) and `deflate` are decoded; `identity` is nothing to do. Any other coding
(br, zstd, ...) is left as it is: `unsupported_codings` names it, so a caller that needs the text
can fail with a clear message instead of parsing compressed bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pycodex.client.transport.errors import RemoteProtocolError
from pycodex.client.transport.http11 import Headers

if TYPE_CHECKING:
    from zlib import _Decompress

DECODED = frozenset({"gzip", "x-gzip", "deflate", "identity"})


def content_codings(headers: Headers) -> list[str]:
    """The codings of `Content-Encoding`, in the order they were applied, lower-cased."""
    return [
        part.strip().lower()
        for value in headers.get_list("content-encoding")
        for part in value.split(",")
        if part.strip()
    ]


def unsupported_codings(headers: Headers) -> list[str]:
    return [coding for coding in content_codings(headers) if coding not in DECODED]


class BodyDecoder:
    """Undoes the gzip / deflate codings of one body, in reverse order of application."""

    def __init__(self, codings: list[str], peer: str) -> None:
        self._peer = peer
        self._codings = [coding for coding in reversed(codings) if coding != "identity"]
        self._stages = [_decompressor(coding) for coding in self._codings]
        self._fed = [False] * len(self._stages)

    def decode(self, data: bytes) -> bytes:
        for index, stage in enumerate(self._stages):
            data = self._run(index, stage, data)
        return data

    def flush(self) -> bytes:
        data = b""
        for index, stage in enumerate(self._stages):
            if data:
                data = self._run(index, stage, data)
            data += stage.flush()
        return data

    def _run(self, index: int, stage: _Decompress, data: bytes) -> bytes:
        import zlib

        first, self._fed[index] = not self._fed[index], True
        try:
            return stage.decompress(data)
        except zlib.error as err:
            coding = self._codings[index]
            if coding == "deflate" and first:
                # "deflate" should be zlib-wrapped, but some servers send a raw stream.
                raw = zlib.decompressobj(-zlib.MAX_WBITS)
                try:
                    out = raw.decompress(data)
                except zlib.error:
                    pass
                else:
                    self._stages[index] = raw
                    return out
            raise RemoteProtocolError(f"{self._peer} sent a corrupt {coding} body: {err}") from None


def body_decoder(headers: Headers, peer: str) -> BodyDecoder | None:
    """A decoder for this response's gzip / deflate codings; None when there is none to undo
    (no coding, identity, or only codings the client does not decode)."""
    codings = content_codings(headers)
    if not codings or any(coding not in DECODED for coding in codings):
        return None
    if all(coding == "identity" for coding in codings):
        return None
    return BodyDecoder(codings, peer)


def _decompressor(coding: str) -> _Decompress:
    import zlib  # only a compressed body needs it

    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    return zlib.decompressobj(zlib.MAX_WBITS)
