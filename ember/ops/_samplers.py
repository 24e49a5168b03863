"""PyTorch's CPU sampling kernels on NumPy: the same engine outputs, consumed in the same order, through the
same float constructions and transforms, so each function returns PyTorch's values bit for bit.

Each function takes an ``Engine`` and a count and returns a flat host array in the order PyTorch's kernel
visits elements. Transcendentals that PyTorch takes from the C library in float64 (``log1p``, ``log``, ``exp``,
``tan``) come from Python's ``math`` (the same library); NumPy's own versions differ in the last bit.
"""
import math
import threading

import numpy

from . import _cephes
from ._drawing import draw_blocks
from ._mt19937 import join64

_CHUNK = 1 << 14   # Box-Muller pairs per step: the kernel's scratch stays in the L2 cache
_BLOCK = 1 << 16   # values per block of the simpler samplers
_LONG_LOG = numpy.finfo(numpy.longdouble).nmant >= 63
_EIGHT_WORDS = numpy.dtype((numpy.void, 32))
_DIGITS = {numpy.dtype(numpy.float16): 11, numpy.dtype(numpy.float64): 53}   # bfloat16: 8, float32: 24


def _digits(np_dtype):
    np_dtype = numpy.dtype(np_dtype)
    return _DIGITS.get(np_dtype, 8 if np_dtype.name == "bfloat16" else 24)


def _libm(function, values):
    """The C library's float64 ``function`` applied to each value (via Python's math module)."""
    return numpy.fromiter(map(function, values.tolist()), numpy.float64, len(values))


def _log(values):
    """The C library's float64 ``log`` of each value. Where NumPy's long double has x87's 64-bit significand, its
    ``log`` rounded to float64 is taken wherever it lies within 0.47 ulp of that float64: glibc's log is within
    0.52 ulp of the exact value, so it returns the same one; the few values nearer a midpoint (~6 %), and powers of
    two, whose ulp below is smaller, go through ``math.log``."""
    if not _LONG_LOG:
        return _libm(math.log, values)
    wide = numpy.log(values.astype(numpy.longdouble))
    out = wide.astype(numpy.float64)
    off = numpy.abs((wide - out).astype(numpy.float64))
    unsure = off > 0.47 * numpy.spacing(numpy.abs(out))
    unsure |= out.view(numpy.int64) & ((1 << 52) - 1) == 0
    unsure = numpy.flatnonzero(unsure)
    out[unsure] = _libm(math.log, values[unsure])
    return out


def _draw_words(engine, double):
    """A draw of n values' words: n 32-bit outputs, or for double, 2n (each pair one 64-bit output)."""
    return (lambda n: engine.words(2 * n)) if double else engine.words


def _units_into(words, out):
    """[0, 1) values of ``words`` into ``out``: float32 from the low 24 bits of each word, float64 from the low 53
    bits of each pair's 64-bit output (the first word its high half) as ``hi * 2**-21 + lo * 2**-53``, exact."""
    if out.dtype == numpy.float64:
        pairs = words.reshape(-1, 2)
        numpy.bitwise_and(pairs[:, 0], numpy.uint32(0x1FFFFF), out=pairs[:, 0])
        numpy.multiply(pairs[:, 0], 2.0 ** -21, out=out)
        out += pairs[:, 1] * 2.0 ** -53
    else:
        numpy.bitwise_and(words, numpy.uint32(0xFFFFFF), out=words)
        out[...] = words
        out *= numpy.float32(2.0 ** -24)


def _host(n, np_dtype, out):
    """``out`` (a flat array of n ``np_dtype`` elements to write the samples into), or a new array for them."""
    return numpy.empty(n, np_dtype) if out is None else out


def unit(engine, n, np_dtype, out=None):
    """``uniform_real_distribution(0, 1)``: [0, 1) from the low 24 bits of one 32-bit output (in float32, also
    for float16 and bfloat16) or, for float64, the low 53 bits of one 64-bit output; into ``out`` if given."""
    double = np_dtype == numpy.float64
    out = _host(n, numpy.float64 if double else numpy.float32, out)
    draw_blocks(_draw_words(engine, double), n, _BLOCK, lambda start, stop, words: _units_into(words, out[start:stop]))
    return out


