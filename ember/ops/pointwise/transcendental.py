"""Exponentials, logarithms, trigonometric and hyperbolic functions, sigmoid/logit/relu, the error function
family and the binary functions built on them (hypot, logaddexp, xlogy, copysign)."""
import math

import numpy

from ..._tensor import Tensor
from ...autograd.function import Primitive, composite
from .. import _buffers, _parallel, _quantized
from .._inplace import inplace_method
from .._kernel_dtypes import refuse_complex, require_real_clamp
from .._parallel import gradient_where, ufunc
from .._unary import unary_primitive
from .._util import argument_error, conj_if_complex, name_node, promote_pair, recorded, tensor_method, write_out
from .._util import quiet as _quiet
from ._checks import _floating, _not_implemented, _promote_to_float, _require_tensors, _zero_grad
from .rounding import clipped, where

__all__ = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "asin",
           "arcsin", "acos", "arccos", "atan", "arctan", "atan2", "arctan2", "sinh", "cosh", "tanh", "asinh",
           "arcsinh", "acosh", "arccosh", "atanh", "arctanh", "sigmoid", "logit", "relu", "erf", "erfc", "erfinv",
           "hypot", "logaddexp", "logaddexp2", "xlogy", "copysign", "deg2rad", "rad2deg"]


def _unary(name, array_function, gradient, saves="input", silent=True, on_arrays=False, float32_gradient=False):
    return unary_primitive(name, __name__, array_function, gradient, saves, silent, on_arrays, float32_gradient)


# --- exponentials and logarithms -------------------------------------------------------------------------------------
Exp = _unary("Exp", lambda xp, a: xp.exp(a), lambda grad, result: grad * result, saves="result", on_arrays=True)
Exp2 = _unary("Exp2", lambda xp, a: xp.exp2(a), lambda grad, result: grad * (result * math.log(2.0)),
              saves="result", on_arrays=True)
Expm1 = _unary("Expm1", lambda xp, a: xp.expm1(a), lambda grad, result: grad * (result + 1),
               saves="result", on_arrays=True)
Log = _unary("Log", lambda xp, a: xp.log(a), lambda grad, a: grad / a, on_arrays=True)
Log2 = _unary("Log2", lambda xp, a: xp.log2(a), lambda grad, a: grad / (a * math.log(2.0)), on_arrays=True)
Log10 = _unary("Log10", lambda xp, a: xp.log10(a), lambda grad, a: grad / (a * math.log(10.0)), on_arrays=True)
Log1p = _unary("Log1p", lambda xp, a: xp.log1p(a), lambda grad, a: grad / (a + 1), on_arrays=True)
Log1p._node_cls.__name__ = Log1p._node_cls.__qualname__ = "Log1PBackward0"
Sqrt = _unary("Sqrt", lambda xp, a: xp.sqrt(a), lambda grad, result: grad / (2 * result),
              saves="result", on_arrays=True)
Rsqrt = _unary("Rsqrt", lambda xp, a: 1 / xp.sqrt(a), lambda grad, result: grad * (-0.5 * result * result * result),
               saves="result")


# --- trigonometric and hyperbolic functions --------------------------------------------------------------------------
Sin = _unary("Sin", lambda xp, a: xp.sin(a), lambda grad, a: grad * cos(a))
Cos = _unary("Cos", lambda xp, a: xp.cos(a), lambda grad, a: grad * -sin(a))
Tan = _unary("Tan", lambda xp, a: xp.tan(a), lambda grad, result: grad * (1 + result * result), saves="result")
Asin = _unary("Asin", lambda xp, a: xp.arcsin(a), lambda grad, a: grad * rsqrt(1 - a * a))
Acos = _unary("Acos", lambda xp, a: xp.arccos(a), lambda grad, a: grad * -rsqrt(1 - a * a))
Atan = _unary("Atan", lambda xp, a: xp.arctan(a), lambda grad, a: grad / (1 + a * a), on_arrays=True)
Sinh = _unary("Sinh", lambda xp, a: xp.sinh(a), lambda grad, a: grad * cosh(a))
Cosh = _unary("Cosh", lambda xp, a: xp.cosh(a), lambda grad, a: grad * sinh(a))
Tanh = _unary("Tanh", lambda xp, a: xp.tanh(a), lambda grad, result: grad * (1 - result * result), saves="result",
              silent=False, on_arrays=True, float32_gradient=True)
