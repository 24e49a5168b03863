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


quantized = types.ModuleType("ember.ops.quantized", "``torch.ops.quantized``: quantized kernels by name.")
for _fn in (_binary("add", _qops.add, _qops.add_scalar, False), _binary("add_relu", _qops.add, _qops.add_scalar, True),
            _binary("mul", _qops.mul, _qops.mul_scalar, False), _binary("mul_relu", _qops.mul, _qops.mul_scalar, True),
            _op("hardswish", _hardswish), _op("elu", _elu), _op("leaky_relu", _leaky_relu)):
    setattr(quantized, _fn.__name__, _fn)
