"""The dynamically quantized linear product (``torch.ops.quantized.linear_dynamic`` as fbgemm computes it on x86).

The input is quantized per call to quint8 over its own [min, max] (widened to hold 0; with ``reduce_range`` onto
[0, 127]) by ``choose_qparams``; the products of the integer values are summed exactly (float64 BLAS holds every
sum of 8-bit products exactly), then each output is ``fma(float32(acc), float32(x_scale * w_scale), bias)``.
"""
import numpy

from . import _qtensor
from .. import _dtype

_SMALL_SCALE = numpy.float32(6.1e-5)


def choose_qparams(low, high, qmin, qmax, reduce_range):
    """(scale, zero_point) mapping [low, high] (widened to hold 0) onto [qmin, qmax], as PyTorch's
    ``ChooseQuantizationParams``: the scale computed in float64 and kept as float32, tiny scales raised to 6.1e-5,
    the zero point from whichever end loses less, rounded half to even."""
    if reduce_range:
        qmin, qmax = qmin // 2, qmax // 2
    low, high = min(numpy.float32(low), numpy.float32(0)), max(numpy.float32(high), numpy.float32(0))
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
    zero_point = qmin if initial < qmin else qmax if initial > qmax else int(numpy.rint(initial))
    return float(numpy.float32(scale)), zero_point


def linear_dynamic(x, weight, bias, reduce_range=True):
    """``x @ weight.T + bias`` for a float32 array ``x`` (..., K), a qint8 ``QTensor`` weight (N, K) quantized per
    tensor or per output channel, and a float32 bias array (N,) or None; a float32 array (..., N)."""
    rows = x.reshape(-1, x.shape[-1]) if x.size else x.reshape(0, x.shape[-1])
    x_scale, x_zero_point = choose_qparams(rows.min() if rows.size else 0, rows.max() if rows.size else 0, 0, 255,
                                           reduce_range)
    xq = _qtensor.quantize_array(rows, x_scale, x_zero_point, _dtype.quint8)
    if weight.qscheme() is _dtype.per_tensor_affine:
        w_scale = numpy.float32(weight.q_scale())
        w_zero_point = weight.q_zero_point()
    else:
        w_scale = weight._scales.astype(numpy.float32)
        w_zero_point = weight._zero_points[:, None]
    acc = (xq.astype(numpy.float64) - x_zero_point) @ (weight._int.astype(numpy.float64) - w_zero_point).T
    multiplier = numpy.float32(x_scale) * w_scale
    out = acc.astype(numpy.float32).astype(numpy.float64) * multiplier.astype(numpy.float64)
    if bias is not None:
        out += bias.astype(numpy.float64)
    return out.astype(numpy.float32).reshape(x.shape[:-1] + (weight._int.shape[0],))
