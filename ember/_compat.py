"""Array functions that NumPy and CuPy spell differently, one function each, so ops call one name on ``ctx.xp``
arrays and never branch on the module themselves. A function CuPy lacks runs on the host for CuPy arrays only where
it is rare and small (``ufunc_at`` with a ufunc CuPy cannot scatter with)."""
import numpy

from . import _backend


def _on_host(xp):
    return xp is numpy


def sparse_indices(xp, shape):
    """``numpy.indices(shape, sparse=True)``: one arange per dim, shaped to broadcast against the others."""
    n = len(shape)
    return tuple(xp.arange(size).reshape((1,) * i + (size,) + (1,) * (n - i - 1)) for i, size in enumerate(shape))


def as_strided(xp, array, shape, strides, writeable=False):
    """A strided view of ``array`` (read-only on NumPy unless ``writeable``; CuPy has no read-only arrays). ml_dtypes'
    types (bfloat16, float8) go through unsigned integers of their width: NumPy's as_strided names the view's dtype
    by its array-interface string, which float8_e5m2's ("<f1") does not parse."""
    if array.dtype.isbuiltin == 2:
        bits = array.view(f"u{array.dtype.itemsize}")
        return as_strided(xp, bits, shape, strides, writeable).view(array.dtype)
    if _on_host(xp):
        return numpy.lib.stride_tricks.as_strided(array, shape, strides, writeable=writeable)
    return xp.lib.stride_tricks.as_strided(array, shape, strides)


def accumulate(xp, name, array, axis):
    """``xp.<name>.accumulate(array, axis=axis)`` for ufuncs ``add``, ``multiply``, ``maximum``, ``minimum`` and
    ``logaddexp``; on CuPy, max/min/logaddexp scan in log2(n) whole-array steps (Hillis-Steele)."""
    if _on_host(xp) or name in ("add", "multiply"):
        return getattr(xp, name).accumulate(array, axis=axis)
    function = getattr(xp, name)
    result = xp.moveaxis(array, axis, -1).copy()
    shift = 1
    while shift < result.shape[-1]:
        result[..., shift:] = function(result[..., shift:], result[..., :-shift])
        shift *= 2
    return xp.moveaxis(result, -1, axis)


def reduceat(xp, name, array, starts):
    """``xp.<name>.reduceat(array, starts, axis=0)`` for increasing ``starts`` (each segment non-empty); on CuPy,
    each segment's first row scattered into by ``ufunc_at`` with the rest."""
    if _on_host(xp):
        return getattr(numpy, name).reduceat(array, starts, axis=0)
    segment = xp.zeros(array.shape[0], xp.int64)
    segment[starts[1:]] = 1
    segment = xp.cumsum(segment)
    rest = xp.ones(array.shape[0], bool)
    rest[starts] = False
    out = array[starts].copy()
    ufunc_at(xp, name, out, segment[rest], array[rest])
    return out


_CUPY_AT = {"add": "iIlLqQefd", "maximum": "iIf", "minimum": "iIf"}
"""The dtype characters each ufunc's ``at`` scatters natively and exactly on CuPy (its float64 maximum/minimum came
back float32-rounded)."""


def ufunc_at(xp, name, target, index, values):
    """``xp.<name>.at(target, index, values)``: unbuffered in-place scatter (repeated indices each count). On CuPy,
    complex ``add`` scatters its real and imaginary parts, small integer and bool dtypes go through int64, and the
    ufuncs CuPy cannot scatter with run on the host."""
    if _on_host(xp):
        getattr(numpy, name).at(target, index, values)
        return
    if name == "add" and target.dtype.kind == "c":
        values = xp.asarray(values, dtype=target.dtype)
        ufunc_at(xp, "add", target.real, index, values.real)
        ufunc_at(xp, "add", target.imag, index, values.imag)
        return
    if target.dtype.char in _CUPY_AT.get(name, ""):
        getattr(xp, name).at(target, index, values)
        return
    if name == "add" and target.dtype.kind in "biu":
        wide = target.astype(numpy.int64)
        getattr(xp, name).at(wide, index, xp.asarray(values).astype(numpy.int64))
        target[...] = wide.astype(target.dtype)
        return
    host = _backend.move(target, _backend.CPU)
    getattr(numpy, name).at(host, _to_host(index), _to_host(values))
    target[...] = xp.asarray(host)


def _to_host(value):
    if isinstance(value, tuple):
        return tuple(_to_host(v) for v in value)
    if isinstance(value, list):
        return [_to_host(v) for v in value]
    if hasattr(value, "__cuda_array_interface__"):
        return _backend.move(value, _backend.CPU)
    return value


def amax(xp, array, axis=None, keepdims=False, initial=None):
    """``array.max(axis, keepdims=keepdims, initial=initial)``; CuPy's max takes no ``initial``."""
    if _on_host(xp):
        return array.max(axis=axis, keepdims=keepdims, initial=initial)
    if initial is None:
        return array.max(axis=axis, keepdims=keepdims)
    if array.size == 0:
        shape = numpy.empty(array.shape).max(axis=axis, keepdims=keepdims, initial=0).shape
        return xp.full(shape, initial, dtype=array.dtype)
    return xp.maximum(array.max(axis=axis, keepdims=keepdims), initial)


def add_where(xp, target, values, where):
    """``target += values`` at the elements where ``where`` is True (NumPy's ufunc ``where=``, which CuPy lacks)."""
    if _on_host(xp):
        xp.add(target, values, out=target, where=where)
    else:
        target += xp.where(where, values, 0)


def lexsort(xp, keys):
    """``numpy.lexsort(keys)`` (the last key sorts first); CuPy takes the keys stacked in one array of their common
    dtype."""
    if _on_host(xp):
        return numpy.lexsort(keys)
    common = numpy.result_type(*(k.dtype for k in keys))   # int64 keys stay int64 unless a float key joins them
    return xp.lexsort(xp.stack([xp.asarray(k, dtype=common) for k in keys]))


def solve(xp, a, b):
    """``xp.linalg.solve(a, b)`` for a batch of matrices ``b`` (..., M, K) broadcasting against ``a`` (..., M, M);
    CuPy needs the batch dims spelled out."""
    if _on_host(xp) or b.ndim < 2:
        return xp.linalg.solve(a, b)
    batch = numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return xp.linalg.solve(xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:]))


_EINSUM_AS_SUMS = {"ncs->nc": 2, "ncs,ncs->nc": 2, "ij->i": 1, "ij,ij->i": 1, "ij,ij->j": 0}
"""The einsum reductions ember's kernels use, by the axis they sum: multiply and sum on CuPy."""


def einsum(xp, subscripts, *operands):
    """``xp.einsum(subscripts, *operands)``; on CuPy, whose einsum plans each call on the host (~0.2 ms), the
    reductions of ``_EINSUM_AS_SUMS`` run as one multiply and one sum."""
    if _on_host(xp) or subscripts not in _EINSUM_AS_SUMS:
        return xp.einsum(subscripts, *operands)
    product = operands[0] if len(operands) == 1 else operands[0] * operands[1]
    return product.sum(_EINSUM_AS_SUMS[subscripts])
