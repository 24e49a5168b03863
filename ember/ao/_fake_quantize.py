"""Fake quantization (``torch.fake_quantize_per_tensor_affine`` / ``fake_quantize_per_channel_affine``): values
rounded to the quantized grid and back, with PyTorch's straight-through gradient (the incoming gradient where the
rounded value falls inside [quant_min, quant_max], zero elsewhere).

The arithmetic is PyTorch's CPU kernels': ``q = rint(x * float32(1 / scale)) + zero_point`` (the product in the
input's precision, float32 at least), clamped, then ``(q - zero_point) * scale``.
"""
import numpy

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Primitive, composite

__all__ = ["fake_quantize_per_tensor_affine", "fake_quantize_per_channel_affine"]


def _fake_quantize(ctx, x, scale, zero_point, quant_min, quant_max, per_channel=False):
    """(values, mask) for the array ``x``; ``scale`` float32 and ``zero_point`` integer or float, broadcasting.

    PyTorch's kernels differ in precision: a float zero point is added before rounding, in float64; the per-channel
    kernel scales back in the input's precision (float64 for float64 input), the per-tensor one in float32."""
    xp = ctx.xp
    float_zero_point = numpy.issubdtype(numpy.asarray(zero_point).dtype, numpy.floating)
    work = numpy.float64 if x.dtype == numpy.float64 or float_zero_point else numpy.float32
    with numpy.errstate(all="ignore"):
        product = x.astype(work, copy=False) * (numpy.float32(1.0) / scale).astype(work)
        if float_zero_point:
            rounded = xp.rint(product + zero_point.astype(work))
        else:
            rounded = xp.rint(product) + zero_point
        clamped = xp.clip(rounded, quant_min, quant_max)
        back = work if per_channel or float_zero_point else numpy.float32
        out = (clamped - zero_point).astype(back) * scale.astype(back)
    return out.astype(x.dtype), (rounded >= quant_min) & (rounded <= quant_max)


class FakeQuantizePerTensorAffineCachemask(Primitive):
    """Fake quantization with one scale and zero point; backward passes the gradient where the value was in range."""

    @staticmethod
    def forward(ctx, x, scale, zero_point, quant_min, quant_max):
        out, mask = _fake_quantize(ctx, x, numpy.float32(scale), zero_point, quant_min, quant_max)
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        return grad * mask, None, None, None, None


class FakeQuantizePerTensorAffineCachemaskTensorQparams(FakeQuantizePerTensorAffineCachemask):
    """The same, for scale and zero point given as tensors (PyTorch's node name differs)."""


class FakeQuantizePerChannelAffineCachemask(Primitive):
    """Fake quantization with one scale and zero point per index along ``axis``; the same straight-through mask."""

    @staticmethod
    def forward(ctx, x, scale, zero_point, axis, quant_min, quant_max):
        shape = [1] * x.ndim
        shape[axis] = -1
        out, mask = _fake_quantize(ctx, x, scale.astype(numpy.float32).reshape(shape), zero_point.reshape(shape),
                                   quant_min, quant_max, per_channel=True)
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        return grad * mask, None, None, None, None, None


def _check_range(quant_min, quant_max, zero_points):
    if quant_min > quant_max:
        raise RuntimeError("`quant_min` should be less than or         equal to `quant_max`.")
    if any(z < quant_min or z > quant_max for z in zero_points):
        raise RuntimeError("`zero_point` must be between `quant_min` and `quant_max`.")


def _check_input(input, kernel="fake_quantize_tensor_cachemask_kernel_type_handling"):
    if not input.dtype.is_floating_point:   # PyTorch's dtype dispatch raises NotImplementedError
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(input.dtype)}\'')


@composite("fake_quantize_per_tensor_affine")   # autocast's CPU float32 list names it
def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max):
    """``input`` quantized with one scale and zero point (numbers, or 0-d float32/int32 tensors) and dequantized;
    the gradient passes where the quantized value is inside [quant_min, quant_max]."""
    _check_input(input)
    tensor_qparams = isinstance(scale, Tensor)
    if tensor_qparams:
        scale, zero_point = float(scale.item()), zero_point.item()
    zero_point = int(zero_point)   # a float zero point tensor is truncated, as PyTorch reads it
    _check_range(quant_min, quant_max, [] if tensor_qparams else [zero_point])   # PyTorch checks only numbers
    op = FakeQuantizePerTensorAffineCachemaskTensorQparams if tensor_qparams else FakeQuantizePerTensorAffineCachemask
    return op.apply(input, scale, zero_point, quant_min, quant_max)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max):
    """``input`` quantized with one scale (float32 tensor) and zero point (int32 or float tensor) per index of
    dimension ``axis``, and dequantized; straight-through gradient as in the per-tensor form."""
    _check_input(input, "fake_quantize_channel_cachemask_cpu_type_handling")
    if scale.dtype not in (_dtype.float32, _dtype.bfloat16):
        raise RuntimeError(f"Scale must be Float or BFloat16, found {_dtype.scalar_type_name(scale.dtype)}")
    if zero_point.dtype not in (_dtype.int32, _dtype.float32, _dtype.float16):
        raise RuntimeError(f"Zero-point must be Int32, Float or Half, found "
                           f"{_dtype.scalar_type_name(zero_point.dtype)}")
    if scale.dim() != 1:
        raise RuntimeError("scale should be a 1-D tensor")
    if zero_point.dim() != 1:
        raise RuntimeError("zero point should be a 1-D tensor")
    if scale.numel() != zero_point.numel():
        raise RuntimeError("scale and zero-point need to have the same dimensions")
    axis = axis + input.dim() if -input.dim() <= axis < 0 else axis
    if not 0 <= axis < input.dim():
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.dim()}, {input.dim() - 1}], "
                         f"but got {axis})")
    if scale.numel() != input.shape[axis]:
        raise RuntimeError("dimensions of scale and zero-point are not consistent with input tensor")
    # PyTorch checks integer zero points only (float ones, as embeddings' float qparams, may lie outside the range)
    _check_range(quant_min, quant_max, zero_point.tolist() if zero_point.dtype is _dtype.int32 else [])
    zeros = zero_point.detach().numpy()
    zeros = zeros.astype(numpy.int64) if zero_point.dtype is _dtype.int32 else zeros.astype(numpy.float32)
    return FakeQuantizePerChannelAffineCachemask.apply(input, scale.detach().numpy(), zeros, axis, quant_min,
                                                       quant_max)
