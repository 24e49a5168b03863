"""Converters for ops that move or write elements by position: writes through an index (``x[key] = v``,
``index_put``), scatters, boolean masks, ``roll``, ``Tensor.unfold``, and ``atan2``'s quadrant arithmetic. Sizes are
read at run time wherever the op allows, so dynamic axes stay dynamic."""
import math

import numpy

from .. import _dtype
from ._converters import _args, _cast_to, _dtype_of, _index, _rank, converter, key_items, mask_positions
from ._graph_export import element_type
from .errors import OnnxExporterError

_END = 2 ** 62   # a Slice end past any dim


def boolean_mask(items, x):
    """The IR value of a boolean mask that is an index key's only tensor, first, followed only by full slices
    (``x[mask]``); None when the key has no boolean tensor."""
    from ..jit._ir import Value
    bools = [i for i, item in enumerate(items) if isinstance(item, Value) and _is_bool(item)]
    if not bools:
        return None
    rest = items[1:]
    if bools != [0] or any(not (item is Ellipsis or item == slice(None)) for item in rest):
        raise OnnxExporterError("a boolean mask can be exported only as the whole index (x[mask], x[mask] = v)")
    return items[0]


def _is_bool(value):
    dtype = getattr(value.type, "dtype", None)
    return dtype is not None and dtype.name == "bool"


def _shape(context, x):
    return context.emit("Shape", [context.tensor(x)])


def _value_of_dtype(context, value, dtype):
    """An IR input (tensor or number) as an ONNX tensor of ``dtype``."""
    return _cast_to(context, value, dtype) if hasattr(value, "type") else context.tensor(value, dtype)


def _scatter_positions(context, x, mask, value, reduction):
    """``x`` with ``value`` (broadcast over the selected rows) written at a boolean mask's true positions."""
    positions = mask_positions(context, context.tensor(mask))
    rows = context.emit("Slice", [context.emit("Shape", [positions]), context.ints([0]), context.ints([1])])
    trailing = context.emit("Slice", [_shape(context, x), context.ints([_rank(mask)]), context.ints([_END])])
    updates = context.emit("Expand", [_value_of_dtype(context, value, x.type.dtype),
                                      context.emit("Concat", [rows, trailing], axis=0)])
    return context.emit("ScatterND", [context.tensor(x), positions, updates], **reduction)


def _reduction(context, accumulate, what):
    if not accumulate:
        return {}
    if context.opset < 16:
        raise OnnxExporterError(f"exporting {what} with accumulate=True needs opset 16 or later (ScatterND's "
                                f"reduction), got {context.opset}")
    return {"reduction": "add"}


@converter("setitem")
def _setitem(context, node):
    x, key, value = node.inputs[:3]
    items = key_items(context, key)
    mask = boolean_mask(items, x)
    if mask is not None:
        return _scatter_positions(context, x, mask, value, {})
    # every other key: pick the flat positions the key selects from an arange of x's shape, then scatter there
    shape = _shape(context, x)
    count = context.emit("Size", [context.tensor(x)])
    flat = context.emit("Range", [context.array(numpy.asarray(0, numpy.int64)), count,
                                  context.array(numpy.asarray(1, numpy.int64))])
    picked = _index(context, context.emit("Reshape", [flat, shape]), x.type.shape, items)
    updates = context.emit("Expand", [_value_of_dtype(context, value, x.type.dtype),
                                      context.emit("Shape", [picked])])
    minus_one = context.ints([-1])
    written = context.emit("ScatterElements", [context.emit("Reshape", [context.tensor(x), minus_one]),
                                               context.emit("Reshape", [picked, minus_one]),
                                               context.emit("Reshape", [updates, minus_one])], axis=0)
    return context.emit("Reshape", [written, shape])