def fma64(a, b, c):
    """``a * b + c`` in float64 rounded once, as an FMA instruction computes it: the product split exactly
    (Dekker), the sum split exactly (Knuth's two-sum), and the pieces added smallest first. Scalars ``b`` and
    ``c`` near float64's maximum are scaled down by a power of two first (exact), as the split would overflow."""
    if numpy.ndim(b) == 0 and numpy.ndim(c) == 0 and max(abs(b), abs(c)) >= 2.0 ** 990:
        return fma64(a, b * 2.0 ** -64, c * 2.0 ** -64) * 2.0 ** 64
    split = 134217729.0 * a
    a_hi = split - (split - a)
    split = 134217729.0 * b
    b_hi = split - (split - b)
    p = a * b
    p_err = ((a_hi * b_hi - p) + a_hi * (b - b_hi) + (a - a_hi) * b_hi) + (a - a_hi) * (b - b_hi)
    s = p + c
    back = s - p
    s_err = (p - (s - back)) + (c - back)
    return s + (s_err + p_err)


def _exact_sums(span, low):
    """Whether ``x * span + low`` is exact in float64 for every float32 uniform ``x = k * 2**-24``: the sum is a
    multiple of ``2**g`` (g the lowest bit ``x * span`` or ``low`` can have) below ``2**(top + 1)``, so it has at
    most ``top + 1 - g`` significant bits."""
    exponents = [math.frexp(v)[1] for v in (float(span), float(low)) if v != 0]
    if len(exponents) < 2:
        return True
    lowest = min(exponents[0] - 48, exponents[1] - 24)
    return max(exponents) + 1 - lowest <= 53


def uniform(engine, n, np_dtype, low, high, out=None):
    """``uniform_(low, high)``: ``x * (high - low) + low`` fused, in float32 (float64 for float64 tensors); into
    ``out`` (float32 or float64) if given."""
    double = np_dtype == numpy.float64
    if (low, high) == (0.0, 1.0):   # x * 1 + 0 is x
        values = unit(engine, n, np_dtype, out)
    else:
        values = _host(n, numpy.float64 if double else numpy.float32, out)
        start_at = low if double else numpy.float32(low)
        span = high - low if double else numpy.float32(high) - start_at
        exact = not double and _exact_sums(span, start_at)

        def block(start, stop, words):
            x = values[start:stop]
            _units_into(words, x)
            if exact:   # the float64 sum is exact, so its cast to float32 is the one rounding
                numpy.add(numpy.multiply(x, span, dtype=numpy.float64), start_at, out=x, casting="unsafe")
            else:
                x[...] = fma64(x, span, start_at) if double else _cephes.fma(x, span, start_at)
        draw_blocks(_draw_words(engine, double), n, _BLOCK, block)
    values = values.astype(np_dtype, copy=False)
    if numpy.dtype(np_dtype).itemsize == 2:   # float16, bfloat16: a value rounded up to ``high`` becomes ``low``
        low, high = numpy.array([low, high]).astype(np_dtype)
        values[values >= high] = low
    return values


def _box_muller_rows(kernel, words, out, mean, std):
    """PyTorch's AVX2 ``normal_fill_16`` on rows of 16 words (int32): the first 8 of a row give radii, the last 8
    angles, and the row becomes 8 cosine then 8 sine normals in ``out`` (float32, the words' length)."""
    pairs = len(words) // 2
    halves = words.view(_EIGHT_WORDS).reshape(-1, 2)       # de-interleave rows as 32-byte items
    first, second, radius, sin, cos = (a[:pairs] for a in kernel.rows)
    first.view(_EIGHT_WORDS)[:] = halves[:, 0]
    second.view(_EIGHT_WORDS)[:] = halves[:, 1]
    kernel.radius(first.view(numpy.int32), radius)
    kernel.sincos(second.view(numpy.int32), sin, cos)
    numpy.multiply(radius, cos, out=cos)
    numpy.multiply(radius, sin, out=sin)
    rows = out.view(_EIGHT_WORDS).reshape(-1, 2)
    rows[:, 0] = cos.view(_EIGHT_WORDS)
    rows[:, 1] = sin.view(_EIGHT_WORDS)
    if (mean, std) != (0, 1):
        _scale_shift(out, std, mean)
    elif radius.min() == 0:   # n * 1 + 0 is n, but for -0 (a zero radius times a negative sine or cosine): +0
        numpy.add(out, numpy.float32(0), out=out)


def _lowest_bit(value):
    """The exponent of a nonzero float's lowest set bit."""
    numerator, denominator = float(value).as_integer_ratio()
    return (numerator & -numerator).bit_length() - denominator.bit_length()


