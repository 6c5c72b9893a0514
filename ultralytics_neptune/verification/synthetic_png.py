"""Deterministic PNG images for replays: small on disk, and bytes that depend on no installed library.

The picture is diagonal bands: pixel (x, y, channel) = (3x + 5y + 85 channel + seed) mod 256. PNG's Sub filter
makes its first row constant after the first pixel and the Up filter makes every other row constant, so DEFLATE
with fixed Huffman codes and back-references (distance 1, or one row) packs a 2400x1200 image in a few kilobytes.
The encoder is written here, not taken from zlib, so the bytes (and their digests in golden traces) are the same
on every machine.
"""

from __future__ import annotations

import struct
import zlib
from bisect import bisect_right

LENGTH_BASES = (3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
                195, 227, 258)  # fmt: skip
LENGTH_EXTRA_BITS = (0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0)
DISTANCE_BASES = (1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
                  3073, 4097, 6145, 8193, 12289, 16385, 24577)  # fmt: skip
DISTANCE_EXTRA_BITS = (0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13)
MAX_MATCH, MAX_DISTANCE = 258, 32768
PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}


class _BitWriter:
    """DEFLATE's bit order: values least significant bit first (Huffman codes come pre-reversed)."""

    def __init__(self):
        self.out = bytearray()
        self.buffer = 0
        self.count = 0

    def bits(self, value: int, count: int) -> None:
        self.buffer |= value << self.count
        self.count += count
        while self.count >= 8:
            self.out.append(self.buffer & 0xFF)
            self.buffer >>= 8
            self.count -= 8

    def finish(self) -> bytes:
        if self.count:
            self.out.append(self.buffer & 0xFF)
        return bytes(self.out)


def _reversed(code: int, length: int) -> tuple:
    return int(format(code, f"0{length}b")[::-1], 2), length


def _literal_code(symbol: int) -> tuple:
    """The fixed Huffman code of a literal/length symbol (RFC 1951, 3.2.6), ready to write."""
    if symbol < 144:
        return _reversed(0x30 + symbol, 8)
    if symbol < 256:
        return _reversed(0x190 + symbol - 144, 9)
    if symbol < 280:
        return _reversed(symbol - 256, 7)
    return _reversed(0xC0 + symbol - 280, 8)


LITERAL_CODES = [_literal_code(symbol) for symbol in range(288)]
DISTANCE_CODES = [_reversed(index, 5) for index in range(30)]


def _match_length(data: bytes, position: int, distance: int) -> int:
    limit = min(MAX_MATCH, len(data) - position)
    if data[position : position + limit] == data[position - distance : position - distance + limit]:
        return limit
    length = 0
    while length < limit and data[position + length] == data[position - distance + length]:
        length += 1
    return length


def _match_bits(length: int, distance: int) -> tuple:
    """One back-reference as a single (value, bit count) pair."""
    index = bisect_right(LENGTH_BASES, length) - 1
    value, count = LITERAL_CODES[257 + index]
    pieces = [(value, count), (length - LENGTH_BASES[index], LENGTH_EXTRA_BITS[index])]
    index = bisect_right(DISTANCE_BASES, distance) - 1
    pieces += [DISTANCE_CODES[index], (distance - DISTANCE_BASES[index], DISTANCE_EXTRA_BITS[index])]
    value, count = 0, 0
    for piece_value, piece_count in pieces:
        value |= piece_value << count
        count += piece_count
    return value, count


def deflate_fixed(data: bytes, distances: tuple) -> bytes:
    """One final DEFLATE block with fixed codes; back-references are tried only at the given distances."""
    writer = _BitWriter()
    writer.bits(0b011, 3)  # final block, fixed Huffman codes
    matches: dict = {}
    position, size = 0, len(data)
    while position < size:
        length, distance = 0, 0
        for candidate in distances:
            if 0 < candidate <= min(position, MAX_DISTANCE):
                found = _match_length(data, position, candidate)
                if found > length:
                    length, distance = found, candidate
        if length >= 3:
            if (length, distance) not in matches:
                matches[length, distance] = _match_bits(length, distance)
            writer.bits(*matches[length, distance])
            position += length
        else:
            writer.bits(*LITERAL_CODES[data[position]])
            position += 1
    writer.bits(*LITERAL_CODES[256])  # end of block
    return writer.finish()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def band_pixel(x: int, y: int, channel: int, seed: int) -> int:
    """The value of one pixel of the picture."""
    return (3 * x + 5 * y + 85 * channel + seed) % 256


def banded_png(width: int, height: int, channels: int, seed: int) -> bytes:
    """A PNG of the banded picture, 8 bits per channel (1: grey, 2: grey+alpha, 3: RGB, 4: RGBA)."""
    first_pixel = bytes(band_pixel(0, 0, channel, seed) for channel in range(channels))
    first_row = b"\x01" + first_pixel + b"\x03" * (channels * (width - 1))  # Sub: each byte is 3 past its left
    other_row = b"\x02" + b"\x05" * (channels * width)  # Up: each byte is 5 past the one above
    raw = first_row + other_row * (height - 1)
    stream = b"\x78\x01" + deflate_fixed(raw, (1, len(first_row))) + struct.pack(">I", zlib.adler32(raw))
    header = struct.pack(">IIBBBBB", width, height, 8, PNG_COLOR_TYPES[channels], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")
