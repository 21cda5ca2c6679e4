"""Streaming compression and decompression between binary file objects.

Input is read one chunk at a time and chunks are coded by :mod:`nczip.parallel`, so memory stays
bounded by chunk size x workers. The container goes out front to back (pipes work). Decoding checks
each chunk's CRC32 and the trailer's length and SHA-256 before reporting success; the caller
decides what to do with output already written (the CLI writes to a temporary file).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterator

from . import backend
from .cluster import connect
from .config import CodecConfig
from .errors import NczError
from .llama_build import llm_missing
from .container import Header, Trailer
from .options import EncodeOptions
from . import methods
from .methods.base import Runtime
from .methods.policy import EncodedChunk, encode_chunk
from .models import default_model, from_path
from .parallel import ordered_map, resolve_workers
from .progress import ProgressLine
from .session import DecodeSession, decoded, next_member, pull, runtime_for, start


@dataclass
class Summary:
    """Figures about one run, for ``-v``, ``info`` and the bench."""

    original_bytes: int = 0
    compressed_bytes: int = 0
    chunks: int = 0
    methods: Counter = field(default_factory=Counter)
    ideal_bits: float = 0.0  # model's ideal code length over the chunks it coded
    neural_bytes: int = 0  # what those chunks' neural payloads actually took
    symbols: int = 0
    tokens: int = 0  # tokens coded (LLM or fast levels)
    load_seconds: float = 0.0  # LLM loading, summed over workers
    seconds: float = 0.0
    headers: list[Header] = field(default_factory=list)
    padding_bytes: int = 0  # zero bytes after a container, skipped when decoding (as gzip does)

    @property
    def bits_per_byte(self) -> float:
        return 8.0 * self.compressed_bytes / self.original_bytes if self.original_bytes else 0.0

    @property
    def coder_overhead_percent(self) -> float | None:
        """Actual neural payload bits over the model's ideal -sum log2 q, in percent."""
        if not self.ideal_bits:
            return None
        return 100.0 * (8.0 * self.neural_bytes / self.ideal_bits - 1.0)