Asinh = _unary("Asinh", lambda xp, a: xp.arcsinh(a), lambda grad, a: grad * rsqrt(a * a + 1))
Acosh = _unary("Acosh", lambda xp, a: xp.arccosh(a),   # complex: the principal branch's 1 / (sqrt(z-1) sqrt(z+1))
               lambda grad, a: grad * (rsqrt(a - 1) * rsqrt(a + 1) if a.is_complex() else rsqrt(a * a - 1)))
Atanh = _unary("Atanh", lambda xp, a: xp.arctanh(a), lambda grad, a: grad / (1 - a * a))


class Atan2(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        denominator = a * a + b * b
        nonzero = denominator != 0   # PyTorch's gradient is zero where a^2 + b^2 is (or underflows to) zero
        scale = (grad / denominator.where(nonzero, 1)).where(nonzero, 0)
        return (scale * b if ctx.needs_input_grad[0] else None,
                scale * -a if ctx.needs_input_grad[1] else None)


# --- special functions ---------------------------------------------------------------------------------------------
def sigmoid_of_negated_(xp, array):
    """Overwrites ``array`` (holding -x) with sigmoid(x) = 1 / (1 + exp(-x)): four in-place passes that keep their
    relative accuracy everywhere (exp overflows to inf, giving 0), twenty times faster than through logaddexp."""
    xp.exp(array, out=array)
    array += 1
    xp.divide(1, array, out=array)   # the same bits as reciprocal, which NumPy runs at half the speed here


class Sigmoid(Primitive):
    saved_names = ("result",)   # PyTorch's names of what forward saves (the node's _saved_* attributes)

    @staticmethod
    @_quiet
    def forward(ctx, a):
        xp = ctx.xp
        if xp is numpy and a.size >= _parallel.MIN_ELEMENTS and a.dtype.char in "fd":   # pooled: no page faults
            result = xp.negative(a, out=_buffers.empty(xp, a.shape, a.dtype))
        else:
            result = xp.asarray(xp.negative(a))
        if result.dtype.itemsize < 4:   # exp overflows half precision from -11 on: compute in float32, as PyTorch
            result = result.astype(numpy.float32)
        sigmoid_of_negated_(ctx.xp, result)
        result = result.astype(a.dtype, copy=False)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        if result.is_complex():   # grad * conj(sigmoid'(z)), PyTorch's convention for holomorphic functions
            return grad * (result * (1 - result)).conj()
        if result._data.dtype.kind == "V":   # bfloat16: PyTorch's sigmoid_backward in float32 (float16 in steps)
            return (grad.float() * (1 - result.float()) * result.float()).to(grad.dtype)
        return grad * (1 - result) * result   # sigmoid_backward's order

    @staticmethod
    @_quiet
    def array_backward(ctx, grad):
        result, = ctx.saved_arrays
        if result.dtype.kind == "c":
            return grad * (result * (1 - result)).conj()
        if result.dtype.kind == "V":   # bfloat16 (ml_dtypes' kind), as in backward
            wide = result.astype(numpy.float32)
            return (grad.astype(numpy.float32) * (1 - wide) * wide).astype(result.dtype)
        return grad * (1 - result) * result


class Logit(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, eps):
        ctx.save_for_backward(a)
        ctx.eps = eps
        z = a if eps is None else ctx.xp.clip(a, eps, 1 - eps)
        return ctx.xp.log(z / (1 - z))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        low, high = (0.0, 1.0) if ctx.eps is None else (ctx.eps, 1 - ctx.eps)
        # grad times a factor (0, or NaN without eps, outside [low, high]): linear in grad, so that forward mode (ember
        # differentiates this for grad) gives PyTorch's tangents there too
        outside = (a < low) | (a > high)
        factor = where(outside, 0.0 if ctx.eps is not None else float("nan"), 1 / where(outside, 1.0, a * (1 - a)))
        return grad * factor


_zeros = {}


def _zero(xp, like):
    """A 0-d zero of ``like``'s dtype on its device: NumPy compares and takes maxima against it faster than against
    the Python 0. Kept by dtype on the host (one lookup per call), by dtype and device on a GPU."""
    if xp is numpy:
        key = like.dtype
    else:
        device = getattr(like, "device", None)
        key = (xp, like.dtype, getattr(device, "id", device))   # CuPy's Device is not hashable; its id is
    zero = _zeros.get(key)
    if zero is None:
        zero = _zeros[key] = xp.zeros((), like.dtype)
    return zero


class Relu(Primitive):
    saved_names = ("result",)   # PyTorch's names of what forward saves (the node's _saved_* attributes)

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        result = clipped(xp, a, _zero(xp, a), None)   # relu(-0.0) is -0.0, as in PyTorch
        if type(result) is not numpy.ndarray:   # a NumPy scalar from a 0-d input, or a CuPy array
            result = xp.asarray(result)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return ReluGrad.apply(grad, result)

    @staticmethod
    def array_backward(ctx, grad):
        result, = ctx.saved_arrays
        xp = ctx.xp
        if xp is numpy and grad.size >= _parallel.MIN_ELEMENTS and grad.dtype == result.dtype and \
                grad.shape == result.shape and grad.flags.c_contiguous and result.flags.c_contiguous:
            # the same product into pooled arrays: fresh ones of this size are paid in page faults every step (small
            # ones take the plain product below: neither pooled nor cut in parts, the pool's bookkeeping saved)
            mask = ufunc(xp.not_equal, result, _zero(xp, result), out=_buffers.empty(xp, result.shape, bool))
            return gradient_where(xp, grad, mask, out=_buffers.empty(xp, grad.shape, grad.dtype))
        return gradient_where(xp, grad, result != _zero(xp, result))   # as ReluGrad's forward


class ReluGrad(Primitive):
    """``grad`` where relu's ``result`` is not 0 (positive or NaN, as PyTorch's ``threshold_backward``), else +0; one
    op instead of a comparison and a select."""

    @staticmethod
    def forward(ctx, grad, result):
        ctx.save_for_backward(result)
        return gradient_where(ctx.xp, grad, ufunc(ctx.xp.not_equal, result, _zero(ctx.xp, result)))

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return ReluGrad.apply(grad, result), None


ReluGrad._node_cls.__name__ = ReluGrad._node_cls.__qualname__ = "ThresholdBackwardBackward0"   # PyTorch's name


# Cephes' rational approximations of erf and erfc (double precision), evaluated on whole arrays.
_ERF_T = (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3, 7.00332514112805075473E3,
          5.55923013010394962768E4)
_ERF_U = (1.0, 3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3,
          2.26290000613890934246E4, 4.92673942608635921086E4)
_ERFC_P = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
           4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2, 9.34528527171957607540E2,
           1.02755188689515710272E3, 5.57535335369399327526E2)