def _exact_from(std, mean):
    """The float32 bits of the smallest ``|v|`` from which ``v * std + mean`` is exact in float64 for every float32
    normal ``v`` (``|v| < 6``: the largest radius is sqrt(-2 log 2**-24) < 5.8), or None if ``mean``'s own low bits
    lie too far below the largest sum. With ``|v| >= 2**k`` the product's lowest bit is at least
    ``2**(k - 23 + low(std))``, and every sum lies below ``2**top``: 53 bits hold it when that bit and ``mean``'s
    lowest are at least ``2**(top - 53)``."""
    if std == 0 or mean == 0:
        return 0
    top = math.frexp(6 * abs(float(std)) + abs(float(mean)))[1] + 1
    if _lowest_bit(mean) < top - 53:
        return None
    k = top - 30 - _lowest_bit(std)
    return 0 if k <= -126 else None if k > 127 else (k + 127) << 23


def _scale_shift(values, std, mean):
    """``values * std + mean`` in place with one rounding (float32): a plain float64 sum cast to float32 when no
    value is small enough for the sum to be inexact (``_exact_from``), else the general fused multiply-add."""
    smallest = _exact_from(std, mean)
    if smallest is not None and (smallest == 0
                                 or numpy.bitwise_and(values.view(numpy.int32), 0x7FFFFFFF).min() >= smallest):
        numpy.add(numpy.multiply(values, std, dtype=numpy.float64), mean, out=values, casting="unsafe")
    else:
        values[...] = _cephes.fma(values, std, mean)


class _RowKernel(_cephes.Kernel):
    """The float32 kernel's scratch plus the de-interleaved halves and results of a chunk of rows."""

    def __init__(self, pairs):
        super().__init__(pairs)
        self.rows = [numpy.empty(pairs, t) for t in (numpy.uint32, numpy.uint32, numpy.float32, numpy.float32,
                                                      numpy.float32)]


_scratch = threading.local()


def _kernel():
    """This thread's ``_RowKernel`` for a chunk (kept: each thread of the pool fills chunks with its own)."""
    kernel = getattr(_scratch, "kernel", None)
    if kernel is None:
        kernel = _scratch.kernel = _RowKernel(_CHUNK)
    return kernel


def _box_muller_16_generic(block, mean, std):
    """PyTorch's scalar ``normal_fill_16`` in float64 (C library log, cos, sin)."""
    u1 = 1 - block[:, :8]
    radius = numpy.sqrt(-2 * _log(u1.ravel()).reshape(u1.shape))
    theta = 2.0 * math.pi * block[:, 8:]
    normals = numpy.concatenate([radius * numpy.cos(theta), radius * numpy.sin(theta)], 1)
    if (mean, std) == (0.0, 1.0):   # n * 1 + 0 is n, but -0 (a zero radius times a negative cosine) becomes +0
        return numpy.add(normals, 0.0, out=normals)
    return fma64(normals, std, mean)


def normal_fill(engine, n, np_dtype, mean, std, out=None):
    """``normal_`` of a contiguous tensor of n >= 16 elements: uniforms for all of it, Box-Muller over blocks of
    16, and, when 16 does not divide n, 16 fresh uniforms recomputing the last 16 values; into ``out`` (float32
    or float64) if given."""
    whole = n // 16 * 16
    if np_dtype == numpy.float64:
        data = _host(n, numpy.float64, out)

        def rows(start, stop, words):
            block = data[start:stop]
            _units_into(words, block)
            block[...] = _box_muller_16_generic(block.reshape(-1, 16), float(mean), float(std)).ravel()
        draw_blocks(_draw_words(engine, True), whole, _BLOCK, rows)
        engine.words(2 * (n - whole))   # the uniforms of a partial last block, drawn and never used
        if whole != n:
            data[n - 16:] = _box_muller_16_generic(unit(engine, 16, numpy.float64).reshape(1, 16), float(mean),
                                                   float(std)).ravel()
        return data
    # float16 and bfloat16 take the float32 kernel and round its results; they draw uniforms for whole blocks
    # only, float32 for all n elements before the blocks
    mean, std = numpy.float32(mean), numpy.float32(std)
    data = _host(n, numpy.float32, out)

    def rows(start, stop, words):
        _box_muller_rows(_kernel(), words.view(numpy.int32), data[start:stop], mean, std)
    draw_blocks(engine.words, whole, 2 * _CHUNK, rows)
    if numpy.dtype(np_dtype).itemsize != 2:
        engine.words(n - whole)
    if whole != n:
        _box_muller_rows(_kernel(), engine.words(16).view(numpy.int32), data[n - 16:], mean, std)
    return data.astype(np_dtype, copy=False)


