"""Float32 softmax and log_softmax over the last dim with PyTorch's bits: ATen's CPU lastdim kernels
(SoftMaxKernel.cpp, AVX-512 build) in NumPy. Per row they take the max, exp(x - max) by SLEEF's expf (u10, not the
libm or MKL exp of torch.exp), the sum of those with ``vec::reduce_all`` (16-lane vectors added one after another,
the lanes then folded in halves), and multiply by the sum's reciprocal; log_softmax gives (x - max) - log(sum), the
log by SLEEF's logf.

Fused multiply-adds are computed in float64 and rounded once to float32; that differs from the fused result only
where the float64 rounding lands on a float32 tie (not met in the tests' millions of elements).
"""
import numpy

_f32 = numpy.float32
_f64 = numpy.float64
LANES = 16   # float32 lanes of the AVX-512 vectors the kernel runs on (torch.backends.cpu.get_cpu_capability())

_INV_LN2 = _f32(1.442695040888963407359924681001892137426645954152985934135449406931)
_MINUS_LN2_HIGH, _MINUS_LN2_LOW = _f32(-0.693145751953125), _f32(-1.428606765330187045e-06)   # -ln 2 in two parts
_POLYNOMIAL = tuple(_f32(c) for c in (0.000198527617612853646278381, 0.00139304355252534151077271,
                                      0.00833336077630519866943359, 0.0416664853692054748535156,
                                      0.166666671633720397949219, 0.5))
_UNDERFLOW = _f32(-104.0)   # SLEEF's expf is 0 below this
_FLOOR = _f32(-110.0)   # inputs below it computed as it (their results are 0 anyway), NaN kept
_BLOCK = 32768   # elements exp_sleef computes at a time
# The emulated exp costs ~15 times NumPy's (~8 ns an element at one thread): softmax of (64, 10) 9.7 -> 51 us (NumPy
# calls), (2048, 128) 0.46 -> 2.5 ms, (8192, 64) 1.2 -> 5.2 ms. Classifier-sized inputs take it; larger ones
# (attention) keep NumPy's exp and sum (their bits differ from PyTorch's in ~50 % of elements, by an ulp or two).
MOST = 1 << 16


def _round(wide, narrow):
    """``wide`` (float64) rounded to float32 into ``narrow``, and back: the one rounding of a fused multiply-add whose
    product of two float32 is exact in float64."""
    numpy.copyto(narrow, wide, casting="same_kind")
    numpy.copyto(wide, narrow)


def exp_sleef(d):
    """SLEEF's float32 expf (u10) of ``d`` (at most 0 here, so overflow is never met): exp(r) * 2**q where
    q = round(d / ln 2) and r = d - q ln 2 (ln 2 in two parts), exp(r) by its degree-7 polynomial. Computed in
    blocks whose scratch stays in cache (twice as fast as whole arrays at attention's sizes)."""
    d = numpy.ascontiguousarray(d)
    result = numpy.empty_like(d)
    flat, out = d.reshape(-1), result.reshape(-1)
    size = min(_BLOCK, d.size)
    scratch = (numpy.empty(size, _f32), numpy.empty(size, _f32), numpy.empty(size, _f64), numpy.empty(size, _f64),
               numpy.empty(size, numpy.int32), numpy.empty(size, numpy.int32), numpy.empty(size, bool))
    with numpy.errstate(invalid="ignore"):   # a NaN's exponent cast to int (its result stays NaN)
        for start in range(0, d.size, _BLOCK):
            stop = min(start + _BLOCK, d.size)
            _exp_block(flat[start:stop], out[start:stop], *(array[:stop - start] for array in scratch))
    return result


