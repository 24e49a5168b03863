"""Kernels of the statically quantized ops (``torch.ops.quantized.*`` and the aten ops PyTorch runs on QuantizedCPU
tensors), on NumPy, computed as PyTorch's x86 kernels do.

- Convolution and linear (fbgemm): the integer products of ``(x - x_zp)`` and ``(w - w_zp)`` are summed exactly
  (float64 holds every such sum), then requantized as fbgemm's ``ReQuantizeOutput`` with a float bias:
  ``rint((float32(acc) + bias / (x_scale * w_scale)) * (x_scale * w_scale / out_scale)) + out_zp``, all in float32.
- Elementwise ops dequantize as ATen's vectorized kernels (``fma(scale, q, -zp * scale)``), compute in float32 and
  quantize back as ``rint(y * (1 / scale)) + zp``; ``mul`` requantizes the integer product with the float32
  multiplier ``x_scale * y_scale * (1 / out_scale)``. Pooling, ``relu`` and shape ops act on the integers and keep
  their input's qparams; average pooling and ``mean`` round the mean of the integers.
"""
import warnings

import numpy

from .. import _dtype
from .._tensor import Tensor
from ..ops import _quantized
from ._qtensor import RANGES, QTensor, _backend_error, make_qtensor, quantize_array

__all__ = []

f32 = numpy.float32


def per_tensor(values, qdtype, scale, zero_point):
    """A per-tensor quantized tensor over the integer array ``values``."""
    return make_qtensor(numpy.asarray(values, qdtype._numpy), qdtype, _dtype.per_tensor_affine, scale=scale,
                        zero_point=zero_point)


def check_quantized(x, op):
    if not isinstance(x, QTensor):
        raise NotImplementedError(
            f"Could not run '{op}' with arguments from the 'CPU' backend. This could be because the operator doesn't "
            "exist for this backend, or was omitted during the selective/custom build process (if using custom "
            "build).")


def dequantize_vec(q, scale, zero_point):
    """ATen's vectorized dequantization: ``fma(scale, q, -zero_point * scale)`` in float32."""
    s = f32(scale)
    premul = f32(s * f32(-zero_point))
    return (q.astype(numpy.float64) * numpy.float64(s) + numpy.float64(premul)).astype(f32)


def quantize_vec(y, scale, zero_point, qdtype):
    """ATen's vectorized quantization: ``rint(y * (1 / scale)) + zero_point``, clamped to ``qdtype``'s range."""
    low, high = RANGES[qdtype.name]
    with numpy.errstate(all="ignore"):
        scaled = numpy.rint((y.astype(f32) * (f32(1.0) / f32(scale))).astype(f32)).astype(numpy.float64)
    return numpy.clip(scaled + zero_point, low, high).astype(qdtype._numpy)


def unary(x, fn, scale=None, zero_point=None, qdtype=None):
    """``fn`` of ``x``'s float values, quantized with the given qparams (by default ``x``'s own)."""
    scale = x.q_scale() if scale is None else float(scale)
    zero_point = x.q_zero_point() if zero_point is None else int(zero_point)
    qdtype = x.dtype if qdtype is None else qdtype
    y = fn(dequantize_vec(x._int, x.q_scale(), x.q_zero_point()))
    return per_tensor(quantize_vec(y, scale, zero_point, qdtype), qdtype, scale, zero_point)


def _weight_qparams(weight, ndim):
    """The weight's integers (minus zero points) as float64 and its scales as float32, shaped along the output
    channel of a result with ``ndim`` dimensions (channels in dimension 1, or last for linear)."""
    if weight.qscheme() is _dtype.per_tensor_affine:
        return weight._int.astype(numpy.float64) - weight.q_zero_point(), numpy.asarray([weight.q_scale()], f32)
    shape = [-1] + [1] * (weight._int.ndim - 1)
    values = weight._int.astype(numpy.float64) - weight._zero_points.reshape(shape)
    return values, weight._scales.astype(f32)


