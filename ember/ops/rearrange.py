"""Shape ops that copy: joining, repeating, flipping and rolling, broadcasting, triangles and diagonals, kron/cross."""

from .. import _dtype
from .._tensor import Size, Tensor, _make
from ..autograd.function import Primitive, composite
from . import _buffers, _quantized
from ._inplace import inplace_method
from ._kernel_dtypes import _not_implemented, exact_out_dtype
from ._util import (argument_error, in_suggested_layout, int_arg, name_node, promote, shape_arg, shown_edge,
                    tensor_method, warn_once, wrap_dim, wrap_dims, write_out)
from .shape import (_diagonal_view, _method_with_separate_dims, _view_of_shape, diagonal, expand, flatten,
                    keyword_sizes, reshape, split, transpose, unbind)

__all__ = ["repeat_interleave", "tile", "cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack",
           "dstack", "column_stack", "flip", "fliplr", "flipud", "roll", "rot90", "broadcast_tensors",
           "broadcast_shapes", "atleast_1d", "atleast_2d", "atleast_3d", "meshgrid", "cartesian_prod", "tril", "triu",
           "diag", "diag_embed", "diagflat", "trace", "kron", "block_diag", "cross"]


# --- joining --------------------------------------------------------------------------------------------------------
class Cat(Primitive):
    saved_values = {"dim": lambda node: node.dim}   # PyTorch's saved argument (_saved_dim)

    @staticmethod
    def forward(ctx, *arrays_and_dim):
        *arrays, dim = arrays_and_dim
        # PyTorch still skips 1-d empty tensors whatever the other shapes are.
        ndim = next((a.ndim for a in arrays if a.shape != (0,)), 1)
        ctx.legacy = [a.shape == (0,) and ndim != 1 for a in arrays]
        kept = [a for a, legacy in zip(arrays, ctx.legacy) if not legacy]
        ctx.dim, ctx.sizes = dim, [a.shape[dim] for a in kept]
        if kept and kept[0].ndim and sum(a.size for a in kept) * kept[0].itemsize >= _buffers.MIN_BYTES and \
                len({a.dtype for a in kept}) == 1:   # a large result from the pool, as elementwise kernels' are
            joined = kept[0].shape[:dim] + (sum(ctx.sizes),) + kept[0].shape[dim + 1:]
            return ctx.xp.concatenate(kept, axis=dim, out=_buffers.empty(ctx.xp, joined, kept[0].dtype))
        return ctx.xp.concatenate(kept, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        pieces = iter(split(grad, ctx.sizes, ctx.dim))
        return tuple(grad.new_zeros(0) if legacy else next(pieces) for legacy in ctx.legacy)


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    return list(tensors)


@composite("cat", trace_inside=True)
def cat(tensors, dim=0, *, out=None):
    """Joins tensors along an existing dim ``dim``; dtypes are promoted and other sizes must match."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    if getattr(tensors[0], "is_quantized", False):
        return _quantized.kernels["cat"](tensors, dim)
    for i, tensor in enumerate(tensors):
        if tensor.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    kept = [t for t in tensors if t._data.shape != (0,)] or tensors[:1]
    reference = kept[0]
    dim = wrap_dim(dim, reference.ndim)
    for i, tensor in enumerate(tensors):
        if tensor._data.shape == (0,) and tensor is not reference:
            continue
        if tensor.ndim != reference.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {reference.ndim} and {tensor.ndim}")
        for d in range(reference.ndim):
            if d != dim and tensor.shape[d] != reference.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. Expected size "
                                   f"{reference.shape[d]} but got size {tensor.shape[d]} for tensor number {i} in "
                                   "the list.")
    _check_cat_out(tensors, out)
    if out is not None:
        return write_out(out, Cat.apply(*promote(*tensors), dim), "cat")
    return in_suggested_layout(Cat.apply(*promote(*tensors), dim), kept)


def _check_cat_out(tensors, out):
    """PyTorch's checks of cat's (and stack's) ``out=``: a dtype the inputs' promoted type casts to, and no memory
    shared with an input (written while it is read)."""
    if out is None:
        return
    if not _dtype.can_cast(_dtype.result_type(*tensors), out.dtype):
        raise TypeError(f"torch.cat(): input types can't be cast to the desired output type "
                        f"{_dtype.scalar_type_name(out.dtype)}")
    if out._data.size and any(type(t._data) is type(out._data) and
                              _xp(out).may_share_memory(t._data, out._data) for t in tensors):
        raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to tensor refer "
                           "to a single memory location. Please clone() the tensor before performing the operation.")


concat = concatenate = cat


@composite("stack", trace_inside=True)
def stack(tensors, dim=0, *, out=None):
    """Joins same-shaped tensors along a new dim ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    if not all(isinstance(t, Tensor) and t._data.shape == shape for t in tensors):
        for i, tensor in enumerate(tensors):
            if not isinstance(tensor, Tensor):
                raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(tensor).__name__}")
            if tensor.shape != shape:
                raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                                   f"and {list(tensor.shape)} at entry {i}")
    dim = wrap_dim(dim, len(shape) + 1)
    _check_cat_out(tensors, out)
    return write_out(out, Stack.apply(*promote(*tensors), dim), "stack")