_ERFC_Q = (1.0, 1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2,
           9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3, 1.65666309194161350182E3,
           5.57535340817727675546E2)
_ERFC_R = (5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0, 6.16021097993053585195E0,
           7.40974269950448939160E0, 2.97886665372100240670E0)
_ERFC_S = (1.0, 2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1,
           1.70814450747565897222E1, 9.60896809063285878198E0, 3.36907645100081516050E0)
# Giles' single-precision erfinv ("Approximating the erfinv function", 2010), refined by Newton steps.
_ERFINV_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                   -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_ERFINV_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                0.00943887047, 1.00167406, 2.83297682)


def _polynomial(x, coefficients):
    """Horner's rule; coefficients from the highest power down. The steps run in place on one new array: the same
    arithmetic as ``result * x + c`` each step, without a fresh array (and its page faults) per operation."""
    result = x * coefficients[0]
    result += coefficients[1]
    for c in coefficients[2:]:
        result *= x
        result += c
    return result


def _erf_small(x):
    """erf(x) for |x| <= 1."""
    z = x * x
    return x * _polynomial(z, _ERF_T) / _polynomial(z, _ERF_U)


def _erfc_large(xp, ax):
    """erfc(ax) for ax >= 1."""
    ax = xp.clip(ax, 0.0, 40.0)   # erfc underflows to 0 long before; keeps inf out of the ratios
    near = _polynomial(ax, _ERFC_P) / _polynomial(ax, _ERFC_Q)
    far = _polynomial(ax, _ERFC_R) / _polynomial(ax, _ERFC_S)
    return xp.exp(-ax * ax) * xp.where(ax < 8.0, near, far)


