"""Convolutions by discrete Fourier transforms: stride-1, ungrouped 2-D convolutions of kernels of 5x5 and larger over
small maps, on NumPy, with a fraction of the multiplications that columns (im2col) take.

Along each spatial dim, an input padded to length n and correlated with a kernel of k taps gives the n - k + 1
outputs of the circular correlation of period n that wrap nothing, so per frequency of the 2-D transform the sums
over the input channels are one complex matmul: Y = X conj(W)^T, (N x C) @ (C x O). The transforms are dense DFT
matrices applied as matmuls (the maps are small: a 14x14 map padded to 18x18): a real one along the last dim to half
its spectrum (real and imaginary parts interleaved, so that the product is a complex view), then a complex one along
the other; the inverses the same way back, evaluated only at the positions wanted. The padding is never built: the
forward transform's rows start at its offset.

The gradients are the adjoints of the same maps. The input gradient is G W per frequency, (N x O) @ (O x C),
evaluated at the unpadded positions; the weight gradient the sum over the batch of conj(G)^T X, (O x N) @ (N x C),
evaluated at the kernel's taps. Conjugates are folded into the transform matrices: the forward keeps the input's
spectrum conjugated, which is the weight gradient's operand as it is, so no spectrum is conjugated element by element.

Each output sums every frequency and each frequency every position, so round-off differs from the columns' path
(within the dtype's tolerance of PyTorch's results; a 5x5 convolution of 16 channels had half the float32 error of
PyTorch's own against float64), and a non-finite element would reach every output: conv.py sends convolutions of
non-finite operands down the columns' path, as Winograd's.
"""
import functools
import math

import numpy

from . import _blas, _buffers

BLOCK_BYTES = 1 << 21
"""Bytes of a block's spectra at most (a block holds one sample at least): each block of samples goes through its
transforms and products while they stay in a core's cache, blocks at once on the intra-op threads (a 5x5
convolution of 16 to 32 channels over 14x14 maps, batch 100, forward and both gradients at one / two threads: 15.4 /
12.8 ms with the whole batch through each step in turn, 15.0 / 11.5 in four blocks)."""
BALANCE = 4
"""Blocks come in multiples of this many, of equal size: one thread's share of the blocks is no larger than
another's on two or four threads, and the blocks are the same on any number of threads (the same bits)."""
MIN_TAPS = 25
"""Fewest kernel taps (5x5): the transforms cost the same whatever the kernel, which 3x3 kernels (left to Winograd's
tiles and the columns) do not repay (forward and both gradients against the other paths, one thread: 1.1-1.9x on
ResNet-18's and VGG's 3x3 layers over 4x4-26x26 maps, 4.9x for 256 channels on 14x14, 0.8x only for 32 to 32 on
16x16)."""
MIN_SUMS = 2.5
"""Fewest multiply-adds of the columns' path per output (input channels times taps) per padded row and column of the
map: each output costs a few complex multiply-adds per padded row and column in the transforms (measured at one
thread, forward and both gradients against the columns: 16 to 32 channels on 14x14 maps (400 sums per 36) 0.46x,
8 to 16 on 32x32 (200 per 72) 0.58x, 6 to 16 on 14x14 unpadded (150 per 28) 1.03x, 3 to 6 on 32x32 (75 per 64)
1.24x, 1 to 16 on 28x28 (25 per 64) 3.6x)."""
MIN_BLOCK = 2
"""Fewest samples whose spectra fit in ``BLOCK_BYTES``: a 64 to 64 channel convolution over 56x56 maps (a sample a
block) took 1.24x the columns' time."""
MAX_PAIRS = 3072
"""Most channel pairs (input times output channels) per sample of a block: the products per frequency are (block x
C) @ (C x O), far below the columns' rate when the block is thin beside C and O (measured at one thread, forward and
both gradients: 5x5, 256 to 256 channels, batch 8, 14x14: 214-275 ms against the columns' 143; 128 to 128 on 8x8, 12
samples a block: 0.68x the columns'; 32 to 64 on 32x32, 3 a block: 0.58x)."""


