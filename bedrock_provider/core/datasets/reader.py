"""Split a binary stream (a local file, an S3 StreamingBody, gzip or not) into JSON Lines.

The stream is read in large chunks and split with ``BytesIO.readlines`` (memchr; ``bytes.split``
scans byte by byte and costs five times as much), so the per-line work left to Python is the least
possible and memory holds one chunk (plus one partial line) whatever the size of the file. Lines
keep their ``\n``: the parsers take it as white space, and the kept records are written back with
a plain join. What real files carry is normalised or reported here, once per chunk rather than per
line: a UTF-8 byte order mark, CRLF line ends, gzip compression (by magic bytes, whatever the name
says), a final line with no newline, a line too long to be a record.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

CHUNK_SIZE = 4 * 1024 * 1024
# Every documented per-record limit is far below this (the largest, Claude 3 Haiku's 32,000 tokens,
# is about 200 KB of text), so a longer line is not a record: usually a whole file on one line.
MAX_LINE_BYTES = 16 * 1024 * 1024
# Decompressed bytes produced per step, so a small highly compressed chunk cannot balloon memory.
_GUNZIP_STEP = CHUNK_SIZE

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
GZIP_MAGIC = b"\x1f\x8b"
# How much of an overlong line is kept to tell why it is overlong (no newline, or CR line ends).
_SAMPLE_BYTES = 64 * 1024


class BinaryReadable(Protocol):
    """Anything with ``read(size)`` returning bytes: a file opened 'rb', an S3 StreamingBody."""

    def read(self, size: int = ..., /) -> bytes: ...


class FileLevelError(Exception):
    """The file as a whole cannot be read as JSON Lines; no record of it can be trusted."""

    def __init__(self, code: str, message: str, line: int = 1):
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


@dataclass
class StreamStats:
    """What the reader saw of one stream, for the report."""

    bytes_read: int = 0
    bytes_decoded: int = 0
    gzip: bool = False
    bom: bool = False
    crlf: bool = False
    ends_without_newline: bool = False
    notes: list[str] = field(default_factory=list)


# A batch is the lines of one chunk. ``kind`` is LINES for ordinary batches; OVERLONG is a single
# line longer than MAX_LINE_BYTES that was skipped (``lines`` is then empty and ``length`` its size).
LINES = 0
OVERLONG = 1


@dataclass
class Batch:
    """Lines split from one chunk, each ending in b"\\n"; ``unterminated`` when the last line of the
    file had none (one is added, so that a record hashes the same wherever it stands)."""

    lines: list[bytes]
    kind: int = LINES
    length: int = 0
    unterminated: bool = False
    has_carriage_returns: bool = False


def _raw_chunks(stream: BinaryReadable, size: int) -> Iterator[bytes]:
    read = stream.read
    while True:
        chunk = read(size)
        if not chunk:
            return
        yield chunk


def _gunzip(chunks: Iterator[bytes], stats: StreamStats) -> Iterator[bytes]:
    """Decompress gzip members one after another (``cat a.gz b.gz`` is valid gzip)."""
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    produced = 0
    in_member = False
    for chunk in chunks:
        stats.bytes_read += len(chunk)
        data = chunk
        while data:
            if not in_member:
                # Some writers pad the end of a gzip file with NUL bytes; a member starts with the
                # gzip magic, never with NUL, so NULs between members are padding.
                data = data.lstrip(b"\x00")
                if not data:
                    break
            in_member = True
            try:
                out = decompressor.decompress(data, _GUNZIP_STEP)
            except zlib.error as exc:
                raise FileLevelError(
                    "gzip",
                    f"the gzip data is corrupt after {produced:,} decompressed bytes ({exc}); re-create or "
                    "re-upload the file",
                ) from exc
            if out:
                produced += len(out)
                yield out
            if decompressor.eof:
                data = decompressor.unused_data
                decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
                in_member = False
            else:
                data = decompressor.unconsumed_tail
    if in_member:
        raise FileLevelError(
            "gzip",
            f"the gzip data ends early, after {produced:,} decompressed bytes: the file is truncated "
            "(an interrupted upload or copy?)",
        )


def _head(chunks: Iterator[bytes], size: int) -> tuple[bytes, Iterator[bytes]]:
    """At least ``size`` bytes from the start (less only at the end of the stream), and the rest.

    A stream may return fewer bytes than asked for, so magic numbers and byte order marks are
    looked for in what several reads gave, not in the first read alone.
    """
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= size:
            break
    return head, chunks


def _decoded_chunks(stream: BinaryReadable, stats: StreamStats, chunk_size: int) -> Iterator[bytes]:
    """Raw or gunzipped chunks, with the encoding of the start of the file checked and a BOM dropped."""
    first, raw = _head(_raw_chunks(stream, chunk_size), len(GZIP_MAGIC))
    if not first:
        return
    if first.startswith(GZIP_MAGIC):
        stats.gzip = True

        def replay() -> Iterator[bytes]:
            yield first
            yield from raw

        chunks: Iterator[bytes] = _gunzip(replay(), stats)
    else:
        stats.bytes_read += len(first)

        def counted() -> Iterator[bytes]:
            yield first
            for chunk in raw:
                stats.bytes_read += len(chunk)
                yield chunk

        chunks = counted()
    head, chunks = _head(chunks, 4)
    if head.startswith(_UTF32_BOMS):
        raise FileLevelError("encoding", "the file is UTF-32 encoded; Bedrock needs UTF-8 JSON Lines")
    if head.startswith(_UTF16_BOMS):
        raise FileLevelError("encoding", "the file is UTF-16 encoded; Bedrock needs UTF-8 JSON Lines")
    if head.startswith(UTF8_BOM):
        stats.bom = True
        stats.notes.append("a UTF-8 byte order mark at the start was dropped")
        head = head[len(UTF8_BOM) :]
    if head:
        stats.bytes_decoded += len(head)
        yield head
    for chunk in chunks:
        stats.bytes_decoded += len(chunk)
        yield chunk


def iter_batches(
    stream: BinaryReadable,
    stats: StreamStats,
    chunk_size: int = CHUNK_SIZE,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[Batch]:
    """Batches of lines (without their line ends) in file order.

    Raises FileLevelError for what makes the whole file unreadable (UTF-16, corrupt gzip).
    """
    rest = b""
    # Pieces of a line longer than a chunk, joined once its end arrives, so a long line costs
    # linear rather than quadratic copying.
    pending: list[bytes] = []
    pending_size = 0
    overlong_size = -1  # >= 0 while skipping a line longer than max_line_bytes
    overlong_cr = False
    saw_crlf = False
    for chunk in _decoded_chunks(stream, stats, chunk_size):
        if overlong_size >= 0:
            first = chunk.find(b"\n")
            if first < 0:
                overlong_size += len(chunk)
                continue
            yield Batch([], OVERLONG, overlong_size + first, has_carriage_returns=overlong_cr)
            overlong_size = -1
            chunk = chunk[first + 1 :]
        if b"\n" not in chunk:
            if chunk:
                pending.append(chunk)
                pending_size += len(chunk)
            if len(rest) + pending_size > max_line_bytes:
                sample = b"".join([rest, *pending])[:_SAMPLE_BYTES]
                overlong_size, overlong_cr = len(rest) + pending_size, b"\r" in sample
                rest, pending, pending_size = b"", [], 0
            continue
        if pending:
            chunk = b"".join([rest, *pending, chunk])
            pending, pending_size, rest = [], 0, b""
        if b"\r" in chunk:
            # A CRLF split across two chunks leaves its CR at the end of ``rest``, joined below.
            if rest.endswith(b"\r") and chunk.startswith(b"\n"):
                rest = rest[:-1]
            saw_crlf = saw_crlf or b"\r\n" in chunk
            chunk = chunk.replace(b"\r\n", b"\n")
        elif rest.endswith(b"\r") and chunk.startswith(b"\n"):
            rest = rest[:-1]
            saw_crlf = True
        lines = io.BytesIO(chunk).readlines()
        if rest:
            lines[0] = rest + lines[0]
        # The last piece is the start of a line that continues in the next chunk.
        rest = b"" if lines[-1].endswith(b"\n") else lines.pop()
        yield Batch(lines)
    if saw_crlf:
        stats.crlf = True
        stats.notes.append("CRLF line ends were read as LF (the output uses LF)")
    if overlong_size >= 0:
        stats.ends_without_newline = True
        yield Batch([], OVERLONG, overlong_size, unterminated=True, has_carriage_returns=overlong_cr)
        return
    if pending:
        rest = b"".join([rest, *pending])
    if rest:
        stats.ends_without_newline = True
        if rest.endswith(b"\r"):
            rest = rest[:-1]
        if len(rest) > max_line_bytes:
            yield Batch(
                [], OVERLONG, len(rest), unterminated=True, has_carriage_returns=b"\r" in rest[:_SAMPLE_BYTES]
            )
        else:
            yield Batch([rest + b"\n"], unterminated=True)
