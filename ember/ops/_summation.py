"""Float32 sums in PyTorch's accuracy where NumPy's adds would lose it: NumPy sums the innermost axis pairwise but
adds any other reduced axis row after row (~n ulps over n rows); these cascade such axes (blocks of rows, then
blocks of those sums). Shared by Sum, the variance and the array paths that must give Sum's bits."""
import math

import numpy

_add_reduce = numpy.add.reduce

BLOCK = 8   # rows a cascaded sum adds one after another before summing the partial sums


def cascade_sum(a, axis, keepdim):
    """A float32 sum along a long axis that is not the last. NumPy adds such an axis row after row, so its rounding
    error grows with the length (4e-6 relative over 13,824 rows, where PyTorch's cascade sum keeps 1e-7: MONAI's
    mutual-information loss came out 7e-4 off); this sums blocks of BLOCK rows, then blocks of those sums, ..."""
    index = (slice(None),) * axis
    while a.shape[axis] > BLOCK:
        n = a.shape[axis]
        whole = n - n % BLOCK
        blocks = a[index + (slice(0, whole),)].reshape(a.shape[:axis] + (whole // BLOCK, BLOCK) + a.shape[axis + 1:])
        partial = _add_reduce(blocks, axis + 1)
        if whole < n:
            partial = numpy.concatenate([partial, _add_reduce(a[index + (slice(whole, None),)], axis, None, None,
                                                              True)], axis)
        a = partial
    return _add_reduce(a, axis, None, None, keepdim)


def _trailing(ndim, dims):
    """How many of the last dims of an ``ndim``-d array ``dims`` holds, counted from the last."""
    count, given = 0, {d % ndim for d in dims}
    while count < ndim and ndim - 1 - count in given:
        count += 1
    return count


def adds_rows(shape, dims):
    """Whether NumPy would add more than BLOCK whole rows one after another in summing over ``dims``: it sums the
    last axis (or a run of reduced last axes) pairwise, but any other reduced axis row after row."""
    trailing = _trailing(len(shape), dims)
    return math.prod(shape[d] for d in dims if d % len(shape) < len(shape) - trailing) > BLOCK


def sum_over_dims(a, dims, keepdim):
    """A float32 sum over several dims with PyTorch's accuracy (NumPy's row-after-row adds of a long non-last axis
    lose ~n ulps: 1.8e-5 relative for 3,000 rows): the reduced last axes first (pairwise, merged into one when
    contiguous), then each other reduced axis cascaded."""
    ndim = a.ndim
    dims = sorted(d % ndim for d in dims)
    kept_shape = tuple(1 if d in dims else n for d, n in enumerate(a.shape))
    trailing = _trailing(ndim, dims)
    if trailing and a.flags.c_contiguous:
        a = _add_reduce(a.reshape(a.shape[:ndim - trailing] + (-1,)), -1)
    elif trailing:
        a = _add_reduce(a, tuple(range(ndim - trailing, ndim)))
    for d in reversed(dims[:len(dims) - trailing]):
        a = cascade_sum(a, d, False) if a.shape[d] > BLOCK else _add_reduce(a, d)
    return a.reshape(kept_shape) if keepdim else a


def sum_array(a, dims, keepdims=False):
    """An array's sum over ``dims`` (a dim or a tuple) in Sum's order of adds (a float32 one that NumPy would add row
    after row cascades), for array paths that must give the Tensor op's bits or its accuracy."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if type(a) is numpy.ndarray and a.dtype == numpy.float32 and adds_rows(a.shape, dims):
        return cascade_sum(a, dims[0] % a.ndim, keepdims) if len(dims) == 1 else sum_over_dims(a, dims, keepdims)
    return a.sum(axis=dims, keepdims=keepdims)