def _exp_block(d, u, q, s, wide, s_wide, whole, half, under):
    """``exp_sleef`` of the 1-d block ``d`` into ``u``, with the scratch arrays of its size (``wide`` and ``s_wide``
    float64, ``whole`` and ``half`` int32)."""
    numpy.maximum(d, _FLOOR, out=u)   # (u holds the clipped input until the polynomial): no overflow, no -inf cast
    numpy.multiply(u, _INV_LN2, out=q)
    numpy.rint(q, out=q)
    numpy.copyto(whole, q, casting="unsafe")
    numpy.multiply(q, _MINUS_LN2_HIGH, out=s_wide, dtype=_f64)
    s_wide += u
    _round(s_wide, s)
    numpy.multiply(q, _MINUS_LN2_LOW, out=wide, dtype=_f64)
    s_wide += wide
    _round(s_wide, s)
    wide.fill(_POLYNOMIAL[0])
    for coefficient in _POLYNOMIAL[1:]:
        wide *= s_wide
        wide += coefficient
        _round(wide, u)
    numpy.multiply(s, s, out=q)   # s * s rounded to float32, then the last fused step (s * s) * u + s
    wide *= q
    wide += s_wide
    numpy.copyto(u, wide, casting="same_kind")
    u += _f32(1)
    numpy.right_shift(whole, 1, out=half)   # u * 2**q as two powers of two, float32s built from exponent bits
    whole -= half
    half += 127
    whole += 127
    numpy.left_shift(half, 23, out=half)
    numpy.left_shift(whole, 23, out=whole)
    u *= half.view(_f32)
    u *= whole.view(_f32)
    numpy.less(d, _UNDERFLOW, out=under)
    numpy.copyto(u, 0, where=under)


