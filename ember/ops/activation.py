"""Activation functions: primitives where speed or stability needs one (softmax, log_softmax, gelu), the rest
composed from pointwise ops."""
import math

import numpy

from .._warnings import warn
from .._tensor import Tensor, _make
from .. import _dtype
from ..autograd.function import Primitive, composite, dispatch_hooks
from ..autograd.grad_mode import state
from ._inplace import assign_inplace, check_inplace_allowed
from . import _buffers, _gelu_float32, _parallel, _quantized
from ._log_sigmoid import LogSigmoid
from .creation import empty_like, zeros_like
from ._unary import in_float32, is_reduced
from ._kernel_dtypes import FLOATING, hardtanh_limits, refuse_complex_autograd, require_dtype, require_prelu_dtypes
from ._util import keeps_layout, name_node, quiet, row_major_result, tensor_method, wrap_dim

__all__ = ["softmax", "log_softmax", "softmin", "gumbel_softmax", "gelu", "silu", "mish", "elu", "selu", "celu",
           "leaky_relu", "prelu", "relu6", "hardtanh", "hardsigmoid", "hardswish", "softplus", "softsign", "glu",
           "threshold", "logsigmoid", "tanhshrink", "softshrink", "hardshrink", "rrelu"]


def _softmax_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1


def _resolve_dim(input, dim, name):
    if dim is None:
        warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
             "as an argument.", UserWarning, stacklevel=3)
        dim = _softmax_dim(input.ndim)
    return wrap_dim(dim, input.ndim)


def _cast_for(input, dtype, name, dim):
    """``input`` in ``dtype`` (when given), checked against the dtypes of the kernel for softmax along ``dim``."""
    if dtype is not None:
        input = input.to(_dtype.dtype_arg(dtype, name))
    require_dtype(f"{name}_lastdim_kernel_impl" if dim >= input.ndim - 1 else f"{name}_kernel_impl", input)
    return input


class Softmax(Primitive):
    saved_names = ("result",)   # PyTorch's names of what forward saves and of its arguments (_saved_* attributes)
    saved_values = {"dim": lambda node: node.dim}

    @staticmethod
    @quiet
    def forward(ctx, a, dim):
        result = in_float32(ctx.xp, _softmax, a, dim) if is_reduced(a) else _softmax(ctx.xp, a, dim)
        ctx.dim = dim
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        if is_reduced(grad._data):   # float16/bfloat16 in float32, rounded once, as PyTorch's softmax_backward
            wide = result.float()
            return (wide * (grad.float() - (grad.float() * wide).sum(ctx.dim, keepdim=True))).to(grad.dtype)
        return result * (grad - (grad * result).sum(ctx.dim, keepdim=True))


def _softmax(xp, a, dim):
    if a.ndim and a.size:
        result = a - a.max(axis=dim, keepdims=True)   # exponentiated and normalised in place: no temporaries
        xp.exp(result, out=result)
        result /= result.sum(axis=dim, keepdims=True)
        return result
    shifted = a - a.max(axis=dim, keepdims=True) if a.size else a   # 0-d arithmetic gives scalars: not in place
    exp = xp.exp(shifted)
    return exp / exp.sum(axis=dim, keepdims=True)