def _erf64(xp, x):
    ax = xp.abs(x)
    return xp.where(ax <= 1.0, _erf_small(x), xp.copysign(1.0 - _erfc_large(xp, ax), x))


def _erfc64(xp, x):
    ax = xp.abs(x)
    tail = _erfc_large(xp, ax)
    return xp.where(ax < 1.0, 1.0 - _erf_small(x), xp.where(x < 0, 2.0 - tail, tail))


def _erfinv64(xp, y, steps=4):
    """erfinv in float64: Giles' approximation, then ``steps`` Newton steps (each squares the relative error: one
    takes its ~4e-7 below a float32 rounding, four to double precision where the approximation is weakest)."""
    w = -xp.log((1.0 - y) * (1.0 + y))
    central = _polynomial(w - 2.5, _ERFINV_CENTRAL)
    tail = _polynomial(xp.sqrt(w) - 3.0, _ERFINV_TAIL)
    x = xp.where(w < 5.0, central, tail) * y
    ay, sign = xp.abs(y), xp.sign(y)
    for _ in range(steps):
        x = xp.where(ay <= 0.5, _erf_newton_step(xp, x, y), sign * _log_erfc_newton_step(xp, xp.abs(x), 1.0 - ay))
    return xp.where(ay == 1.0, sign * math.inf, x)


def _erf_newton_step(xp, x, y):
    return x - (_erf64(xp, x) - y) / (2.0 / math.sqrt(math.pi) * xp.exp(-x * x))


def _log_erfc_newton_step(xp, ax, target):
    """Newton on log(erfc(ax)) = log(target): near |y| = 1 the residual keeps its digits and converges fast."""
    tail = _erfc64(xp, ax)
    slope = -2.0 / math.sqrt(math.pi) * xp.exp(-ax * ax) / tail
    return ax - (xp.log(tail) - xp.log(target)) / slope


def _in_float64(function, xp, a):
    """Runs an elementwise array function in float64 and returns the result in a's dtype (large NumPy arrays a
    cache-sized block at a time on the intra-op threads: ``_parallel.in_float64_blocks``)."""
    if xp is numpy:
        result = _parallel.in_float64_blocks(lambda x: function(numpy, x), a)
        if result is not None:
            return result
    return function(xp, a.astype(numpy.float64, copy=False)).astype(a.dtype, copy=False)


Erf = _unary("Erf", lambda xp, a: _in_float64(_erf64, xp, a),
             lambda grad, a: grad * (2 / math.sqrt(math.pi) * exp(-a * a)))
Erfc = _unary("Erfc", lambda xp, a: _in_float64(_erfc64, xp, a),
              lambda grad, a: grad * (-2 / math.sqrt(math.pi) * exp(-a * a)))
Erfinv = _unary("Erfinv", lambda xp, a: _in_float64(
    lambda xp, y: _erfinv64(xp, y, 4 if a.dtype.itemsize == 8 else 1), xp, a),
                lambda grad, a: grad * (math.sqrt(math.pi) / 2 * exp(erfinv(a).square())))   # PyTorch saves the input


