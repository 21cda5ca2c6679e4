"""The one decoder: a container's bytes, pushed in as they come, out as checked frames.

Every way to read a container goes through :class:`DecodeSession`: :func:`nczip.stream.decompress_stream`
(the command line, :func:`nczip.decompress`), :class:`nczip.Decompressor` (and through it the file
object) and the structure scan of ``nczip info`` / ``-l`` (:func:`nczip.stream.scan_container`). A session checks, in
order and each in this module only:

1. the header (magic, version, lengths, CRC: :mod:`nczip.container`), its configuration
   (:func:`nczip.config.parse`) and its model identity;
2. each frame as it is read, before any work: its method is one this nczip knows and the
   configuration writes, and its lengths are within the method's bound (:mod:`nczip.methods`);
3. at the first frame whose method needs the model file: the backend the file was coded with
   against this build, and the model file itself (found by SHA-256) — not at the header, because a
   file whose chunks all went to the core, zstd or storage needs neither;
4. the trailer: total length and SHA-256 of everything the caller decoded and accounted.

The session only parses and checks; its users decode the frames (in worker processes, with
:attr:`DecodeSession.job`) and hand the results back through :meth:`DecodeSession.account`.
It is fed bytes, so pipes, files and incremental callers share it; it asks for what it is missing
(:attr:`DecodeSession.missing`), so a stream reads whole frames at once.
"""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO, Callable, Iterable, Iterator, cast

from . import backend, container
from .config import CodecConfig, parse_model
from .config import parse as parse_config
from .container import ChunkFrame, Header, Trailer
from .errors import FormatError, NczError, TrailingDataError, TruncatedError
from .methods.base import Runtime
from .methods.policy import check_frame, decode_chunk, decode_chunk_stream
from .parallel import ordered_stream
from .llama_build import llm_missing
from .models import for_identity


class DecodeJob:
    """Picklable worker state: decodes one ``(index, frame)`` with the container's configuration
    and the runtime the session resolved (the model file, threads per worker)."""

    def __init__(self, config: CodecConfig, runtime: Runtime, progress: Callable[[int], None] | None = None) -> None:
        self.config = config
        self.runtime = runtime
        self.progress = progress

    def __call__(self, item: tuple[int, ChunkFrame]) -> bytes:
        index, frame = item
        return decode_chunk(frame, self.config, index, self.progress, self.runtime)

    def stream(self, item: tuple[int, ChunkFrame]) -> Iterator[bytes]:
        """The frame's bytes in slices as they are decoded, in this process (see
        :func:`~nczip.methods.policy.decode_chunk_stream`)."""
        index, frame = item
        return decode_chunk_stream(frame, self.config, index, self.progress, self.runtime)


def decoded(session: "DecodeSession", frames: Iterable[tuple[int, ChunkFrame]], workers: int,
            chunk_done: Callable[[int], None] | None = None, cluster: str | None = None) -> Iterator[bytes]:
    """The decoded bytes of ``frames`` in order, each accounted for the trailer's check;
    ``chunk_done(length)`` after each chunk. A chunk decoded in this process comes in slices as
    its method produces them (the first bytes arrive before its last is decoded, and it is never
    held whole twice): every chunk with one worker, and every ``workers``-th, the first included,
    with several, while worker processes take the others (:func:`nczip.parallel.ordered_stream`),
    which come whole (as do all chunks from a Ray ``cluster``)."""
    job = session.job
    assert job is not None
    for pieces in ordered_stream(job, job.stream, frames, workers, cluster):
        length = 0
        for piece in pieces:
            session.account(piece)
            length += len(piece)
            yield piece
        if chunk_done is not None:
            chunk_done(length)


def runtime_for(model_identity: dict, workers: int, model_path: str | None, on_cluster: bool = False) -> Runtime:
    """The model a container names, resolved here (refusing a missing or different one); the
    LLM's threads: this machine's CPUs shared by ``workers``, or one on a cluster, where each
    worker reserves one CPU; its device: the one the identity's backend records."""
    if not model_identity:
        return Runtime()
    from .predictors.llm import threads_per_worker

    model = for_identity(model_identity, model_path)
    device = backend.recorded_device(str(model_identity.get("backend", "")))
    return Runtime(model.path, 1 if on_cluster else threads_per_worker(workers), device)


