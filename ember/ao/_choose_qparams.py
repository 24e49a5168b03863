"""Choosing quantization parameters from a tensor's range (PyTorch's ``ChooseQuantizationParams``), and
``quantize_per_tensor_dynamic``, which quantizes with them."""
import numpy

from . import _qtensor
from .. import _dtype

__all__ = ["quantize_per_tensor_dynamic"]

_SMALL_SCALE = numpy.float32(6.1e-5)


def choose_qparams(low, high, qmin, qmax, reduce_range, preserve_sparsity=False):
    """(scale, zero_point) mapping [low, high] (widened to hold 0) onto [qmin, qmax], as PyTorch's
    ``ChooseQuantizationParams``: the scale in float64 (kernels use it as float32), tiny scales raised to 6.1e-5,
    the zero point from whichever end loses less, rounded half to even. ``preserve_sparsity`` (symmetric
    quantization) makes a range around 0 symmetric and puts the zero point in the middle."""
    if reduce_range:
        qmin, qmax = qmin // 2, qmax // 2
    low, high = numpy.float32(low), numpy.float32(high)
    symmetric = preserve_sparsity and low < 0 < high
    if symmetric:
        symmetric_qmin, symmetric_qmax = -((qmax - qmin) // 2 + 1), (qmax - qmin) // 2
        max_scale = max(abs(numpy.float64(low) / symmetric_qmin), abs(numpy.float64(high) / symmetric_qmax))
        low, high = numpy.float32(max_scale * symmetric_qmin), numpy.float32(max_scale * symmetric_qmax)
    low, high = min(low, numpy.float32(0)), max(high, numpy.float32(0))
    scale = (numpy.float64(high) - numpy.float64(low)) / (qmax - qmin)
    with numpy.errstate(all="ignore"):
        if numpy.float32(scale) == 0 or numpy.isinf(numpy.float32(1) / numpy.float32(scale)):
            scale = 0.1
    if scale < _SMALL_SCALE:
        original, scale = numpy.float32(scale), numpy.float64(_SMALL_SCALE)
        if low == 0:
            high = numpy.float32(_SMALL_SCALE * (qmax - qmin))
        elif high == 0:
            low = numpy.float32(-_SMALL_SCALE * (qmax - qmin))
        else:
            amplifier = numpy.float32(_SMALL_SCALE / original)
            low, high = numpy.float32(low * amplifier), numpy.float32(high * amplifier)
    from_min, from_max = qmin - low / scale, qmax - high / scale
    error_min, error_max = abs(qmin) - abs(low / scale), abs(qmax) - abs(high / scale)
    initial = from_min if error_min < error_max else from_max
    if symmetric:
        initial = (qmin + qmax) / 2
    zero_point = qmin if initial < qmin else qmax if initial > qmax else int(numpy.rint(initial))
    return float(scale), zero_point


def quantize_per_tensor_dynamic(input, dtype, reduce_range):
    """``input`` quantized to quint8 or qint8 with the qparams its own [min, max] chooses (float16: a cast)."""
    if dtype not in (_dtype.qint8, _dtype.quint8, _dtype.float16):
        raise RuntimeError(f"dtype {_dtype.scalar_type_name(dtype)}not supported")
    if dtype is _dtype.float16:
        return input.contiguous().to(_dtype.float16)
    _qtensor._check_float(input)
    data = input.detach()._data
    low, high = (data.min(), data.max()) if data.size else (0.0, 0.0)
    qmin, qmax = _qtensor.RANGES[dtype.name]
    scale, zero_point = choose_qparams(low, high, qmin, qmax, reduce_range)
    return _qtensor.quantize_per_tensor(input, scale, zero_point, dtype)


quantize_per_tensor_dynamic._fx_qualified_name = "torch.quantize_per_tensor_dynamic"   # as torch.fx prints it
