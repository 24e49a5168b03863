"""Converters for the sampling calls a trace records (``fn::ops.random.randn``, ``method::normal_``, ...; see
``ember.jit._trace``): ONNX's random operators, as PyTorch's exporter writes them, so the exported model draws new
samples on each run. ``RandomNormal``/``RandomUniform`` where the shape is known at export time, the ``...Like``
forms over a tensor (or a ``ConstantOfShape`` of traced sizes) otherwise."""
from ._converters import _dtype_of, _shape_input, converter
from ._graph_export import element_type
from .errors import OnnxExporterError


def _shape(context, sizes):
    """The static shape of a sampling call's size arguments (``randn(2, 3)`` or ``randn((2, 3))``), or None when
    it holds sizes traced from the inputs."""
    if len(sizes) == 1 and not context.is_constant(sizes[0]):
        return None
    values = [context.constant(v) for v in sizes]
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = list(values[0])
    return [int(v) for v in values]


def _sample(context, node, sizes, normal, mean=0.0, spread=1.0):
    """A fresh tensor of ``node``'s dtype drawn from N(mean, spread^2) or U[mean, mean + spread)."""
    dtype = element_type(_dtype_of(node))
    shape = _shape(context, sizes)
    attributes = {"mean": float(mean), "scale": float(spread)} if normal else {"low": float(mean),
                                                                                "high": float(mean + spread)}
    if shape is not None:
        return context.emit("RandomNormal" if normal else "RandomUniform", [], shape=shape, dtype=dtype,
                            **attributes)
    zeros = context.emit("ConstantOfShape", [_shape_input(context, sizes[0])])
    return context.emit("RandomNormalLike" if normal else "RandomUniformLike", [zeros], dtype=dtype, **attributes)


def _like(context, node, normal, mean=0.0, spread=1.0):
    dtype = element_type(_dtype_of(node))
    attributes = {"mean": float(mean), "scale": float(spread)} if normal else {"low": float(mean),
                                                                                "high": float(mean + spread)}
    return context.emit("RandomNormalLike" if normal else "RandomUniformLike", [context.tensor(node.inputs[0])],
                        dtype=dtype, **attributes)


@converter("fn::ops.random.randn")
def _randn(context, node):
    return _sample(context, node, node.positional(), normal=True)


@converter("fn::ops.random.rand")
def _rand(context, node):
    return _sample(context, node, node.positional(), normal=False)


@converter("fn::ops.random.randn_like")
def _randn_like(context, node):
    return _like(context, node, normal=True)


@converter("fn::ops.random.rand_like")
def _rand_like(context, node):
    return _like(context, node, normal=False)


def _fill_arguments(context, node, names, defaults):
    values = dict(zip(names, node.positional()[1:]))
    values.update(node.named())
    try:
        return [context.constant(values[n]) if n in values else d for n, d in zip(names, defaults)]
    except OnnxExporterError:
        raise OnnxExporterError(f"{node.kind}: its distribution's parameters must be constants at export "
                                "time") from None


@converter("method::normal_")
def _normal_fill(context, node):
    mean, std = _fill_arguments(context, node, ("mean", "std"), (0.0, 1.0))
    return _like(context, node, True, mean, std)


@converter("method::uniform_")
def _uniform_fill(context, node):
    low, high = _fill_arguments(context, node, ("from", "to"), (0.0, 1.0))
    return _like(context, node, False, low, high - low)


@converter("fn::ops.random.bernoulli")
def _bernoulli(context, node):
    """``bernoulli(p)``: ONNX's Bernoulli (opset 15); a given ``p`` argument is not exported."""
    if len(node.inputs) > 1 and any(not (context.is_constant(v) and context.constant(v) is None)
                                    for v in node.inputs[1:]):
        raise OnnxExporterError("bernoulli with p or a generator cannot be exported")
    if context.opset < 15:
        raise OnnxExporterError(f"bernoulli needs ONNX opset 15 or newer (Bernoulli), not {context.opset}")
    return context.emit("Bernoulli", [context.tensor(node.inputs[0])], dtype=element_type(_dtype_of(node)))