class _CountingReader:
    """Counts the bytes read through it, so sizes are known for pipes as well as files."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data


def read_chunks(src: BinaryIO, size: int) -> Iterator[bytes]:
    """Yield successive blocks of exactly ``size`` bytes (the last may be shorter)."""
    while True:
        parts, got = [], 0
        while got < size:
            part = src.read(size - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
        if not got:
            return
        yield b"".join(parts)
        if got < size:
            return


class _EncodeJob:
    """Picklable worker state: the configuration and runtime every chunk of a container shares."""

    def __init__(self, config: CodecConfig, runtime: Runtime, progress: Callable[[int], None] | None = None) -> None:
        self.config = config
        self.runtime = runtime
        self.progress = progress

    def __call__(self, data: bytes) -> EncodedChunk:
        return encode_chunk(data, self.config, self.progress, self.runtime)


@dataclass
class EncodePlan:
    """Everything fixed before the first chunk is coded: shared by :func:`compress_stream` and the
    incremental :class:`nczip.api.Compressor`, so both write the same header for the same options."""

    header: Header
    workers: int
    job: _EncodeJob
    cluster: str | None = None


def plan_encoding(options: EncodeOptions, progress: Callable[[int], None] | None = None) -> EncodePlan:
    """The header, worker count and chunk coder for resolved options (the model file, for a
    token level, is found here: the header names it by SHA-256)."""
    identity: dict[str, Any] = {}
    missing = llm_missing() if options.config.uses_llm else None
    if missing:  # said before any work, in one line (the extra is optional)
        raise NczError(missing)
    if options.config.token_level:  # the context-mixing levels need no model file: the header names none
        model = from_path(options.model_path) if options.model_path else default_model()
        device = "cpu"
        if options.config.uses_llm:
            from .predictors.llm import resolve_device

            device = resolve_device(options.device)
        identity = {**model.identity(), "backend": backend.identity(options.config, device)}
    header = Header(level=options.level, chunk_size=options.chunk_size, config=options.raw_config, model=identity)
    workers = resolve_workers(options.threads)
    runtime = runtime_for(identity, workers, options.model_path, bool(options.cluster))
    local = workers == 1 and not options.cluster
    return EncodePlan(header, workers, _EncodeJob(options.config, runtime, progress if local else None),
                      options.cluster)


def compress_stream(src: BinaryIO, dst: BinaryIO, options: EncodeOptions,
                    progress: ProgressLine | None = None) -> Summary:
    """Compress everything readable from ``src`` into one container written to ``dst``."""
    started = time.monotonic()
    plan = plan_encoding(options, progress.partial if progress else None)
    if plan.cluster:
        connect(plan.cluster)  # a cluster that is not there is refused before anything is written
    header, workers, job = plan.header, plan.workers, plan.job
    head = header.to_bytes()
    dst.write(head)
    summary = Summary(compressed_bytes=len(head), headers=[header])
    digest = hashlib.sha256()

    def counted(blocks: Iterator[bytes]) -> Iterator[bytes]:
        for block in blocks:
            digest.update(block)
            yield block
            del block

    for chunk in ordered_map(job, counted(read_chunks(src, header.chunk_size)), workers, plan.cluster):
        raw = chunk.frame.to_bytes()
        dst.write(raw)
        summary.compressed_bytes += len(raw)
        summary.original_bytes += chunk.frame.original_length
        summary.chunks += 1
        summary.methods[methods.NAMES[chunk.frame.method]] += 1
        summary.ideal_bits += chunk.stats.ideal_bits
        summary.neural_bytes += chunk.neural_bytes
        summary.symbols += chunk.stats.symbols
        summary.tokens += chunk.tokens
        summary.load_seconds += chunk.load_seconds
        if progress:
            progress.advance(chunk.frame.original_length)
        del chunk, raw  # not held while the next chunk is read and coded (docs/memory.md)
    trailer = Trailer(summary.original_bytes, summary.chunks, digest.digest()).to_bytes()
    dst.write(trailer)
    summary.compressed_bytes += len(trailer)
    summary.seconds = time.monotonic() - started
    return summary


def _members(reader: _CountingReader, workers: int = 1, model_path: str | None = None, scan: bool = False,
             progress: Callable[[int], None] | None = None, padding: Callable[[int], None] | None = None,
             cluster: str | None = None) -> Iterator[DecodeSession]:
    """A session for each container in turn, its header read: a file may hold several
    concatenated containers (a member's leftover bytes start the next). After the first, zero
    bytes before a member or at the end are padding (tape blocks, preallocated files) and are
    skipped, as :mod:`gzip` does (``padding(count)`` is told); anything else that is not a
    container is refused naming its offset (:class:`TrailingDataError`)."""
    leftover = b""
    first = True
    while True:
        if not leftover:
            leftover = reader.read(1 << 16)
            if not leftover and reader.count:
                return
        if not first:
            leftover = next_member(leftover, lambda: reader.read(1 << 16), lambda: reader.count, padding)
            if not leftover:
                return
        first = False
        session = DecodeSession(workers, model_path, scan, progress, cluster)
        session.feed(leftover)
        start(session, reader.read)
        yield session
        leftover = session.unused()


def decompress_stream(src: BinaryIO, dst: BinaryIO | None, threads: int = 1,
                      progress: ProgressLine | None = None, model_path: str | None = None,
                      cluster: str | None = None) -> Summary:
    """Decode every container in ``src`` (concatenated ones too) to ``dst``; ``None`` only verifies.

    A container coded with a model needs that exact model (found by SHA-256, or ``model_path``).
    ``cluster``: a Ray address whose workers decode the chunks (:mod:`nczip.cluster`).
    """
    started = time.monotonic()
    workers = resolve_workers(threads)
    if cluster:
        connect(cluster)
    summary = Summary()
    reader = _CountingReader(src)
    def padded(count: int) -> None:
        summary.padding_bytes += count

    for session in _members(reader, workers, model_path, progress=progress.partial if progress else None,
                            padding=padded, cluster=cluster):
        assert session.header is not None and session.job is not None
        summary.headers.append(session.header)
        for data in decoded(session, pull(session, reader.read), workers, progress.advance if progress else None,
                            cluster):
            if dst is not None:
                dst.write(data)
            del data
        session.finish()
        summary.chunks += session.index
        summary.original_bytes += session.length
    summary.compressed_bytes = reader.count
    summary.seconds = time.monotonic() - started
    return summary


def scan_container(src: BinaryIO) -> Summary:
    """Read a container's structure without decoding payloads (for ``nczip info`` and ``-l``)."""
    summary = Summary()
    reader = _CountingReader(src)

    def padded(count: int) -> None:
        summary.padding_bytes += count

    for session in _members(reader, scan=True, padding=padded):
        assert session.header is not None
        summary.headers.append(session.header)
        for _, frame in pull(session, reader.read):
            summary.chunks += 1
            summary.methods[methods.NAMES[frame.method]] += 1
        assert session.trailer is not None
        summary.original_bytes += session.trailer.total_length
    summary.compressed_bytes = reader.count
    return summary