def requantize(acc, x_scale, w_scales, bias, scale, zero_point, relu, axis):
    """fbgemm's ``ReQuantizeOutput`` of the exact integer sums ``acc`` (float64) with a float bias, into quint8."""
    act_times_w = f32(x_scale) * w_scales
    multiplier = (act_times_w / f32(scale)).astype(f32)
    shape = [1] * acc.ndim
    shape[axis] = -1
    raw = acc.astype(f32)
    if bias is not None:
        raw = raw + (bias.astype(f32) / act_times_w).astype(f32).reshape(shape)
    with numpy.errstate(all="ignore"):
        out = numpy.rint((raw * multiplier.reshape(shape)).astype(f32)).astype(numpy.float64) + zero_point
    return numpy.clip(out, zero_point if relu else 0, 255).astype(numpy.uint8)


def requantize_onednn(acc, x_scale, w_scales, bias, scale, zero_point, relu, axis):
    """oneDNN's int8 convolution output (what PyTorch's x86 engine runs for symmetric weights): the integer sum
    scaled by the input's then the weight's scale, plus the float bias, (ReLU,) divided by the output scale, plus
    the zero point, each step in float32, then rounded half to even."""
    shape = [1] * acc.ndim
    shape[axis] = -1
    with numpy.errstate(all="ignore"):
        value = ((acc.astype(f32) * f32(x_scale)).astype(f32) * w_scales.astype(f32).reshape(shape)).astype(f32)
        if bias is not None:
            value = (value + bias.astype(f32).reshape(shape)).astype(f32)
        if relu:
            value = numpy.maximum(value, f32(0))
        value = ((value / f32(scale)).astype(f32) + f32(zero_point)).astype(f32)
        out = numpy.rint(value).astype(numpy.float64)
    return numpy.clip(out, 0, 255).astype(numpy.uint8)


def _uses_onednn(weight, groups):
    """Whether PyTorch runs this convolution through oneDNN: the x86 engine does for symmetric weights (zero points
    0) and at most 100 groups on a CPU with AVX512-VNNI (the oracle's); the onednn engine always."""
    from .. import backends
    engine = backends.quantized.engine
    if engine == "onednn":
        return True
    if engine != "x86" or groups > 100:
        return False
    if weight.qscheme() is _dtype.per_tensor_affine:
        return weight.q_zero_point() == 0
    return not weight._zero_points.any()


def _check_input(x, op):
    check_quantized(x, op)
    if x.dtype is not _dtype.quint8:
        raise RuntimeError(f"{op}: Expected input data type to be quint8 but got {x.dtype}")   # fbgemm's check


def linear(x, weight, bias, scale, zero_point, relu=False):
    """``quantized::linear`` (``linear_relu``): quint8 ``x`` (..., K), qint8 ``weight`` (N, K), float ``bias``."""
    _check_input(x, "quantized::linear")
    xs = x._int.reshape(-1, x._int.shape[-1]).astype(numpy.float64) - x.q_zero_point()
    w, w_scales = _weight_qparams(weight, 2)
    acc = xs @ w.T
    out = requantize(acc, x.q_scale(), w_scales, None if bias is None else bias.detach().numpy(), scale,
                     zero_point, relu, 1)
    return per_tensor(out.reshape(x._int.shape[:-1] + (w.shape[0],)), _dtype.quint8, float(scale), int(zero_point))


def conv(x, weight, bias, stride, padding, dilation, groups, scale, zero_point, relu=False):
    """``quantized::conv{1,2,3}d`` (``_relu``): quint8 ``x`` (N, C, ...) convolved with a qint8 ``weight``; padding
    adds the input's zero point (a real zero)."""
    import ember
    _check_input(x, "quantized::conv2d")
    w, w_scales = _weight_qparams(weight, x._int.ndim)
    xs = ember.from_numpy(x._int.astype(numpy.float64) - x.q_zero_point())
    fn = {3: ember.nn.functional.conv1d, 4: ember.nn.functional.conv2d, 5: ember.nn.functional.conv3d}[xs.dim()]
    acc = fn(xs, ember.from_numpy(w), None, stride, padding, dilation, groups).numpy()
    kernel = requantize_onednn if _uses_onednn(weight, groups) else requantize
    out = kernel(acc, x.q_scale(), w_scales, None if bias is None else bias.detach().numpy(), scale, zero_point,
                 relu, 1)
    return per_tensor(out, _dtype.quint8, float(scale), int(zero_point))