class _Feed:
    """The pushed bytes as the file-like object the container parser reads."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def read(self, n: int = -1) -> bytes:
        n = len(self.buffer) if n < 0 else n
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data


class DecodeSession:
    """One container (member) being read: see the module docstring for what it checks.

    ``scan`` reads the structure only (``info``, ``-l``): the model file is not resolved and
    nothing is decoded. ``progress`` goes to the job when it decodes in this process.
    """

    def __init__(self, workers: int = 1, model_path: str | None = None, scan: bool = False,
                 progress: Callable[[int], None] | None = None, cluster: str | None = None) -> None:
        self.workers = workers
        self.cluster = cluster
        self.model_path = model_path
        self.scan = scan
        self.progress = progress
        self.header: Header | None = None
        self.config: CodecConfig | None = None
        self.job: DecodeJob | None = None
        self.trailer: Trailer | None = None
        self.index = 0
        self.length = 0
        self._feed = _Feed()
        self._frames: Iterator[ChunkFrame | Trailer] | None = None
        self._resolved = False
        self._digest = hashlib.sha256()
        self._seen_input = False
        #: bytes needed before :meth:`next` can make progress (a whole frame once its head is read)
        self.missing = 1

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        self._feed.buffer += data
        self._seen_input = self._seen_input or bool(data)

    def next(self) -> tuple[int, ChunkFrame] | Trailer | None:
        """The next frame (checked, with its index), the trailer, or None until more bytes are
        fed (:attr:`missing` says how many at least)."""
        if not self.ready():
            return None
        buffer = self._feed.buffer
        assert self.header is not None and self._frames is not None and self.config is not None
        if self.trailer is not None:
            raise ValueError("the container is complete")
        need = container.frame_length(buffer, self.header.chunk_size)
        if need is None or len(buffer) < need:
            self.missing = max(1, (need or len(buffer) + 1) - len(buffer))
            return None
        item = next(self._frames)
        if isinstance(item, Trailer):
            self.trailer = item
            return item
        method = check_frame(item, self.config, self.index)
        if method.needs_model and not self._resolved and not self.scan:
            self._resolve()
        self.index += 1
        return self.index - 1, item

    def ready(self) -> bool:
        """Whether the header has been read (reading it if enough bytes are there)."""
        if self.header is not None:
            return True
        buffer = self._feed.buffer
        need = container.header_length(buffer)
        if need is None or len(buffer) < need:
            self.missing = max(1, (need or len(buffer) + 1) - len(buffer))
            return False
        self._start(container.read_header(cast(BinaryIO, self._feed)))
        return True

    def _start(self, header: Header) -> None:
        self.config = parse_config(header.config)
        parse_model(header.model)  # a malformed identity is refused up front, even with no token chunk
        self.header = header
        self._frames = container.read_frames(cast(BinaryIO, self._feed), header)
        local = self.workers == 1 and not self.cluster
        self.job = DecodeJob(self.config, Runtime(), self.progress if local else None)

    def _resolve(self) -> None:
        """At the first frame that needs the model: retired models, the backend, the model file.
        The job is pickled per chunk, so workers get the resolved runtime."""
        assert self.config is not None and self.header is not None and self.job is not None
        reason = self.config.retired()
        if reason:
            raise FormatError(reason)
        missing = llm_missing() if self.config.uses_llm else None
        if missing:
            raise NczError(missing)
        model = parse_model(self.header.model)
        reason = backend.refusal(model.backend if model else "", self.config)
        if reason:
            raise FormatError(f"cannot decode this file here: {reason}")
        self.job.runtime = runtime_for(self.header.model, self.workers, self.model_path, bool(self.cluster))
        self._resolved = True

    def account(self, data: bytes) -> None:
        """A decoded frame's bytes, in frame order, for the trailer's check."""
        self._digest.update(data)
        self.length += len(data)

    def finish(self) -> None:
        """Check the trailer against everything accounted (call once every frame is)."""
        assert self.trailer is not None
        if self.trailer.total_length != self.length or self.trailer.sha256 != self._digest.digest():
            raise FormatError("corrupt data (whole-file checksum mismatch)")

    def unused(self) -> bytes:
        """Bytes fed past the trailer (the next member, or garbage), taken out of the session."""
        data = bytes(self._feed.buffer)
        self._feed.buffer.clear()
        return data

    def truncation_error(self) -> FormatError:
        """Why the input, ended here, is not a whole container: a :class:`TruncatedError` (an
        :class:`EOFError` too) unless what is buffered is already corrupt."""
        if not self._seen_input:
            return FormatError("empty file (not in nczip format)")
        try:
            if self.header is None:
                container.read_header(cast(BinaryIO, io.BytesIO(bytes(self._feed.buffer))))
            elif self._frames is not None:
                next(self._frames)
        except FormatError as exc:
            return exc
        except StopIteration:
            pass
        return TruncatedError("truncated file")


def next_member(data: bytes, read: Callable[[], bytes], position: Callable[[], int],
                padding: Callable[[int], None] | None = None) -> bytes:
    """After a container: ``data`` and what ``read()`` gives, from the first byte that is not zero
    padding (skipped as :mod:`gzip` does; ``padding(count)`` is told), or ``b""`` at the end of
    the input. Anything there that does not start like a container raises
    :class:`TrailingDataError` at its offset, ``position()`` being the bytes read so far."""
    while data:
        rest = data.lstrip(b"\0")
        if padding is not None and len(rest) < len(data):
            padding(len(data) - len(rest))
        if rest:
            shown = min(len(rest), len(container.MAGIC))
            if rest[:shown] != container.MAGIC[:shown]:
                raise TrailingDataError(position() - len(rest))
            return rest
        data = read()
    return b""


def _feed_more(session: DecodeSession, read: Callable[[int], bytes], block: int) -> None:
    """Read what the session is missing (at least ``block`` bytes) into it; at the end of the
    input, the reason it is not a whole container."""
    data = read(max(block, session.missing))
    if not data:
        raise session.truncation_error()
    session.feed(data)


def pull(session: DecodeSession, read: Callable[[int], bytes], block: int = 1 << 16) -> Iterator[tuple[int, ChunkFrame]]:
    """The session's frames, reading more input from ``read`` as it asks; stops at the trailer
    (in :attr:`DecodeSession.trailer`) and raises the truncation error if the input ends first."""
    while True:
        item = session.next()
        if item is None:
            _feed_more(session, read, block)
        elif isinstance(item, Trailer):
            return
        else:
            yield item


def start(session: DecodeSession, read: Callable[[int], bytes], block: int = 1 << 16) -> None:
    """Feed ``session`` until its header is read (so its job exists before frames are decoded)."""
    while not session.ready():
        _feed_more(session, read, block)