def applies(xp, weight_shape, stride, padding, dilation, groups, input_shape, dtype):
    """Whether a convolution of ``weight_shape`` over an input of ``input_shape`` (N, C, H, W) runs here."""
    if xp is not numpy or len(weight_shape) != 4 or groups != 1 or numpy.dtype(dtype).char not in "fd":
        return False
    if any(s != 1 for s in stride) or any(d != 1 for d in dilation) or math.prod(weight_shape[2:]) < MIN_TAPS:
        return False
    periods = _periods(input_shape[2:], padding)
    out = [n - k + 1 for n, k in zip(periods, weight_shape[2:])]
    frequencies = periods[0] * (periods[1] // 2 + 1)
    block = min(input_shape[0], _per_block(frequencies, sum(weight_shape[:2]), 2 * numpy.dtype(dtype).itemsize))
    return (min(input_shape) > 0 and min(out) >= 1
            and weight_shape[1] * math.prod(weight_shape[2:]) >= MIN_SUMS * sum(periods)
            and block >= MIN_BLOCK and weight_shape[0] * weight_shape[1] <= MAX_PAIRS * block)


def _periods(size, padding):
    """The transforms' period along each spatial dim: the padded input's length."""
    return tuple(s + 2 * p for s, p in zip(size, padding))


def _complex(dtype):
    """The complex dtype of a real one's spectra (complex64 for float32, complex128 for float64)."""
    return numpy.result_type(dtype, numpy.complex64)


@functools.lru_cache(maxsize=128)
def _half_spectrum(n, start, count, conjugate, char):
    """(count, 2 * (n // 2 + 1)) real: ``count`` elements at ``start``.. of a signal of period n to its half spectrum,
    real and imaginary parts interleaved (the conjugate's, if ``conjugate``)."""
    angles = -2 * numpy.pi * numpy.outer(numpy.arange(start, start + count), numpy.arange(n // 2 + 1)) / n
    matrix = numpy.stack((numpy.cos(angles), numpy.sin(angles) * (-1 if conjugate else 1)), axis=-1)
    return _fixed(matrix.reshape(count, -1).astype(char))


@functools.lru_cache(maxsize=128)
def _spectrum_matrix(n, start, count, conjugate, char):
    """(n, count) complex: ``count`` elements at ``start``.. of a signal of period n to its spectrum (conjugated)."""
    matrix = numpy.exp(-2j * numpy.pi * numpy.outer(numpy.arange(n), numpy.arange(start, start + count)) / n)
    return _fixed((matrix.conj() if conjugate else matrix).astype(_complex(char)))


@functools.lru_cache(maxsize=128)
def _inverse_matrix(n, start, count, conjugate, char):
    """(count, n) complex: a spectrum of period n (conjugated, if ``conjugate``) to its signal's ``count`` elements
    at ``start``.. (conjugated)."""
    matrix = numpy.exp(2j * numpy.pi * numpy.outer(numpy.arange(start, start + count), numpy.arange(n)) / n) / n
    return _fixed((matrix.conj() if conjugate else matrix).astype(_complex(char)))


@functools.lru_cache(maxsize=128)
def _real_inverse(n, start, count, conjugated, char):
    """(2 * (n // 2 + 1), count) real: a half spectrum of period n, interleaved (of the conjugate, if
    ``conjugated``), to its real signal's ``count`` elements at ``start``..: the other half is the first's mirror
    image, so every frequency but 0 and n / 2 counts twice."""
    frequencies = numpy.arange(n // 2 + 1)
    weights = numpy.where((frequencies == 0) | (2 * frequencies == n), 1.0, 2.0)[:, None] / n
    angles = 2 * numpy.pi * numpy.outer(frequencies, numpy.arange(start, start + count)) / n
    imaginary = weights * numpy.sin(angles) * (1 if conjugated else -1)
    return _fixed(numpy.stack((weights * numpy.cos(angles), imaginary), axis=1).reshape(-1, count).astype(char))


def _fixed(matrix):
    """A cached matrix, read-only (every convolution of its geometry shares it)."""
    matrix.flags.writeable = False
    return matrix


class _Scratch:
    """A block's temporaries, carved from one pooled buffer that every block a thread runs reuses (fresh arrays of
    half a megabyte are mapped from the OS page by page on every call)."""

    def __init__(self, nbytes):
        # each array starts on a 64-byte boundary: room for the rounding of a block's few arrays
        self.buffer = _buffers.empty(numpy, (max(nbytes + 1024, _buffers.MIN_BYTES),), numpy.uint8)
        self.used = 0

    def array(self, shape, dtype):
        """An uninitialised array of the buffer's next free bytes (a fresh one where they run out)."""
        dtype = numpy.dtype(dtype)
        size = math.prod(shape) * dtype.itemsize
        if self.used + size > self.buffer.size:
            return numpy.empty(shape, dtype)
        array = self.buffer[self.used:self.used + size].view(dtype).reshape(shape)
        self.used += -(-size // 64) * 64
        return array


def _blockwise(N, per_block, work, nbytes):
    """``work(start, stop, scratch)`` on equal blocks of at most ``per_block`` of the N samples, a multiple of
    ``BALANCE`` of them where there is more than one, at once on the intra-op threads, each thread's blocks sharing
    one ``_Scratch`` of ``nbytes``."""
    count = -(-N // per_block)
    if count > 1:
        count = min(N, -(-count // BALANCE) * BALANCE)
    size = -(-N // count)

    def run(first, last):
        scratch = _Scratch(nbytes)
        for start, stop in _blas.blocks(first, last, size):
            scratch.used = 0
            work(start, stop, scratch)
    _blas.over_blocks(N, size, run)


def _per_block(frequencies, channels, itemsize):
    """Samples a block holds: as many as keep its spectra (of ``channels`` in all) within ``BLOCK_BYTES``."""
    return max(1, BLOCK_BYTES // (frequencies * channels * itemsize))


def _spectra(a, periods, starts, conjugate=False, then=None, channels=0):
    """The 2-D half spectrum of a (N, C, h, w) real array placed at ``starts`` in a signal of ``periods``, as
    (nh * (nw // 2 + 1), N, C) complex: frequencies first, the channel matmuls' layout (conjugated, if
    ``conjugate``). A block of samples at a time; ``then(spectrum, start, stop, scratch)`` runs on each block right
    after its spectrum is written (while it is in cache), with blocks sized for ``channels`` more in its spectra."""
    N, C = a.shape[:2]
    spectrum = _buffers.empty(numpy, (periods[0] * (periods[1] // 2 + 1), N, C), _complex(a.dtype))
    per_block = _per_block(spectrum.shape[0], C + channels, spectrum.itemsize)

    def work(start, stop, scratch):
        _block_spectrum(a[start:stop], periods, starts, conjugate, spectrum, start, scratch)
        if then is not None:
            then(spectrum, start, stop, scratch)
    _blockwise(N, per_block, work, per_block * spectrum.shape[0] * spectrum.itemsize * (2 * C + 3 * channels))
    return spectrum


def _block_spectrum(a, periods, starts, conjugate, spectrum, first, scratch):
    """Writes the half spectrum of the block a (B, C, h, w) into the samples first.. of ``spectrum`` (as
    ``_spectra`` lays it out)."""
    B, C, h, w = a.shape
    (nh, nw), char, kind = periods, a.dtype.char, spectrum.dtype
    half = nw // 2 + 1
    rows = numpy.matmul(a.reshape(-1, w), _half_spectrum(nw, starts[1], w, conjugate, char),
                        out=scratch.array((B * C * h, 2 * half), a.dtype))
    moved = scratch.array((h, half, B, C), kind)
    numpy.copyto(moved, rows.view(kind).reshape(B, C, h, half).transpose(2, 3, 0, 1))
    # one (nh, h) @ (h, B * C) product per column frequency, into the block's samples of each row of the spectrum
    target = spectrum.reshape(nh, half, -1)[:, :, first * C:(first + B) * C].transpose(1, 0, 2)
    numpy.matmul(_spectrum_matrix(nh, starts[0], h, conjugate, char), moved.reshape(h, half, -1).transpose(1, 0, 2),
                 out=target)


def _block_signal(spectrum, periods, starts, out, conjugated, scratch):
    """Writes into ``out`` (B, C, ch, cw) the real elements at ``starts`` of the signal of ``periods`` whose half
    spectrum is ``spectrum`` (nh * (nw // 2 + 1), B, C) (its conjugate, if ``conjugated``), through ``scratch``
    (twice the spectrum's bytes)."""
    _, B, C = spectrum.shape
    (nh, nw), (ch, cw) = periods, out.shape[2:]
    half, char = nw // 2 + 1, out.dtype.char
    rows = numpy.matmul(_inverse_matrix(nh, starts[0], ch, conjugated, char), spectrum.reshape(nh, -1),
                        out=scratch.array((ch, half * B * C), spectrum.dtype))
    moved = scratch.array((B, C, ch, half), spectrum.dtype)
    numpy.copyto(moved, rows.reshape(ch, half, B, C).transpose(2, 3, 0, 1))
    numpy.matmul(moved.view(out.dtype).reshape(-1, 2 * half), _real_inverse(nw, starts[1], cw, conjugated, char),
                 out=out.reshape(-1, cw))


def _block_map(spectrum, weights, periods, starts, out, start, stop, scratch, conjugated=False):
    """out[start:stop] <- the signal (at ``starts``) of the samples start:stop of ``spectrum`` (F, N, C) times
    ``weights`` (F, C, D) per frequency (of its conjugate, if ``conjugated``)."""
    products = numpy.matmul(spectrum[:, start:stop], weights,
                            out=scratch.array((spectrum.shape[0], stop - start, weights.shape[2]), spectrum.dtype))
    _block_signal(products, periods, starts, out[start:stop], conjugated, scratch)


def _products(a, b):
    """a @ b per frequency, (F, m, k) @ (F, k, n): the frequencies in parts at once, each part's matmuls on one BLAS
    thread."""
    F, m, n = a.shape[0], a.shape[1], b.shape[2]
    out = _buffers.empty(numpy, (F, m, n), numpy.result_type(a, b))
    _blas.at_once(F, lambda start, stop: numpy.matmul(a[start:stop], b[start:stop], out=out[start:stop]))
    return out


def _weight_spectrum(w, periods):
    """The spectrum of w (O, C, kh, kw) with its taps at the start of each period, (F, O, C), on one BLAS thread (its
    products are small)."""
    with _blas.small_products(0):
        return _spectra(w, periods, (0, 0))


def forward(x, w, padding):
    """y (N, O, *out) of x (N, C, H, W) and w (O, C, kh, kw), and x's conjugated spectrum (which the weight gradient
    takes as its ``source``)."""
    periods = _periods(x.shape[2:], padding)
    out = tuple(n - k + 1 for n, k in zip(periods, w.shape[2:]))
    y = _buffers.empty(numpy, (x.shape[0], w.shape[0]) + out, x.dtype)
    weights = numpy.ascontiguousarray(_weight_spectrum(w, periods).transpose(0, 2, 1))
    # per block, as soon as its spectrum is written: conj(X) W^T = conj(X conj(W)^T) = conj(Y)
    source = _spectra(x, periods, padding, conjugate=True, channels=w.shape[0], then=lambda spectrum, *block:
                      _block_map(spectrum, weights, periods, (0, 0), y, *block, conjugated=True))
    return y, source


class Transformed:
    """An output gradient as ``transformed_grad`` gives it, ``spectrum`` (F, N, O): its type tells it from the
    columns' moved gradient where a convolution's two gradients share one."""

    __slots__ = ("spectrum",)

    def __init__(self, spectrum):
        self.spectrum = spectrum


def transformed_grad(g, size, padding):
    """The spectrum of the output gradient g (N, O, *out) of an input of spatial ``size`` and ``padding``, its
    elements at the start of each period, as ``Transformed``: what both gradients take."""
    return Transformed(_spectra(g, _periods(size, padding), (0, 0)))


def input_grad(g, w, input_shape, padding, transformed=None):
    """Adjoint of ``forward`` in x: G W per frequency, at the input's positions within the padding, as a new array of
    ``input_shape``; ``transformed``: g as ``transformed_grad`` gives it."""
    periods = _periods(input_shape[2:], padding)
    spectrum = (transformed_grad(g, input_shape[2:], padding) if transformed is None else transformed).spectrum
    weights, result = _weight_spectrum(w, periods), _buffers.empty(numpy, input_shape, g.dtype)
    per_block = _per_block(spectrum.shape[0], sum(weights.shape[1:]), spectrum.itemsize)
    _blockwise(input_shape[0], per_block,
               lambda start, stop, scratch: _block_map(spectrum, weights, periods, padding, result, start, stop,
                                                       scratch),
               per_block * spectrum.shape[0] * spectrum.itemsize * 3 * input_shape[1])
    return result


def weight_grad(x, g, weight_shape, padding, source=None, transformed=None):
    """Adjoint of ``forward`` in w: the sum over the batch of conj(G)^T X per frequency, at the kernel's taps, as a
    new array of ``weight_shape``; ``source``: x's spectrum as ``forward`` kept it; ``transformed``: g as
    ``transformed_grad`` gives it."""
    periods = _periods(x.shape[2:], padding)
    source = _spectra(x, periods, padding, conjugate=True) if source is None else source
    transformed = transformed_grad(g, x.shape[2:], padding) if transformed is None else transformed
    # G^T conj(X) = conj(conj(G)^T X)
    sums = _products(transformed.spectrum.transpose(0, 2, 1), source)
    result = _buffers.empty(numpy, weight_shape, sums.real.dtype)
    with _blas.small_products(0):   # small transforms: on OpenBLAS's threads they waited for each other (a (5, 18)
        # @ (18, 5120) product took 3.9 ms of the main thread's CPU at two threads on a busy host)
        _block_signal(sums, periods, (0, 0), result, conjugated=True, scratch=_Scratch(2 * sums.nbytes))
    return result
