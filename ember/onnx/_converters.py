"""One converter per op name: ``converter(context, node)`` emits ONNX nodes for one IR node and returns the ONNX
name of each of its outputs. Arguments that ONNX takes as attributes must be constants at export time."""
import math

import numpy

from .._tensor import Tensor
from ._graph_export import _numpy_dtype, element_type
from .errors import OnnxExporterError

CONVERTERS = {}


def converter(*names):
    """Registers a converter under the op names it handles."""
    def register(function):
        for name in names:
            CONVERTERS[name] = function
        return function
    return register


def _args(node):
    """The node's inputs by position, keyword inputs placed after them in the op's parameter order."""
    return node.positional() + list(node.named().values())


def _dtype_of(node):
    return getattr(node.outputs[0].type, "dtype", None)


def _rank(value):
    return len(value.type.shape)


# --- elementwise ----------------------------------------------------------------------------------------------
for _name, _onnx in {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "Maximum": "Max",
                     "Minimum": "Min"}.items():
    def _binary(context, node, _onnx=_onnx):
        a, b = node.positional()[:2]
        dtype = _dtype_of(node)
        return context.emit(_onnx, [context.tensor(a, dtype), context.tensor(b, dtype)])
    converter(_name)(_binary)

@converter("AddScaled")
def _add_scaled(context, node):   # input + alpha * other (add and sub with an alpha)
    a, b, alpha = node.positional()[:3]
    dtype = _dtype_of(node)
    return context.emit("Add", [context.tensor(a, dtype), context.emit("Mul", [context.tensor(b, dtype),
                                                                              context.tensor(alpha, dtype)])])


@converter("Addcmul", "Addcdiv")
def _addcmul_addcdiv(context, node):   # input + value * tensor1 * tensor2 (or / tensor2)
    input, tensor1, tensor2, value = node.positional()[:4]
    dtype = _dtype_of(node)
    scaled = context.emit("Mul", [context.tensor(tensor1, dtype), context.tensor(value, dtype)])
    combined = context.emit("Mul" if node.op_name == "Addcmul" else "Div", [scaled, context.tensor(tensor2, dtype)])
    return context.emit("Add", [context.tensor(input, dtype), combined])


for _name, _onnx in {"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log",
                     "Sqrt": "Sqrt", "Neg": "Neg", "Abs": "Abs", "Erf": "Erf", "Sin": "Sin", "Cos": "Cos",
                     "Reciprocal": "Reciprocal", "Clone": "Identity", "Sign": "Sign", "Round": "Round",
                     "SqrtOfVariance": "Sqrt"}.items():
    def _unary(context, node, _onnx=_onnx):
        return context.emit(_onnx, [context.tensor(node.inputs[0])])
    converter(_name)(_unary)


@converter("aten::detach")
def _detach(context, node):
    return context.emit("Identity", [context.tensor(node.inputs[0])])


@converter("Rsqrt")
def _rsqrt(context, node):
    return context.emit("Reciprocal", [context.emit("Sqrt", [context.tensor(node.inputs[0])])])


@converter("Expm1", "Log1p")
def _expm1_log1p(context, node):
    name = context.tensor(node.inputs[0])
    one = context.array(numpy.asarray(1.0, numpy.dtype(_dtype_of(node).name)))
    if node.op_name == "Expm1":
        return context.emit("Sub", [context.emit("Exp", [name]), one])
    return context.emit("Log", [context.emit("Add", [name, one])])


@converter("Gelu")
def _gelu(context, node):
    x, approximate = node.inputs[0], context.constant(node.inputs[1])
    name, dtype = context.tensor(x), numpy.dtype(_dtype_of(node).name)
    if context.opset >= 20:
        return context.emit("Gelu", [name], approximate=approximate)
    half = context.array(numpy.asarray(0.5, dtype))
    one = context.array(numpy.asarray(1.0, dtype))
    if approximate == "tanh":   # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = context.emit("Mul", [context.emit("Mul", [name, name]), name])
        inner = context.emit("Add", [name, context.emit("Mul", [cube, context.array(numpy.asarray(0.044715, dtype))])])
        scaled = context.emit("Mul", [inner, context.array(numpy.asarray(math.sqrt(2 / math.pi), dtype))])
        gate = context.emit("Add", [context.emit("Tanh", [scaled]), one])
    else:                       # 0.5 x (1 + erf(x / sqrt(2)))
        gate = context.emit("Add", [context.emit("Erf", [context.emit(
            "Div", [name, context.array(numpy.asarray(math.sqrt(2.0), dtype))])]), one])
    return context.emit("Mul", [context.emit("Mul", [name, half]), gate])


@converter("LeakyRelu")
def _leaky_relu(context, node):
    x, slope = node.inputs[:2]
    return context.emit("LeakyRelu", [context.tensor(x)], alpha=float(context.constant(slope)))


@converter("Clamp", "Hardtanh")
def _clamp(context, node):
    x, low, high = node.inputs[:3]
    dtype = numpy.dtype(_dtype_of(node).name)
    bounds = []
    for bound in (low, high):
        if context.is_constant(bound) and context.constant(bound) is None:
            bounds.append("")
        elif context.is_constant(bound):
            bounds.append(context.array(numpy.asarray(context.constant(bound), dtype).reshape(())))
        else:
            return context.emit("Min", [context.emit("Max", [context.tensor(x), context.tensor(low)]),
                                        context.tensor(high)])
    return context.emit("Clip", [context.tensor(x)] + bounds)


