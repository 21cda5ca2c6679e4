"""Reading and writing the versioned nczip container (byte layout: ``formats/SPEC.md``).

The container is written strictly front to back, so it can go to a pipe: a header, one frame per
chunk, and a trailer. Every length read back is treated as untrusted and checked against the
bounds in the header before anything is allocated.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from .errors import FormatError, TruncatedError

MAGIC = b"\x89NCZ"
FORMAT_VERSION = 1
MAX_CHUNK_SIZE = 1 << 28  # 256 MiB: bounds every allocation a container can ask for

METHOD_STORED = 0
METHOD_ZSTD = 1
METHOD_NEURAL = 2  # the configuration's byte predictor
METHOD_LLM = 3  # LLM tokens with raw byte spans
METHOD_TOKENS = 4  # compact token ranks under the online models, with raw byte spans
METHOD_CM = 5  # bytes under the context-mixing core (config "cm")


_TAG_CHUNK = 0x43  # 'C'
_TAG_END = 0x45  # 'E'
_HEAD = struct.Struct("<4sBBIB")  # magic, version, flags, chunk_size, level
_FRAME = struct.Struct("<BBIII")  # tag, method, original length, coded length, crc32(original)
_TRAILER = struct.Struct("<BQI32s")  # tag, total length, chunk count, sha256(original)
_U16 = struct.Struct("<H")
FLAG_DEFLATED_METADATA = 0x01  # configuration and model identity are raw-deflate streams
FLAG_PRESET_DICTIONARY = 0x02  # ... deflated against preset dictionary 1
FLAG_PRESET_DICTIONARY_2 = 0x04  # ... deflated against preset dictionary 2
FLAG_PRESET_DICTIONARY_3 = 0x08  # ... deflated against preset dictionary 3 (what new files use)
_PRESETS = FLAG_PRESET_DICTIONARY | FLAG_PRESET_DICTIONARY_2 | FLAG_PRESET_DICTIONARY_3
_KNOWN_FLAGS = FLAG_DEFLATED_METADATA | _PRESETS
# The preset dictionaries for the metadata: the canonical JSON of a version's level
# configurations and model identities. With one a level's configuration deflates to ~7 bytes
# instead of ~275, so a header is ~50 bytes instead of ~480 (what a small file pays). Frozen: files
# depend on their exact bytes (checked below); a different dictionary needs a new flag bit.
# Dictionary 2 (formats/make_dictionary.py) holds the model names and backend identity format of
# the portable kernels; dictionary 1 the earlier ones; dictionary 3 is dictionary 2 plus the
# context-mixing levels' configurations (cm/1).
_DICTIONARIES = {
    FLAG_PRESET_DICTIONARY: ("metadata-dictionary-1.txt",
                             "b0856d7391faa51b953ad2975ffc2d112a1dea30c1c923e2590800db4113c64a"),
    FLAG_PRESET_DICTIONARY_2: ("metadata-dictionary-2.txt",
                               "78f9a8933ec36323ab3847ee6f23ada063edfdf27514dc505bcf3a0a6657fb22"),
    FLAG_PRESET_DICTIONARY_3: ("metadata-dictionary-3.txt",
                               "be6fe4f8a043dff5bb6c6f070c9394fbec2396a65af697500b8221f5b0dfa929"),
}
_MAX_METADATA = 1 << 16
_U32 = struct.Struct("<I")


def _canonical_json(obj: dict[str, Any] | None) -> bytes:
    if not obj:
        return b""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


@lru_cache(maxsize=3)
def _dictionary(flag: int) -> bytes:
    name, sha256 = _DICTIONARIES[flag]
    path = Path(__file__).with_name(name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"nczip's metadata dictionary is missing ({path}: {exc.strerror})") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise FormatError(f"nczip's metadata dictionary {path} is damaged (sha256 mismatch)")
    return data


def _deflate(raw: bytes) -> bytes:
    if not raw:
        return b""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=_dictionary(FLAG_PRESET_DICTIONARY_3))
    return packer.compress(raw) + packer.flush()


def _inflate(packed: bytes, what: str, preset: int) -> bytes:
    """Inflate with the preset dictionary of flag bit ``preset`` (0: none)."""
    if not packed:
        return b""
    unpacker = zlib.decompressobj(-15, zdict=_dictionary(preset)) if preset else zlib.decompressobj(-15)
    try:
        raw = unpacker.decompress(packed, _MAX_METADATA)
    except zlib.error:
        raise FormatError(f"corrupt {what}") from None
    if unpacker.unconsumed_tail or not unpacker.eof:
        raise FormatError(f"corrupt {what}")
    return raw


@dataclass
class Header:
    """What a decoder needs before the first chunk: how it was coded and with which model."""

    level: int
    chunk_size: int
    config: dict[str, Any]
    model: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    def to_bytes(self) -> bytes:
        if not 1 <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError(f"chunk size must be between 1 and {MAX_CHUNK_SIZE}")
        config = _deflate(_canonical_json(self.config))
        model = _deflate(_canonical_json(self.model))
        flags = FLAG_DEFLATED_METADATA | FLAG_PRESET_DICTIONARY_3
        body = (_HEAD.pack(MAGIC, self.version, flags, self.chunk_size, self.level)
                + _U16.pack(len(config)) + config + _U16.pack(len(model)) + model)
        return body + _U32.pack(zlib.crc32(body))


@dataclass
class ChunkFrame:
    """One chunk: how it was coded, its original length and checksum, and its payload."""

    method: int
    original_length: int
    crc32: int
    payload: bytes

    def to_bytes(self) -> bytes:
        head = _FRAME.pack(_TAG_CHUNK, self.method, self.original_length, len(self.payload), self.crc32)
        return head + _U32.pack(zlib.crc32(head)) + self.payload


@dataclass
class Trailer:
    """Closes a container: total length, chunk count and SHA-256 of the whole original."""

    total_length: int
    chunk_count: int
    sha256: bytes

    def to_bytes(self) -> bytes:
        body = _TRAILER.pack(_TAG_END, self.total_length, self.chunk_count, self.sha256)
        return body + _U32.pack(zlib.crc32(body))


def _read_exact(src: BinaryIO, n: int, what: str) -> bytes:
    data = src.read(n)
    if data is None or len(data) != n:
        raise TruncatedError(f"truncated file (unexpected end in {what})")
    return data


def _check_crc(body: bytes, src: BinaryIO, what: str) -> None:
    (stored,) = _U32.unpack(_read_exact(src, 4, what))
    if stored != zlib.crc32(body):
        raise FormatError(f"corrupt {what} (checksum mismatch)")


def _parse_json(raw: bytes, what: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: JSON nested too deeply
        raise FormatError(f"corrupt {what}") from None
    if not isinstance(value, dict):
        raise FormatError(f"corrupt {what}")
    return value


def read_header(src: BinaryIO, first: bytes = b"") -> Header:
    """Read and check a header; ``first`` holds bytes of it already consumed by the caller."""
    head = first
    if len(head) < _HEAD.size:
        rest = src.read(_HEAD.size - len(head)) or b""
        head += rest
        if len(head) < _HEAD.size:  # a short input is foreign unless it starts like nczip
            n = min(len(head), len(MAGIC))
            if head[:n] != MAGIC[:n]:
                raise FormatError("not in nczip format")
            raise TruncatedError("truncated file (unexpected end in header)")
    if head[:4] != MAGIC:
        raise FormatError("not in nczip format")
    magic, version, flags, chunk_size, level = _HEAD.unpack(head)
    if version != FORMAT_VERSION:
        raise FormatError(f"unsupported format version {version} (this nczip reads version {FORMAT_VERSION};"
                          " a newer nczip may read it)")
    config_raw = _read_exact(src, _U16.unpack(_read_exact(src, 2, "header"))[0], "header")
    model_raw = _read_exact(src, _U16.unpack(_read_exact(src, 2, "header"))[0], "header")
    body = head + _U16.pack(len(config_raw)) + config_raw + _U16.pack(len(model_raw)) + model_raw
    _check_crc(body, src, "header")
    presets = flags & _PRESETS
    if (flags & ~_KNOWN_FLAGS or (presets and not flags & FLAG_DEFLATED_METADATA)
            or presets & (presets - 1)):  # at most one dictionary
        raise FormatError(f"unsupported header flags {flags:#x}")
    if flags & FLAG_DEFLATED_METADATA:
        preset = presets
        config_raw = _inflate(config_raw, "header", preset)
        model_raw = _inflate(model_raw, "header", preset)
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise FormatError(f"corrupt header (chunk size {chunk_size})")
    return Header(level=level, chunk_size=chunk_size, config=_parse_json(config_raw, "header"),
                  model=_parse_json(model_raw, "header"), version=version)


def read_frames(src: BinaryIO, header: Header) -> Iterator[ChunkFrame | Trailer]:
    """Yield each chunk frame, then the trailer; every length is checked before it is read."""
    count = 0
    while True:
        tag = _read_exact(src, 1, "frame")
        if tag[0] == _TAG_END:
            body = tag + _read_exact(src, _TRAILER.size - 1, "trailer")
            _check_crc(body, src, "trailer")
            _, total, chunks, digest = _TRAILER.unpack(body)
            if chunks != count:
                raise FormatError(f"corrupt trailer ({chunks} chunks announced, {count} found)")
            yield Trailer(total, chunks, digest)
            return
        if tag[0] != _TAG_CHUNK:
            raise FormatError(f"corrupt frame {count} (unknown tag {tag[0]:#x})")
        head = tag + _read_exact(src, _FRAME.size - 1, f"frame {count}")
        _check_crc(head, src, f"frame {count} header")
        _, method, original, coded, crc = _FRAME.unpack(head)
        # the method is checked by the decoder against nczip.methods (unknown ones refused there)
        if original > header.chunk_size or coded > max(original, 1) or original == 0:
            raise FormatError(f"corrupt frame {count} (lengths {original}/{coded})")
        if method == METHOD_STORED and coded != original:
            raise FormatError(f"corrupt frame {count} (stored length mismatch)")
        payload = _read_exact(src, coded, f"frame {count} payload")
        yield ChunkFrame(method, original, crc, payload)
        count += 1


_FRAME_HEAD_SIZE = _FRAME.size + 4  # with its CRC
_TRAILER_SIZE = _TRAILER.size + 4


def header_length(buffer: bytes | bytearray) -> int | None:
    """Bytes the header at the start of ``buffer`` takes, or None until enough of it is there to
    tell (for a parser fed bytes as they come: nczip.session)."""
    n = min(len(buffer), len(MAGIC))
    if buffer[:n] != MAGIC[:n]:
        return len(buffer)  # foreign: let the parser say so now
    if len(buffer) < _HEAD.size:
        return None
    if buffer[4] != FORMAT_VERSION:
        return _HEAD.size  # refused by name before its (unknown) layout is read
    at = _HEAD.size
    for _ in range(2):  # the configuration's and the model identity's lengths
        if len(buffer) < at + 2:
            return None
        at += 2 + _U16.unpack(buffer[at:at + 2])[0]
    return at + 4


def frame_length(buffer: bytes | bytearray, chunk_size: int) -> int | None:
    """Bytes the next frame or trailer takes, or None until enough of it is there to tell.

    A frame whose head is corrupt gets the length of its head only, so the parser reads the head
    and refuses it at once instead of waiting for a payload length that cannot be trusted.
    """
    if not buffer:
        return None
    if buffer[0] == _TAG_END:
        return _TRAILER_SIZE
    if buffer[0] != _TAG_CHUNK:
        return 1
    if len(buffer) < _FRAME_HEAD_SIZE:
        return None
    head = bytes(buffer[:_FRAME_HEAD_SIZE - 4])
    (crc,) = _U32.unpack(buffer[_FRAME_HEAD_SIZE - 4:_FRAME_HEAD_SIZE])
    _, _, original, coded, _ = _FRAME.unpack(head)
    if crc != zlib.crc32(head) or original > chunk_size or coded > max(original, 1):
        return _FRAME_HEAD_SIZE
    return _FRAME_HEAD_SIZE + coded
