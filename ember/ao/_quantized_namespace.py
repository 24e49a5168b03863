"""``torch.ops.quantized`` (``ember.ops.quantized``): the quantized kernels FX graph mode quantization's converted
graphs call by name (``torch.ops.quantized.add_relu(x, y, scale, zero_point)``), over ``ao._qops``."""
import types

from . import _qops


def _op(name, fn):
    fn.__name__ = fn.__qualname__ = name
    fn._fx_qualified_name = f"torch.ops.quantized.{name}"
    fn.__module__ = "ember.ops.quantized"
    return fn


def _binary(name, tensor_fn, scalar_fn, relu):
    def op(qa, qb, scale=None, zero_point=None):
        from .. import Tensor
        if isinstance(qb, Tensor):
            return tensor_fn(qa, qb, float(scale), int(zero_point), relu=relu)
        return scalar_fn(qa, qb, relu=relu)
    op.__doc__ = f"``quantized::{name}``: of two quantized tensors into the given qparams, or with a scalar."
    return _op(name, op)


def _hardswish(input, output_scale, output_zero_point):
    """``quantized::hardswish``."""
    return _qops.hardswish(input, float(output_scale), int(output_zero_point))


def _elu(self, output_scale, output_zero_point, alpha=1, scale=1, input_scale=1):
    """``quantized::elu``."""
    return _qops.elu(self, float(output_scale), int(output_zero_point), alpha)


def _leaky_relu(qx, negative_slope=0.01, inplace=False, output_scale=None, output_zero_point=None):
    """``quantized::leaky_relu``."""
    return _qops.leaky_relu(qx, negative_slope, float(output_scale), int(output_zero_point))


def _dropout(self, output_scale=None, output_zero_point=None, p=0.5, training=False):
    """``quantized::dropout``: the input as it is (evaluation; its qparams kept)."""
    return self


def _layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, output_scale=None,
                output_zero_point=None):
    """``quantized::layer_norm``: the float layer norm of the dequantized input, quantized with the output
    qparams (PyTorch's kernel gives the same integers)."""
    import ember
    out = ember.nn.functional.layer_norm(input.dequantize(), normalized_shape, weight, bias, eps)
    return ember.quantize_per_tensor(out, float(output_scale), int(output_zero_point), input.dtype)


def _instance_norm(input, weight=None, bias=None, eps=1e-5, output_scale=None, output_zero_point=None):
    """``quantized::instance_norm``."""
    import ember
    out = ember.nn.functional.instance_norm(input.dequantize(), weight=weight, bias=bias, eps=eps)
    return ember.quantize_per_tensor(out, float(output_scale), int(output_zero_point), input.dtype)


quantized = types.ModuleType("ember.ops.quantized", "``torch.ops.quantized``: quantized kernels by name.")
for _fn in (_binary("add", _qops.add, _qops.add_scalar, False), _binary("add_relu", _qops.add, _qops.add_scalar, True),
            _binary("mul", _qops.mul, _qops.mul_scalar, False), _binary("mul_relu", _qops.mul, _qops.mul_scalar, True),
            _op("hardswish", _hardswish), _op("elu", _elu), _op("leaky_relu", _leaky_relu), _op("dropout", _dropout),
            _op("layer_norm", _layer_norm), _op("instance_norm", _instance_norm)):
    setattr(quantized, _fn.__name__, _fn)


class ConvPackedParams:
    """A convolution's packed parameters (PyTorch's ``Conv{1,2,3}dPackedParamsBase``, as ember holds them): the
    qint8 weight, float bias and the convolution's geometry."""

    def __init__(self, weight, bias, stride, padding, dilation, groups):
        self.weight, self.bias = weight, bias
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def unpack(self):
        """``(weight, bias)``."""
        return self.weight, self.bias

    def __repr__(self):
        return f"<ConvPackedParams stride={self.stride}, padding={self.padding}>"


def _linear_prepack(W, B=None):
    """``quantized::linear_prepack``: PyTorch's LinearPackedParamsBase of a qint8 weight and float bias."""
    from ._script_object import pack_linear
    return pack_linear(W, B)


def _linear(relu):
    def linear(X, W_prepack, Y_scale_i, Y_zero_point_i):
        from ._script_object import weight_bias
        weight, bias = weight_bias(W_prepack)
        return _qops.linear(X, weight, bias, float(Y_scale_i), int(Y_zero_point_i), relu=relu)
    linear.__doc__ = f"``quantized::linear{'_relu' if relu else ''}`` with prepacked weights."
    return linear


def _conv_prepack(n):
    names = ("weight", "bias", "stride", "padding", "dilation", "groups")

    def prepack(*args, **kwargs):
        values = dict(zip(names, args), **kwargs)
        for name in names:   # every argument is required, as in PyTorch's schema
            if name not in values:
                raise RuntimeError(
                    f"quantized::conv{n}d_prepack() is missing value for argument '{name}'. Declaration: "
                    f"quantized::conv{n}d_prepack(Tensor weight, Tensor? bias, int[] stride, int[] padding, int[] "
                    f"dilation, int groups) -> __torch__.torch.classes.quantized.Conv{n}dPackedParamsBase")

        declaration = (f"quantized::conv{n}d_prepack(Tensor weight, Tensor? bias, int[] stride, int[] padding, "
                       f"int[] dilation, int groups) -> __torch__.torch.classes.quantized.Conv{n}dPackedParamsBase")
        for position, name in ((2, "stride"), (3, "padding"), (4, "dilation")):
            if n > 1 and not isinstance(values[name], (list, tuple)):   # PyTorch's schema takes lists only
                raise RuntimeError(
                    f"quantized::conv{n}d_prepack() Expected a value of type 'List[int]' for argument '{name}' but "
                    f"instead found type '{type(values[name]).__name__}'.\nPosition: {position}\nValue: "
                    f"{values[name]}\nDeclaration: {declaration}\nCast error details: Unable to cast Python "
                    f"instance of type {type(values[name])} to C++ type '?' (#define PYBIND11_DETAILED_ERROR_MESSAGES "
                    "or compile in debug mode for details)")

        def tup(v):
            return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n
        return ConvPackedParams(values["weight"], values["bias"], tup(values["stride"]), tup(values["padding"]),
                                tup(values["dilation"]), values["groups"])
    prepack.__doc__ = f"``quantized::conv{n}d_prepack``: a qint8 weight, float bias and the geometry."
    return prepack


def _conv(relu):
    def conv(qx, packed_weight, output_scale, output_zero_point):
        p = packed_weight
        return _qops.conv(qx, p.weight, p.bias, p.stride, p.padding, p.dilation, p.groups, float(output_scale),
                          int(output_zero_point), relu=relu)
    conv.__doc__ = "A quantized convolution with prepacked weights."
    return conv


for _fn in (_op("linear_prepack", _linear_prepack), _op("linear", _linear(False)), _op("linear_relu", _linear(True)),
            *(_op(f"conv{n}d_prepack", _conv_prepack(n)) for n in (1, 2, 3)),
            *(_op(f"conv{n}d{suffix}", _conv(relu)) for n in (1, 2, 3) for suffix, relu in (("", False),
                                                                                            ("_relu", True)))):
    setattr(quantized, _fn.__name__, _fn)