@converter("Where")
def _where(context, node):
    condition, a, b = node.inputs
    dtype = _dtype_of(node)
    return context.emit("Where", [context.tensor(condition), context.tensor(a, dtype), context.tensor(b, dtype)])


@converter("floor_divide")
def _floor_divide(context, node):
    from .. import float64
    a, b = node.positional()[:2]
    dtype = _dtype_of(node)
    wide = dtype if dtype.is_floating_point else float64   # integer floor division: exact in float64 below 2**53
    quotient = context.emit("Div", [_cast_to(context, a, wide), _cast_to(context, b, wide)])
    floored = context.emit("Floor", [quotient])
    return floored if wide is dtype else context.emit("Cast", [floored], to=element_type(dtype))


def _promoted_dtype(context, *values):
    """The dtype PyTorch's type promotion gives an op on these IR values (tensors of known type and constants)."""
    from .. import _dtype, empty
    operands = []
    for value in values:
        dtype = getattr(value.type, "dtype", None)
        if dtype is not None:   # a stand-in of the same dtype and rank (0-d tensors promote differently)
            operands.append(empty((1,) * len(value.type.shape or ()), dtype=dtype))
        else:
            operands.append(context.constant(value))
    return _dtype.result_type(*operands)


def _cast_to(context, value, dtype):
    if getattr(value.type, "dtype", None) in (None, dtype):
        return context.tensor(value, dtype)
    return context.emit("Cast", [context.tensor(value)], to=element_type(dtype))


@converter("nonzero")
def _nonzero(context, node):
    if node.named().get("as_tuple") and context.constant(node.named()["as_tuple"]):
        raise OnnxExporterError("Exporting nonzero(as_tuple=True) is not supported; use nonzero() and unbind it")
    return mask_positions(context, context.tensor(node.positional()[0]))


@converter("one_hot")
def _one_hot(context, node):
    indices, num_classes = (_args(node) + [None])[:2]
    depth = -1 if num_classes is None else context.constant(num_classes)
    if depth == -1:
        raise OnnxExporterError("Exporting one_hot needs num_classes: with -1 the size of the result depends on the "
                                "data")
    return context.emit("OneHot", [context.tensor(indices), context.array(numpy.asarray(depth, numpy.int64)),
                                   context.array(numpy.asarray([0, 1], numpy.int64))], axis=-1)


@converter("Cast")
def _cast(context, node):
    from ._graph_export import element_type
    return context.emit("Cast", [context.tensor(node.inputs[0])], to=element_type(context.constant(node.inputs[1])))


for _name, _onnx in {"eq": "Equal", "lt": "Less", "gt": "Greater", "le": "LessOrEqual",
                     "ge": "GreaterOrEqual"}.items():
    def _compare(context, node, _onnx=_onnx):
        a, b = node.positional()[:2]
        dtype = _promoted_dtype(context, a, b)
        return context.emit(_onnx, [_cast_to(context, a, dtype), _cast_to(context, b, dtype)])
    converter(_name)(_compare)


@converter("ne")
def _not_equal(context, node):
    return context.emit("Not", [CONVERTERS["eq"](context, node)])


@converter("isnan", "isinf", "isposinf", "isneginf", "isfinite")
def _value_test(context, node):
    x = context.tensor(node.positional()[0])
    kind = node.kind.split("::")[-1]
    if kind == "isnan":
        return context.emit("IsNaN", [x])
    if kind == "isfinite":
        return context.emit("Not", [context.emit("Or", [context.emit("IsNaN", [x]), context.emit("IsInf", [x])])])
    return context.emit("IsInf", [x], detect_negative=int(kind != "isposinf"), detect_positive=int(kind != "isneginf"))


for _name, _logical, _bitwise in (("and", "And", "BitwiseAnd"), ("or", "Or", "BitwiseOr"),
                                  ("xor", "Xor", "BitwiseXor"), ("not", "Not", "BitwiseNot")):
    def _logical_op(context, node, _logical=_logical):
        operands = node.positional()[:1 if _logical == "Not" else 2]
        from .. import bool as bool_   # ONNX casts nonzero to true, as the truth value PyTorch takes
        return context.emit(_logical, [_cast_to(context, a, bool_) for a in operands])

    def _bitwise_op(context, node, _logical_op=_logical_op, _bitwise=_bitwise, _name=_name):
        from .. import bool as bool_
        dtype = _dtype_of(node)
        if dtype == bool_:
            return _logical_op(context, node)
        if context.opset < 18:
            raise OnnxExporterError(f"Exporting bitwise_{_name} of integers needs ONNX opset 18 or later "
                                    f"(BitwiseAnd/Or/Xor/Not); this export uses opset {context.opset}")
        operands = node.positional()[:1 if _name == "not" else 2]
        return context.emit(_bitwise, [context.tensor(a, dtype) for a in operands])
    converter(f"logical_{_name}")(_logical_op)
    converter(f"bitwise_{_name}")(_bitwise_op)


# --- linear algebra and convolution -----------------------------------------------------------------------------
@converter("Linear")
def _linear(context, node):
    args = _args(node)
    x, weight = args[:2]
    bias = args[2] if len(args) > 2 and not (context.is_constant(args[2]) and context.constant(args[2]) is None) \
        else None
    if _rank(x) == 2 and bias is not None:
        return context.emit("Gemm", [context.tensor(x), context.tensor(weight), context.tensor(bias)], transB=1)
    product = context.emit("MatMul", [context.tensor(x), context.emit("Transpose", [context.tensor(weight)])])
    return product if bias is None else context.emit("Add", [product, context.tensor(bias)])


