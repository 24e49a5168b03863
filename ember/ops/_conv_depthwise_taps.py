"""The weight gradient of a depthwise convolution as one dot product per channel and kernel tap.

A tap's gradient is the sum over the batch and positions of the input, shifted by the tap's offset, times the output
gradient. Laid out per channel as one flat row across the batch, with zeros between rows and between samples standing
for the padding (a row of W + pw, a sample of H + ph rows: the right padding of one row is the left padding of the
next), every shift of the input is a view of that row, so each tap is one dot of two contiguous rows of N (H + ph)
(W + pw) elements: 9 reads of each element for a 3x3 kernel, against the banded products' Rb Wp / 9 = 11x the useful
multiply-adds over 32x32 maps. The rows are laid out a few channels at a time into scratch that stays in cache while
the taps read it.
"""
from . import _buffers, _parallel

MIN_WIDTH = 16
"""Narrowest input rows taken here: over narrower maps the copies into rows of a few elements cost as much as the
banded products they replace (one thread, batch 32: 192 channels on 8x8 1.27 against 1.10 ms, 576 on 4x4 1.20 against
1.55)."""

STRIDED_WIDTH = 32
"""Narrowest input rows taken here at a stride over 1: the output gradient is laid out at every stride-th place of
rows as wide as the input's, so the dots multiply (stride)^2 times the useful products, fewer than the bands' over
wide rows (batch 32, stride 2, one thread: 96 channels on 32x32 7.0 -> 6.5 ms, 32 on 64x64 21 -> 7.5 where the rows
are too wide for bands; 144 on 16x16 1.8 against 2.4)."""

CHUNK_BYTES = 1 << 20
"""Bytes of the two laid-out rows of the channels a block takes at once, about this core's L2: fewer channels a block
make more calls (each tap a call per block), more leave the cache (one thread, batch 32, channels a block: 32 channels
on 32x32 1 / 2 / 4 / 8: 2.6 / 2.4 / 2.3 / 2.2 ms, 144 on 16x16 4 / 8 / 16: 3.2 / 2.9 / 3.5, 192 on 8x8 8 / 16: 1.3 /
1.2)."""


def applies(x_shape, g_shape, stride, padding, dilation, kernel):
    """Whether the weight gradient of a depthwise convolution of x (N, G, *s) with g (N, G, *out) is taken here:
    1-D or 2-D, one output channel per input, padding within the kernel's reach, rows ``MIN_WIDTH`` wide (times the
    stride's elements per output: ``STRIDED_WIDTH``)."""
    return (len(kernel) in (1, 2) and g_shape[1] == x_shape[1]
            and all(p <= d * (k - 1) for p, d, k in zip(padding, dilation, kernel))
            and x_shape[-1] >= (MIN_WIDTH if all(s == 1 for s in stride) else STRIDED_WIDTH) and all(x_shape)
            and all(g_shape))


def weight_grad(xp, x, g, stride, padding, dilation, kernel):
    """Rows (G, K) of the sums of x_k * g over positions and batch for each tap k (``applies``), or None where one is
    not finite: the dots multiply the zeros standing for the padding by the input's elements, so an infinity or NaN
    there would spread to taps that never meet it (as PyTorch's kernel has them); the caller then takes the
    per-offset form."""
    N, G = x.shape[:2]
    (H, W), (Ho, Wo) = _two(x.shape[2:]), _two(g.shape[2:])
    (sh, sw), (ph, pw), (dh, dw), (kh, kw) = _two(stride), _two(padding, 0), _two(dilation), _two(kernel)
    x, g = x.reshape(N, G, H, W), g.reshape(N, G, Ho, Wo)
    R, rows = W + pw, H + ph
    L = N * rows * R
    offsets = [i * dh * R + j * dw for i in range(kh) for j in range(kw)]
    length = L + offsets[-1]   # the last tap reads that far; the input's first element sits pw in
    block = max(1, CHUNK_BYTES // ((L + length) * x.dtype.itemsize))
    sums = xp.empty((G, len(offsets)), x.dtype)

    def run(first, last):   # blocks first:last; a channel's place in its block never depends on the threads
        scratch = _buffers.empty(xp, (block, L + length), x.dtype)
        for start in range(first * block, min(G, last * block), block):
            stop = min(G, start + block)
            flat = scratch[:stop - start]
            flat[...] = 0
            grads, inputs = flat[:, :L], flat[:, L:]
            grads.reshape(-1, N, rows, R)[:, :, :(Ho - 1) * sh + 1:sh, :(Wo - 1) * sw + 1:sw] = \
                g[:, start:stop].transpose(1, 0, 2, 3)
            inputs[:, pw:pw + L].reshape(-1, N, rows, R)[:, :, ph:, :W] = x[:, start:stop].transpose(1, 0, 2, 3)
            for k, offset in enumerate(offsets):
                xp.matmul(grads[:, None], inputs[:, offset:offset + L, None], out=sums[start:stop, k, None, None])
    _parallel.parts(-(-G // block), G * L * len(offsets), run)
    return sums if bool(xp.isfinite(sums).all()) else None


def _two(values, fill=1):
    """Per-dim values of a 1-D convolution as those of a 2-D one of height 1 (2-D ones as they are)."""
    return (fill,) * (2 - len(values)) + tuple(values)