class Stack(Primitive):
    @staticmethod
    def forward(ctx, *arrays_and_dim):
        *arrays, dim = arrays_and_dim
        ctx.dim = dim
        first = arrays[0]
        if len(arrays) * first.size * first.itemsize >= _buffers.MIN_BYTES and len({a.dtype for a in arrays}) == 1 \
                and len({a.shape for a in arrays}) == 1:   # a large result from the pool, as Cat's
            joined = first.shape[:dim] + (len(arrays),) + first.shape[dim:]
            return ctx.xp.stack(arrays, axis=dim, out=_buffers.empty(ctx.xp, joined, first.dtype))
        if dim == 0:   # array() of a list is the quickest stack (DataLoader collates this way for every batch)
            return ctx.xp.array(arrays, dtype=first.dtype)
        return ctx.xp.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return unbind(grad, ctx.dim)


def hstack(tensors, *, out=None):
    """Joins tensors column-wise: along dim 0 for 1-d tensors, dim 1 otherwise."""
    tensors = atleast_1d(*_tensor_list(tensors, "hstack"))
    tensors = [tensors] if isinstance(tensors, Tensor) else tensors
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Joins tensors row-wise (1-d tensors become rows)."""
    tensors = atleast_2d(*_tensor_list(tensors, "vstack"))
    return cat([tensors] if isinstance(tensors, Tensor) else tensors, 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    """Joins tensors depth-wise, along dim 2 (after making them at least 3-d)."""
    tensors = atleast_3d(*_tensor_list(tensors, "dstack"))
    return cat([tensors] if isinstance(tensors, Tensor) else tensors, 2, out=out)


def column_stack(tensors, *, out=None):
    """Joins 0-d and 1-d tensors as columns, and other tensors along dim 1."""
    tensors = [reshape(t, t.numel(), 1) if t.ndim <= 1 else t for t in _tensor_list(tensors, "column_stack")]
    return cat(tensors, 1, out=out)


def _atleast(tensors, shape_of):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast(tuple(tensors[0]), shape_of))
    results = tuple(t if t.ndim >= len(shape_of(t.shape)) else _atleast_view(t, shape_of(t.shape)) for t in tensors)
    return results[0] if len(results) == 1 else results


def _atleast_view(tensor, shape):
    """``tensor`` viewed as ``shape``, shown as PyTorch's nodes: a view of a 0-d tensor, unsqueezes of others."""
    view = _view_of_shape(tensor, shape)
    if view.grad_fn is None:
        return view
    if tensor.ndim == 0:
        return name_node(view, "ViewBackward0")
    inner = tensor if len(shape) - tensor.ndim == 1 else shown_edge("UnsqueezeBackward0", (tensor,))
    return name_node(view, "UnsqueezeBackward0", (inner,))


def atleast_1d(*tensors):
    """The tensors with 0-d ones made 1-d (views); a single tensor comes back alone."""
    return _atleast(tensors, lambda s: s if len(s) >= 1 else (1,))


def atleast_2d(*tensors):
    """The tensors made at least 2-d by leading size-1 dims (views)."""
    return _atleast(tensors, lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + tuple(s))


