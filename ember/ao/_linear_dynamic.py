"""The dynamically quantized linear product (``torch.ops.quantized.linear_dynamic`` as fbgemm computes it on x86).

The input is quantized per call to quint8 over its own [min, max] (widened to hold 0; with ``reduce_range`` onto
[0, 127]) by ``choose_qparams``; the products of the integer values are summed exactly (float64 BLAS holds every
sum of 8-bit products exactly), then each output is ``fma(float32(acc), float32(x_scale * w_scale), bias)``.
"""
import numpy

from . import _qtensor
from ._choose_qparams import choose_qparams
from .. import _dtype

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


def project(x, weight, bias):
    """``x @ weight.T + bias`` as the dynamic recurrent kernels compute it: the quantized product above for a qint8
    weight (a ``QTensor``), a float32 product over float16-rounded weights for a float16 layer (a float tensor)."""
    if isinstance(weight, _qtensor.QTensor):
        return linear_dynamic(x, weight, bias)
    out = x @ weight.numpy().T
    return out if bias is None else out + bias