@converter("Matmul")
def _matmul(context, node):
    a, b = node.inputs
    return context.emit("MatMul", [context.tensor(a), context.tensor(b)])


@converter("Convolution")
def _convolution(context, node):
    x, weight, stride, padding, dilation, groups, *bias = node.inputs   # a seventh input: the bias it adds
    padding = list(context.constant(padding))
    inputs = [context.tensor(x), context.tensor(weight)]
    inputs += [context.tensor(b) for b in bias if not (context.is_constant(b) and context.constant(b) is None)]
    return context.emit("Conv", inputs, strides=list(context.constant(stride)),
                        pads=padding + padding, dilations=list(context.constant(dilation)),
                        group=int(context.constant(groups)), kernel_shape=list(weight.type.shape[2:]))


@converter("ConvolutionInput")
def _transposed_convolution(context, node):
    x, weight, _shape, stride, padding, dilation, groups = node.inputs
    stride, padding, dilation = (list(context.constant(v)) for v in (stride, padding, dilation))
    kernel = list(weight.type.shape[2:])
    out = node.outputs[0].type.shape[2:]
    extra = [o - ((i - 1) * s - 2 * p + d * (k - 1) + 1)
             for o, i, s, p, d, k in zip(out, x.type.shape[2:], stride, padding, dilation, kernel)]
    return context.emit("ConvTranspose", [context.tensor(x), context.tensor(weight)], strides=stride,
                        pads=padding + padding, dilations=dilation, group=int(context.constant(groups)),
                        kernel_shape=kernel, output_padding=extra)


@converter("Einsum")
def _einsum(context, node):
    *operands, equation = node.inputs
    return context.emit("Einsum", [context.tensor(o) for o in operands], equation=context.constant(equation))


# --- shapes --------------------------------------------------------------------------------------------------
@converter("aten::size")
def _size(context, node):
    tensor, dim = node.inputs
    dim = context.constant(dim)
    return context.emit("Shape", [context.tensor(tensor)], start=dim, end=dim + 1)


@converter("aten::add", "aten::sub", "aten::mul", "aten::floordiv")
def _size_arithmetic(context, node):
    """Arithmetic of sizes (traced from shapes), on 1-element int64 tensors."""
    if any(v.type != "int" for v in node.inputs):
        raise OnnxExporterError(f"{node.kind} is exported for sizes (ints) only")
    pieces = [context.names[v.name] if v.name in context.names else context.ints([context.constant(v)])
              for v in node.inputs]
    return context.emit({"add": "Add", "sub": "Sub", "mul": "Mul", "floordiv": "Div"}[node.kind[6:]], pieces)


@converter("Triangle")
def _triangle(context, node):
    x, diagonal, upper = node.inputs
    k = context.array(numpy.asarray(context.constant(diagonal), numpy.int64))
    return context.emit("Trilu", [context.tensor(x), k], upper=int(bool(context.constant(upper))))


@converter("aten::full", "aten::empty")
def _full(context, node):
    """A tensor of traced sizes filled with one value (zeros for ``empty``): ConstantOfShape."""
    sizes, *fill, dtype = node.inputs
    dtype = context.constant(dtype)
    value = context.constant(fill[0]) if fill else 0
    tensor = context.helper.make_tensor("value", element_type(dtype), [1], [value])
    return context.emit("ConstantOfShape", [_shape_input(context, sizes)], value=tensor)


@converter("prim::ListConstruct", "prim::TupleConstruct")
def _list(context, node):
    if all(hasattr(v.type, "dtype") or v.type.startswith("(") or v.type == "Tensor[]" for v in node.inputs):
        return None   # tensors: the graph's outputs and recurrent nodes' weights and states, read item by item
    pieces = [context.names[v.name] if v.name in context.names else
              context.ints([context.constant(v)]) for v in node.inputs]
    if any(not isinstance(getattr(v, "type", None), str) or v.type != "int" for v in node.inputs):
        raise OnnxExporterError(f"{node.kind} of non-integers cannot be exported")
    return context.emit("Concat", pieces, axis=0)


def _shape_input(context, value):
    if context.is_constant(value):
        return context.ints(list(context.constant(value)))
    return context.names[value.name]


@converter("Reshape")
def _reshape(context, node):
    x, shape = node.inputs
    return context.emit("Reshape", [context.tensor(x), _shape_input(context, shape)])


@converter("Expand")
def _expand(context, node):
    x, shape = node.inputs
    return context.emit("Expand", [context.tensor(x), _shape_input(context, shape)])


@converter("Permute")
def _permute(context, node):
    x, dims = node.inputs
    return context.emit("Transpose", [context.tensor(x)], perm=[d % _rank(x) for d in context.constant(dims)])


@converter("Cat")
def _cat(context, node):
    *tensors, dim = node.inputs
    rank = len(node.outputs[0].type.shape)
    return context.emit("Concat", [context.tensor(t) for t in tensors if 0 not in t.type.shape or _rank(t) != 1],
                        axis=context.constant(dim) % rank)


@converter("Stack")
def _stack(context, node):
    *tensors, dim = node.inputs
    axis = context.constant(dim) % len(node.outputs[0].type.shape)
    return context.emit("Concat", [context.emit("Unsqueeze", [context.tensor(t), context.ints([axis])])
                                   for t in tensors], axis=axis)