def _log_softmax(xp, a, dim):
    if a.size == 0:
        return a.copy()
    if a.ndim == 0:
        shifted = a - a.max(axis=dim, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
    result = a - a.max(axis=dim, keepdims=True)
    result -= xp.log(xp.exp(result).sum(axis=dim, keepdims=True))
    return result


class LogSoftmax(Primitive):
    saved_names = ("result",)   # PyTorch's names of what forward saves and of its arguments (_saved_* attributes)
    saved_values = {"dim": lambda node: node.dim}

    @staticmethod
    @quiet
    def forward(ctx, a, dim):
        result = in_float32(ctx.xp, _log_softmax, a, dim) if is_reduced(a) else _log_softmax(ctx.xp, a, dim)
        ctx.dim = dim
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        if is_reduced(grad._data):   # float16/bfloat16 in float32, rounded once, as PyTorch's log_softmax_backward
            wide = grad.float()
            return (wide - result.float().exp() * wide.sum(ctx.dim, keepdim=True)).to(grad.dtype)
        return grad - result.exp() * grad.sum(ctx.dim, keepdim=True)


@tensor_method
@composite("softmax", trace_inside=True)
@row_major_result
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, computed stably."""
    if dtype is None and type(_stacklevel) is not int:   # Tensor.softmax(dim, dtype): the method has no _stacklevel
        dtype = _stacklevel
    dim = _resolve_dim(input, dim, "softmax")
    return Softmax.apply(_cast_for(input, dtype, "softmax", dim), dim)


@tensor_method
@composite("log_softmax", trace_inside=True)
@row_major_result
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably."""
    if dtype is None and type(_stacklevel) is not int:   # Tensor.log_softmax(dim, dtype): the method has no _stacklevel
        dtype = _stacklevel
    dim = _resolve_dim(input, dim, "log_softmax")
    return LogSoftmax.apply(_cast_for(input, dtype, "log_softmax", dim), dim)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = _resolve_dim(input, dim, "softmin")
    return softmax(-input, dim, dtype=dtype)   # a dim of the wrong type gets softmax's error, as in PyTorch


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample of the Gumbel-softmax distribution over ``dim``: softmax((logits + Gumbel noise) / tau); with
    ``hard``, one-hot in the forward pass and the soft sample's gradient (straight-through)."""
    if eps != 1e-10:
        warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -empty_like(logits).exponential_().log()   # PyTorch's draw, so seeded streams agree
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = soft.max(dim, keepdim=True)[1]
    return zeros_like(logits).scatter_(dim, index, 1.0) - soft.detach() + soft


class Gelu(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, approximate):
        ctx.approximate = approximate
        ctx.save_for_backward(a)
        if is_reduced(a):
            if approximate == "none" and ctx.xp is numpy:
                result = _gelu_float32.gelu_reduced(a.astype(numpy.float32)).astype(a.dtype)
            else:
                result = in_float32(ctx.xp, _gelu, a, approximate)
            if approximate == "none":   # PyTorch's float16 kernel keeps +inf, its bfloat16 one gives NaN
                result[a == ctx.xp.inf] = ctx.xp.inf if a.dtype == ctx.xp.float16 else ctx.xp.nan
            return result
        return _gelu(ctx.xp, a, approximate)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        if is_reduced(a._data) and ctx.approximate == "none" and not state.enabled and ctx.xp is numpy and \
                type(grad) is Tensor:   # (a subclass's array may stand for no data: its ops are its handler's)
            derivative = _gelu_float32.gelu_derivative_reduced(a._data.astype(numpy.float32))
            return _make((grad._data.astype(numpy.float32) * derivative).astype(grad._data.dtype))
        if is_reduced(a._data):   # in float32, rounded once, as PyTorch's GeluBackward kernel
            return _gelu_backward(ctx.approximate, a.float(), grad.float()).to(grad.dtype)
        return _gelu_backward(ctx.approximate, a, grad)


def _gelu(xp, a, approximate):
    if approximate == "tanh":
        if _gelu_float32.applies(a):
            return _gelu_float32.gelu_tanh(a)
        inner = math.sqrt(2 / math.pi) * (a + 0.044715 * (a * a * a))   # NumPy's ** 3 calls libm per element
        return (0.5 * a * (1 + xp.tanh(inner))).astype(a.dtype, copy=False)
    if _gelu_float32.applies(a):
        return _gelu_float32.gelu(a)
    result = (0.5 * a * (1 + _erf(xp, a / math.sqrt(2)))).astype(a.dtype, copy=False)
    if a.dtype == xp.float32 and a.size > 1 and a.flags.c_contiguous:
        # PyTorch's vectorised float32 kernel (contiguous tensors of 2 or more elements) gives NaN at +inf;
        # its scalar loop (one element, strided or expanded inputs) gives inf, as here
        result[a == xp.inf] = xp.nan
    return result


def _gelu_backward(approximate, a, grad):
    if approximate == "none" and not state.enabled and _gelu_float32.applies(a._data) and \
            grad._data.shape == a._data.shape and grad._data.dtype == a._data.dtype:
        derivative = _gelu_float32.gelu_derivative(a._data)   # a pooled array of its own: multiplied in place
        return _make(_parallel.ufunc(numpy.multiply, grad._data, derivative, out=derivative))
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        inner = k * (a + 0.044715 * a ** 3)
        t = inner.tanh()
        derivative = 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * k * (1 + 3 * 0.044715 * a * a)
    else:
        cdf = 0.5 * (1 + (a / math.sqrt(2)).erf())
        pdf = (-0.5 * a * a).exp() / math.sqrt(2 * math.pi)
        derivative = cdf + a * pdf
    return grad * derivative


def _erf(xp, x):
    """erf on arrays, via the array library's own erf when it has one (CuPy), else pointwise's rational fit."""
    special = getattr(xp, "special", None)
    if special is not None and hasattr(special, "erf"):
        return special.erf(x)
    from .pointwise.transcendental import _erf64, _in_float64
    return _in_float64(_erf64, xp, x)


def gelu(input, *, approximate="none"):
    """x * Phi(x), exactly (``approximate='none'``) or with the tanh approximation."""
    require_dtype("GeluKernelImpl", input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate)


def _write_into(input, function, *args):
    """The ``inplace=True`` form of an activation: writes ``function(input, *args)`` into ``input``.

    While autograd records, the out-of-place graph is built on a clone, because its nodes save their input and
    the write would otherwise change what their backward reads."""
    if state.enabled and input.requires_grad:
        check_inplace_allowed(input)
        return assign_inplace(input, function(input.clone(), *args))
    return assign_inplace(input, function(input, *args))


def _into_input(input, primitive, *args):
    """The in-place form of a primitive that writes into its input when its last argument (``into``) says so: into
    the input itself, or for a view out of place and written through its base by ``assign_inplace`` (PyTorch's
    CopySlices)."""
    check_inplace_allowed(input)
    return assign_inplace(input, primitive.apply(input, *args, input._base is None))


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    require_dtype("silu_cpu", input, FLOATING + "c")
    refuse_complex_autograd("silu", input)
    if inplace:
        return _write_into(input, silu)
    if is_reduced(input._data):   # in float32, rounded once, as PyTorch's kernel
        return name_node(silu(input.float()).to(input.dtype), "SiluBackward0", (input,))
    return name_node(input * input.sigmoid(), "SiluBackward0", (input,))


@keeps_layout
def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    require_dtype("mish_cpu", input)
    if inplace:
        return _write_into(input, mish)
    if is_reduced(input._data):   # in float32, rounded once, as PyTorch's kernel
        return name_node(mish(input.float()).to(input.dtype), "MishBackward0", (input,))
    return name_node(input * softplus(input).tanh(), "MishBackward0", (input,))


class Elu(Primitive):
    """PyTorch's elu(x, alpha, scale, input_scale) of float32 and float64 arrays, for alpha > 0: x * scale for
    x > 0, else alpha * scale * expm1(x * input_scale); its gradient scale for x > 0, else
    input_scale * alpha * scale * exp(x * input_scale), from the input as PyTorch's out-of-place form (NaN for NaN,
    as its vectorised kernel gives on all but a tensor's last few elements; its scalar loop gives scale).

    Both are sums of two parts, each zero (or -0.0, which adds exactly) where the other holds, built from clips and
    arithmetic: a select per element (``where``, a masked copy) costs ~4 ms a million on a random sign pattern,
    each of these passes ~0.1-0.2 ms."""

    @staticmethod
    @quiet
    def forward(ctx, a, alpha, scale, input_scale):
        xp = ctx.xp
        ctx.constants = alpha, scale, input_scale
        ctx.save_for_backward(a)
        work = a.astype(numpy.float32) if is_reduced(a) else a   # float16/bfloat16 in float32, rounded once
        zero, high = work.dtype.type(0), xp.finfo(work.dtype).max

        def run(out, x):
            positive = xp.clip(x, -zero, high)   # x where x > 0, else -0.0
            # x where x <= 0, else 0, as x - (positive + 0): the + 0 makes positive's -0.0 +0.0, so that x = -0.0
            # keeps its sign (NumPy's clip(-0.0, 0, ...) is -0.0, and -0.0 - -0.0 is +0.0)
            xp.subtract(x, xp.add(positive, zero, out=out), out=out)
            if input_scale != 1:
                out *= input_scale
            xp.expm1(out, out=out)
            out *= alpha * scale
            if scale != 1:
                positive *= scale
            out += positive
        result = _parallel.map_chunks(run, _buffers.empty(xp, a.shape, work.dtype), work)
        return result.astype(a.dtype) if work is not a else result

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        alpha, scale, input_scale = ctx.constants
        negative = (a.clamp(max=0) * input_scale).exp() * (input_scale * alpha * scale)
        return grad * negative.where(~(a > 0), scale), None, None, None   # NaN: the exponential's NaN

    @staticmethod
    @quiet
    def array_backward(ctx, grad):
        a, = ctx.saved_arrays
        alpha, scale, input_scale = ctx.constants
        xp = ctx.xp

        def run(out, g, x):
            xp.clip(x, xp.finfo(x.dtype).min, 0, out=out)
            if input_scale != 1:
                out *= input_scale
            xp.exp(out, out=out)
            out *= input_scale * alpha * scale
            mask = xp.less_equal(x, 0, out=xp.empty_like(out))   # 1.0 or 0.0
            out *= mask
            xp.greater(x, 0, out=mask)
            if scale != 1:
                mask *= scale
            out += mask
            out *= g
        if is_reduced(grad):   # float16/bfloat16 in float32, rounded once, as PyTorch's elu_backward
            out = _buffers.empty(xp, xp.broadcast_shapes(grad.shape, a.shape), numpy.float32)
            return (_parallel.map_chunks(run, out, grad.astype(numpy.float32), a.astype(numpy.float32))
                    .astype(grad.dtype), None, None, None)
        out = _buffers.empty(xp, xp.broadcast_shapes(grad.shape, a.shape), grad.dtype)
        return _parallel.map_chunks(run, out, grad, a), None, None, None


def _elu(input, alpha, scale, input_scale):
    """PyTorch's elu with its scales: through ``Elu`` for float32 and float64 and alpha > 0 (no dispatch hook
    active: tracing and vmap see the ops of the general form), else composed from pointwise ops."""
    if not dispatch_hooks and (input._data.dtype.char in "fd" or is_reduced(input._data)) and 0 < alpha < math.inf:
        return Elu.apply(input, alpha, scale, input_scale)
    negative = (input * input_scale).expm1() * (alpha * scale)
    return (input * scale if scale != 1 else input).where(input > 0, negative)


def _float_arg(value, op, input, *args):
    """``value`` (a Number argument) as a float; where it is none, PyTorch's TypeError for ``op(input, *args)``: F's
    Python forms hand their numbers to the op, whose parser refuses them."""
    if isinstance(value, str) or not hasattr(value, "__float__"):
        from .. import _arg_parser   # (loaded on errors only)
        _arg_parser.raise_for(op, (input,) + args, {})
    return float(value)


@keeps_layout
def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    require_dtype("elu_cpu", input)
    if inplace:
        return _write_into(input, elu, alpha)
    return _elu(input, alpha if type(alpha) is float else _float_arg(alpha, "elu", input, alpha), 1.0, 1.0)


@keeps_layout
def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    require_dtype("elu_cpu", input)
    if inplace:
        return _write_into(input, selu)
    return _elu(input, 1.6732632423543772848170429916717, 1.0507009873554804934193349852946, 1.0)


@keeps_layout
def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    require_dtype("elu_cpu", input)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    if inplace:
        return _write_into(input, celu, alpha)
    scale = alpha if type(alpha) is float else _float_arg(alpha, "celu", input, alpha)
    return name_node(_elu(input, scale, 1.0, 1.0 / alpha), "CeluBackward0")


class LeakyRelu(Primitive):
    """x where x > 0, else slope * x, in two passes and no branch per element (``where`` on a random sign pattern
    is ~10x slower): the larger of x and slope * x (the smaller for a slope above 1; a zero slope takes ``where``,
    since 0 * inf is NaN). Written into x with ``into``;
    the gradient then reads the sign from the result, as PyTorch's in-place form does."""

    @staticmethod
    @quiet
    def forward(ctx, a, slope, into):
        xp = ctx.xp
        pick = xp.minimum if slope > 1 else xp.maximum

        def run(out, part):
            if slope == 0 or not math.isfinite(slope):   # slope * inf is NaN, where x itself is wanted
                out[...] = xp.where(part > 0, part, part * slope)
            elif is_reduced(part):   # slope * x in float32, rounded once, as PyTorch's 16-bit kernel
                pick(part, xp.multiply(part, numpy.float32(slope), dtype=numpy.float32).astype(part.dtype), out=out)
            else:
                pick(part, xp.multiply(part, slope), out=out)
        result = _parallel.map_chunks(run, a if into else _buffers.empty_like(xp, a), a)
        ctx.slope, ctx.from_result = slope, into
        ctx.save_for_backward(result if into else a)
        return result

    @staticmethod
    def backward(ctx, grad):
        saved, = ctx.saved_tensors
        _check_result_slope(ctx)
        return LeakyReluGrad.apply(grad, saved.detach(), ctx.slope), None, None

    @staticmethod
    def array_backward(ctx, grad):
        saved, = ctx.saved_arrays
        _check_result_slope(ctx)
        return _leaky_relu_grad(ctx.xp, grad, saved, ctx.slope)


class LeakyReluGrad(Primitive):
    """``grad`` where the saved input (or result) > 0, else slope * grad; linear in grad, its own gradient."""

    @staticmethod
    def forward(ctx, grad, saved, slope):
        ctx.slope = slope
        ctx.save_for_backward(saved)
        return _leaky_relu_grad(ctx.xp, grad, saved, slope)

    @staticmethod
    def backward(ctx, grad):
        saved, = ctx.saved_tensors
        return LeakyReluGrad.apply(grad, saved, ctx.slope), None, None


LeakyRelu._node_cls.__name__ = LeakyRelu._node_cls.__qualname__ = "LeakyReluBackward0"
LeakyReluGrad._node_cls.__name__ = LeakyReluGrad._node_cls.__qualname__ = "LeakyReluBackwardBackward0"


def _check_result_slope(ctx):
    if ctx.from_result and ctx.slope < 0:
        raise RuntimeError("In-place leakyReLu backward calculation is triggered with a negative slope which is not "
                           "supported. This is caused by calling in-place forward function with a negative slope, "
                           "please call out-of-place version instead. File an issue at "
                           "https://github.com/pytorch/pytorch if you do require supporting in-place leakRelu "
                           "backward calculation with negative slope")


def _leaky_relu_grad(xp, grad, saved, slope):
    """grad times a factor of 1 where saved > 0, else slope: for 0 <= slope <= 1 the factor is (saved > 0) clipped
    to [slope, 1], three passes without a branch per element; other slopes take ``where``."""
    def run(out, g, s):
        if is_reduced(g):   # grad * slope in float32, rounded once, as PyTorch's 16-bit kernel
            scaled = xp.multiply(g, numpy.float32(slope), dtype=numpy.float32).astype(g.dtype)
            out[...] = xp.where(s > 0, g, scaled)
        elif 0 <= slope <= 1:
            xp.greater(s, 0, out=out)   # 1.0 or 0.0, then clipped up to the slope (NumPy's maximum of a bool array
            xp.clip(out, out.dtype.type(slope), out.dtype.type(1), out=out)   # and a scalar: 4x clip's time)
            xp.multiply(g, out, out=out)
        else:
            out[...] = xp.where(s > 0, g, g * slope)
    out = _buffers.empty(xp, xp.broadcast_shapes(grad.shape, saved.shape), grad.dtype)
    return _parallel.map_chunks(run, out, grad, saved)


@keeps_layout
def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["leaky_relu"](input, negative_slope, inplace)
    require_dtype("leaky_relu_cpu", input)
    if type(negative_slope) is not float:
        negative_slope = _float_arg(negative_slope, "leaky_relu", input, negative_slope)
    if not inplace:
        return LeakyRelu.apply(input, negative_slope, False)
    result = _into_input(input, LeakyRelu, negative_slope)
    return result if input._base is not None else name_node(result, "LeakyReluBackward1")


@composite("prelu", trace_inside=True)
def prelu(input, weight):
    """x if x > 0 else weight * x, with ``weight`` per channel (dim 1) or shared."""
    require_prelu_dtypes(input, weight)
    if weight.numel() != 1:
        if input.ndim < 2 or input.shape[1] != weight.numel():
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{weight.numel()} and channel size = {input.shape[1] if input.ndim > 1 else 1}.")
    # PyTorch's kernel takes the weight viewed as (1, C, 1, ...) against inputs of two dims or more
    slopes = weight.reshape((1, weight.numel()) + (1,) * (input.ndim - 2)) if input.ndim >= 2 else \
        weight.reshape(()) if input.ndim == 0 else weight
    # x times its factor (1, or the slope where not x > 0): PyTorch's gradient grad * slope there keeps its sign
    return name_node(input * slopes.where(~(input > 0), 1.0), "PreluKernelBackward0", (input, slopes))


@row_major_result
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with a random slope in [lower, upper] per element when training, their mean otherwise."""
    lower = lower if type(lower) is float else _float_arg(lower, "rrelu", input, lower, upper)
    upper = upper if type(upper) is float else _float_arg(upper, "rrelu", input, lower, upper)
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    require_dtype("rrelu_with_noise_out_cpu", input, "fB") if training else require_dtype("leaky_relu_cpu", input)
    if inplace:
        return _write_into(input, rrelu, lower, upper, training)
    if training:   # PyTorch multiplies every element by its noise: 1 above zero, a random slope at or below
        from .random import _rrelu_noise
        return name_node(input * _rrelu_noise(input.detach(), lower, upper), "RreluWithNoiseBackward0", (input,))
    slope = input * ((lower + upper) / 2)   # zero takes the slope's gradient, as PyTorch
    return name_node(input.where(input > 0, slope), "RreluWithNoiseBackward0", (input,))


class Hardtanh(Primitive):
    """x clamped to [low, high] in one pass, written into x itself with ``into``. Its gradient passes where
    low < x < high, as PyTorch's hardtanh_backward, read from the saved input (so, as in PyTorch, a later in-place
    change of the result is no error, and one of the input is). Written in place, it keeps that test's one-byte
    mask instead: PyTorch keeps a copy of the input there, which the mask stands for at a quarter of the memory and
    without the copy."""

    @staticmethod
    def forward(ctx, a, low, high, into):
        xp = ctx.xp
        mask = None
        if into and ctx.needs_input_grad[0]:   # taken from the input before the write (16-bit results clamped to
            mask = _parallel.map_chunks(lambda out, r: _inside(xp, r, low, high, out),   # rounded limits may lie
                                        _buffers.empty(xp, a.shape, bool), a)            # inside the float ones)
        result = _parallel.map_chunks(lambda out, part: xp.clip(part, low, high, out=out),
                                      a if into else _buffers.empty_like(xp, a), a)
        if mask is not None:
            ctx.bounds = None, None
            ctx.save_for_backward(mask)
        else:
            ctx.bounds = low, high
            ctx.save_for_backward(a)   # the same test as on the result
        return result

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors   # only a mask of it is read: no gradient flows to it
        return HardtanhGrad.apply(grad, a.detach(), *ctx.bounds), None, None, None

    @staticmethod
    def array_backward(ctx, grad):
        a, = ctx.saved_arrays
        return _hardtanh_grad(ctx.xp, grad, a, *ctx.bounds)


class HardtanhGrad(Primitive):
    """``grad`` where low < result < high, else 0 (NaN too, as PyTorch's vectorised kernel gives on all but a
    tensor's last few elements); linear in grad, so its own gradient is itself."""

    @staticmethod
    def forward(ctx, grad, result, low, high):
        ctx.bounds = low, high
        ctx.save_for_backward(result)
        return _hardtanh_grad(ctx.xp, grad, result, low, high)

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return HardtanhGrad.apply(grad, result, *ctx.bounds), None, None, None


Hardtanh._node_cls.__name__ = Hardtanh._node_cls.__qualname__ = "HardtanhBackward0"   # PyTorch's names
HardtanhGrad._node_cls.__name__ = HardtanhGrad._node_cls.__qualname__ = "HardtanhBackwardBackward0"


def _hardtanh_grad(xp, grad, result, low, high):
    """The gradient mask as two one-byte passes (result > low, and result < high) and one select
    (``_parallel.gradient_where``, as fast as a product with the mask). Without bounds, ``result`` is the mask."""
    def run(out, g, r):
        _parallel.gradient_where(xp, g, r if low is None else _inside(xp, r, low, high), out=out)
    out = _buffers.empty(xp, xp.broadcast_shapes(grad.shape, result.shape), grad.dtype)
    return _parallel.map_chunks(run, out, grad, result)


def _inside(xp, result, low, high, out=None):
    """Where low < result < high (not at NaN); 16-bit floats compared in float32, as PyTorch's hardtanh_backward
    takes its limits as floats (the forward clamps to them rounded to 16 bits)."""
    if is_reduced(result):
        result = result.astype(numpy.float32)
    inside = xp.greater(result, low, out=out)
    inside &= xp.less(result, high)
    return inside


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]."""
    if min_val > max_val:   # PyTorch's F.hardtanh checks first
        raise ValueError("min_val cannot be greater than max_val")
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["hardtanh"](input, min_val, max_val, inplace)
    min_val, max_val = hardtanh_limits(input, min_val, max_val)
    if not input.dtype.is_floating_point:   # integer limits keep an integer input's type (clamp's rules)
        return input.clamp_(min_val, max_val) if inplace else input.clamp(min_val, max_val)
    if not inplace:
        return Hardtanh.apply(input, min_val, max_val, False)
    return _into_input(input, Hardtanh, min_val, max_val)


def relu6(input, inplace=False):
    """x clamped to [0, 6]."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _shifted_relu6(xp, a):
    """relu6(a + 3) as a new (pooled) array, in two passes."""
    out = xp.add(a, 3, out=_buffers.empty(xp, a.shape, a.dtype))
    return xp.clip(out, 0, 6, out=out)