def normal_serial(engine, n, mean=0.0, std=1.0):
    """``normal_distribution<double>`` drawn n times: Box-Muller pairs of float64 uniforms, the cosine value
    first and the sine value cached in the engine for the next draw (possibly the next call's)."""
    out = numpy.empty(n, numpy.float64)
    start = 0
    if n and engine.normal_double is not None:
        out[0], engine.normal_double, start = engine.normal_double, None, 1
    pairs = (n - start + 1) // 2
    if pairs:
        u = unit(engine, 2 * pairs, numpy.float64).reshape(pairs, 2)
        r = numpy.sqrt(-2.0 * _libm(math.log1p, -u[:, 1]))
        theta = 2.0 * math.pi * u[:, 0]
        both = numpy.stack([r * numpy.cos(theta), r * numpy.sin(theta)], 1).ravel()
        out[start:] = both[:n - start]
        if (n - start) % 2:
            engine.normal_double = float(both[-1])
    return fma64(out, float(std), float(mean)) if (mean, std) != (0.0, 1.0) else out


def from_to(engine, n, low, span):
    """``random_(low, low + span)``: the output modulo span plus low, from one 32-bit output when span < 2**28
    and one 64-bit output otherwise; int64 values (wrapping as in C)."""
    wide = span >= 1 << 28
    out = numpy.empty(n, numpy.uint64)
    modulus, offset = (numpy.uint64 if wide else numpy.uint32)(span), numpy.uint64(low & (2 ** 64 - 1))

    def block(start, stop, words):
        raw = join64(words) if wide else words
        numpy.remainder(raw, modulus, out=raw)
        numpy.add(raw, offset, out=out[start:stop])
    draw_blocks(_draw_words(engine, wide), n, _BLOCK, block)
    return out.view(numpy.int64)


def full_range(engine, n):
    """``random_`` over all of int64: one 64-bit output reinterpreted."""
    return engine.words64(n).view(numpy.int64)


def default_int(engine, n, np_dtype):
    """``random_()`` with no bounds: [0, max] of an integer dtype, [0, 2**digits] of a float dtype."""
    if np_dtype == numpy.bool_:
        return engine.words(n) & numpy.uint32(1)
    if np_dtype.kind == "f" or np_dtype.name == "bfloat16":
        top = (1 << _digits(np_dtype)) + 1
    else:
        top = int(numpy.iinfo(np_dtype).max) + 1
    wide = np_dtype in (numpy.float64, numpy.int64)
    raw = engine.words64(n) if wide else engine.words(n).astype(numpy.uint64)
    return (raw % numpy.uint64(top)).astype(numpy.int64)


def randperm(engine, n):
    """PyTorch's CPU ``randperm``: a forward Fisher-Yates shuffle on 32-bit outputs below n = 2**32 / 20,
    the inside-out variant on 64-bit outputs above."""
    if n < 0xFFFFFFFF // 20:
        offsets = (engine.words(max(n - 1, 0)) % numpy.arange(n, 1, -1, dtype=numpy.uint32)).tolist()
        perm = list(range(n))
        for i, z in enumerate(offsets):
            j = z + i
            perm[i], perm[j] = perm[j], perm[i]
        return numpy.array(perm, numpy.int64)
    picks = (engine.words64(n) % numpy.arange(1, n + 1, dtype=numpy.uint64)).tolist()
    perm = [0] * n
    for i, z in enumerate(picks):
        perm[i] = perm[z]
        perm[z] = i
    return numpy.array(perm, numpy.int64)


def bernoulli(engine, p, float32_p=False):
    """0/1 draws ``uniform < p`` per element of the float64 array ``p``; float32 uniforms (one 32-bit output
    each) when PyTorch reads ``p`` as float32, float64 ones otherwise."""
    if float32_p:
        return unit(engine, p.size, numpy.float32) < p.astype(numpy.float32)
    return unit(engine, p.size, numpy.float64) < p


_BERNOULLI_BLOCK = 1 << 16
"""Draws per block of ``bernoulli_scalar``: the block's words (512 kB) and masks stay in cache, and no array of the
draws' size is made (a fresh one of megabytes faults its pages in on every call)."""