# --- elementwise ops between quantized tensors ------------------------------------------------------------------
def add(a, b, scale, zero_point, relu=False):
    """``quantized::add`` (``add_relu``): the float sum of ``a`` and ``b`` quantized with the given qparams."""
    check_quantized(a, "quantized::add")
    y = dequantize_vec(a._int, a.q_scale(), a.q_zero_point()) + dequantize_vec(b._int, b.q_scale(), b.q_zero_point())
    if relu:
        y = numpy.maximum(y, f32(0))
    return per_tensor(quantize_vec(y, scale, zero_point, a.dtype), a.dtype, float(scale), int(zero_point))


def mul(a, b, scale, zero_point, relu=False):
    """``quantized::mul`` (``mul_relu``): the integer product requantized with ``a_scale * b_scale / scale``."""
    check_quantized(a, "quantized::mul")
    product = (a._int.astype(numpy.int64) - a.q_zero_point()) * (b._int.astype(numpy.int64) - b.q_zero_point())
    multiplier = f32(f32(a.q_scale()) * f32(b.q_scale())) * (f32(1.0) / f32(scale))
    low, high = RANGES[a.dtype.name]
    with numpy.errstate(all="ignore"):
        out = numpy.rint((product.astype(f32) * f32(multiplier)).astype(f32)).astype(numpy.float64) + int(zero_point)
    out = numpy.clip(out, int(zero_point) if relu else low, high)
    return per_tensor(out, a.dtype, float(scale), int(zero_point))


def add_scalar(a, other, relu=False):
    """``quantized::add_scalar``: ``a + other``. The zero point moves by ``c = round(other / scale)`` and the integers
    stay; where that zero point would leave the dtype's range, PyTorch pins it at the edge, widens the scale to
    hold the shifted range and requantizes ``q - zp + c`` with the float32 multiplier ``scale / new_scale``."""
    check_quantized(a, "quantized::add_scalar")
    s, zp = a.q_scale(), a.q_zero_point()
    low, high = RANGES[a.dtype.name]
    c_q = int(numpy.rint(other / s))
    if low <= zp - c_q <= high:
        out = per_tensor(a._int.copy(), a.dtype, s, zp - c_q)
    else:
        if zp - c_q < low:
            new_scale, new_zp = (high - (zp - c_q)) / (high - low) * s, low
        else:
            new_scale, new_zp = ((zp - c_q) - low) / (high - low) * s, high
        multiplier = f32(f32(s) * (f32(1.0) / f32(new_scale)))
        shifted = (a._int.astype(numpy.int64) - zp + c_q).astype(f32)
        with numpy.errstate(all="ignore"):
            values = numpy.rint((shifted * multiplier).astype(f32)).astype(numpy.float64) + new_zp
        out = per_tensor(numpy.clip(values, low, high), a.dtype, new_scale, new_zp)
    if relu:
        out._int = numpy.maximum(out._int, out.q_zero_point()).astype(out._int.dtype)
    return out


def mul_scalar(a, other, relu=False):
    """``quantized::mul_scalar``: ``a * other`` with the integers kept (mirrored for a negative ``other``) and the
    scale multiplied."""
    check_quantized(a, "quantized::mul_scalar")
    s, zp = a.q_scale(), a.q_zero_point()
    low, high = RANGES[a.dtype.name]
    if other == 0.0:
        out = per_tensor(numpy.zeros_like(a._int), a.dtype, 1.0, 0)
    elif other < 0:
        out = per_tensor((high - a._int.astype(numpy.int64)) + low, a.dtype, s * -other, high - zp + low)
    else:
        out = per_tensor(a._int.copy(), a.dtype, s * other, zp)
    if relu:
        out._int = numpy.maximum(out._int, out.q_zero_point()).astype(out._int.dtype)
    return out