_ONE_SIXTH = float(numpy.float32(1 / 6))
"""PyTorch's hardsigmoid gradient multiplies by 1/6 rounded to float32 (``1.0f / 6.0f``), in float64 too; its
forward divides by 6."""


class Hardsigmoid(Primitive):
    """relu6(x + 3) / 6 in three passes over one array (PyTorch's arithmetic, the same bits); the gradient grad / 6
    where -3 < x < 3, else 0 (NaN too, as PyTorch 2.13's)."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        out = _shifted_relu6(ctx.xp, a)
        out /= 6
        return out

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return (grad * _ONE_SIXTH).where((a > -3) & (a < 3), 0.0)

    @staticmethod
    @quiet
    def array_backward(ctx, grad):
        a, = ctx.saved_arrays
        xp = ctx.xp
        passes = xp.greater(a, -3)
        passes &= xp.less(a, 3)
        out = xp.multiply(grad, grad.dtype.type(_ONE_SIXTH), out=_buffers.empty(xp, a.shape, grad.dtype))
        return _parallel.gradient_where(xp, out, passes, out=out)


class Hardswish(Primitive):
    """x * relu6(x + 3) / 6 in four passes over one array (the same bits as PyTorch's); the gradient 0 for x <= -3,
    grad for x >= 3, grad * (x / 3 + 0.5) between (and for NaN), as PyTorch's."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        xp = ctx.xp
        ctx.save_for_backward(a)
        out = _shifted_relu6(xp, a)
        xp.multiply(a, out, out=out)
        out /= 6
        return out

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        # NaN takes the slope (NaN); 0 is selected, not a product (+0 for a negative gradient, as PyTorch's)
        return (grad * (a / 3 + 0.5).where(~(a >= 3), 1.0)).where(~(a <= -3), 0.0)

    @staticmethod
    @quiet
    def array_backward(ctx, grad):
        a, = ctx.saved_arrays
        xp = ctx.xp
        # x / 3 + 1/2 on x clipped to [-3, 3] (3/2 at the top), minus (x >= 3) / 2: PyTorch's slope inside, 1
        # above, NaN for NaN; the gradient times it, then +0 selected from x <= -3 on (PyTorch's select)
        slope = xp.clip(a, -3, 3, out=_buffers.empty(xp, a.shape, a.dtype))
        slope /= 3
        slope += 0.5
        mask = xp.greater_equal(a, 3, out=_buffers.empty(xp, a.shape, a.dtype))
        mask *= 0.5
        slope -= mask
        xp.multiply(grad, slope, out=slope)
        return _parallel.gradient_where(xp, slope, ~xp.less_equal(a, -3), out=slope)


Hardsigmoid._node_cls.__name__ = Hardsigmoid._node_cls.__qualname__ = "HardsigmoidBackward0"
Hardswish._node_cls.__name__ = Hardswish._node_cls.__qualname__ = "HardswishBackward0"


@keeps_layout
def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6 (its gradient zero from |x| = 3 on, as PyTorch's)."""
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["hardsigmoid"](input, inplace)
    require_dtype("hardsigmoid_cpu", input)
    if inplace:
        return _write_into(input, hardsigmoid)
    if input._data.dtype.char in "fd":
        return Hardsigmoid.apply(input)
    if is_reduced(input._data):   # in float32, rounded once, as PyTorch's kernel (x + 3 in bfloat16 can round to 6)
        return Hardsigmoid.apply(input.float()).to(input.dtype)
    return relu6(input + 3) / 6


@keeps_layout
def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6 (its gradient 0 at x = -3 and 1 at x = 3, as PyTorch's)."""
    require_dtype("hardswish_cpu", input)
    if inplace:
        return _write_into(input, hardswish)
    if input._data.dtype.char in "fd":
        return Hardswish.apply(input)
    if is_reduced(input._data):   # in float32, rounded once, as PyTorch's kernel
        return Hardswish.apply(input.float()).to(input.dtype)
    return input * relu6(input + 3) / 6


class Softplus(Primitive):
    """PyTorch's softplus of float32 and float64 arrays: log1p(exp(beta * x)) / beta, x itself where
    beta * x > threshold; the gradient z / (z + 1), z = exp(beta * x) (NaN where z overflows, as PyTorch's), 1 past
    the threshold. The values past the threshold are written by a masked copy only where there are any (it costs
    ~0.15 ms a million when few, up to ~5 ms when half the elements are; the passes here ~0.1-0.9 ms each)."""

    @staticmethod
    @quiet
    def forward(ctx, a, beta, threshold):
        xp = ctx.xp
        ctx.constants = beta, threshold
        ctx.save_for_backward(a)

        def run(out, x):
            scaled = x if beta == 1 else xp.multiply(x, beta, out=out)
            linear = xp.greater(scaled, threshold)
            xp.exp(scaled, out=out)
            xp.log1p(out, out=out)
            if beta != 1:
                out /= beta
            if linear.any():
                xp.copyto(out, x, where=linear)
        return _parallel.map_chunks(run, _buffers.empty(xp, a.shape, a.dtype), a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        beta, threshold = ctx.constants
        scaled = a * beta
        z = scaled.clamp(max=threshold).exp()   # clamped: past the threshold exp's gradient stays finite
        return grad * (z / (z + 1)).where(~(scaled > threshold), 1.0), None, None

    @staticmethod
    @quiet
    def array_backward(ctx, grad):
        a, = ctx.saved_arrays
        beta, threshold = ctx.constants
        xp = ctx.xp

        def run(out, g, x):
            xp.multiply(x, beta, out=out)
            linear = xp.greater(out, threshold)
            xp.exp(out, out=out)
            xp.divide(out, out + 1, out=out)
            if linear.any():
                xp.copyto(out, 1, where=linear)
            out *= g
        out = _buffers.empty(xp, xp.broadcast_shapes(grad.shape, a.shape), grad.dtype)
        return _parallel.map_chunks(run, out, grad, a), None, None


@composite("softplus", trace_inside=True)
@keeps_layout
def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear above ``threshold``."""
    require_dtype("softplus_cpu", input)
    if input.dtype.is_floating_point and input.dtype.itemsize == 2:   # as PyTorch: in float32, rounded once
        return softplus(input.float(), beta, threshold).to(input.dtype)
    if not dispatch_hooks and input._data.dtype.char in "fd":
        return Softplus.apply(input, float(beta), float(threshold))
    scaled = input * beta
    linear = scaled > threshold
    # zeroed where not taken, so that branch's gradient stays finite (0 * exp(inf) would be NaN); NaN passes through
    return input.where(linear, scaled.where(~linear, 0).exp().log1p() / beta)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (1 + input.abs())


@row_major_result
def logsigmoid(input):
    """log(sigmoid(x)), computed stably as -softplus(-x): smooth at 0, its linear cut where the dropped term
    log1p(exp(x)) is below the dtype's ulp (float64 keeps it to x = -40)."""
    require_dtype("log_sigmoid_cpu", input)
    if not dispatch_hooks and (input._data.dtype.char in "fd" or is_reduced(input._data)):
        return LogSigmoid.apply(input)
    if input.dtype.is_floating_point and input.dtype.itemsize == 2:   # as PyTorch: in float32, rounded once
        return name_node(logsigmoid(input.float()).to(input.dtype), "LogSigmoidBackward0", (input,))
    # 0 - softplus: where log1p(exp(-x)) vanishes the result is +0.0, as PyTorch's min(x, 0) - log1p(exp(-|x|))
    result = 0.0 - softplus(-input, 1.0, 20.0 if input.dtype.itemsize <= 4 else 40.0)
    return name_node(result, "LogSigmoidBackward0", (input,))


def tanhshrink(input):
    """x - tanh(x)."""
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    """x - lambd if x > lambd, x + lambd if x < -lambd, 0 if |x| <= lambd (NaN stays NaN)."""
    require_dtype("softshrink_check", input)
    from .._dtype_info import finfo
    limit = float(finfo(input.dtype).max)
    if not 0 <= lambd <= limit:
        raise RuntimeError(f"lambda must be in range [0, {limit:g}] for input dtype "
                           f"{_dtype.scalar_type_name(input.dtype)}, but found {lambd:g}")
    wide = input.float() if is_reduced(input._data) else input   # 16-bit: in float32, rounded once, as PyTorch
    shrunk = (wide - lambd * wide.sign()).where(wide.abs() > lambd, _zero_or_nan(wide))
    return name_node(shrunk if wide is input else shrunk.to(input.dtype), "SoftshrinkBackward0", (input,))


def hardshrink(input, lambd=0.5):
    """0 where |x| <= lambd, else x (NaN stays NaN)."""
    require_dtype("hardshrink_cpu", input)
    return name_node(input.where(input.abs() > lambd, _zero_or_nan(input)), "HardshrinkBackward0", (input,))


def _zero_or_nan(input):
    """+0, or NaN where ``input`` is NaN, with a zero gradient: what PyTorch's vectorized shrink kernels give
    inside the band (its scalar tail differs in the sign of zero and NaN's gradient)."""
    return input * 0.0 + 0.0


def threshold(input, threshold, value, inplace=False):
    """value where x <= threshold, else x (so NaN stays NaN, as in PyTorch)."""
    require_dtype("threshold_cpu", input, FLOATING + "liu")
    if not input.dtype.is_floating_point:   # PyTorch's kernel writes the value in the input's integer type
        value = int(value)
    if inplace:
        return _write_into(input, lambda x: x.where(~(x <= threshold), value))
    return name_node(input.where(~(input <= threshold), value), "ThresholdBackward0", (input,))


def glu(input, dim=-1):
    """a * sigmoid(b) where a and b are the two halves of ``input`` along ``dim``."""
    require_dtype("glu_cpu", input)
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = wrap_dim(dim, input.ndim)
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {input.shape[dim]}")
    if is_reduced(input._data) and not dispatch_hooks:
        return HalfGlu.apply(input, dim)
    a, b = input.chunk(2, dim)
    return name_node(a * b.sigmoid(), "GluBackward0", (input,))


class HalfGlu(Primitive):
    """glu of a float16/bfloat16 input as PyTorch's kernels compute it: a * sigmoid(b) in float32, rounded once; the
    gradient from sigmoid(b) rounded to the input's dtype, a's as s * grad and b's as (1 - s) * s * grad * a, each
    in float32 and rounded once."""

    @staticmethod
    @quiet
    def forward(ctx, input, dim):
        ctx.dim = dim
        ctx.save_for_backward(input)
        a, b = (half.astype(numpy.float32) for half in ctx.xp.split(input, 2, axis=dim))
        sigmoid = -b
        from .pointwise.transcendental import sigmoid_of_negated_
        sigmoid_of_negated_(ctx.xp, sigmoid)
        return (a * sigmoid).astype(input.dtype)

    @staticmethod
    def backward(ctx, grad):
        input, = ctx.saved_tensors
        a, b = input.chunk(2, ctx.dim)
        sigmoid, wide = b.float().sigmoid().to(input.dtype).float(), grad.float()
        grad_a = (sigmoid * wide).to(input.dtype)
        grad_b = ((1 - sigmoid) * sigmoid * wide * a.float()).to(input.dtype)
        from .rearrange import cat
        return cat([grad_a, grad_b], ctx.dim), None


HalfGlu._node_cls.__name__ = HalfGlu._node_cls.__qualname__ = "GluBackward0"