def _float_unary(primitive, name, doc, named=False, real_only=False):
    """Defines the public function of a float-valued unary primitive, its Tensor method and in-place variant;
    ``named``: registered as the composite op ``name`` (for autocast's per-op policies); ``real_only``: a complex
    input raises PyTorch's error for its ``<name>_vml_cpu`` kernel."""
    def function(input, *, out=None):
        if real_only:
            refuse_complex(f"{name}_vml_cpu", input)
        if getattr(input, "is_quantized", False) and name in _quantized.kernels:   # sigmoid, tanh
            return _quantized.kernels[name](input)
        return write_out(out, primitive.apply(_floating(input)), name)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    if named:
        function = composite(name, trace_inside=True)(function)
    tensor_method(function)
    inplace_method(function)
    return function


exp = _float_unary(Exp, "exp", "e to the power of each element.", named=True)
exp2 = _float_unary(Exp2, "exp2", "2 to the power of each element.")
expm1 = _float_unary(Expm1, "expm1", "exp(input) - 1, accurate for small inputs.", named=True)
log = _float_unary(Log, "log", "Natural logarithm of each element.", named=True)
log2 = _float_unary(Log2, "log2", "Base-2 logarithm of each element.", named=True)
log10 = _float_unary(Log10, "log10", "Base-10 logarithm of each element.", named=True)
log1p = _float_unary(Log1p, "log1p", "log(1 + input), accurate for small inputs.", named=True)
sqrt = _float_unary(Sqrt, "sqrt", "Square root of each element.")
rsqrt = _float_unary(Rsqrt, "rsqrt", "1 / sqrt(input).", named=True)
sin = _float_unary(Sin, "sin", "Sine (radians).")
cos = _float_unary(Cos, "cos", "Cosine (radians).")
tan = _float_unary(Tan, "tan", "Tangent (radians).", named=True)
asin = _float_unary(Asin, "asin", "Inverse sine.", named=True)
acos = _float_unary(Acos, "acos", "Inverse cosine.", named=True)
atan = _float_unary(Atan, "atan", "Inverse tangent.")
sinh = _float_unary(Sinh, "sinh", "Hyperbolic sine.", named=True)
cosh = _float_unary(Cosh, "cosh", "Hyperbolic cosine.", named=True)
tanh = _float_unary(Tanh, "tanh", "Hyperbolic tangent.")
asinh = _float_unary(Asinh, "asinh", "Inverse hyperbolic sine.")
acosh = _float_unary(Acosh, "acosh", "Inverse hyperbolic cosine.")
atanh = _float_unary(Atanh, "atanh", "Inverse hyperbolic tangent.")
sigmoid = _float_unary(Sigmoid, "sigmoid", "1 / (1 + exp(-input)), computed without overflow.")
erf = _float_unary(Erf, "erf", "The Gauss error function.", real_only=True)
erfc = _float_unary(Erfc, "erfc", "1 - erf(input), accurate where erf(input) is near 1.", real_only=True)
erfinv = _float_unary(Erfinv, "erfinv", "The inverse of erf, on [-1, 1].", named=True, real_only=True)
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
for _alias, _function in (("arcsin", asin), ("arccos", acos), ("arctan", atan), ("arcsinh", asinh),
                          ("arccosh", acosh), ("arctanh", atanh)):
    setattr(Tensor, _alias, _function)
    inplace_method(_function, _alias + "_")


@tensor_method
@composite("atan2", trace_inside=True)
def atan2(input, other, *, out=None):
    """The angle of the point (other, input), in (-pi, pi]."""
    _require_tensors("atan2", input, other)
    input, other = _promote_to_float(input, other)
    refuse_complex("atan2_cpu", input)
    return write_out(out, Atan2.apply(input, other), "atan2")


arctan2 = atan2
Tensor.arctan2 = atan2
inplace_method(atan2)
inplace_method(atan2, "arctan2_")