def cat(tensors, dim, scale=None, zero_point=None, relu=False):
    """``quantized::cat`` (and ``torch.cat`` of quantized tensors, which takes the first tensor's qparams): each
    tensor requantized to the output qparams, then joined."""
    first = tensors[0]
    if scale is None and any((t.q_scale(), t.q_zero_point()) != (first.q_scale(), first.q_zero_point())
                             for t in tensors[1:]):
        warnings.warn("All inputs of this cat operator must share the same quantization parameters. Otherwise large "
                      "numerical inaccuracies may occur.", UserWarning, stacklevel=4)
    scale = first.q_scale() if scale is None else float(scale)
    zero_point = first.q_zero_point() if zero_point is None else int(zero_point)
    parts = []
    for t in tensors:
        check_quantized(t, "aten::cat")
        if t.q_scale() == scale and t.q_zero_point() == zero_point:
            parts.append(t._int)
        else:
            y = numpy.asarray(t.dequantize()._data)
            parts.append(quantize_array(y, scale, zero_point, first.dtype))
    out = numpy.concatenate(parts, axis=dim)
    if relu:
        out = numpy.maximum(out, zero_point).astype(out.dtype)
    return per_tensor(out, first.dtype, scale, zero_point)


# --- pooling and reductions: the integers, with the input's qparams ---------------------------------------------
def _on_integers(x, fn, rounded=False, centered=False):
    """``fn`` (a float op) of ``x``'s integers as float64, back to integers with ``x``'s qparams. ``centered``
    subtracts the zero point first (padding then counts real zeros)."""
    import ember
    shift = x.q_zero_point() if centered else 0
    out = fn(ember.from_numpy(x._int.astype(numpy.float64) - shift)).numpy() + shift
    if rounded:   # a mean of integers (padding counting the zero point): snap float64's near-halves (sum * (1/n))
        twice = numpy.rint(out * 2)   # to the exact ones, then half-even, as PyTorch rounds the mean itself
        out = numpy.rint(numpy.where(numpy.abs(out * 2 - twice) < 1e-9, twice / 2, out))
    low, high = RANGES[x.dtype.name]
    return per_tensor(numpy.clip(out, low, high), x.dtype, x.q_scale(), x.q_zero_point())


def max_pool(x, fn, *args, **kwargs):
    """A max pooling of ``x``: the maxima of its integers."""
    if kwargs.get("return_indices") or (len(args) > 5 and args[5]):
        raise RuntimeError("return_indices is not supported for quantized max pooling")   # pragma: no cover
    return _on_integers(x, lambda t: fn(t, *args, **kwargs))


def avg_pool(x, fn, *args, **kwargs):
    """An average pooling (or adaptive one) of ``x``: the rounded means of its integers, padding counting zero."""
    return _on_integers(x, lambda t: fn(t, *args, **kwargs), rounded=True, centered=True)