@converter("Split")
def _split(context, node):
    x, dim, bounds = node.inputs
    bounds = context.constant(bounds)
    sizes = context.ints([stop - start for start, stop in bounds])
    return context.emit("Split", [context.tensor(x), sizes], outputs=len(bounds), axis=context.constant(dim))


@converter("Unbind")
def _unbind(context, node):
    x, dim = node.inputs
    axis = context.constant(dim) % _rank(x)
    count = x.type.shape[axis]
    pieces = context.emit("Split", [context.tensor(x), context.ints([1] * count)], outputs=count, axis=axis)
    pieces = pieces if count > 1 else [pieces]
    return [context.emit("Squeeze", [p, context.ints([axis])]) for p in pieces]


@converter("Slice")
def _slice(context, node):
    x, key = node.inputs
    return _index(context, context.tensor(x), x.type.shape, context.constant(key))


def key_items(context, key):
    """An index key's items: Python values for constants, IR values for tensors (constant tensors too)."""
    if context.is_constant(key):
        items = context.constant(key)
        items = tuple(items) if isinstance(items, (tuple, list)) else (items,)
    elif key.node is not None and key.node.kind in ("prim::TupleConstruct", "prim::ListConstruct"):
        items = tuple(v if v.name in context.names else context.constant(v) for v in key.node.inputs)
    else:
        return (key,)
    return tuple(_constant_tensor_value(context, item) if isinstance(item, Tensor) else item for item in items)


def _constant_tensor_value(context, tensor):
    """An IR value standing for a tensor held in a constant (an index built inside ``forward``)."""
    from ..jit._ir import TensorType, Value
    value = Value(context.fresh("index"), TensorType.of(tensor))
    context.names[value.name] = context.array(numpy.asarray(tensor.detach()), "onnx::index")
    return value


@converter("getitem")
def _getitem(context, node):
    from ._positional import boolean_mask
    x, key = node.inputs
    items = key_items(context, key)
    mask = boolean_mask(items, x)
    if mask is not None:   # x[mask]: the elements (or rows) where the mask is true
        return context.emit("GatherND", [context.tensor(x), mask_positions(context, context.tensor(mask))])
    return _index(context, context.tensor(x), x.type.shape, items)


def mask_positions(context, name):
    """The [count, rank] int64 positions of the nonzero (true) elements of the ONNX tensor ``name``."""
    return context.emit("Transpose", [context.emit("NonZero", [name])], perm=[1, 0])


def _index(context, name, shape, items):
    """Basic indexing (ints, slices, None, Ellipsis) and one integer-tensor index, as Slice/Gather/Unsqueeze."""
    from ..jit._ir import Value
    if not isinstance(items, tuple):
        items = (items,)
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items = items[:at] + (slice(None),) * (len(shape) - consumed) + items[at + 1:]
    items = items + (slice(None),) * (len(shape) - sum(1 for i in items if i is not None))
    starts, ends, axes, steps, squeeze, gathers, unsqueeze = [], [], [], [], [], [], []
    dim = out_dim = 0
    for item in items:
        if item is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        if isinstance(item, slice):
            start, stop, step = item.indices(shape[dim])
            if (start, stop, step) != (0, shape[dim], 1):   # open ends stay open, for dynamic axes
                starts.append(item.start if item.start is not None else 0 if step > 0 else -1)
                ends.append(item.stop if item.stop is not None else 2 ** 62 if step > 0 else -(2 ** 62))
                axes.append(dim)
                steps.append(step)
            out_dim += 1
        elif isinstance(item, int):
            starts.append(item % shape[dim])
            ends.append(item % shape[dim] + 1)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        elif isinstance(item, Value):
            if getattr(item.type, "dtype", None) is None or item.type.dtype.name == "bool":
                raise OnnxExporterError("only integer tensors can index in an exported model")
            gathers.append((dim, context.names[item.name]))
            out_dim += 1
        else:
            raise OnnxExporterError(f"cannot export an index of type {type(item).__name__}")
        dim += 1
    if len(gathers) > 1:
        raise OnnxExporterError("indexing with more than one tensor cannot be exported")
    source = name
    if starts:
        name = context.emit("Slice", [name, context.ints(starts), context.ints(ends), context.ints(axes),
                                      context.ints(steps)])
    for axis, indices in gathers:
        name = context.emit("Gather", [name, indices], axis=axis)
    if squeeze:
        name = context.emit("Squeeze", [name, context.ints(squeeze)])
    if unsqueeze:
        name = context.emit("Unsqueeze", [name, context.ints(unsqueeze)])
    return name if name != source else context.emit("Identity", [name])


@converter("Pad")
def _pad(context, node):
    x, widths, mode, value = node.inputs
    widths, mode = context.constant(widths), context.constant(mode)
    rank = _rank(x)
    begins = [w[0] for w in widths]
    ends = [w[1] for w in widths]
    if len(begins) != rank:
        raise OnnxExporterError(f"Pad: expected {rank} (before, after) pairs, got {len(begins)}")
    modes = {"constant": "constant", "reflect": "reflect", "edge": "edge", "replicate": "edge", "wrap": "wrap",
             "circular": "wrap"}
    inputs = [context.tensor(x), context.ints(begins + ends)]
    if modes.get(mode, mode) == "constant":
        inputs.append(context.array(numpy.asarray(context.constant(value) or 0, numpy.dtype(_dtype_of(node).name))))
    return context.emit("Pad", inputs, mode=modes.get(mode, mode))


