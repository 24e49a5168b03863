"""Lookups in quint8 row-quantized tables (``torch.ops.quantized.embedding_byte``/``embedding_bag_byte`` as fbgemm
computes them): each row carries a float32 scale and bias (``-zero_point * scale``), and a bag accumulates
``acc = fma(q, scale, acc + bias)`` row by row (scale and bias first multiplied by a per-sample weight)."""
import numpy


def _fma(a, b, c):
    """``a * b + c`` rounded once to float32 (``a`` small integers, ``b`` and ``c`` float32: exact in float64)."""
    return (a.astype(numpy.float64) * b.astype(numpy.float64) + c.astype(numpy.float64)).astype(numpy.float32)


def _row_params(weight):
    scales = weight._scales.astype(numpy.float32)
    return scales, (-weight._zero_points.astype(numpy.float32)) * scales


def embedding_byte(weight, indices):
    """The dequantized rows ``indices`` select (any shape; rows along a new last dimension)."""
    scales, biases = _row_params(weight)
    flat = indices.reshape(-1)
    rows = _fma(weight._int[flat], scales[flat, None], biases[flat, None])
    return rows.reshape(indices.shape + (weight._int.shape[1],))


def embedding_bag_byte(weight, indices, offsets, per_sample_weights=None, include_last_offset=False):
    """Sums of the dequantized rows of each bag (``indices`` 1-D with ``offsets``, or 2-D: one bag a row)."""
    if indices.ndim == 2:
        offsets = numpy.arange(0, indices.size, indices.shape[1]) if indices.shape[1] else \
            numpy.zeros(indices.shape[0], numpy.int64)
        indices = indices.reshape(-1)
        per_sample_weights = None if per_sample_weights is None else per_sample_weights.reshape(-1)
    starts = numpy.asarray(offsets, numpy.int64)
    ends = numpy.append(starts[1:], len(indices))
    if include_last_offset:
        starts, ends = starts[:-1], starts[1:]
    scales, biases = _row_params(weight)
    out = numpy.zeros((len(starts), weight._int.shape[1]), numpy.float32)
    lengths = ends - starts
    for k in range(int(lengths.max()) if len(lengths) else 0):   # the k-th row of every bag at once
        bags = numpy.nonzero(lengths > k)[0]
        rows = indices[starts[bags] + k]
        scale, bias = scales[rows, None], biases[rows, None]
        if per_sample_weights is not None:
            sample = per_sample_weights[starts[bags] + k].astype(numpy.float32)[:, None]
            scale, bias = scale * sample, bias * sample
        out[bags] = _fma(weight._int[rows], scale, out[bags] + bias)
    return out