def atleast_3d(*tensors):
    """The tensors made at least 3-d as NumPy does: (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    def shape_of(s):
        return {0: (1, 1, 1), 1: (1,) + tuple(s) + (1,), 2: tuple(s) + (1,)}.get(len(s), s)
    return _atleast(tensors, shape_of)


# --- copies that rearrange ------------------------------------------------------------------------------------------
class Repeat(Primitive):
    @staticmethod
    def forward(ctx, a, repeats):
        padded = (1,) * (len(repeats) - a.ndim) + a.shape
        ctx.shape, ctx.padded, ctx.repeats = a.shape, padded, repeats
        return ctx.xp.tile(a.reshape(padded), repeats)

    @staticmethod
    def backward(ctx, grad):
        interleaved = tuple(n for pair in zip(ctx.repeats, ctx.padded) for n in pair)
        summed = grad.reshape(interleaved).sum(tuple(range(0, len(interleaved), 2)))
        return summed.reshape(ctx.shape)


def _repeat(input, *repeats, **keywords):
    """The tensor tiled ``repeats[i]`` times along each dim (leading repeats add dims)."""
    if keywords:
        repeats = keyword_sizes(repeats, keywords, "repeats", "repeat")
    if not repeats:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    repeats = shape_arg(repeats)
    if len(repeats) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    if any(r < 0 for r in repeats):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(repeats)}: {list(repeats)}")
    return Repeat.apply(input, repeats)


Tensor.repeat = _repeat
Tensor.repeat.__name__ = "repeat"


@_method_with_separate_dims
def tile(input, dims):
    """The tensor repeated ``dims[i]`` times along each dim; too few dims are padded with leading ones."""
    try:
        counts = (dims,) if isinstance(dims, int) else tuple(dims)
    except TypeError:   # not a sequence: PyTorch's error for the argument
        argument_error()
        raise
    return _repeat(input, (1,) * (input.ndim - len(counts)) + counts)


@tensor_method
@composite("repeat_interleave", batch_inside=True)   # seen whole: tensor repeats are an input of the trace
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated ``repeats`` times (an int or one count per element) along ``dim`` (flattened if None).

    With a single tensor of counts, the indices ``0..n-1`` repeated by those counts.
    """
    from .ranges import arange
    if repeats is None:
        counts = input
        return repeat_interleave(arange(counts.numel(), device=counts.device), counts, 0, output_size=output_size)
    if dim is None:
        input, dim = flatten(input), 0
    dim = wrap_dim(dim, input.ndim)
    size = input.shape[dim] if input.ndim else 1
    xp = _xp(input)
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats.numel() != 1 and repeats.numel() != size:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{repeats.numel()} and input.size({dim}) = {size}")
        counts = repeats._data.reshape(-1)
    else:
        counts = xp.asarray([int_arg(repeats)])
    if (counts < 0).any():
        raise RuntimeError("Repeats must be non-negative")
    index = xp.repeat(xp.arange(size, dtype=xp.int64), counts if counts.shape[0] == size else int(counts[0]))
    if output_size is not None and index.shape[0] != output_size:
        raise RuntimeError("allocated size does not match required size")
    return (input if input.ndim else reshape(input, 1)).index_select(dim, _make(index))


def _xp(tensor):
    from .._backend import xp_of
    return xp_of(tensor._data)


class Flip(Primitive):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return ctx.xp.flip(a, dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims)


def flip(input, dims):
    """A copy with the order of elements reversed along ``dims``."""
    if not isinstance(dims, (tuple, list)):
        argument_error()   # torch.flip takes a tuple only (the method also separate ints, passed here as one)
    dims = wrap_dims((dims,) if isinstance(dims, int) else dims, input.ndim)   # a 0-d input's are -1 and 0
    return Flip.apply(input, dims if input.ndim else ())


_method_with_separate_dims(flip, one_int_as_tuple=True)