# --- reductions and normalisations --------------------------------------------------------------------------------
def _reduce(context, op, name, axes, keepdim):
    if axes is None:
        return context.emit(op, [name], keepdims=int(keepdim))
    axes = [axes] if isinstance(axes, int) else list(axes)
    if op == "ReduceSum" or context.opset >= 18:
        return context.emit(op, [name, context.ints(axes)], keepdims=int(keepdim))
    return context.emit(op, [name], axes=axes, keepdims=int(keepdim))


@converter("all", "any")
def _all_any(context, node):
    """all/any over dims: ReduceMin/ReduceMax of the input as 0/1 integers, as bool."""
    x, *rest = _args(node)
    dim = context.constant(rest[0]) if rest else None
    keepdim = context.constant(rest[1]) if len(rest) > 1 else False
    as_int = context.emit("Cast", [context.emit("Cast", [context.tensor(x)], to=9)], to=6)
    reduced = _reduce(context, "ReduceMin" if node.op_name == "all" else "ReduceMax", as_int,
                      None if dim is None else dim % max(_rank(x), 1), bool(keepdim))
    return context.emit("Cast", [reduced], to=9)


@converter("Sum")
def _sum(context, node):
    x, dims, keepdim, _dtype = node.inputs
    return _reduce(context, "ReduceSum", _cast_to(context, x, _dtype_of(node)), context.constant(dims),
                   context.constant(keepdim))


@converter("Logsumexp", "Prod")
def _logsumexp_prod(context, node):
    x, dims, keepdim = node.inputs[:3]
    op = "ReduceLogSumExp" if node.op_name == "Logsumexp" else "ReduceProd"
    return _reduce(context, op, context.tensor(x), context.constant(dims), context.constant(keepdim))


@converter("PowerNorm")
def _power_norm(context, node):
    x, p, dims, keepdim = node.inputs[:4]
    p, dims, keepdim = context.constant(p), context.constant(dims), context.constant(keepdim)
    if p == 2:
        return _reduce(context, "ReduceL2", context.tensor(x), dims, keepdim)
    powered = context.emit("Pow", [context.emit("Abs", [context.tensor(x)]), context.array(
        numpy.asarray(p, dtype=numpy.dtype(_dtype_of(node).name)))])
    total = _reduce(context, "ReduceSum", powered, dims, keepdim)
    return context.emit("Pow", [total, context.array(numpy.asarray(1.0 / p, dtype=numpy.dtype(_dtype_of(node).name)))])


@converter("Repeat")
def _repeat(context, node):
    x, repeats = node.inputs[:2]
    repeats = list(context.constant(repeats))
    name = context.tensor(x)
    if len(repeats) > _rank(x):   # leading new dims, as Tensor.repeat adds them
        name = context.emit("Unsqueeze", [name, context.ints(list(range(len(repeats) - _rank(x))))])
    return context.emit("Tile", [name, context.ints(repeats)])


@converter("Flip")
def _flip(context, node):
    x, dims = node.inputs[:2]
    dims = context.constant(dims)
    dims = [dims] if isinstance(dims, int) else list(dims)
    big = 2 ** 62
    return context.emit("Slice", [context.tensor(x), context.ints([-1] * len(dims)), context.ints([-big] * len(dims)),
                                  context.ints(dims), context.ints([-1] * len(dims))])


@converter("Amax")
def _amax(context, node):
    x, dims, keepdim, smallest = node.inputs[:4]
    return _reduce(context, "ReduceMin" if context.constant(smallest) else "ReduceMax", context.tensor(x),
                   context.constant(dims), context.constant(keepdim))


@converter("SquaredDeviations")
def _squared_deviations(context, node):   # with a dof (float32 inputs), the variance or its square root
    x, dims, keepdim = node.inputs[:3]
    dims, name = context.constant(dims), context.tensor(x)
    centered = context.emit("Sub", [name, _reduce(context, "ReduceMean", name, dims, True)])
    squares = _reduce(context, "ReduceSum", context.emit("Mul", [centered, centered]), dims,
                      context.constant(keepdim))
    if len(node.inputs) < 5 or context.constant(node.inputs[4]) is None:
        return squares
    dof = max(context.constant(node.inputs[4]), 0)
    variance = context.emit("Div", [squares, context.array(numpy.asarray(dof, _numpy_dtype(_dtype_of(node))))])
    return context.emit("Sqrt", [variance]) if len(node.inputs) > 5 and context.constant(node.inputs[5]) else variance


@converter("Softmax", "LogSoftmax")
def _softmax(context, node):
    x, dim = node.inputs
    return context.emit(node.op_name, [context.tensor(x)], axis=context.constant(dim) % max(_rank(x), 1))


@converter("NativeLayerNorm")
def _layer_norm(context, node):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing dims, in ONNX ops of every opset."""
    x, weight, bias, count, eps = node.inputs
    axes = list(range(_rank(x) - context.constant(count), _rank(x)))
    name = context.tensor(x)
    centered = context.emit("Sub", [name, _reduce(context, "ReduceMean", name, axes, True)])
    variance = _reduce(context, "ReduceMean", context.emit("Mul", [centered, centered]), axes, True)
    epsilon = context.array(numpy.asarray(context.constant(eps), numpy.dtype(_dtype_of(node).name)))
    result = context.emit("Div", [centered, context.emit("Sqrt", [context.emit("Add", [variance, epsilon])])])
    for op, value in (("Mul", weight), ("Add", bias)):
        if not (context.is_constant(value) and context.constant(value) is None):
            result = context.emit(op, [result, context.tensor(value)])
    return result


@converter("Hardsigmoid")
def _hardsigmoid(context, node):
    """ONNX's HardSigmoid: max(0, min(1, x / 6 + 1 / 2))."""
    return context.emit("HardSigmoid", [context.tensor(node.inputs[0])], alpha=1 / 6, beta=0.5)


