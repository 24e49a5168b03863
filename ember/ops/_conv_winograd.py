"""Winograd F(2x2, 3x3) convolutions: 3x3, stride-1, ungrouped 2-D convolutions on NumPy with 2.25x fewer
multiplications than columns (im2col) take.

The output is cut into 2x2 tiles, each computed from a 4x4 tile d of the padded input as
y = A^T [(G w G^T) * (B^T d B)] A (Lavin and Gray, 2016): with the 16 positions of the transformed 4x4 tiles as a
batch, the channel sums are 16 matmuls (O x C) @ (C x tiles), over a quarter of the output positions and a ninth of
the columns' rows. The input's transform is adds and subtracts of whole arrays, from the input split by row and
column parity (so every tile's rows are contiguous), as in ``_transformed_input``; the others are a small matrix
times the stacked tiles (``_transform``).

The two gradients are the adjoints of the same maps: with the output gradient's tiles transformed as A g A^T
(``transformed_grad``, shared by both), the weight gradient is G^T [sum over tiles of (A g A^T) * (B^T d B)] G
(16 matmuls (O x tiles) @ (tiles x C)) and the input gradient adds B [(G w G^T) * (A g A^T)] B^T back over the
overlapping input tiles. Float round-off differs from the columns' path (the transforms add and halve), within the
dtype's tolerance of PyTorch's results.
"""
import numpy

from . import _blas, _buffers, _parallel

B_T = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))
"""The input tile transform B^T (rows: transformed positions; columns: tile positions)."""
G = ((1, 0, 0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0, 0, 1))
"""The kernel transform G (4 x 3)."""
A_T = ((1, 1, 1, 0), (0, 1, -1, -1))
"""The output tile transform A^T (2 x 4)."""

MIN_CHANNELS = 128
"""Fewest input and output channels: the transforms' passes grow with the channels and the matmuls they save with
their product, so thinner convolutions run faster on columns (measured at one thread: a (100, 32, 26, 26) input to
64 channels takes 1.3x the columns' time, (8, 64, 56, 56) to 64 channels 0.85x, 128 channels at 28x28 0.77x), and
faster still a block of samples at a time (``_conv_blocked``; forward and both gradients, one thread: (8, 64, 56, 56)
to 64 channels 80.3 ms here against 73.5 there, two threads 45.4 against 39.6; (32, 64, 16, 16) to 128 47.8 against
46.2; at 128 channels on 28x28 maps Winograd's 52.8 against 64.4)."""
MIN_SIZE = 10
"""Fewest output rows and columns: the grid of 2x2 tiles (one more each way, see ``_transformed_input``) holds 1.56x
an 8x8 map's positions and 2x a 7x7 one's (forward and gradients at one thread, against the columns: 512 channels
at 7x7 1.3x; 256 at 8x8 0.92x, but ResNet-18's 64-channel 8x8 stage at batch 32 made its step no faster; 256 at
14x14 0.85x)."""


FORWARD_MIN_CHANNELS = 64
"""Fewest input and output channels for a forward that no weight gradient follows (an evaluation: nothing is kept
for the gradients, whose passes set ``MIN_CHANNELS``), over maps of ``FORWARD_MIN_SIZE`` or more. One thread, forward
alone, against the path they took before (ms): (8, 64, 56, 56) to 64 channels 26.8 -> 21.4 (ResNet-18-224's first
stage), (8, 96, 56, 56) to 64 40.4 -> 28.1, (16, 128, 32, 32) to 64 34.4 -> 25.8, (4, 64, 112, 112) to 64 55.8 ->
43.1, batch 1 at 56x56 2.76 -> 2.25."""
FORWARD_MIN_SIZE = 24
"""Fewest output rows and columns for ``FORWARD_MIN_CHANNELS``: over smaller maps the tiles' extra row and column
cost what the products save, and from 16x16 down ``_conv_winograd_tiles`` takes them (one thread, 64 -> 64 channels
at batch 32: 17x17 9.7 -> 10.1 ms, 24x24 17.7 -> 17.1, 32x32 at batch 16 16.5 -> 13.9)."""


