"""Scoped BLAS threading for loops of small matrix products (a recurrent layer's time steps).

OpenBLAS threads a product from about 2.6e5 multiply-adds; at the sizes of a recurrent step (a batch of 100 times
a 128-wide hidden state: ~2e6) a second thread saves no time (measured: 1.0x wall, 2x CPU, on 2 cores) and, on a
busy machine, waiting for it costs several times the product. Inside ``small_products`` they run on one thread;
the thread count is restored on exit, so every other product keeps the user's setting. ``row_blocks`` splits such a
step's product into blocks that OpenBLAS's small-matrix kernel runs without packing the weight.
"""
import contextlib
import functools
import os
import time

import numpy

from . import _parallel

__all__ = []

SMALL = 1 << 23
"""Multiply-adds per product below which a loop's products run on one BLAS thread."""


@functools.cache
def _controls():
    """NumPy's OpenBLAS (get, set) thread-count functions, or None where it is not found."""
    from .._runtime import _openblas
    found = _openblas()
    if found is None:
        return None
    library, prefix, suffix = found
    return getattr(library, f"{prefix}_get_num_threads{suffix}"), getattr(library, f"{prefix}_set_num_threads{suffix}")


@contextlib.contextmanager
def small_products(multiply_adds):
    """Runs the block's BLAS calls on one thread when each does fewer than ``SMALL`` ``multiply_adds``."""
    controls = _controls() if multiply_adds < SMALL else None
    previous = controls[0]() if controls is not None else 1
    if previous == 1:
        yield
        return
    controls[1](1)
    try:
        yield
    finally:
        controls[1](previous)


THREAD_FREE_INNER = 256
"""Inner dimension up to which OpenBLAS gives a product the same bits on one thread as on several (busy-host rule,
``product``): its threaded GEMM driver sums each element over the same K blocks as the serial one only while K
fits one block (GEMM_Q, 256 or more in its x86 kernels); between one and two blocks the threaded driver halves K as
(K + 1) / 2 where the serial one rounds the half up to its unroll (K = 784 differs here; every K tried up to 640
matched, float32 and float64)."""

BUSY_PERIOD = 0.02
"""Seconds for which a reading of the host's runnable tasks stands (``busy``; a reading costs ~2.5 us)."""

_host = {"until": 0.0, "busy": False, "file": None, "cores": os.cpu_count() or 1}


def _running():
    """The host's runnable tasks now (the running count of /proc/loadavg, this thread included), or None where
    there is no such file."""
    if _host["file"] is None:
        try:
            _host["file"] = os.open("/proc/loadavg", os.O_RDONLY)
        except OSError:
            _host["file"] = -1
    if _host["file"] < 0:
        return None
    return int(os.pread(_host["file"], 64, 0).split()[3].split(b"/")[0])


def busy(monotonic=time.monotonic):
    """Whether NumPy's OpenBLAS runs more than one thread on a host with more runnable tasks than cores (read at most
    every ``BUSY_PERIOD`` seconds). OpenBLAS's threads then wait on each other: the one done with its share of a
    product spins until its partner, queued behind another process, has run (the seeds' MLP at two threads and load
    ~3.5: a training step's median 7.4 ms against 1.0 at best, most of it in OpenBLAS's waits)."""
    host = _host
    now = monotonic()
    if now >= host["until"]:
        running, controls = _running(), _controls()
        host["busy"] = running is not None and running > host["cores"] and controls is not None and \
            controls[0]() > 1
        host["until"] = now + BUSY_PERIOD
    return host["busy"]


def product(inner, function, *args):
    """``function(*args)``, a product of inner dimension ``inner``, its BLAS calls on one thread while the host is
    ``busy`` where that gives the same bits (``THREAD_FREE_INNER``), else as set: a result never depends on the
    host's load."""
    if inner <= THREAD_FREE_INNER and busy():
        with small_products(0):
            return function(*args)
    return function(*args)