@converter("Hardswish")
def _hardswish(context, node):
    """ONNX's HardSwish: x * max(0, min(1, x / 6 + 1 / 2))."""
    return context.emit("HardSwish", [context.tensor(node.inputs[0])])


@converter("ChannelAffine")
def _channel_affine(context, node):
    """x * scale + shift with one scale and shift per channel (dim 1), each reshaped to (C, 1, ...)."""
    x, scale, shift = node.inputs
    per_channel = context.ints([-1] + [1] * (_rank(x) - 2))
    result = context.emit("Mul", [context.tensor(x), context.emit("Reshape", [context.tensor(scale), per_channel])])
    return context.emit("Add", [result, context.emit("Reshape", [context.tensor(shift), per_channel])])


@converter("ScaledDotProductFlashAttentionForCpu")
def _attention(context, node):
    """softmax(q k^T * scale + bias) v; a query masked out everywhere gets zero weights, as in ember and PyTorch."""
    query, key, value, bias, keep, scale = node.inputs
    if not (context.is_constant(keep) and context.constant(keep) is None):
        raise OnnxExporterError(f"attention with dropout cannot be exported; call model.eval() (module "
                                f"'{node.scope}')")
    rank, dtype = _rank(key), numpy.dtype(_dtype_of(node).name)
    transposed = context.emit("Transpose", [context.tensor(key)], perm=list(range(rank - 2)) + [rank - 1, rank - 2])
    scores = context.emit("Mul", [context.emit("MatMul", [context.tensor(query), transposed]),
                                  context.array(numpy.asarray(context.constant(scale), dtype))])
    if context.is_constant(bias) and context.constant(bias) is None:
        weights = context.emit("Softmax", [scores], axis=-1)
    else:
        scores = context.emit("Add", [scores, context.tensor(bias)])
        finite = context.emit("Not", [context.emit("IsInf", [scores], detect_positive=0)])
        alive = _reduce(context, "ReduceMax", context.emit("Cast", [finite], to=6), [-1], True)
        dead = context.emit("Equal", [alive, context.array(numpy.asarray(0, numpy.int32))])
        zero = context.array(numpy.asarray(0, dtype))
        weights = context.emit("Softmax", [context.emit("Where", [dead, zero, scores])], axis=-1)
        weights = context.emit("Where", [dead, zero, weights])
    return context.emit("MatMul", [weights, context.tensor(value)])


@converter("batch_norm")
def _batch_norm(context, node):
    args = _args(node)
    x, mean, var = args[:3]
    weight, bias, training, _momentum, eps = (args[3:] + [None] * 5)[:5]
    if training is not None and context.constant(training):
        raise OnnxExporterError("batch_norm in training mode cannot be exported; call model.eval() "
                                f"(module '{node.scope}')")
    channels = x.type.shape[1]
    dtype = numpy.dtype(x.type.dtype.name)
    inputs = [context.tensor(x)]
    for value, fill in ((weight, 1.0), (bias, 0.0)):
        if value is None or context.is_constant(value) and context.constant(value) is None:
            inputs.append(context.array(numpy.full(channels, fill, dtype)))
        else:
            inputs.append(context.tensor(value))
    inputs += [context.tensor(mean), context.tensor(var)]
    epsilon = context.constant(eps) if eps is not None else 1e-5
    return context.emit("BatchNormalization", inputs, epsilon=float(epsilon))


@converter("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
def _dropout(context, node):
    args = _args(node)
    if len(args) > 2 and context.constant(args[2]):
        raise OnnxExporterError(f"{node.op_name} in training mode cannot be exported; call model.eval() "
                                f"(module '{node.scope}')")
    return context.emit("Identity", [context.tensor(args[0])])


@converter("max_pool1d", "max_pool2d", "max_pool3d")
def _max_pool(context, node):
    args = _args(node)
    names = ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]
    given = dict(zip(names, args))
    given.update(node.named())
    n = int(node.op_name[-2])
    options = {k: context.constant(v) for k, v in given.items() if k != "input"}
    if options.get("return_indices"):
        raise OnnxExporterError(f"{node.op_name} with return_indices=True cannot be exported")

    def tuple_of(value, default):
        value = default if value is None or value == () or value == [] else value
        return [value] * n if isinstance(value, int) else list(value)
    kernel = tuple_of(options["kernel_size"], None)
    stride = tuple_of(options.get("stride"), kernel)
    padding = tuple_of(options.get("padding", 0), 0)
    return context.emit("MaxPool", [context.tensor(given["input"])], kernel_shape=kernel, strides=stride,
                        pads=padding + padding, dilations=tuple_of(options.get("dilation", 1), 1),
                        ceil_mode=int(bool(options.get("ceil_mode", False))))


@converter("adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d")
def _adaptive_max_pool(context, node):
    args = _args(node)
    size = context.constant(args[1])
    if any(s != 1 for s in ([size] if isinstance(size, int) else size)) or \
            len(args) > 2 and context.constant(args[2]):
        raise OnnxExporterError(f"{node.op_name} exports only to an output size of 1 without indices")
    return context.emit("GlobalMaxPool", [context.tensor(args[0])])