@tensor_method
def fliplr(input):
    """A copy with the columns (dim 1) reversed."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@tensor_method
def flipud(input):
    """A copy with the rows (dim 0) reversed."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(Primitive):
    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return ctx.xp.roll(a, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        shifts = -ctx.shifts if isinstance(ctx.shifts, int) else tuple(-s for s in ctx.shifts)
        return Roll.apply(grad, shifts, ctx.dims)


@tensor_method
def roll(input, shifts, dims=None):
    """Elements shifted cyclically by ``shifts`` along ``dims`` (over the flattened tensor when None)."""
    try:
        shifts = tuple(int_arg(s) for s in shifts) if isinstance(shifts, (tuple, list)) else (int_arg(shifts),)
    except (TypeError, ValueError):
        argument_error()
        raise
    if not shifts:
        raise RuntimeError("`shifts` required")
    dims = () if dims is None else (dims,) if isinstance(dims, int) else tuple(dims)
    if not dims and len(shifts) == 1:   # no dims (None or empty): over the flattened tensor, row-major as PyTorch's
        return in_suggested_layout(Roll.apply(input, shifts[0], None), ())
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return in_suggested_layout(Roll.apply(input, shifts, tuple(wrap_dim(d, input.ndim) for d in dims)), (input,))


@tensor_method
def rot90(input, k=1, dims=(0, 1)):
    """A copy rotated by 90 degrees ``k`` times in the plane ``dims``, from the first towards the second dim."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = wrap_dim(dims[0], input.ndim), wrap_dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k = int_arg(k) % 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(transpose(input, d0, d1), (d1,))
    return input.clone()


# --- broadcasting ---------------------------------------------------------------------------------------------------
def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to together."""
    given = [(s,) if isinstance(s, int) else s for s in shapes]   # messages show each as passed (Size, list, ...)
    shapes = [tuple(s) for s in given]
    ndim = max((len(s) for s in shapes), default=0)
    result = [1] * ndim
    for index, shape in enumerate(shapes):
        for i, size in enumerate(shape):
            position = ndim - len(shape) + i
            if size < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {size}: {list(shape)}")
            if result[position] == 1:
                result[position] = size
            elif size != 1 and size != result[position]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {size} at {i - len(shape)}! "
                                   f"Mismatching argument at index {index} had {given[index]!r}; but expected shape "
                                   f"should be broadcastable to {result}")
    return Size(result)