@converter("index_put")
def _index_put(context, node):
    x, indices, values = node.inputs[:3]
    accumulate = bool(context.constant(node.inputs[3])) if len(node.inputs) > 3 else False
    items = key_items(context, indices)
    reduction = _reduction(context, accumulate, "index_put")
    mask = boolean_mask(items, x)
    if mask is not None:
        return _scatter_positions(context, x, mask, values, reduction)
    if any(not hasattr(item, "type") for item in items):
        raise OnnxExporterError("index_put exports with index tensors only")
    shapes = {tuple(item.type.shape) for item in items}
    if len(shapes) > 1:
        raise OnnxExporterError(f"index_put exports index tensors of one shape, got {sorted(shapes)}")
    columns = [context.emit("Unsqueeze", [_cast_to(context, item, _dtype.int64), context.ints([-1])]) for item in items]
    positions = columns[0] if len(columns) == 1 else context.emit("Concat", columns, axis=-1)
    target = context.emit("Concat", [_shape(context, items[0]), context.emit(
        "Slice", [_shape(context, x), context.ints([len(items)]), context.ints([_END])])], axis=0)
    updates = context.emit("Expand", [_value_of_dtype(context, values, x.type.dtype), target])
    return context.emit("ScatterND", [context.tensor(x), positions, updates], **reduction)


def _updates(context, src, index, dtype):
    """Scatter's source cut to the index's shape (PyTorch reads only that corner), or a number expanded to it."""
    if not hasattr(src, "type") or getattr(src.type, "dtype", None) is None:
        return context.emit("Expand", [context.tensor(src, dtype), _shape(context, index)])
    rank = _rank(index)
    return context.emit("Slice", [_cast_to(context, src, dtype), context.ints([0] * rank), _shape(context, index),
                                  context.ints(list(range(rank)))])


@converter("Scatter")
def _scatter(context, node):
    x, index, src, dim = node.positional()[:4]
    dtype = _dtype_of(node)
    return context.emit("ScatterElements", [context.tensor(x), context.tensor(index),
                                            _updates(context, src, index, dtype)], axis=context.constant(dim))


_SCATTER_REDUCTIONS = {"sum": ("add", 16), "prod": ("mul", 16), "amax": ("max", 18), "amin": ("min", 18)}


@converter("ScatterReduce")
def _scatter_reduce(context, node):
    x, index, src, dim, reduce, include_self = node.positional()[:6]
    reduce, include_self = context.constant(reduce), context.constant(include_self)
    if reduce not in _SCATTER_REDUCTIONS or not include_self:
        raise OnnxExporterError(f"scatter_reduce exports with reduce in {sorted(_SCATTER_REDUCTIONS)} and "
                                f"include_self=True only, got reduce={reduce!r}, include_self={include_self}")
    onnx_reduction, opset = _SCATTER_REDUCTIONS[reduce]
    if context.opset < opset:
        raise OnnxExporterError(f"exporting scatter_reduce(reduce={reduce!r}) needs opset {opset} or later, got "
                                f"{context.opset}")
    dtype = _dtype_of(node)
    return context.emit("ScatterElements", [context.tensor(x), context.tensor(index),
                                            _updates(context, src, index, dtype)],
                        axis=context.constant(dim), reduction=onnx_reduction)


@converter("Roll")
def _roll(context, node):
    x, shifts, dims = node.positional()[:3]
    shifts, dims = context.constant(shifts), context.constant(dims)
    name, shape = context.tensor(x), list(x.type.shape)
    if dims is None:   # over the flattened tensor, then back to x's shape
        flat = context.emit("Reshape", [name, context.ints([-1])])
        size = math.prod(shape) if all(isinstance(n, int) for n in shape) else None
        return context.emit("Reshape", [_roll_along(context, flat, shifts, 0, size), _shape(context, x)])
    for shift, dim in zip(shifts, dims):
        name = _roll_along(context, name, shift, dim, shape[dim] if isinstance(shape[dim], int) else None)
    return name


def _roll_along(context, name, shift, dim, size):
    """``name`` rolled by ``shift`` along ``dim``: the last ``shift`` elements moved to the front. A shift shorter
    than the export-time size is cut with negative bounds, so the same model rolls any longer dim correctly."""
    if size is not None and size and abs(shift) >= size:
        shift %= size
    if shift == 0 or size == 0:
        return context.emit("Identity", [name])
    cut = -shift   # x[-s:] then x[:-s] for a shift right; x[t:] then x[:t] for a shift left by t = -s
    front = context.emit("Slice", [name, context.ints([cut]), context.ints([_END]), context.ints([dim])])
    back = context.emit("Slice", [name, context.ints([0]), context.ints([cut]), context.ints([dim])])
    return context.emit("Concat", [front, back], axis=dim)