def applies(xp, weight_shape, stride, padding, dilation, groups, input_shape, dtype, forward_only=False):
    """Whether a convolution of ``weight_shape`` over an input of ``input_shape`` (N, C, H, W) runs here; with
    ``forward_only``, its forward with no weight gradient to follow (thinner convolutions too)."""
    if xp is not numpy or len(weight_shape) != 4 or tuple(weight_shape[2:]) != (3, 3) or groups != 1:
        return False
    if any(s != 1 for s in stride) or any(d != 1 for d in dilation) or numpy.dtype(dtype).char not in "fd":
        return False
    out, channels = [s + 2 * p - 2 for s, p in zip(input_shape[2:], padding)], min(weight_shape[:2])
    thin = forward_only and channels >= FORWARD_MIN_CHANNELS and min(out) >= FORWARD_MIN_SIZE
    return input_shape[0] > 0 and (thin or channels >= MIN_CHANNELS and min(out) >= MIN_SIZE)


def _tiles(size, padding):
    """The number of 2x2 output tiles along each spatial dim (the last one may hang over the output's edge)."""
    return tuple((s + 2 * p - 1) // 2 for s, p in zip(size, padding))


def _parity(first_offset, pad, size, count):
    """For the padded positions 2i + ``first_offset`` (i < ``count``), the slice of the input positions they take
    and the slice of the i's that take them (the rest fall in the padding)."""
    first = (first_offset - pad) % 2
    start = (first + pad - first_offset) // 2
    n = max(0, min(count - start, (size - first + 1) // 2))
    return slice(first, first + 2 * n, 2), slice(start, start + n)


def _split(x, padding, grid):
    """x (N, C, H, W) padded and split by parity: planes (2, 2, C, N, *grid) with planes[a, b][c, n, i, j] the
    padded x[n, c, 2i + a, 2j + b] (zero in the padding and beyond); in parts of the channels at once."""
    N, C, H, W = x.shape
    planes = _buffers.empty(numpy, (2, 2, C, N) + tuple(grid), x.dtype)
    moved = x.swapaxes(0, 1)
    cuts = _plane_cuts(padding, (H, W), grid)

    def split(start, stop):
        planes[:, :, start:stop] = 0
        for plane, (rows, columns) in zip(planes.reshape((4,) + planes.shape[2:]), cuts):
            plane[start:stop, :, rows[1], columns[1]] = moved[start:stop, :, rows[0], columns[0]]
    _parallel.parts(C, planes.size, split)
    return planes


def _plane_cuts(padding, size, grid):
    """For each of the four parity planes (a, b) in order, the ``_parity`` row and column slices of an input of
    spatial ``size`` and ``padding`` on a grid of ``grid`` positions."""
    return [(_parity(a, padding[0], size[0], grid[0]), _parity(b, padding[1], size[1], grid[1])) for a in range(2)
            for b in range(2)]


def _joined(planes, target, padding):
    """The inverse of ``_split``: the planes' elements that are not padding written into ``target`` (N, C, H, W),
    in parts of the channels at once."""
    moved = target.swapaxes(0, 1)
    cuts = _plane_cuts(padding, target.shape[2:], planes.shape[4:])

    def join(start, stop):
        for plane, (rows, columns) in zip(planes.reshape((4,) + planes.shape[2:]), cuts):
            moved[start:stop, :, rows[0], columns[0]] = plane[start:stop, :, rows[1], columns[1]]
    _parallel.parts(moved.shape[0], target.size, join)
    return target


def _signed_sum(out, terms):
    """out = s * a + t * b for the two (sign, array) terms of a row of B^T (+1 and -1 signs, never both -1)."""
    (s, a), (t, b) = sorted(terms, key=lambda term: -term[0])
    return (numpy.add if t > 0 else numpy.subtract)(a, b, out=out)


def _shifted(flat, shift, length):
    """The ``length`` elements of a flat array from ``shift`` on."""
    return flat[..., shift:shift + length]


def _transformed_input(x, padding, tiles):
    """B^T d B of every 4x4 tile d of the padded x (N, C, H, W), as (16, C, N * (th + 1) * (tw + 1)) for the
    matmuls: every array here keeps a grid one tile longer than the tiles along each dim, so that moving a tile
    row or column down is a shift of the flat array (whole-array passes instead of short rows); the extra tiles
    hold finite values that only meet zeros (see ``transformed_grad``) and are cut from the output. In parts of the
    channels at once, each reading and writing its own channels' range of the flat arrays (the extra tiles at a
    part's end are zero rather than shifted in from the next channel)."""
    C = x.shape[1]
    grid = (tiles[0] + 1, tiles[1] + 1)
    flat = _split(x, padding, grid).reshape(2, 2, -1)
    length, row = flat.shape[2], grid[1]
    per_channel = length // C
    rows = _buffers.empty(numpy, (4, 2, length), x.dtype)
    result = _buffers.empty(numpy, (4, 4, length), x.dtype)

    def transform(start, stop):
        start, stop = start * per_channel, stop * per_channel
        span = stop - start
        part, rows_part, result_part = flat[:, :, start:stop], rows[:, :, start:stop], result[:, :, start:stop]
        rows_part[:, :, span - row:] = 0
        for xi in range(4):   # tile row u of the tiles in row i is plane row i + u // 2 of plane u % 2
            for q in range(2):
                _signed_sum(rows_part[xi, q, :span - row],
                            [(sign, _shifted(part[u % 2, q], u // 2 * row, span - row))
                             for u, sign in enumerate(B_T[xi]) if sign])
        result_part[:, :, span - 1:] = 0
        for xi in range(4):
            for nu in range(4):
                _signed_sum(result_part[xi, nu, :span - 1],
                            [(sign, _shifted(rows_part[xi, v % 2], v // 2, span - 1))
                             for v, sign in enumerate(B_T[nu]) if sign])
    _parallel.parts(C, result.size, transform)
    return result.reshape(16, C, -1)


def _transformed_weight(w):
    """G w G^T of every (output, input) channel pair's 3x3 kernel, as (16, O, C)."""
    transformed = numpy.empty((16, w.shape[0] * w.shape[1]), w.dtype)
    return _blas.matmul(_pair(G, w.dtype), w.reshape(-1, 9).T, transformed, short_on_one=True).reshape(
        (16,) + w.shape[:2])


def forward(x, w, padding):
    """y (N, O, *out) of x (N, C, H, W) and w (O, C, 3, 3), and the transformed input (which the weight gradient
    takes as its ``source``)."""
    N, C, H, W = x.shape
    out_channels = w.shape[0]
    tiles = _tiles((H, W), padding)
    source = _transformed_input(x, padding, tiles)
    products = _blas.matmul(_transformed_weight(w), source,
                            _buffers.empty(numpy, (16, out_channels, source.shape[2]), x.dtype), short_on_one=True)
    rows = _transform(_pair(A_T, x.dtype), products.reshape(16, -1), in_place=True)
    y = _buffers.empty(numpy, (N, out_channels, H + 2 * padding[0] - 2, W + 2 * padding[1] - 2), x.dtype)
    moved = y.swapaxes(0, 1)
    grids = rows.reshape(4, out_channels, N, tiles[0] + 1, tiles[1] + 1)

    def place(start, stop):
        for a in range(2):
            for b in range(2):
                target = moved[start:stop, :, a::2, b::2]
                target[...] = grids[2 * a + b, start:stop, :, :target.shape[2], :target.shape[3]]
    _parallel.parts(out_channels, y.size, place)
    return y, source


CHUNK = 8192
"""Positions per block where a transform is a matmul (``_transform``): a block of its (16, positions) operand stays
in cache while the product reads it (one matmul over all positions ran 1.8x slower, ~1.5x the in-place passes)."""


def _pair(matrix, dtype):
    """M (x) M: the transform of a tile's flattened elements that M applies along both of its axes (for G, the
    (16, 9) matrix that takes a kernel's 9 weights to its transformed 16)."""
    return numpy.kron(numpy.array(matrix, dtype), numpy.array(matrix, dtype))


def _transform(matrix, stacked, in_place=False):
    """matrix (r, k) @ stacked (k, positions) in blocks of ``CHUNK`` positions: a transform with the tiles' elements
    as rows (each result row is a few adds and subtracts of whole rows, read once). Into a pooled array, or with
    ``in_place`` (r <= k) into stacked's first r rows, each block through a cache-sized temporary: one scratch
    array of the stack's size less held at the step's peak. The blocks run in parts at once, each product on one
    BLAS thread."""
    positions = stacked.shape[1]
    result = stacked[:matrix.shape[0]] if in_place else _buffers.empty(numpy, (matrix.shape[0], positions),
                                                                       stacked.dtype)

    def blocks(first, last):
        for start in range(first * CHUNK, min(last * CHUNK, positions), CHUNK):
            block = slice(start, start + CHUNK)
            if in_place:   # through a temporary: the product reads the rows it would overwrite
                result[:, block] = numpy.matmul(matrix, stacked[:, block])
            else:
                numpy.matmul(matrix, stacked[:, block], out=result[:, block])
    with _blas.small_products(0):
        _parallel.parts(-(-positions // CHUNK), stacked.size, blocks)
    return result


class Transformed:
    """An output gradient as ``transformed_grad`` gives it, ``tiles`` (16, O, N * (th + 1) * (tw + 1)): its type
    tells it from the columns' moved gradient where a convolution's two gradients share one."""

    __slots__ = ("tiles",)

    def __init__(self, tiles):
        self.tiles = tiles


def transformed_grad(g, size, padding):
    """A g A^T of every 2x2 tile of the output gradient g (N, O, *out) of an input of spatial ``size`` and
    ``padding``, as ``Transformed``: what both gradients take. The tiles hanging over the output's edge read zeros,
    and the extra tiles of the grid are zero, so the finite values the transformed input holds there add nothing."""
    th, tw = _tiles(size, padding)
    planes = _split(g, (0, 0), (th + 1, tw + 1))
    return Transformed(_transform(_pair(A_T, g.dtype).T, planes.reshape(4, -1)).reshape(16, g.shape[1], -1))


def input_grad(g, w, input_shape, padding, transformed=None):
    """Adjoint of ``forward`` in x: B [(G w G^T) * (A g A^T)] B^T of every tile, added back over the overlapping
    4x4 input tiles, as a new array of ``input_shape``; ``transformed``: g as ``transformed_grad`` gives it."""
    N, C, H, W = input_shape
    tiles = _tiles((H, W), padding)
    grid = (tiles[0] + 1, tiles[1] + 1)
    transformed = transformed_grad(g, (H, W), padding) if transformed is None else transformed
    products = _blas.matmul(_transformed_weight(w).swapaxes(1, 2), transformed.tiles,
                            _buffers.empty(numpy, (16, C, transformed.tiles.shape[2]), g.dtype), short_on_one=True)
    elements = _transform(_pair(B_T, g.dtype).T, products.reshape(16, -1), in_place=True)   # B dV B^T per tile
    length = elements.shape[1]
    per_channel = length // C
    planes = _buffers.empty(numpy, (2, 2, length), g.dtype)

    def gather(first, last):   # the planes of channels first..last-1 (their elements, and shifts from before them)
        start, stop = first * per_channel, last * per_channel
        for p in range(2):
            for q in range(2):
                # tile element (u, v) of the tile at (i, j) is element (i + u // 2, j + v // 2) of plane
                # (u % 2, v % 2); the extra tiles are zero, so what a shift carries past a row's end adds nothing
                for u, v in ((p, q), (p + 2, q), (p, q + 2), (p + 2, q + 2)):
                    shift = u // 2 * grid[1] + v // 2
                    begin = max(start, shift)
                    target, source = planes[p, q, begin:stop], elements[4 * u + v, begin - shift:stop - shift]
                    if shift == 0:
                        numpy.copyto(target, source)
                    else:
                        target += source
    _parallel.parts(C, planes.size, gather)
    return _joined(planes.reshape((2, 2, C, N) + grid), _buffers.empty(numpy, input_shape, g.dtype), padding)


def weight_grad(x, g, weight_shape, padding, source=None, transformed=None):
    """Adjoint of ``forward`` in w: G^T [sum over tiles of (A g A^T) * (B^T d B)] G, as a new array of
    ``weight_shape``; ``source``: x transformed as ``forward`` kept it; ``transformed``: g as ``transformed_grad``
    gives it."""
    tiles = _tiles(x.shape[2:], padding)
    source = _transformed_input(x, padding, tiles) if source is None else source
    transformed = transformed_grad(g, x.shape[2:], padding) if transformed is None else transformed
    sums = _blas.matmul(transformed.tiles, source.swapaxes(1, 2),   # (16, O, C)
                        numpy.empty((16,) + tuple(weight_shape[:2]), numpy.result_type(transformed.tiles, source)),
                        short_on_one=True)
    result = _buffers.empty(numpy, weight_shape, sums.dtype)
    _blas.matmul(sums.reshape(16, -1).T, _pair(G, sums.dtype), result.reshape(-1, 9), short_on_one=True)
    return result