def lane_sum(rows, tail=None):
    """The sums of ``rows`` (2-D, summed along the last axis) in ``vec::reduce_all``'s order: 16-lane vectors added
    one after another, a partial last vector into its first lanes, then the lanes folded in halves; rows shorter
    than a vector are summed one element after another. ``tail``: a pair (a, b) whose products a * b are that
    partial last vector, each added to its lane with one rounding (a fused multiply-add), after ``rows``."""
    count = rows.shape[-1]
    if count < LANES:
        total = rows[:, 0].copy()
        for k in range(1, count):
            total += rows[:, k]
        return total
    whole = count - count % LANES
    if whole <= 64 * LANES:   # adds of whole slices: NumPy's reduce over a middle axis costs several times more
        lanes = rows[:, :LANES] + rows[:, LANES:2 * LANES] if whole > LANES else rows[:, :LANES].copy()
        for start in range(2 * LANES, whole, LANES):
            lanes += rows[:, start:start + LANES]
    else:
        lanes = numpy.add.reduce(rows[:, :whole].reshape(rows.shape[0], whole // LANES, LANES), axis=1)
    if whole < count:   # NumPy adds along a non-inner axis one slice after another: the kernel's order
        lanes[:, :count - whole] += rows[:, whole:]
    if tail is not None and tail[0].shape[1]:
        part = lanes[:, :tail[0].shape[1]]
        part[...] = (tail[0].astype(_f64) * tail[1] + part).astype(_f32)
    width = LANES
    while width > 1:
        width //= 2
        lanes = lanes[:, :width] + lanes[:, width:2 * width]
    return lanes[:, 0]


def _fma(a, b, c):
    """a * b + c of float32 values, rounded once to float32 (through float64, as ``exp_sleef``'s steps)."""
    return (numpy.multiply(a, b, dtype=_f64) + c).astype(_f32)


def _two_sum(x, y):
    """x + y as a float32 pair (sum, error): SLEEF's dfadd2 of two floats."""
    total = x + y
    v = total - x
    return total, (x - (total - v)) + (y - v)


def log_sleef(d):
    """SLEEF's float32 logf (u10, its AVX-512 build) of positive finite ``d``: d = m 2**e with m in [0.75, 1.5), then
    2 atanh((m - 1) / (m + 1)) + e ln 2 in pairs of floats (the quotient by one division and fused corrections)
    with a degree-3 polynomial in its square; NaN stays NaN. One value a row, so its cost does not matter."""
    d = numpy.asarray(d, _f32)
    with numpy.errstate(all="ignore"):
        e = (numpy.frexp(d * _f32(1 / 0.75))[1] - 1).astype(_f32)   # getexp: floor(log2(d * 4/3))
        m = (numpy.frexp(d)[0] * 2).astype(_f32)   # getmant into [0.75, 1.5)
        m = numpy.where(m >= 1.5, m * _f32(0.5), m)
        one = numpy.ones_like(m)
        top, top_error = _two_sum(-one, m)
        bottom, bottom_error = _two_sum(one, m)
        reciprocal = one / bottom
        x = top * reciprocal   # the quotient (x, x_error) by dfdiv
        correction = _fma(-bottom_error, reciprocal, _fma(-bottom, reciprocal, one))
        x_error = _fma(x, correction, _fma(top_error, reciprocal, _fma(reciprocal, top, -x)))
        x2 = x * x
        t = _fma(_fma(numpy.full_like(x2, _LOG_POLYNOMIAL[0]), x2, _LOG_POLYNOMIAL[1]), x2, _LOG_POLYNOMIAL[2])
        high = _LN2_PAIR[0] * e   # e ln 2 as a pair, plus 2 x, plus x**3 t
        low = _fma(_LN2_PAIR[1], e, _fma(_LN2_PAIR[0], e, -high))
        total = high + 2 * x
        error = (((high - total) + 2 * x) + low) + 2 * x_error
        w = (x2 * x) * t
        final = total + w
        return final + (((total - final) + w) + error)


_LOG_POLYNOMIAL = (_f32(0.3027294874), _f32(0.3996108174), _f32(0.6666694880))
_LN2_PAIR = (_f32(0.69314718246459960938), _f32(-1.904654323148236017e-09))


def _shifted_exp(a):
    """(a - row max, exp of it, the rows' sums of those) for ``a`` as rows of its last dim."""
    rows = a.reshape(-1, a.shape[-1])
    shifted = rows - rows.max(axis=1, keepdims=True)
    exp = exp_sleef(shifted)
    return shifted, exp, lane_sum(exp)


def softmax_lastdim(a):
    """softmax of float32 ``a`` (non-empty, at least 1-d) over its last dim, with PyTorch's bits."""
    _, exp, total = _shifted_exp(a)
    exp *= (_f32(1) / total)[:, None]
    return exp.reshape(a.shape)


def log_softmax_lastdim(a):
    """log_softmax of float32 ``a`` (non-empty, at least 1-d) over its last dim, with PyTorch's bits: (a - max) - log
    of the row's sum by SLEEF's logf."""
    shifted, _, total = _shifted_exp(a)
    shifted -= log_sleef(total)[:, None]
    return shifted.reshape(a.shape)


def softmax_backward_lastdim(grad, result):
    """softmax's input gradient (grad - sum(grad * result)) * result over the last dim, with PyTorch's bits: its sum
    multiplies and adds whole vectors, but fuses the partial last vector's multiply-add (GCC contracts it)."""
    g, y = grad.reshape(-1, grad.shape[-1]), result.reshape(-1, result.shape[-1])
    count = g.shape[1]
    whole = count - count % LANES
    if whole == 0:
        total = lane_sum(g * y)
    else:
        products = g[:, :whole] * y[:, :whole]
        total = lane_sum(products, tail=(g[:, whole:], y[:, whole:]))
    out = g - total[:, None]
    out *= y
    return out.reshape(result.shape)


def log_softmax_backward_lastdim(grad, result):
    """log_softmax's input gradient grad - exp(result) * sum(grad) over the last dim, with PyTorch's bits: SLEEF's
    exp, the 16-lane sum, and one fused multiply-subtract."""
    g, y = grad.reshape(-1, grad.shape[-1]), result.reshape(-1, result.shape[-1])
    wide = exp_sleef(y).astype(_f64)
    wide *= -lane_sum(g).astype(_f64)[:, None]
    wide += g
    return wide.astype(_f32).reshape(result.shape)


def applies(a, dim):
    """Whether ``a`` (the op's input array) takes this path: a non-empty float32 NumPy array of at most ``MOST``
    elements, over its last dim."""
    return type(a) is numpy.ndarray and a.dtype == _f32 and a.ndim and dim == a.ndim - 1 and 0 < a.size <= MOST