def _source_index(out_size, in_size, align_corners, scale):
    """PyTorch's float32 source coordinates of a linear resize: the lower index, whether a next one exists, and the
    two weights."""
    if align_corners:
        step = f32((in_size - 1) / (out_size - 1)) if out_size > 1 else f32(0)
        real = (step * numpy.arange(out_size, dtype=f32)).astype(f32)
    else:
        step = f32(1.0 / scale) if scale else f32(in_size / out_size)
        real = numpy.maximum((step * (numpy.arange(out_size, dtype=f32) + f32(0.5)) - f32(0.5)).astype(f32), f32(0))
    low = real.astype(numpy.int64)
    high_weight = (real - low).astype(f32)
    return low, (low < in_size - 1).astype(numpy.int64), (f32(1) - high_weight).astype(f32), high_weight


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Nearest or linear resizing of ``x`` with its qparams: nearest picks integers; bilinear is PyTorch's
    quantized kernel, ``h0 * (w0 * a + w1 * b) + h1 * (w0 * c + w1 * d) - zero_point`` in float32, rounded half to
    even (other linear modes interpolate the integers in float32 and round)."""
    import ember
    if mode not in ("nearest", "nearest-exact", "linear", "bilinear", "trilinear") or antialias:
        raise _backend_error(f"aten::upsample_{mode}")
    values = ember.from_numpy(x._int.astype(f32))
    out = ember.nn.functional.interpolate(values, size, scale_factor, mode, align_corners, recompute_scale_factor,
                                          antialias).numpy()
    low, high = RANGES[x.dtype.name]
    zero_point = x.q_zero_point()
    if mode == "bilinear":   # PyTorch's weights and summation order (the float result's shape gives the sizes)
        scales = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
        if recompute_scale_factor:
            scales = (None, None)
        h0, hp, hl0, hl1 = _source_index(out.shape[2], x._int.shape[2], align_corners, scales[0])
        w0, wp, wl0, wl1 = _source_index(out.shape[3], x._int.shape[3], align_corners, scales[1])
        q = x._int.astype(f32)
        top, bottom = q[:, :, h0], q[:, :, h0 + hp]
        h_lo, h_hi, w_lo, w_hi = hl0[:, None], hl1[:, None], wl0[None, :], wl1[None, :]
        rows = (w_lo * top[..., w0] + w_hi * top[..., w0 + wp]).astype(f32)
        rows_below = (w_lo * bottom[..., w0] + w_hi * bottom[..., w0 + wp]).astype(f32)
        out = ((h_lo * rows + h_hi * rows_below).astype(f32) - f32(zero_point)).astype(f32)
        return per_tensor(numpy.clip(numpy.rint(out) + zero_point, low, high), x.dtype, x.q_scale(), zero_point)
    return per_tensor(numpy.clip(numpy.rint(out), low, high), x.dtype, x.q_scale(), zero_point)


def mean(x, dim=None, keepdim=False, *, dtype=None):
    """``x.mean(dim)``: the rounded mean of the integers, with ``x``'s qparams."""
    return _on_integers(x, lambda t: t.mean() if dim is None else t.mean(dim, keepdim), rounded=True)


def relu(x):
    """``relu``: the integers clamped below at the zero point."""
    return per_tensor(numpy.maximum(x._int, x.q_zero_point()), x.dtype, x.q_scale(), x.q_zero_point())


def relu6(x):
    """``quantized::relu6``: the integers clamped to [zero point, quantized 6]."""
    six = quantize_array(numpy.asarray([6.0], f32), x.q_scale(), x.q_zero_point(), x.dtype)[0]
    return per_tensor(numpy.clip(x._int, x.q_zero_point(), six), x.dtype, x.q_scale(), x.q_zero_point())


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """``hardtanh``: the integers clamped between the quantized bounds."""
    low, high = quantize_array(numpy.asarray([min_val, max_val], f32), x.q_scale(), x.q_zero_point(), x.dtype)
    return per_tensor(numpy.clip(x._int, low, high), x.dtype, x.q_scale(), x.q_zero_point())


def clamp(x, min=None, max=None):
    """``clamp`` of a quantized tensor: the integers clamped between the quantized bounds (a missing bound: the
    dtype's)."""
    low, high = RANGES[x.dtype.name]
    if min is not None:
        low = quantize_array(numpy.asarray([float(min)], f32), x.q_scale(), x.q_zero_point(), x.dtype)[0]
    if max is not None:
        high = quantize_array(numpy.asarray([float(max)], f32), x.q_scale(), x.q_zero_point(), x.dtype)[0]
    return per_tensor(numpy.clip(x._int, low, high), x.dtype, x.q_scale(), x.q_zero_point())


def hardswish(x, scale=None, zero_point=None):
    """``quantized::hardswish``: ``x * relu6(x + 3) / 6`` in float32, quantized with the given qparams."""
    return unary(x, lambda v: v * numpy.minimum(numpy.maximum(v + f32(3), f32(0)), f32(6)) / f32(6), scale,
                 zero_point)