def bernoulli_scalar(engine, n, p, out=None, one=None):
    """``bernoulli(engine, full(n, p))`` without the floats: the float64 uniform k * 2**-53 (k the low 53 bits of a
    64-bit output) is below p exactly when the integer k is below ceil(p * 2**53), compared in 32-bit halves.
    Returns a bool array, or with ``out`` (a flat float array of n elements) writes ``one`` (a scalar of its dtype,
    1 by default) where the draw is 1 and 0 elsewhere, into it."""
    threshold = math.ceil(p * 2.0 ** 53)
    high_threshold, low_threshold = numpy.uint32(threshold >> 32), numpy.uint32(threshold & 0xFFFFFFFF)
    if out is None:
        out = numpy.empty(n, bool)
    elif one is None:
        one = out.dtype.type(1)
    block = max(1, min(n, _BERNOULLI_BLOCK))
    high, keep = numpy.empty(block, numpy.uint32), numpy.empty(block, bool)
    for start in range(0, n, block):
        stop = min(start + block, n)
        words = engine.words(2 * (stop - start))
        h = numpy.bitwise_and(words[0::2], numpy.uint32(0x1FFFFF), out=high[:stop - start])
        k = numpy.less(h, high_threshold, out=out[start:stop] if one is None else keep[:stop - start])
        tie = numpy.flatnonzero(h == high_threshold)
        if tie.size:
            k[tie] = words[1::2][tie] < low_threshold
        if one is not None:
            numpy.multiply(k, one, out=out[start:stop])
    return out


def exponential(engine, n, lambd):
    """``exponential_``: ``-1 / lambda * log1p(-u)`` of float64 uniforms."""
    return (-1.0 / lambd) * _libm(math.log1p, -unit(engine, n, numpy.float64))


def geometric(engine, n, p):
    """``geometric_``: ``ceil(log(u) / log(1 - p))`` of float64 uniforms."""
    return numpy.ceil(_log(unit(engine, n, numpy.float64)) / math.log(1.0 - p))


def cauchy(engine, n, median, sigma):
    """``cauchy_``: ``median + sigma * tan(pi * (u - 0.5))`` of float64 uniforms."""
    return median + sigma * _libm(math.tan, math.pi * (unit(engine, n, numpy.float64) - 0.5))


def log_normal(engine, n, mean, std):
    """``log_normal_``: ``exp`` of ``normal_distribution<double>(mean, std)`` draws (sharing its cache)."""
    return _libm(math.exp, normal_serial(engine, n, mean, std))


class _Tape:
    """Float64 uniforms for samplers that consume a data-dependent count: drawn ahead in blocks, then ``close``
    leaves the engine exactly where drawing only the used ones would have."""

    def __init__(self, engine):
        self.engine, self.start, self.values, self.used = engine, engine.position(), [], 0

    def __call__(self):
        if self.used == len(self.values):
            self.values += unit(self.engine, max(256, len(self.values)), numpy.float64).tolist()
        self.used += 1
        return self.values[self.used - 1]

    def close(self):
        self.engine.rewind(self.start)
        self.engine.words(2 * self.used)


def _poisson_one(uniform, lam):
    """PyTorch's ``sample_poisson``: Hormann's transformed rejection for rates >= 10, products of uniforms
    below."""
    if lam == 0:
        return 0
    if lam < 10:
        limit, count, product = math.exp(-lam), 0, 1.0
        while True:
            product *= uniform()
            if product <= limit:
                return count
            count += 1
    slam, loglam = math.sqrt(lam), math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = uniform() - 0.5
        v = uniform()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1):
            return k


_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k):
    """log(k!) minus its Stirling approximation: a table to 9, the series beyond (float64)."""
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _log0(x):
    """C's ``log``: -inf at 0 (Python's raises)."""
    return math.log(x) if x > 0 else -math.inf


def _binomial_inversion(count, prob, uniform, rnd):
    """Counts geometric waiting times (float64 uniforms) until they pass ``count``."""
    logprob = rnd(math.log1p(-prob))
    geom_sum, num_geom = 0.0, 0.0
    while True:
        geom_sum += math.ceil(_log0(uniform()) / logprob) if logprob else math.inf
        if geom_sum > count:
            return num_geom
        num_geom += 1