@tensor_method
def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)); with ``eps``, p is first clamped to [eps, 1 - eps]."""
    refuse_complex("logit_cpu", input)
    return write_out(out, Logit.apply(_floating(input), eps), "logit")


@tensor_method
def relu(input):
    """max(input, 0) elementwise."""
    try:
        kind = input._data.dtype.kind
    except AttributeError:   # not a tensor
        argument_error()
        raise
    if kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if kind == "c":
        require_real_clamp(input)
    return Relu.apply(input)


def _refuse_complex_angle(name, input):
    if input._data.dtype.kind == "c":
        raise RuntimeError(f"{name} is not supported for complex tensors.")


@tensor_method
def deg2rad(input, *, out=None):
    """Degrees to radians."""
    _refuse_complex_angle("deg2rad", input)
    return write_out(out, name_node(_floating(input) * (math.pi / 180), "Deg2RadBackward0"), "deg2rad")


@tensor_method
def rad2deg(input, *, out=None):
    """Radians to degrees."""
    _refuse_complex_angle("rad2deg", input)
    return write_out(out, name_node(_floating(input) * (180 / math.pi), "Rad2DegBackward0"), "rad2deg")


for _function in (logit, relu, deg2rad, rad2deg):
    inplace_method(_function)
_relu_recorded = Tensor.relu_


def _relu_(self):
    """In-place ``relu``: clamped in self's memory where nothing records the op (no autograd, no dispatch hook), as
    ``nn.ReLU(inplace=True)`` runs in evaluation; else computed aside and written back (``assign_inplace``)."""
    data = self._data
    if type(data) is numpy.ndarray and data.dtype.char in "efd" and data.flags.writeable and not recorded(self):
        clipped(numpy, data, _zero(numpy, data), None, out=data)
        self._version_counter[0] += 1
        return self
    return _relu_recorded(self)


_relu_.__name__, _relu_.__qualname__, _relu_.__doc__ = "relu_", "Tensor.relu_", _relu_recorded.__doc__
Tensor.relu_ = _relu_


# --- other binary math ---------------------------------------------------------------------------------------------
def _hypot32(a, b):
    """hypot of float32 arrays as sqrt(a*a + b*b) in float64, which neither overflows nor underflows there and rounds
    as PyTorch's (libm's loop is slower); NumPy's hypot where that gives NaN (an infinity beside a NaN is inf)."""
    shape = numpy.broadcast_shapes(a.shape, b.shape)
    total, other = _buffers.empty(numpy, shape, numpy.float64), _buffers.empty(numpy, b.shape, numpy.float64)
    numpy.copyto(total, a)   # widening first, then squaring in place, is twice as fast as multiply(dtype=float64)
    numpy.copyto(other, b)
    total *= total
    other *= other
    total += other
    numpy.sqrt(total, out=total)
    result = _buffers.empty(numpy, shape, numpy.float32)
    numpy.copyto(result, total, casting="same_kind")
    if numpy.isnan(result.max(initial=0)):   # max propagates NaN: one reduction instead of a mask in the common case
        nan = numpy.isnan(result)
        a, b = numpy.broadcast_arrays(a, b)
        result[nan] = numpy.hypot(a[nan], b[nan])
    return result