@converter("UnfoldWindows")
def _unfold(context, node):
    x, dim, size, step = node.positional()[:4]
    dim, size, step = context.constant(dim), context.constant(size), context.constant(step)
    rank = _rank(x)
    if rank == 0:
        return context.emit("Reshape", [context.tensor(x), context.ints([size])])
    length = x.type.shape[dim]
    if not isinstance(length, int):
        raise OnnxExporterError(f"Tensor.unfold exports along a dim of fixed size; dim {dim} is dynamic")
    count = (length - size) // step + 1
    windows = numpy.arange(count, dtype=numpy.int64)[:, None] * step + numpy.arange(size, dtype=numpy.int64)
    gathered = context.emit("Gather", [context.tensor(x), context.array(windows)], axis=dim)
    perm = list(range(dim + 1)) + list(range(dim + 2, rank + 1)) + [dim + 1]   # the window's own axis goes last
    return context.emit("Transpose", [gathered], perm=perm)


@converter("Atan2")
def _atan2(context, node):
    y, x = node.positional()[:2]
    dtype = _dtype_of(node)
    y, x = _cast_to(context, y, dtype), _cast_to(context, x, dtype)
    numbers = {name: context.array(numpy.asarray(v, numpy.dtype(dtype.name)))
               for name, v in (("zero", 0.0), ("one", 1.0), ("pi", math.pi), ("minus_pi", -math.pi))}

    def signed_negative(v):   # v < 0 or v is -0.0 (1 / -0.0 is -inf), as the C library's atan2 reads the sign
        return context.emit("Less", [context.emit("Div", [numbers["one"], v]), numbers["zero"]])
    # left half-plane: atan(y/x) is off by pi, added or taken away by the sign of y
    turn = context.emit("Where", [signed_negative(y), numbers["minus_pi"], numbers["pi"]])
    x_negative = signed_negative(x)
    shift = context.emit("Where", [x_negative, turn, numbers["zero"]])
    result = context.emit("Add", [context.emit("Atan", [context.emit("Div", [y, x])]), shift])
    origin = context.emit("And", [context.emit("Equal", [x, numbers["zero"]]),
                                  context.emit("Equal", [y, numbers["zero"]])])   # 0/0: +-0 or +-pi by the signs
    return context.emit("Where", [origin, context.emit("Where", [x_negative, turn, y]), result])


@converter("_WriteThroughView")
def _write_through_view(context, node):
    """A write into a view, recorded as its base with the view's flat positions (fixed when traced) replaced."""
    base, value, positions = node.positional()[:3]
    minus_one = context.ints([-1])
    written = context.emit("ScatterElements", [
        context.emit("Reshape", [context.tensor(base), minus_one]),
        context.emit("Reshape", [context.tensor(positions), minus_one]),
        context.emit("Reshape", [_cast_to(context, value, base.type.dtype), minus_one])], axis=0)
    return context.emit("Reshape", [written, _shape(context, base)])


@converter("Fill")
def _fill(context, node):
    x, value = node.positional()[:2]
    return context.emit("Expand", [_value_of_dtype(context, value, x.type.dtype), _shape(context, x)])


@converter("index_select")
def _index_select(context, node):
    x, dim, index = _args(node)[:3]
    return context.emit("Gather", [context.tensor(x), context.tensor(index)], axis=context.constant(dim))


@converter("take")
def _take(context, node):
    x, index = _args(node)[:2]
    flat = context.emit("Reshape", [context.tensor(x), context.ints([-1])])
    return context.emit("Gather", [flat, context.tensor(index)], axis=0)


@converter("masked_select")
def _masked_select(context, node):
    x, mask = _args(node)[:2]
    name, mask_name = context.tensor(x), context.tensor(mask)
    if tuple(x.type.shape) != tuple(mask.type.shape):   # broadcast both to their common shape first
        common = context.emit("Shape", [context.emit("Add", [name, context.emit(
            "Cast", [mask_name], to=element_type(x.type.dtype))])])
        name = context.emit("Expand", [name, common])
        mask_name = context.emit("Expand", [mask_name, common])
    return context.emit("GatherND", [name, mask_positions(context, mask_name)])