def _btrs(count, prob, uniform, rnd):
    """Hormann's transformed rejection with squeeze (as PyTorch adapts it, without one log), for count * prob >= 10;
    ``rnd`` rounds the steps PyTorch computes in the input's precision."""
    stddev = rnd(math.sqrt(rnd(rnd(count * prob) * rnd(1 - prob))))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = rnd(count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = rnd(prob / rnd(1 - prob))
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor(rnd(rnd(count + 1) * prob))
    while True:
        u = uniform() - 0.5
        v = uniform()
        us = 0.5 - abs(u)
        k = rnd(math.floor((2 * a / us + b) * u + c))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = _log0(v * alpha / (a / (us * us) + b))
        count_less_k = rnd(count - k)
        upperbound = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                      + rnd(count + 1) * math.log((count - m + 1) / rnd(count_less_k + 1))
                      + (k + 0.5) * math.log(r * rnd(count_less_k + 1) / rnd(k + 1))
                      + _stirling_tail(m) + _stirling_tail(count - m)
                      - _stirling_tail(k) - _stirling_tail(count_less_k))
        if v <= upperbound:
            return k


def _binomial_one(count, prob, uniform, rnd):
    """PyTorch's ``sample_binomial``: inversion below 10 expected successes (of the rarer outcome), BTRS above."""
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        if rnd(count * prob) >= 10.0:
            return _btrs(count, prob, uniform, rnd)
        return _binomial_inversion(count, prob, uniform, rnd)
    if prob > 0.5:
        qprob = rnd(1.0 - prob)
        if rnd(count * qprob) >= 10.0:
            return rnd(count - _btrs(count, qprob, uniform, rnd))
        return rnd(count - _binomial_inversion(count, qprob, uniform, rnd))
    return math.nan


def binomial(engine, counts, probs, single):
    """``binomial``: one ``sample_binomial`` per (count, prob) pair, in order, from float64 uniforms. ``single``:
    float32 inputs, whose own arithmetic rounds to float32 there (the rest runs in float64). A NaN count gives NaN
    (PyTorch's loop does not end)."""
    tape = _Tape(engine)
    rnd = (lambda x: float(numpy.float32(x))) if single else (lambda x: x)
    try:
        samples = numpy.array([math.nan if count != count else _binomial_one(count, prob, tape, rnd)
                               for count, prob in zip(counts.tolist(), probs.tolist())], numpy.float64)
    finally:
        tape.close()
    return samples


_THIRD32 = float(numpy.float32(1.0) / numpy.float32(3.0))   # 1.0f / 3.0f
_SQUEEZE = float(numpy.float32(0.0331))                      # 0.0331f


def _gamma_one(alpha, single, uniform, normal):
    """PyTorch's ``sample_gamma``: Marsaglia and Tsang's rejection method, alpha below 1 boosted by a uniform's
    power. ``alpha`` is a float32 value when ``single`` (its arithmetic then rounds to float32, as there); the rest
    runs in float64."""
    f32 = numpy.float32
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0:
            return 0.0
        exponent = float(f32(1.0) / f32(alpha)) if single else 1.0 / alpha
        scale *= math.pow(1 - uniform(), exponent)
        alpha = float(f32(alpha) + f32(1.0)) if single else alpha + 1.0
    d = float(f32(alpha) - f32(_THIRD32)) if single else alpha - _THIRD32
    c = 1.0 / math.sqrt(9.0 * d) if d > 0 else math.nan   # alpha below -2/3: C's sqrt gives NaN, and so the sample
    while True:
        while True:
            x = normal()
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1 - uniform()
        xx = x * x
        if u < 1.0 - _SQUEEZE * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def gamma(engine, alphas, single):
    """``_standard_gamma``: one ``sample_gamma`` per alpha, in order, drawing float64 uniforms and
    ``normal_distribution<double>`` samples (Box-Muller pairs, the sine value cached in the engine) from one
    stream. ``single``: the alphas are float32 (PyTorch's float kernel). NaN alphas give NaN (PyTorch's loop
    does not end)."""
    tape = _Tape(engine)

    def normal():
        if engine.normal_double is not None:
            value, engine.normal_double = engine.normal_double, None
            return value
        u1, u2 = tape(), tape()
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        engine.normal_double = r * math.sin(theta)
        return r * math.cos(theta)
    try:
        samples = numpy.array([math.nan if alpha != alpha else _gamma_one(alpha, single, tape, normal)
                               for alpha in alphas.tolist()], numpy.float64)
    finally:
        tape.close()
    return samples


def poisson(engine, rates):
    """``poisson``: one ``sample_poisson`` per rate, in order."""
    tape = _Tape(engine)
    samples = numpy.array([_poisson_one(tape, lam) for lam in rates.tolist()], numpy.float64)
    tape.close()
    return samples