def at_once(count, work):
    """``work(first, last)`` on ranges of ``range(count)``, at once on the intra-op threads where there is a unit for
    every thread, else once on all; each BLAS call on one thread either way (OpenBLAS's threads, on a busy host,
    wait for each other: a blocked weight gradient of one chunk, (8, 64, 784) @ (8, 784, 128), took 50 ms of the
    main thread's CPU for a 1 ms product at two threads and load 9), so the bits do not depend on the threads."""
    with small_products(0):
        if count < _parallel.num_threads():
            work(0, count)
        else:
            _parallel.parallel_for(count, work)


SPLIT_WORK = 1 << 23
"""Multiply-adds per part at least of a product that ``matmul`` cuts (~0.1 ms at one thread; at this size every part
also runs OpenBLAS's packed kernel, not its direct one for products under 28 * 512 * 512 multiply-adds, so the parts
give the whole product's bits)."""

ROWS = 16
"""Rows (or columns) a part's bounds are multiples of: whole tiles of the packed kernel."""


PARTS_PER_THREAD = 2
"""Parts of a cut product per intra-op thread at most: the caller takes the next part while a pool thread wakes."""


def matmul(a, b, out, short_on_one=False, bias=None):
    """``numpy.matmul(a, b, out=out)`` for NumPy arrays of one real floating dtype; a product of ``2 * SPLIT_WORK``
    multiply-adds or more is cut along the longer of its result's last two dims into parts at once on the intra-op
    threads, each on one BLAS thread: one hand-off instead of waking OpenBLAS's threads, which also gain nothing on
    the thin products of small maps (a (256, 2304) @ (2304, 128) one). With ``short_on_one``, a shorter product runs
    on one BLAS thread where there are intra-op threads (a convolution's: see ``conv._product``). With ``bias``
    (``adds_bias``), each part is ``bias + a @ b``. Returns ``out``."""
    M, N = out.shape[-2:]
    work = out.size * a.shape[-1]
    multiply = numpy.matmul if bias is None else functools.partial(_add_product, bias)
    if work < 2 * SPLIT_WORK or a.dtype.kind != "f" or b.dtype != a.dtype or type(out) is not numpy.ndarray or \
            out.dtype != a.dtype or getattr(_parallel._inside, "active", False):
        if short_on_one and a.dtype.kind == "f" and _parallel.num_threads() > 1:
            with small_products(0):
                return multiply(a, b, out=out)
        return multiply(a, b, out=out)
    rows = M >= N
    units = -(-(M if rows else N) // ROWS)
    grain = -(-units * SPLIT_WORK // work)
    if min(_parallel.num_threads(), units // grain) < 2:
        return multiply(a, b, out=out)

    def part(start, stop):
        span = slice(start * ROWS, stop * ROWS)
        if rows:
            multiply(a[..., span, :], b, out=out[..., span, :])
        elif bias is None:
            numpy.matmul(a, b[..., span], out=out[..., span])
        else:
            _add_product(bias[span], a, b[..., span], out=out[..., span])
    with small_products(0):
        _parallel.parallel_for(units, part, grain, per_thread=PARTS_PER_THREAD)
    return out


BIAS_WORK = 1 << 24
"""Multiply-adds from which a product with a bias starts from the bias (``adds_bias``): the BLAS call through ctypes
costs ~4 us more than NumPy's (even at ~8M multiply-adds); above, the pass it saves is 3-7 % of a K=128 ``F.linear``
(CPU min at one thread, (32, 64, 128) input: 384 features 2.15 -> 2.03 ms, 1000 features 5.90 -> 5.51)."""

BIAS_INNER = 256
"""Inner dimension up to which a product started from the bias gives the bits of the product plus the bias: OpenBLAS
sums each element over the whole inner dimension in registers (one K block: its x86 kernels' GEMM_Q is 256 or more)
and adds that sum to the bias once, where NumPy's product adds it to zero and the bias is added after."""


def _cblas(name, char):
    """NumPy's OpenBLAS ``cblas_s<name>`` (``char`` "f") or ``cblas_d<name>`` ("d") as an untyped ctypes function
    and the ctypes type of its integer arguments, or (None, None)."""
    import ctypes
    from .._runtime import _openblas
    found = _openblas()
    if found is None:
        return None, None
    library, prefix, suffix = found
    function = getattr(library, f"{prefix.replace('openblas', '')}cblas_{'s' if char == 'f' else 'd'}{name}{suffix}",
                       None)
    return function, ctypes.c_int64 if suffix.startswith("64") else ctypes.c_int


@functools.cache
def _gemm(char):
    """NumPy's OpenBLAS ``cblas_sgemm`` (``char`` "f") or ``cblas_dgemm`` ("d") as a ctypes function, or None."""
    import ctypes
    function, size = _cblas("gemm", char)
    if function is None:
        return None
    scalar = ctypes.c_float if char == "f" else ctypes.c_double
    function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, size, size, size, scalar, ctypes.c_void_p, size,
                         ctypes.c_void_p, size, scalar, ctypes.c_void_p, size]
    function.restype = None
    return function


_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _layout(matrix):
    """A 2-D array as CBLAS reads it in row-major order: (``_NO_TRANS`` or ``_TRANS``, leading dimension), or None
    where neither of its strides is one element."""
    item = matrix.itemsize
    rows, cols = matrix.shape
    first, second = matrix.strides
    if second == item and first % item == 0 and first // item >= max(1, cols):
        return _NO_TRANS, first // item
    if first == item and second % item == 0 and second // item >= max(1, rows):
        return _TRANS, second // item
    return None


def adds_bias(a, b, bias):
    """Whether ``matmul(a, b, out, bias=bias)`` can start the product ``a @ b`` (NumPy matrices) from ``bias`` (a
    vector of its columns) by one BLAS call with beta = 1, as PyTorch's addmm: one pass less than the product (which
    OpenBLAS begins by zeroing its result) and the bias added after, with the same bits (``BIAS_INNER``; not for one
    row or column, which OpenBLAS hands to its matrix-vector kernel)."""
    return (type(a) is numpy.ndarray and type(b) is numpy.ndarray and type(bias) is numpy.ndarray and a.ndim == 2
            and b.ndim == 2 and bias.shape == b.shape[1:] and a.dtype == b.dtype == bias.dtype
            and a.dtype.char in "fd" and a.shape[1] <= BIAS_INNER and a.shape[0] * a.shape[1] * b.shape[1] >= BIAS_WORK
            and min(a.shape[0], b.shape[1]) > 1 and _gemm(a.dtype.char) is not None and _layout(a) is not None
            and _layout(b) is not None)


def _add_product(bias, a, b, out):
    """``out = bias + a @ b`` by one BLAS call (``adds_bias``; ``out`` C-contiguous rows). Returns ``out``."""
    out[...] = bias
    (trans_a, lda), (trans_b, ldb) = _layout(a), _layout(b)
    M, K = a.shape
    _gemm(a.dtype.char)(_ROW_MAJOR, trans_a, trans_b, M, b.shape[1], K, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb,
                        1.0, out.ctypes.data, out.strides[0] // out.itemsize)
    return out


def over_blocks(batch, per_block, work):
    """``work(first, last)`` on runs of whole blocks of ``per_block`` of the batch's samples (``at_once``)."""
    at_once(-(-batch // per_block), lambda first, last: work(first * per_block, min(batch, last * per_block)))


def blocks(first, last, per_block):
    """The (start, stop) sample ranges of the blocks from ``first`` to ``last``."""
    return ((start, min(last, start + per_block)) for start in range(first, last, per_block))


SMALL_KERNEL = 10 ** 6
"""Multiply-adds (M N K) up to which OpenBLAS's SkylakeX sgemm runs a product with its small-matrix kernel, which
does not pack its operands (``sgemm_small_kernel_permit``)."""


@functools.cache
def _small_kernel():
    """Whether NumPy's OpenBLAS runs on SkylakeX kernels, which have the small-matrix sgemm."""
    import ctypes
    from .._runtime import _openblas
    found = _openblas()
    corename = None if found is None else getattr(found[0], f"{found[1]}_get_corename{found[2]}", None)
    if corename is None:
        return False
    corename.restype = ctypes.c_char_p
    return corename() == b"SkylakeX"


def _block(array, narrow, inner, total):
    """Rows or columns per block of a product whose narrow side is ``narrow`` (at most 32) and inner dimension
    ``inner``: small enough for OpenBLAS's small-matrix kernel, where NumPy's OpenBLAS has it and runs one thread;
    else ``total`` (the product stays whole)."""
    block = SMALL_KERNEL // max(inner * narrow, 1) // 16 * 16
    if (type(array) is not numpy.ndarray or array.dtype != numpy.float32 or narrow > 32 or not 16 <= block < total
            or not _small_kernel()):
        return total
    controls = _controls()
    return block if controls is not None and controls[0]() == 1 else total   # the blocks run on one thread


def row_blocks(a, b_shape, out):
    """``a @ b`` into ``out`` (``b`` of ``b_shape``) as the (rows of ``a``, rows of ``out``) pairs to multiply: one
    pair, or, for float32 with a narrow ``b`` (``_block``), blocks of rows. A recurrent step's W_hh h (a (4096, 1024)
    weight, a (1024, 20) state) is then 0.85x the time of one product, which packs the whole weight again every step
    (measured, hidden 256-2048 at batch 10-32: 0.4-0.9x; at batch 64-100 the blocks lose)."""
    block = _block(a, b_shape[1], b_shape[0], a.shape[0])
    return [(a[i:i + block], out[i:i + block]) for i in range(0, a.shape[0], block)]


def column_ranges(a_shape, b):
    """The (start, stop) column ranges of ``b`` (..., k, n) to multiply ``a @ b`` by, ``a`` of ``a_shape``: the
    whole, or, for float32 with few rows of ``a`` (``_block``), blocks of columns (a (20, 1024) state times a
    gate's transposed (1024, 1024) weight: 0.67x the time of the batched product)."""
    n = b.shape[-1]
    block = _block(b, a_shape[0], a_shape[1], n)
    return [(j, min(j + block, n)) for j in range(0, n, block)]


@functools.cache
def fused_axpy(char):
    """NumPy's OpenBLAS ``cblas_saxpy`` (``char`` "f") or ``cblas_daxpy`` ("d") as a ctypes function where it computes
    ``y + alpha * x`` with one rounding, as PyTorch's add kernel does (OpenBLAS's kernels for CPUs with FMA; checked
    once on a probe with tails against an exact fused multiply-add), else None. It skips ``alpha == 0``, where
    ``0 * inf`` must still give NaN: callers pass other alphas only."""
    import ctypes
    from ._cephes import fma
    from ._samplers import fma64
    function, size = _cblas("axpy", char)
    if function is None:
        return None
    function.argtypes = [size, ctypes.c_float if char == "f" else ctypes.c_double, ctypes.c_void_p, size,
                         ctypes.c_void_p, size]
    function.restype = None
    rng = numpy.random.default_rng(0)
    for n in (*range(1, 40), 1000):
        x, y = (rng.standard_normal(n).astype(char) for _ in range(2))
        alpha = numpy.dtype(char).type(rng.standard_normal())
        expected = fma(x, alpha, y) if char == "f" else fma64(x, float(alpha), y)
        function(n, float(alpha), x.ctypes.data, 1, y.ctypes.data, 1)
        if not numpy.array_equal(y.view(f"u{y.itemsize}"), expected.view(f"u{y.itemsize}")):
            return None
    return function
