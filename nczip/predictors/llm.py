"""LLM predictor: a GGUF model (SmolLM2-135M by default) run token by token through llama.cpp.

Facts measured on our machines that shape this module (details in ../shared/notes):

- llama.cpp's logits for a multi-token pass differ from one-token passes at the same positions,
  so encoder and decoder both evaluate strictly one token per ``llama_decode`` call. Thread count
  does not change the logits, so each process may use any number of threads.
- When the context is full we slide natively in the KV cache: keep the BOS token at position 0
  (an attention sink), drop the oldest ``slide`` tokens after it and shift the rest left
  (``llama_memory_seq_rm`` + ``llama_memory_seq_add``). Measured ~0.5 ms for the edit plus ~12 ms
  on the next decode, against ~3 s to re-evaluate 1,024 tokens. The slide happens at the same
  token in both directions because it depends only on the number of tokens seen.
- Logits go to float64 log-probabilities in nczip's C kernels (``nc_log_softmax_f32``: own exp
  and log, fixed-order sums), not numpy, whose ``exp`` has a separate AVX-512 implementation. What
  is left machine-dependent is llama.cpp's own build, which is why nczip installs one pinned build
  (:mod:`nczip.llama_build`) and a container records it.
"""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import kernels
from ..errors import NczError
from ..llama_build import DEVICES, baseline_message, enabled_features, is_cuda_build, llm_missing, missing_baseline
from .schema import Declared, arithmetic, flag, integer

LLM = "llm/2"  # llm/1 took the log-softmax with numpy
# Lanes per chunk, and their KV windows in all: each lane's window is allocated up front (~23 KB a
# token for SmolLM2-135M), so 2^17 tokens bounds what a header can make a decoder allocate (~3 GB).
MAX_LANES = 256
MAX_LANE_TOKENS = 1 << 17


