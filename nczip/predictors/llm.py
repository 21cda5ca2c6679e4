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
from typing import Any

import numpy as np

from .. import kernels
from ..errors import NczError

_LOCK = threading.Lock()
_MODELS: dict[tuple[str, bool], "LlamaModel"] = {}


def _import_llama():
    from ..llama_build import baseline_message, missing_baseline

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
        raise NczError("nczip's token levels need llama-cpp-python (run scripts/setup.sh)") from None
    return llama_cpp


@ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
def _silent_log(level: int, text: bytes, user: Any) -> None:  # llama.cpp logs to stderr otherwise
    return None


def build_features() -> tuple[str, list[str]]:
    """The loaded llama-cpp-python's version and the CPU features its build reports as on: what
    a decoder's build must match for bit-exact logits (see :mod:`nczip.backend`)."""
    from ..llama_build import enabled_features

    llama = _import_llama()
    return llama.__version__, enabled_features(llama.llama_print_system_info().decode("utf-8", "replace"))


class LlamaModel:
    """A loaded GGUF model (weights shared by every chunk coded in this process)."""

    def __init__(self, path: str, vocab_only: bool = False) -> None:
        llama = _import_llama()
        self.llama = llama
        llama.llama_log_set(_silent_log, None)
        llama.llama_backend_init()
        params = llama.llama_model_default_params()
        params.n_gpu_layers = 0
        params.vocab_only = vocab_only
        self.handle = llama.llama_model_load_from_file(path.encode(), params)
        if not self.handle:
            raise NczError(f"cannot load model {path}")
        self.vocab = llama.llama_model_get_vocab(self.handle)
        self.n_vocab = int(llama.llama_vocab_n_tokens(self.vocab))
        self.bos = int(llama.llama_vocab_bos(self.vocab))
        self._pieces: list[bytes] | None = None

    @classmethod
    def load(cls, path: str, vocab_only: bool = False) -> "LlamaModel":
        """One instance per file per process: loading costs ~0.1-1 s and ~200 MB (the weights;
        ``vocab_only`` loads only the tokenizer, for the levels that need no LLM)."""
        with _LOCK:
            model = _MODELS.get((path, vocab_only))
            if model is None:
                model = _MODELS[(path, vocab_only)] = cls(path, vocab_only)
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


class LlmPredictor:
    """Next-token log-probabilities for one chunk: its own context and KV cache.

    ``update`` only queues the token; ``predict`` evaluates what is queued. Normally that is one
    token per call; after the mixer skipped the LLM for some tokens it is a batch of them, with
    logits for the last one only. The decoder queues the same tokens, so it evaluates the very
    same batches at the very same positions.
    """

    NAME = "llm/2"  # llm/1 took the log-softmax with numpy
    MAX_BATCH = 64

    def __init__(self, model: LlamaModel, n_ctx: int = 2048, slide: int = 512, threads: int = 1) -> None:
        if not 16 <= n_ctx <= 32768 or not 1 <= slide < n_ctx - 1:
            raise ValueError("bad LLM context configuration")
        llama = model.llama
        self.model = model
        self.alphabet_size = model.n_vocab
        self.n_ctx = n_ctx
        self.slide = slide
        self.n_batch = min(self.MAX_BATCH, slide)
        params = llama.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = params.n_ubatch = self.n_batch
        params.n_seq_max = 1
        params.n_threads = params.n_threads_batch = max(1, threads)
        self._ctx = llama.llama_init_from_model(model.handle, params)
        if not self._ctx:
            raise NczError("cannot create a llama.cpp context")
        self._mem = llama.llama_get_memory(self._ctx)
        self._batch = llama.llama_batch_init(self.n_batch, 0, 1)
        self._pos = 0
        self._pending: list[int] = [model.bos]
        self._log_probs: np.ndarray | None = None
        self.slides = 0
        self.evaluations = 0  # llama_decode calls
        self.codable = model.codable()
        self._codable_u8 = self.codable.astype(np.uint8)

    def close(self) -> None:
        if self._ctx:
            self.model.llama.llama_batch_free(self._batch)
            self.model.llama.llama_free(self._ctx)
            self._ctx = None

    def __del__(self) -> None:
        self.close()

    def _slide_window(self) -> None:
        llama = self.model.llama
        start, end = 1, 1 + self.slide
        llama.llama_memory_seq_rm(self._mem, 0, start, end)
        llama.llama_memory_seq_add(self._mem, 0, end, -1, -self.slide)
        self._pos -= self.slide
        self.slides += 1

    def _decode(self, tokens: list[int]) -> None:
        """Evaluate ``tokens`` in one call (at most ``n_batch``), logits for the last one only."""
        if self._pos + len(tokens) > self.n_ctx:
            self._slide_window()
        b = self._batch
        b.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            b.token[i] = token
            b.pos[i] = self._pos + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = i == len(tokens) - 1
        status = self.model.llama.llama_decode(self._ctx, b)
        if status != 0:
            raise NczError(f"llama_decode failed ({status})")
        self._pos += len(tokens)
        self.evaluations += 1

    def predict(self) -> np.ndarray:
        """Log-probabilities (float64) of the next token; impossible tokens get -1e30."""
        if self._pending:
            pending = self._pending
            for start in range(0, len(pending), self.n_batch):
                self._decode(pending[start:start + self.n_batch])
            self._pending = []
            logits = self.model.llama.llama_get_logits_ith(self._ctx, -1)
            if not logits:
                raise NczError("llama.cpp returned no logits")
            out = np.empty(self.alphabet_size)  # a new array: the mixer keeps the last one
            kernels.lib().nc_log_softmax_f32(ctypes.cast(logits, ctypes.c_void_p).value, self.alphabet_size,
                                             kernels.ptr(self._codable_u8), kernels.ptr(out))
            self._log_probs = out
        assert self._log_probs is not None
        return self._log_probs

    def update(self, symbol: int) -> None:
        self._pending.append(symbol)


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))