class Hypot(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        xp = ctx.xp
        wide = xp is numpy and a.dtype == b.dtype == numpy.float32 and (a.ndim or b.ndim)
        result = _hypot32(a, b) if wide else xp.asarray(xp.hypot(a, b))
        needs = ctx.needs_input_grad
        ctx.save_for_backward(a if needs[0] else None, b if needs[1] else None, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, b, result = ctx.saved_tensors
        return (grad * a / result if ctx.needs_input_grad[0] else None,
                grad * b / result if ctx.needs_input_grad[1] else None)


class Logaddexp(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        xp = ctx.xp
        if a.dtype.kind == "c":
            return _complex_logaddexp(xp, a, b)
        if a.dtype not in (numpy.float32, numpy.float64):
            return xp.logaddexp(a, b)
        # PyTorch's formula, ~10x faster than NumPy's logaddexp loop; log1p's NaN (a and b the same infinity) made 0
        # leaves max(a, b), that infinity
        term = xp.asarray(a - b)
        xp.abs(term, out=term)
        xp.negative(term, out=term)
        xp.exp(term, out=term)
        xp.log1p(term, out=term)
        xp.fmax(term, 0, out=term)
        return xp.asarray(xp.maximum(a, b) + term)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad / conj_if_complex(1 + exp(b - a)) if ctx.needs_input_grad[0] else None,
                grad / conj_if_complex(1 + exp(a - b)) if ctx.needs_input_grad[1] else None)


def _complex_logaddexp(xp, a, b):
    """PyTorch's complex logaddexp: the operand of larger real part plus log1p(exp(the other minus it))."""
    a, b = xp.broadcast_arrays(a, b)
    first = a.real >= b.real
    larger, smaller = xp.where(first, a, b), xp.where(first, b, a)
    return xp.asarray(larger + xp.log1p(xp.exp(smaller - larger)))


class Logaddexp2(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.logaddexp2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad / (1 + exp2(b - a)) if ctx.needs_input_grad[0] else None,
                grad / (1 + exp2(a - b)) if ctx.needs_input_grad[1] else None)


class Xlogy(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        xp = ctx.xp
        ctx.save_for_backward(a, b)
        return xp.where((a == 0) & ~xp.isnan(b), 0, a * xp.log(b)).astype(xp.result_type(a, b), copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = where((a == 0) & (b <= 0), 0.0, xlogy(grad, b))
        if ctx.needs_input_grad[1]:
            grad_b = grad * a / b
        return grad_a, grad_b


class Copysign(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        result = ctx.xp.asarray(ctx.xp.copysign(a, b))
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        # PyTorch's grad * (result / a, 0 where a is 0): the product keeps a negative gradient's -0 there
        return (grad * where(a == 0, 0.0, result / a) if ctx.needs_input_grad[0] else None,
                _zero_grad(grad) if ctx.needs_input_grad[1] else None)


def _float_binary(name, primitive, input, other, out, complex_too=False):
    _require_tensors(name, input, other)
    input, other = promote_pair(input, other)
    if not (input.dtype.is_floating_point or complex_too and input.dtype.is_complex):
        raise _not_implemented(name + "_cpu", input)
    return write_out(out, primitive.apply(input, other), name)


@tensor_method
def hypot(input, other, *, out=None):
    """sqrt(input**2 + other**2) without overflow."""
    return _float_binary("hypot", Hypot, input, other, out)


@tensor_method
def logaddexp(input, other, *, out=None):
    """log(exp(input) + exp(other)) without overflow."""
    return _float_binary("logaddexp", Logaddexp, input, other, out, complex_too=True)


@tensor_method
def logaddexp2(input, other, *, out=None):
    """log2(2**input + 2**other) without overflow."""
    return _float_binary("logaddexp2", Logaddexp2, input, other, out)


@tensor_method
def xlogy(input, other, *, out=None):
    """input * log(other), taken as 0 where input == 0 (unless other is NaN); either may be a number."""
    input, other = _promote_to_float(input, other)
    refuse_complex("xlogy_cpu", input if isinstance(input, Tensor) else other)
    return write_out(out, Xlogy.apply(input, other), "xlogy")


@tensor_method
def copysign(input, other, *, out=None):
    """|input| with the sign of ``other``; integer inputs give the default float dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"copysign() received an invalid combination of arguments - got ({type(input).__name__}, "
                        f"{type(other).__name__}), but expected (Tensor input, Tensor other, *, Tensor out = None)")
    input, other = _promote_to_float(input, other)
    refuse_complex("copysign_cpu", input)
    return write_out(out, Copysign.apply(input, other), "copysign")


for _function in (hypot, xlogy, copysign):
    inplace_method(_function)