@converter("embedding_bag")
def _embedding_bag(context, node):
    names = ["input", "weight", "offsets", "max_norm", "norm_type", "scale_grad_by_freq", "mode", "sparse",
             "per_sample_weights", "include_last_offset", "padding_idx"]
    given = dict(zip(names, _args(node)))
    given.update(node.named())
    options = {k: context.constant(v) for k, v in given.items() if k not in ("input", "weight")
               and context.is_constant(v)}
    if len(given["input"].type.shape) != 2 or any(options.get(k) is not None for k in
                                                  ("offsets", "max_norm", "per_sample_weights", "padding_idx")):
        raise OnnxExporterError("embedding_bag exports only 2-D input (one bag per row) without offsets, max_norm, "
                                "per_sample_weights or padding_idx")
    rows = context.emit("Gather", [context.tensor(given["weight"]), context.tensor(given["input"])], axis=0)
    op = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax"}[options.get("mode", "mean")]
    return _reduce(context, op, rows, [1], False)


@converter("interpolate")
def _interpolate(context, node):
    names = ["input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias"]
    given = dict(zip(names, _args(node)))
    given.update(node.named())
    options = {k: context.constant(v) for k, v in given.items() if k != "input"}
    x = given["input"]
    mode, align = options.get("mode", "nearest"), options.get("align_corners")
    if options.get("antialias") or mode not in ("nearest", "nearest-exact", "linear", "bilinear", "trilinear"):
        raise OnnxExporterError(f"interpolate mode={mode!r}{' with antialias' if options.get('antialias') else ''} "
                                "cannot be exported")
    spatial_in, spatial_out = x.type.shape[2:], node.outputs[0].type.shape[2:]
    factor = options.get("scale_factor")
    if factor is not None and not options.get("recompute_scale_factor"):
        scales = [float(f) for f in (factor if isinstance(factor, (tuple, list)) else [factor] * len(spatial_in))]
    else:
        scales = [o / i for o, i in zip(spatial_out, spatial_in)]
    attributes = {"mode": "nearest" if mode.startswith("nearest") else "linear"}
    if mode == "nearest":
        attributes.update(coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    elif mode == "nearest-exact":
        attributes.update(coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")
    else:
        attributes["coordinate_transformation_mode"] = "align_corners" if align else "pytorch_half_pixel"
    scale_tensor = context.array(numpy.asarray([1.0, 1.0] + scales, numpy.float32))
    return context.emit("Resize", [context.tensor(x), "", scale_tensor], **attributes)


@converter("embedding")
def _embedding(context, node):
    indices, weight = node.positional()[:2]
    return context.emit("Gather", [context.tensor(weight), context.tensor(indices)], axis=0)


@converter("argmax", "argmin")
def _argmax(context, node):
    args = _args(node)
    x = args[0]
    dim = context.constant(args[1]) if len(args) > 1 else None
    keepdim = bool(context.constant(args[2])) if len(args) > 2 else False
    name = context.tensor(x)
    op = "ArgMax" if node.op_name == "argmax" else "ArgMin"
    if dim is None:   # over all elements; keepdim gives a 1 for every dim of the input, as in PyTorch
        flat = context.emit(op, [context.emit("Reshape", [name, context.ints([-1])])], axis=0, keepdims=0,
                            select_last_index=0)
        return context.emit("Reshape", [flat, context.ints([1] * _rank(x))]) if keepdim else flat
    return context.emit(op, [name], axis=dim, keepdims=int(keepdim), select_last_index=0)


@converter("Remainder", "Fmod")
def _remainder(context, node):
    """Python's modulo (sign of the divisor) and C's fmod (sign of the dividend); ONNX Mod takes integers only
    without fmod, so a floating remainder is ``a - b * floor(a / b)``."""
    a, b = node.positional()[:2]
    dtype = _dtype_of(node)
    a, b = _cast_to(context, a, dtype), _cast_to(context, b, dtype)
    if node.op_name == "Fmod" or not dtype.is_floating_point:
        return context.emit("Mod", [a, b], fmod=int(node.op_name == "Fmod"))
    quotient = context.emit("Floor", [context.emit("Div", [a, b])])
    return context.emit("Sub", [a, context.emit("Mul", [b, quotient])])


@converter("Gather")
def _gather(context, node):
    x, index, dim = node.positional()[:3]
    return context.emit("GatherElements", [context.tensor(x), context.tensor(index)], axis=context.constant(dim))


@converter("Cumsum")
def _cumsum(context, node):
    x, dim = node.positional()[:2]
    dtype = _dtype_of(node)
    return context.emit("CumSum", [_cast_to(context, x, dtype), context.ints(context.constant(dim))])


def _size_along(context, x, dim):
    """``x.shape[dim]`` as a 1-element int64 tensor, read at run time (so dynamic axes stay dynamic)."""
    return context.emit("Slice", [context.emit("Shape", [context.tensor(x)]), context.ints([dim]),
                                  context.ints([dim + 1 if dim != -1 else 2 ** 62])])


@converter("sort", "argsort", "topk")
def _top_k(context, node):
    """sort, argsort and topk as ONNX TopK (ties keep the lower index first, as a stable sort does)."""
    x = node.positional()[0]
    names = {"sort": ["input", "dim", "descending"], "argsort": ["input", "dim", "descending"],
             "topk": ["input", "k", "dim", "largest", "sorted"]}[node.op_name]
    given = dict(zip(names, node.positional()))
    options = {k: context.constant(v) for k, v in given.items() if k != "input"}
    dim = options.get("dim", -1)
    dim = dim + _rank(x) if dim < 0 else dim
    if node.op_name == "topk":
        k, largest = context.ints([options["k"]]), options.get("largest", True)
    else:
        k, largest = _size_along(context, x, dim), options.get("descending", False)
    values, indices = context.emit("TopK", [context.tensor(x), k], outputs=2, axis=dim, largest=int(largest),
                                   sorted=1)
    return indices if node.op_name == "argsort" else [values, indices]


# --- recurrent steps --------------------------------------------------------------------------------------------
def _gate_split(context, value, count):
    """``value`` (batch x count*hidden) split into ``count`` equal gate blocks along dim 1."""
    return context.emit("Split", [value], outputs=count, axis=1, num_outputs=count) if context.opset >= 18 else \
        context.emit("Split", [value], outputs=count, axis=1)


@converter("LSTMStep")
def _lstm_step(context, node):
    gi, h, c, w_hh = (context.tensor(v) for v in node.inputs)
    gates = context.emit("Add", [context.emit("MatMul", [h, context.emit("Transpose", [w_hh])]), gi])
    i, f, g, o = _gate_split(context, gates, 4)
    i, f, o = (context.emit("Sigmoid", [gate]) for gate in (i, f, o))
    c_next = context.emit("Add", [context.emit("Mul", [f, c]), context.emit("Mul", [i, context.emit("Tanh", [g])])])
    return [context.emit("Mul", [o, context.emit("Tanh", [c_next])]), c_next]


@converter("GRUStep")
def _gru_step(context, node):
    gi, h, w_hh = (context.tensor(v) for v in node.inputs[:3])
    gh = context.emit("MatMul", [h, context.emit("Transpose", [w_hh])])
    if len(node.inputs) > 3 and not (context.is_constant(node.inputs[3]) and context.constant(node.inputs[3]) is None):
        gh = context.emit("Add", [gh, context.tensor(node.inputs[3])])
    gi_r, gi_z, gi_n = _gate_split(context, gi, 3)
    gh_r, gh_z, gh_n = _gate_split(context, gh, 3)
    r = context.emit("Sigmoid", [context.emit("Add", [gi_r, gh_r])])
    z = context.emit("Sigmoid", [context.emit("Add", [gi_z, gh_z])])
    n = context.emit("Tanh", [context.emit("Add", [gi_n, context.emit("Mul", [r, gh_n])])])
    return context.emit("Add", [n, context.emit("Mul", [z, context.emit("Sub", [h, n])])])


# --- whole recurrent layers: ONNX's LSTM, GRU and RNN operators ------------------------------------------------------
_GATE_ORDER = {"LSTMLayer": [0, 3, 1, 2], "GRULayer": [1, 0, 2], "RNNLayer": [0]}   # ember's gates in ONNX's order


def _onnx_gates(context, value, order):
    """A weight or bias with its gate blocks (along dim 0) in ONNX's order, with a leading direction axis."""
    name = context.tensor(value)
    if len(order) > 1:
        parts = context.emit("Split", [name], outputs=len(order), axis=0, num_outputs=len(order)) \
            if context.opset >= 18 else context.emit("Split", [name], outputs=len(order), axis=0)
        name = context.emit("Concat", [parts[k] for k in order], axis=0)
    return context.emit("Unsqueeze", [name, context.ints([0])])


@converter("LSTMLayer", "GRULayer", "RNNLayer")
def _recurrent_layer(context, node):
    kind, named = node.op_name, node.named()
    args = node.positional()
    if kind == "LSTMLayer":
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = args
        if not (context.is_constant(w_hr) and context.constant(w_hr) is None):
            raise OnnxExporterError("ONNX's LSTM has no output projection: an LSTM with proj_size cannot be exported")
    else:
        (x, h0, w_ih, w_hh, b_ih, b_hh), c0 = args, None
    if "batch_sizes" in named and context.constant(named["batch_sizes"]) is not None:
        raise OnnxExporterError("a PackedSequence whose batch size shrinks cannot be exported; pass a padded batch")
    order, hidden = _GATE_ORDER[kind], w_hh.type.shape[1]
    batch = context.emit("Shape", [context.tensor(h0)], start=0, end=1)
    sequence = context.emit("Reshape", [context.tensor(x), context.emit(
        "Concat", [context.ints([-1]), batch, context.ints([x.type.shape[1]])], axis=0)])
    present = [b for b in (b_ih, b_hh) if not (context.is_constant(b) and context.constant(b) is None)]
    bias = context.emit("Concat", [_onnx_gates(context, b, order) for b in present], axis=1) if present else ""
    inputs = [sequence, _onnx_gates(context, w_ih, order), _onnx_gates(context, w_hh, order), bias, "",
              context.emit("Unsqueeze", [context.tensor(h0), context.ints([0])])]
    if c0 is not None:
        inputs.append(context.emit("Unsqueeze", [context.tensor(c0), context.ints([0])]))
    reverse = "reverse" in named and bool(context.constant(named["reverse"]))
    attributes = {"hidden_size": hidden, "direction": "reverse" if reverse else "forward"}
    if kind == "GRULayer":
        attributes["linear_before_reset"] = 1
    if kind == "RNNLayer":
        relu = "nonlinearity" in named and context.constant(named["nonlinearity"]) == "relu"
        attributes["activations"] = ["Relu" if relu else "Tanh"]
    outputs = context.emit(kind[:-5], inputs, outputs=3 if c0 is not None else 2, **attributes)
    result = [context.emit("Reshape", [outputs[0], context.ints([-1, hidden])])]
    return result + [context.emit("Squeeze", [state, context.ints([0])]) for state in outputs[1:]]