def broadcast_tensors(*tensors):
    """The tensors all expanded to their common broadcast shape: views, or the tensor itself where it already has
    that shape (as PyTorch's)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = []
    for t in tensors:
        shape = _broadcast_pair(shape, list(t.shape))
    return tuple(t if list(t.shape) == shape else expand(t, shape) for t in tensors)


def _broadcast_pair(a, b):
    ndim = max(len(a), len(b))
    a, b = [1] * (ndim - len(a)) + a, [1] * (ndim - len(b)) + b
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and 1 not in (x, y):
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {i}")
    return [y if x == 1 else x for x, y in zip(a, b)]


def meshgrid(*tensors, indexing=None):
    """Coordinate grids (expanded views) from 1-d tensors; ``indexing`` 'ij' (matrix) or 'xy' (Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warn_once("meshgrid indexing", "torch.meshgrid: in an upcoming release, it will be required to pass the "
                  "indexing argument.")   # TORCH_WARN_ONCE: once per process, wherever it is called from
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if not tensors:
        raise RuntimeError("torch.meshgrid expects a non-empty TensorList")
    for t in tensors[1:]:
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    swap = indexing == "xy" and len(tensors) >= 2
    ordered = (tensors[1], tensors[0]) + tuple(tensors[2:]) if swap else tensors
    shape = [t.numel() for t in ordered]
    grids = [expand(reshape(t, [-1 if j == i else 1 for j in range(len(ordered))]), shape)
             for i, t in enumerate(ordered)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """All combinations of elements of the 1-d tensors, one per row (the tensor itself for one input)."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([flatten(g) for g in grids], 1)


# --- triangles and diagonals ----------------------------------------------------------------------------------------
class Triangle(Primitive):
    @staticmethod
    def forward(ctx, a, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        return (ctx.xp.triu if upper else ctx.xp.tril)(a, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return Triangle.apply(grad, ctx.diagonal, ctx.upper)


def _triangle(input, diagonal, upper, out):
    name = "triu" if upper else "tril"
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    exact_out_dtype(out, input.dtype)
    return write_out(out, name_node(Triangle.apply(input, int_arg(diagonal), upper), "TriuBackward0" if upper else
                                    "TrilBackward0"), name)


@tensor_method
def tril(input, diagonal=0, *, out=None):
    """A copy with elements above diagonal ``diagonal`` of the last two dims set to zero."""
    return _triangle(input, diagonal, False, out)


@tensor_method
def triu(input, diagonal=0, *, out=None):
    """A copy with elements below diagonal ``diagonal`` of the last two dims set to zero."""
    return _triangle(input, diagonal, True, out)


inplace_method(tril)
inplace_method(triu)


class DiagEmbed(Primitive):
    @staticmethod
    def forward(ctx, a, shape, offset, dim1, dim2):
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        out = ctx.xp.zeros(shape, a.dtype)
        _diagonal_view(ctx.xp, out, offset, dim1, dim2)[...] = a
        return out

    @staticmethod
    def backward(ctx, grad):
        return diagonal(grad, ctx.offset, ctx.dim1, ctx.dim2)


@tensor_method
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensors whose (dim1, dim2) planes hold the last dim of ``input`` on diagonal ``offset``, zeros elsewhere."""
    ndim = input.ndim + 1
    offset = int_arg(offset)
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (input.shape[-1] if input.ndim else 1) + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(n if d in (d1, d2) else next(rest) for d in range(ndim))
    return DiagEmbed.apply(input if input.ndim else reshape(input, 1), shape, int(offset), d1, d2)


@tensor_method
def diag(input, diagonal=0, *, out=None):
    """A square matrix with the 1-d ``input`` on diagonal ``diagonal``, or a copy of a 2-d input's diagonal."""
    diagonal = int_arg(diagonal)
    if input.ndim == 1:
        return write_out(out, diag_embed(input, diagonal, 0, 1), "diag")
    if input.ndim == 2:
        return write_out(out, globals()["diagonal"](input, diagonal).clone(), "diag")
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


@tensor_method
def diagflat(input, offset=0):
    """A square matrix with the flattened ``input`` on diagonal ``offset``."""
    return diag_embed(flatten(input), offset, 0, 1)


@tensor_method
@composite("trace", trace_inside=True)
def trace(input):
    """The sum of the main diagonal of a matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input.dtype is _dtype.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return name_node(diagonal(input).sum(), "TraceBackward0", (input,))


# --- products that build structure ----------------------------------------------------------------------------------
@tensor_method
def kron(input, other, *, out=None):
    """The Kronecker product: every element of ``input`` times the whole of ``other``, laid out in blocks."""
    ndim = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (ndim - input.ndim) + tuple(input.shape))
    b = reshape(other, (1,) * (ndim - other.ndim) + tuple(other.shape))
    spread_a = reshape(a, [n for s in a.shape for n in (s, 1)])
    spread_b = reshape(b, [n for s in b.shape for n in (1, s)])
    product = spread_a * spread_b
    return write_out(out, name_node(reshape(product, [x * y for x, y in zip(a.shape, b.shape)]), "UnsafeViewBackward0"),
                     "kron")


def block_diag(*tensors):
    """A block-diagonal matrix of the given 0-, 1- or 2-d tensors (1-d ones as rows)."""
    from .creation import zeros
    blocks = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
        blocks.append(reshape(t, 1, -1) if t.ndim < 2 else t)
    if not blocks:
        return zeros(1, 0)
    dtype = _dtype.result_type(*blocks)
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        rows_, cols = b.shape
        row = [zeros(rows_, left, dtype=dtype, device=b.device), b.to(dtype),
               zeros(rows_, width - left - cols, dtype=dtype, device=b.device)]
        rows.append(cat(row, 1))
        left += cols
    return cat(rows, 0)


@tensor_method
@composite("cross", trace_inside=True)
def cross(input, other, dim=None, *, out=None):
    """The 3-vector cross product along ``dim`` (the first dim of size 3 when None), broadcasting."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input.dtype is not other.dtype:   # no promotion, as PyTorch's kernel
        raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
                           f"{_dtype.scalar_type_name(other.dtype)}")
    if input.dtype is _dtype.bool_:
        raise _not_implemented("cross", input)
    exact_out_dtype(out, input.dtype)
    input, other = broadcast_tensors(input, other)
    if dim is None:
        warn_once("cross without dim", "Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                  "either pass the dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will "
                  "change to agree with that of linalg.cross in a future release.")   # TORCH_WARN_ONCE
        dim = next((d for d, s in enumerate(input.shape) if s == 3), -1)
    dim = wrap_dim(dim, input.ndim)
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[dim]} and "
                           f"{other.shape[dim]}")
    result = roll(input, -1, dim) * roll(other, -2, dim) - roll(input, -2, dim) * roll(other, -1, dim)
    return write_out(out, name_node(result, "LinalgCrossBackward0"), "cross")
