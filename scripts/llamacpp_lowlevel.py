"""Helpers shared by scripts/llamacpp_speculative.py and scripts/llamacpp_batched.py: llama.cpp driven
through llama-cpp-python's low-level API (the `llama_cpp` module, 0.3.36) — a model, a context with
flash attention on and an F16 KV cache, a batch, and a row of logits as a NumPy array.

Not a script: the two measurement scripts import it from their own folder.
"""
import ctypes
import os
import time

import llama_cpp
import llama_cpp._logger
import numpy as np

llama_cpp._logger.set_verbose(False)  # llama.cpp's log: errors only
llama_cpp.llama_backend_init()


class Model:
    """A GGUF model loaded on the CPU, its vocabulary and end-of-generation test."""

    def __init__(self, path):
        if not os.path.isfile(path):
            raise SystemExit(f"{path}: no such file")
        params = llama_cpp.llama_model_default_params()
        params.n_gpu_layers = 0
        self.ptr = llama_cpp.llama_model_load_from_file(path.encode(), params)
        if not self.ptr:
            raise SystemExit(f"{path}: llama.cpp could not load it")
        self.path = path
        self.vocab = llama_cpp.llama_model_get_vocab(self.ptr)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)

    def tokenize(self, text, special=True):
        """`text`'s tokens; special=True reads `<|im_start|>` and the like as the special tokens they name.
        The BOS token is added only where the vocabulary asks for it (Qwen's does not)."""
        data = text.encode()
        buf = (llama_cpp.llama_token * (len(data) + 16))()
        add_bos = llama_cpp.llama_vocab_get_add_bos(self.vocab)
        n = llama_cpp.llama_tokenize(self.vocab, data, len(data), buf, len(buf), add_bos, special)
        if n < 0:
            raise RuntimeError("tokenize: buffer too small")
        return list(buf[:n])

    def detokenize(self, tokens):
        arr = (llama_cpp.llama_token * len(tokens))(*tokens)
        size = 16 * len(tokens) + 16
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_detokenize(self.vocab, arr, len(tokens), buf, size, False, True)
        return buf.raw[:max(n, 0)].decode(errors="replace")

    def is_eog(self, token):
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def chat_template(self):
        t = llama_cpp.llama_model_chat_template(self.ptr, None)
        return t.decode(errors="replace") if t else ""


class Context:
    """A llama.cpp context on `model`: flash attention on (what llama.cpp's `auto` resolves to on a
    CPU), F16 keys and values (llama.cpp's default), `threads` threads for single tokens and batches."""

    def __init__(self, model, n_ctx, n_batch, threads, n_seq_max=1, kv_unified=False):
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = params.n_ubatch = n_batch
        params.n_seq_max = n_seq_max
        params.kv_unified = kv_unified
        params.n_threads = params.n_threads_batch = threads
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
        params.type_k = params.type_v = llama_cpp.GGML_TYPE_F16
        params.no_perf = True
        self.ptr = llama_cpp.llama_init_from_model(model.ptr, params)
        if not self.ptr:
            raise RuntimeError("llama_init_from_model failed")
        self.model = model
        self.memory = llama_cpp.llama_get_memory(self.ptr)
        self.batch = llama_cpp.llama_batch_init(n_batch, 0, n_seq_max)
        self.capacity = n_batch

    def decode(self, rows):
        """One llama_decode of `rows`, each (token, position, seq_id, wants_logits)."""
        if len(rows) > self.capacity:
            raise ValueError(f"batch of {len(rows)} > n_batch {self.capacity}")
        b = self.batch
        for i, (token, pos, seq, logits) in enumerate(rows):
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = logits
        b.n_tokens = len(rows)
        ret = llama_cpp.llama_decode(self.ptr, b)
        if ret != 0:
            raise RuntimeError(f"llama_decode returned {ret}")

    def logits(self, i):
        """The logits of the batch's i-th output row (−1: the last), a view valid until the next decode."""
        ptr = llama_cpp.llama_get_logits_ith(self.ptr, i)
        return np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(self.model.n_vocab,))

    def synchronize(self):
        llama_cpp.llama_synchronize(self.ptr)

    def seq_rm(self, seq, p0, p1=-1):
        """Forgets sequence `seq`'s keys and values at positions [p0, p1) (p1 = −1: to the end)."""
        if not llama_cpp.llama_memory_seq_rm(self.memory, seq, p0, p1):
            raise RuntimeError("llama_memory_seq_rm failed")

    def clear(self):
        llama_cpp.llama_memory_clear(self.memory, True)


def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


class OthersCPU:
    """How busy the rest of the machine was during a `with` block: the CPU time every other process
    used (the machine's busy time in /proc/stat minus this process's own), as a share of all CPUs
    over the block's wall time. About 0 on a quiet machine; a measurement with more than a few
    percent had company, and llama.cpp's spinning threads lose far more than that share."""

    def _sample(self):
        fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait
        own = os.times()
        return time.perf_counter(), busy, own.user + own.system

    def __enter__(self):
        self.start = self._sample()
        return self

    def __exit__(self, *_):
        end = self._sample()
        wall, busy, own = (e - s for e, s in zip(end, self.start))
        self.share = round(max(0.0, busy - own) / (wall * os.cpu_count()), 3)


def wait_quiet(max_others, seconds=600.0, sample=3.0):
    """Waits until other processes took at most `max_others` of the CPU over `sample` seconds, for
    `seconds` at most — so that a retry does not also disturb whoever else is measuring."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        with OthersCPU() as busy:
            time.sleep(sample)
        if busy.share <= max_others:
            return


def measure(fn, max_others, attempts):
    """Runs `fn` until other processes took at most `max_others` of the CPU during it (None: once),
    `attempts` times at most, each after the machine has been quiet for 3 s (10 minutes' wait at
    most): (fn's result, others' share, tries). The last attempt is kept whatever its share."""
    for tries in range(1, attempts + 1):
        if max_others is not None:
            wait_quiet(max_others)
        with OthersCPU() as busy:
            result = fn()
        if max_others is None or busy.share <= max_others or tries == attempts:
            return result, busy.share, tries


def add_quiet_options(parser):
    parser.add_argument("--max-others", type=float, default=0.03, metavar="SHARE",
                        help="repeat a run in which other processes took more than this share of the CPU "
                             "(default 0.03; a negative value keeps every run)")
    parser.add_argument("--attempts", type=int, default=10, help="tries per run at most (default 10), each once the machine has been quiet for 3 s")


def load_average():
    """The 1-minute load average: on a shared machine, a number above the threads used says that
    something else ran during the measurement (llama.cpp's spinning threads suffer most)."""
    return round(os.getloadavg()[0], 2)