def _along_dim(context, x, dim, index):
    """ScatterElements' indices for writing whole slices at ``index`` along ``dim``: the index, shaped
    [1, .., k, .., 1], expanded to x's shape with ``dim`` of size k (returned with that shape)."""
    rank = _rank(x)
    shape = _shape(context, x)
    target = context.emit("Concat", [
        context.emit("Slice", [shape, context.ints([0]), context.ints([dim])]),
        context.emit("Shape", [context.tensor(index)]),
        context.emit("Slice", [shape, context.ints([dim + 1]), context.ints([_END])])], axis=0)
    column = context.emit("Reshape", [context.tensor(index), context.ints([-1 if d == dim else 1
                                                                           for d in range(rank)])])
    return context.emit("Expand", [column, target]), target


@converter("index_fill", "index_copy", "index_add")
def _index_write(context, node):
    x, dim, index, source = _args(node)[:4]
    dim = context.constant(dim) % max(_rank(x), 1)
    dtype = x.type.dtype
    indices, target = _along_dim(context, x, dim, index)
    updates = _value_of_dtype(context, source, dtype)
    reduction = {}
    if node.op_name == "index_add":
        alpha = node.named().get("alpha")
        alpha = context.constant(alpha) if alpha is not None else 1
        if alpha != 1:
            updates = context.emit("Mul", [updates, context.array(numpy.asarray(alpha, numpy.dtype(dtype.name)))])
        reduction = _reduction(context, True, "index_add")
    updates = context.emit("Expand", [updates, target])
    return context.emit("ScatterElements", [context.tensor(x), indices, updates], axis=dim, **reduction)



@converter("Unfold")
def _im2col(context, node):
    """nn.Unfold's sliding blocks: x padded, flattened over its (fixed) spatial dims, and gathered at each block's
    positions (one index table made at export time) into (N, C * kh * kw, L)."""
    x, kernel, dilation, padding, stride = node.positional()[:5]
    kernel, dilation, padding, stride = (tuple(context.constant(v)) for v in (kernel, dilation, padding, stride))
    channels, height, width = x.type.shape[1:]
    if not all(isinstance(n, int) for n in (channels, height, width)):
        raise OnnxExporterError("nn.Unfold exports with fixed channels and spatial sizes (only the batch may vary)")
    name = context.tensor(x)
    if any(padding):
        name = context.emit("Pad", [name, context.ints([0, 0, padding[0], padding[1], 0, 0, padding[0], padding[1]])])
    rows, cols = height + 2 * padding[0], width + 2 * padding[1]
    out = [(size - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i, size in enumerate((rows, cols))]
    i, j, oh, ow = numpy.meshgrid(*(numpy.arange(n) for n in (kernel[0], kernel[1], out[0], out[1])), indexing="ij")
    positions = ((oh * stride[0] + i * dilation[0]) * cols + ow * stride[1] + j * dilation[1]).reshape(
        kernel[0] * kernel[1], out[0] * out[1])
    flat = context.emit("Reshape", [name, context.ints([0, channels, rows * cols])])
    blocks = context.emit("Gather", [flat, context.array(positions.astype(numpy.int64))], axis=2)
    return context.emit("Reshape", [blocks, context.ints([0, channels * kernel[0] * kernel[1], out[0] * out[1]])])


@converter("Diagonal")
def _diagonal(context, node):
    """The (offset, dim1, dim2) diagonal as the last dim: both dims moved last, flattened together, and gathered at
    the diagonal's positions (sizes of the two dims fixed at export)."""
    x, offset, dim1, dim2 = node.positional()[:4]
    offset, dim1, dim2 = (context.constant(v) for v in (offset, dim1, dim2))
    shape, rank = x.type.shape, _rank(x)
    rows, cols = shape[dim1], shape[dim2]
    if not (isinstance(rows, int) and isinstance(cols, int)):
        raise OnnxExporterError("diagonal exports with the two dims of fixed size")
    rest = [d for d in range(rank) if d not in (dim1, dim2)]
    moved = context.emit("Transpose", [context.tensor(x)], perm=rest + [dim1, dim2])
    flat = context.emit("Reshape", [moved, context.emit("Concat", [
        context.emit("Slice", [context.emit("Shape", [moved]), context.ints([0]), context.ints([len(rest)])]),
        context.ints([rows * cols])], axis=0)])
    start_row, start_col = (-offset, 0) if offset < 0 else (0, offset)
    length = max(min(rows - start_row, cols - start_col), 0)
    positions = (numpy.arange(length) + start_row) * cols + numpy.arange(length) + start_col
    return context.emit("Gather", [flat, context.array(positions.astype(numpy.int64))], axis=len(rest))