def elu(x, scale=None, zero_point=None, alpha=1.0):
    """``quantized::elu``."""
    return unary(x, lambda v: numpy.where(v > 0, v, ((numpy.exp(v) - f32(1)) * f32(alpha)).astype(f32)), scale,
                 zero_point)   # exp(x) - 1, not expm1, as PyTorch's kernel


def leaky_relu(x, negative_slope=0.01, scale=None, zero_point=None):
    """``quantized::leaky_relu``."""
    return unary(x, lambda v: numpy.where(v > 0, v, (v * f32(negative_slope)).astype(f32)), scale, zero_point)


def sigmoid(x):
    """``sigmoid`` of a quint8 tensor: quantized with scale 1/256 and zero point 0, as PyTorch fixes them."""
    return unary(x, lambda v: (f32(1) / (f32(1) + numpy.exp(-v))).astype(f32), 1.0 / 256, 0)


def tanh(x):
    """``tanh`` of a quint8 tensor: quantized with scale 2/256 and zero point 128, as PyTorch fixes them."""
    return unary(x, lambda v: numpy.tanh(v).astype(f32), 2.0 / 256, 128)


def hardsigmoid(x):
    """``hardsigmoid`` of a quint8 tensor: quantized with scale 1/256 and zero point 0."""
    return unary(x, lambda v: numpy.minimum(numpy.maximum(v + f32(3), f32(0)), f32(6)) / f32(6), 1.0 / 256, 0)


def batch_norm(x, weight, bias, mean, var, eps, scale, zero_point, relu=False):
    """``quantized::batch_norm2d`` (``_relu``): per-channel affine of the dequantized input, quantized back."""
    shape = [1, -1] + [1] * (x._int.ndim - 2)
    inv = (1.0 / numpy.sqrt(var.detach().numpy().astype(f32) + f32(eps))).astype(f32)
    alpha = (inv * (weight.detach().numpy() if weight is not None else f32(1))).astype(f32).reshape(shape)
    beta = ((bias.detach().numpy() if bias is not None else f32(0))
            - mean.detach().numpy() * alpha.reshape(-1)).astype(f32).reshape(shape)

    def fn(v):
        y = (v * alpha + beta).astype(f32)
        return numpy.maximum(y, f32(0)) if relu else y
    return unary(x, fn, scale, zero_point)


def is_quantized(value):
    """True for a quantized tensor."""
    return isinstance(value, Tensor) and isinstance(value, QTensor)


def _flatten(x, start, end):
    shape = x._int.shape
    merged = 1
    for size in shape[start:end + 1]:
        merged *= size
    return x.reshape(shape[:start] + (merged,) + shape[end + 1:])


def _leaky_relu(x, negative_slope=0.01, inplace=False):
    return leaky_relu(x, negative_slope)


def _hardtanh(x, min_val=-1.0, max_val=1.0, inplace=False):
    out = hardtanh(x, min_val, max_val)
    if inplace:
        x._int[...] = out._int
        return x
    return out


def _hardsigmoid(x, inplace=False):
    return hardsigmoid(x)


def _pool(kind):
    def run(x, *args):
        import ember
        fn = getattr(ember.nn.functional, kind)
        return (max_pool if kind.startswith("max") else avg_pool)(x, fn, *args)
    return run


_quantized.kernels.update({
    "transpose": QTensor.transpose, "permute": QTensor.permute, "squeeze": QTensor.squeeze,
    "unsqueeze": QTensor.unsqueeze, "flatten": _flatten, "cat": cat, "leaky_relu": _leaky_relu,
    "hardtanh": _hardtanh, "hardsigmoid": _hardsigmoid, "clamp": clamp, "sigmoid": sigmoid, "tanh": tanh,
    "interpolate": interpolate,
    **{kind: _pool(kind) for kind in ("max_pool1d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool1d",
                                      "adaptive_avg_pool2d")}})