@dataclass(frozen=True)
class Llm(Declared):
    """The LLM's context window and slide per lane, the most lanes a chunk is cut into, and whether
    the lanes share their online models, and whether its tokens go through the core (a header's
    ``llm``). Files from before lanes had one."""

    n_ctx: int = integer(16, 8192)
    slide: int = integer(1, lambda got: got["n_ctx"] - 2)
    lanes: int = integer(1, lambda got: min(MAX_LANES, MAX_LANE_TOKENS // got["n_ctx"]), default=1)
    shared: bool = flag(True)
    #: the LLM's tokens coded bit by bit through the context-mixing core (chunk method 6,
    #: nczip/methods/bridge.py) instead of as token symbols; false when absent (earlier files)
    core: bool = flag(False)
    name: str = arithmetic(LLM, retired=("llm/1",))


_LOCK = threading.Lock()
_MODELS: dict[tuple[str, bool, str], "LlamaModel"] = {}


def _import_llama():
    missing = missing_baseline()
    if missing:  # refuse here: the pinned build would die of an illegal instruction
        raise NczError(baseline_message(missing))
    # The pinned build uses OpenMP, whose threads spin at barriers by default: with another
    # process on the second core, two spinning threads fell from 67.7 to 21.1 tokens/s here, and
    # slower still on other machines. Sleeping waits keep 34.7 under that load (51.8 idle); one
    # thread 39-46 under load. Thread count and wait policy do not change the logits. libgomp
    # reads this when llama.cpp loads it, so it must be set before the import; a user's setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError:
        raise NczError(llm_missing() or "llama-cpp-python failed to import") from None
    return llama_cpp


@ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
def _silent_log(level: int, text: bytes, user: Any) -> None:  # llama.cpp logs to stderr otherwise
    return None


def build_features() -> tuple[str, list[str]]:
    """The loaded llama-cpp-python's version and the CPU features its build reports as on: what
    a decoder's build must match for bit-exact logits (see :mod:`nczip.backend`)."""
    llama = _import_llama()
    return llama.__version__, enabled_features(llama.llama_print_system_info().decode("utf-8", "replace"))


#: more layers than any model has: llama.cpp offloads them all
_ALL_LAYERS = 999


def resolve_device(requested: str) -> str:
    """``cpu`` or ``cuda`` for a requested ``auto``/``cpu``/``cuda`` (``--device``): ``cuda`` needs
    llama-cpp-python's GPU build (``scripts/install_llama.py --cuda``) and a GPU it can offload
    to; ``auto`` is ``cuda`` where both are there. A file records the device (its logits differ
    between a GPU and a CPU) and decodes only on the same one (:mod:`nczip.backend`)."""
    if requested not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {requested!r}")
    if requested == "cpu":
        return "cpu"
    llama = _import_llama()
    gpu = is_cuda_build(llama.llama_print_system_info().decode("utf-8", "replace")) and bool(
        llama.llama_supports_gpu_offload())
    if requested == "cuda" and not gpu:
        raise NczError("--device cuda needs llama-cpp-python's CUDA build and a GPU"
                       " (python3 scripts/install_llama.py --cuda builds it)")
    return "cuda" if gpu else "cpu"


def compute_capability() -> str:
    """The first GPU's compute capability as ``sm_90`` (from nvidia-smi), for the backend identity."""
    import subprocess

    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        out = []
    return "sm_" + out[0].replace(".", "") if out else "sm_unknown"


class LlamaModel:
    """A loaded GGUF model (weights shared by every chunk coded in this process)."""

    def __init__(self, path: str, vocab_only: bool = False, device: str = "cpu") -> None:
        llama = _import_llama()
        self.llama = llama
        llama.llama_log_set(_silent_log, None)
        llama.llama_backend_init()
        params = llama.llama_model_default_params()
        params.n_gpu_layers = _ALL_LAYERS if device == "cuda" else 0
        params.vocab_only = vocab_only
        self.handle = llama.llama_model_load_from_file(path.encode(), params)
        if not self.handle:
            raise NczError(f"cannot load model {path}")
        self.vocab = llama.llama_model_get_vocab(self.handle)
        self.n_vocab = int(llama.llama_vocab_n_tokens(self.vocab))
        self.bos = int(llama.llama_vocab_bos(self.vocab))
        self._pieces: list[bytes] | None = None

    @classmethod
    def load(cls, path: str, vocab_only: bool = False, device: str = "cpu") -> "LlamaModel":
        """One instance per file per process: loading costs ~0.1-1 s and ~200 MB (the weights;
        ``vocab_only`` loads only the tokenizer, for the levels that need no LLM). ``device``:
        ``cuda`` offloads every layer to the GPU (:func:`resolve_device`)."""
        with _LOCK:
            model = _MODELS.get((path, vocab_only, device))
            if model is None:
                model = _MODELS[(path, vocab_only, device)] = cls(path, vocab_only, device)
            return model

    def pieces(self) -> list[bytes]:
        """Exact bytes of every token (control tokens map to b"" and are never coded).

        ``Llama.detokenize`` loses bytes (a 32-byte buffer per token); ``llama_token_to_piece``
        with a large buffer reproduces the GGUF vocabulary's byte table exactly.
        """
        if self._pieces is None:
            buf = ctypes.create_string_buffer(1024)
            out = []
            for token in range(self.n_vocab):
                n = self.llama.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
                out.append(buf.raw[:n] if n > 0 else b"")
            self._pieces = out
        return self._pieces

    def codable(self) -> np.ndarray:
        """Which ids can occur in text (control tokens have no bytes and never do)."""
        return np.array([bool(piece) for piece in self.pieces()])

    def tokenize(self, data: bytes) -> list[int]:
        """The model's own tokenisation (no BOS, no special tokens); may not round-trip."""
        capacity = len(data) + 16
        buf = (self.llama.llama_token * capacity)()
        n = self.llama.llama_tokenize(self.vocab, data, len(data), buf, capacity, False, False)
        if n < 0:
            capacity = -n
            buf = (self.llama.llama_token * capacity)()
            n = self.llama.llama_tokenize(self.vocab, data, len(data), buf, capacity, False, False)
        return list(buf[:n])


class LlmContext:
    """One llama.cpp context holding a chunk's lanes: ``lanes`` sequences with their own KV windows.

    ``LlmLane.update`` only queues a token; :meth:`evaluate` runs what the given lanes have
    queued in as few ``llama_decode`` calls as it can, one batch carrying every lane, with logits
    for each lane's last token only. Normally that is one token per lane per call (lockstep);
    after the mixer skipped the LLM for some tokens a lane brings several. The decoder queues the
    same tokens and evaluates the same lanes at the same steps, so it runs the very same batches
    at the very same positions; each sequence's logits in such a batch were bit-identical to
    running it alone (pinned by tests/test_llm.py), but only the identical schedule is relied on.

    Each lane's KV window is its own (``kv_unified`` off, ``n_ctx`` per lane) and slides on its
    own: keep the BOS token, drop the ``slide`` oldest after it, shift the rest left.
    """

    MAX_BATCH = 64

    def __init__(self, model: LlamaModel, n_ctx: int = 2048, slide: int = 512, threads: int = 1,
                 lanes: int = 1) -> None:
        if not 16 <= n_ctx <= 32768 or not 1 <= slide < n_ctx - 1 or not 1 <= lanes <= 1024:
            raise ValueError("bad LLM context configuration")
        llama = model.llama
        self.model = model
        self.n_ctx = n_ctx
        self.slide = slide
        self.n_lanes = lanes
        self.n_batch = max(min(self.MAX_BATCH, slide), lanes)
        params = llama.llama_context_default_params()
        params.n_ctx = n_ctx * lanes
        params.n_batch = params.n_ubatch = self.n_batch
        params.n_seq_max = lanes
        if lanes > 1:
            params.kv_unified = False  # one KV stream (and window) per lane
        params.n_threads = params.n_threads_batch = max(1, threads)
        self._ctx = llama.llama_init_from_model(model.handle, params)
        if not self._ctx:
            raise NczError("cannot create a llama.cpp context")
        self._mem = llama.llama_get_memory(self._ctx)
        self._batch = llama.llama_batch_init(self.n_batch, 0, lanes)
        self.codable = model.codable()
        self._codable_u8 = self.codable.astype(np.uint8)
        self.lanes = [LlmLane(self, i) for i in range(lanes)]
        self.slides = 0
        self.evaluations = 0  # llama_decode calls

    def close(self) -> None:
        if self._ctx:
            self.model.llama.llama_batch_free(self._batch)
            self.model.llama.llama_free(self._ctx)
            self._ctx = None

    def __del__(self) -> None:
        self.close()

    def _slide_window(self, lane: "LlmLane") -> None:
        llama = self.model.llama
        start, end = 1, 1 + self.slide
        llama.llama_memory_seq_rm(self._mem, lane.index, start, end)
        llama.llama_memory_seq_add(self._mem, lane.index, end, -1, -self.slide)
        lane.pos -= self.slide
        self.slides += 1

    def evaluate(self, indices: list[int]) -> None:
        """Evaluate the queued tokens of the lanes ``indices`` (in that order), in one batch per
        round; each round takes up to ``n_batch // lanes`` tokens from each lane still queued."""
        queued = [self.lanes[i] for i in indices if self.lanes[i].pending]
        llama = self.model.llama
        b = self._batch
        while queued:
            cap = max(1, self.n_batch // len(queued))
            n = 0
            last: list[tuple[LlmLane, int]] = []
            for lane in queued:
                tokens = lane.pending[:cap]
                del lane.pending[:cap]
                if lane.pos + len(tokens) > self.n_ctx:
                    self._slide_window(lane)
                for i, token in enumerate(tokens):
                    b.token[n] = token
                    b.pos[n] = lane.pos + i
                    b.n_seq_id[n] = 1
                    b.seq_id[n][0] = lane.index
                    b.logits[n] = i == len(tokens) - 1  # as every round did in llm/2's first files
                    n += 1
                lane.pos += len(tokens)
                if not lane.pending:
                    last.append((lane, n - 1))
            b.n_tokens = n
            status = llama.llama_decode(self._ctx, b)
            if status != 0:
                raise NczError(f"llama_decode failed ({status})")
            self.evaluations += 1
            for lane, row in last:  # the logits are overwritten by the next decode: take them now
                logits = llama.llama_get_logits_ith(self._ctx, row)
                if not logits:
                    raise NczError("llama.cpp returned no logits")
                out = np.empty(self.model.n_vocab)  # a new array: the mixer keeps the last one
                kernels.lib().nc_log_softmax_f32(ctypes.cast(logits, ctypes.c_void_p).value, self.model.n_vocab,
                                                 kernels.ptr(self._codable_u8), kernels.ptr(out))
                lane.log_probs = out
            queued = [lane for lane in queued if lane.pending]


class LlmLane:
    """Next-token log-probabilities for one lane (one sequence) of an :class:`LlmContext`."""

    NAME = LLM

    def __init__(self, context: LlmContext, index: int) -> None:
        self.context = context
        self.index = index
        self.alphabet_size = context.model.n_vocab
        self.codable = context.codable
        self.pos = 0
        self.pending: list[int] = [context.model.bos]
        self.log_probs: np.ndarray | None = None

    @property
    def evaluations(self) -> int:
        return self.context.evaluations

    @property
    def slides(self) -> int:
        return self.context.slides

    def predict(self) -> np.ndarray:
        """Log-probabilities (float64) of the next token; impossible tokens get -1e30. Evaluates
        this lane alone if the schedule did not evaluate it with the others."""
        if self.pending:
            self.context.evaluate([self.index])
        assert self.log_probs is not None
        return self.log_probs

    def update(self, symbol: int) -> None:
        self.pending.append(symbol)

    def close(self) -> None:
        self.context.close()


class LlmPredictor(LlmLane):
    """A one-lane context of its own: the single-sequence predictor (benches, tests)."""

    def __init__(self, model: LlamaModel, n_ctx: int = 2048, slide: int = 512, threads: int = 1) -> None:
        super().__init__(LlmContext(model, n_ctx, slide, threads, 1), 0)
        self.context.lanes[0] = self


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))
