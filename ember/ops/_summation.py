"""Float32 and float64 sums with PyTorch's bits: ATen's CPU ``cascade_sum`` (SumKernel.cpp) in NumPy, with the
TensorIterator plan around it (the order of dims, their coalescing, the 2-d loop it picks, the split of large sums
across threads). Shared by Sum, the variance and the array paths that must give Sum's bits.

The kernel adds in runs of 16 or more elements one after another, then runs of those sums (``_cascade``); rows
it reads as four interleaved cascades (``_row_sum``), contiguous rows as vectors of 8 float32 (4 float64) lanes
(``_inner_vectorized``); columns contiguous across the kept dim it sums as whole vectors of columns. NumPy gives
those orders where a reduction's axis is not the innermost in memory (it adds one row after another there) and
through ``add.accumulate``; its own pairwise sums over the innermost axis are never used.
"""
import functools
import math

import numpy

from .dim_order import iteration_order

_add_reduce = numpy.add.reduce
_accumulate = numpy.add.accumulate

_MANY_ROWS = 512   # rows from which a row's lanes are summed one lane at a time
GRAIN = 32768   # elements from which ATen splits a reduction across threads (at::internal::GRAIN_SIZE)
_LEVELS = 4     # multi_row_sum's num_levels
CASCADED = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))
_FULL = tuple((slice(None),) * k for k in range(64))   # the trailing full slices after an axis counted from the end


def _lanes(itemsize):
    """Lanes of the 256-bit vectors PyTorch's sum kernel uses for a float of ``itemsize`` bytes: its AVX2 build
    (the kernel registers no AVX-512 one), and the default build's vectors are as wide."""
    return 32 // itemsize


def _at(axis, item):
    """The index that takes ``item`` (an int or a slice) along ``axis`` (negative: counted from the end)."""
    return (Ellipsis, item) + _FULL[-axis - 1]


def _split(x, axis, parts):
    """``x`` with ``axis`` (negative) cut into (x.shape[axis] // parts, parts)."""
    shape = x.shape
    return x.reshape(shape[:axis] + (shape[axis] // parts, parts) + shape[len(shape) + axis + 1:])


def _sequential(x, axis):
    """The sum along ``axis`` (negative) one element after another, as a scalar loop adds it: by NumPy's reduce
    where another axis is inner in memory (over the innermost it sums pairwise), by adds of whole slices, or by a
    running sum, whichever costs least."""
    count = x.shape[axis]
    if count == 1:
        return x[_at(axis, 0)]
    key = (x.shape, x.strides, axis)
    how = _HOW.get(key)
    if how is None:
        if len(_HOW) > 4096:
            _HOW.clear()
        how = _HOW[key] = _how_sequential(x, axis)
    if how == "reduce":
        return _add_reduce(x, axis)
    if how == "slices":
        total = x[_at(axis, 0)] + x[_at(axis, 1)]
        for k in range(2, count):
            total += x[_at(axis, k)]
        return total
    return _accumulate(x, axis)[_at(axis, -1)]


_HOW = {}   # _sequential's choice for each layout met


def _how_sequential(x, axis):
    """How ``_sequential`` adds along ``axis`` of ``x``'s layout. Measured: a NumPy call costs ~1 us, each inner
    loop of a reduce or a running sum ~0.03-0.1 us, each row of a 2-d add ~0.04-0.1 us; a reduce wins where another
    axis is inner unless a very short sum has very many rows, a running sum where few rows would need many adds."""
    count, stride, block = x.shape[axis], abs(x.strides[axis]), 1
    axes = sorted((abs(s), n) for d, (n, s) in enumerate(zip(x.shape, x.strides)) if n > 1 and d != x.ndim + axis)
    for other, size in axes:   # the run of axes contiguous in memory that NumPy makes its inner loop
        if other != x.itemsize * block or other >= stride:
            break
        block *= size
    rows = x.size // count // block
    if block > 1:
        return "slices" if count <= 16 and rows >= 256 and block < 256 or count <= 4 and rows >= 1024 else "reduce"
    return "slices" if count <= 16 and 0.065 * rows > count - 1 else "running"


def _cascade(x, axis):
    """ATen's ``multi_row_sum`` along ``axis`` (negative): runs of 2**k elements (k = max(4, ceil(log2 n) // 4))
    added one after another, runs of 2**k of those sums likewise, and so on for four levels; the last level's
    partial run, then the lower ones', are added to the leftover elements' sum, lowest first."""
    n = x.shape[axis]
    if n < 256 and axis >= -2:   # runs of 16, then their sums: two levels at most
        return _short_cascade(x, _sequential) if axis == -2 else _short_cascade(x[..., None], _sequential)[..., 0]
    step = 1 << max(4, (n - 1).bit_length() // 4)
    terms, sums = [], x
    for level in range(_LEVELS):
        n = sums.shape[axis]
        whole = n if level == _LEVELS - 1 else n - n % step
        terms.append(_sequential(sums[_at(axis, slice(whole, n))], axis) if whole < n else None)
        if not whole or level == _LEVELS - 1:
            break
        sums = _sequential(_split(sums[_at(axis, slice(0, whole))], axis, step), axis)
    if whole and len(terms) == _LEVELS:
        terms[-1] = _sequential(sums, axis)
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else total + term
    return total


def _row_sum(x, axis):
    """ATen's ``row_sum`` along ``axis`` (negative): four interleaved cascades (elements 4i, 4i+1, ...), the 0-3
    leftover elements added to the first, then the four added in order."""
    n = x.shape[axis]
    whole = n - n % 4
    if not whole:
        return _sequential(x, axis)
    partial = _cascade(_split(x[_at(axis, slice(0, whole))] if whole < n else x, axis, 4), axis - 1)
    total = partial[_at(axis, 0)]
    for k in range(whole, n):
        total = total + x[_at(axis, k)]
    for k in range(1, 4):
        total = total + partial[_at(axis, k)]
    return total


def _inner_vectorized(x):
    """ATen's ``vectorized_inner_sum`` along the last axis: a row_sum of whole vectors, then the leftover elements
    added one after another from zero, then each lane of the vectors' sum in order."""
    n, lanes = x.shape[-1], _lanes(x.itemsize)
    whole = n - n % lanes
    if whole < _SHORT * lanes:
        return _few_vectors(x, whole, lanes)
    if x.size // n < _MANY_ROWS or whole < 4 * lanes:
        vector = _row_sum(_split(x[..., :whole] if whole < n else x, -1, lanes), -2)
        return _sequential(numpy.concatenate([x[..., whole:], vector], -1) if whole < n else vector, -1)
    # many rows: each lane on its own (adds of whole columns), as slices of a few elements a row run slowly
    ilp = whole - whole % (4 * lanes)
    partial = _cascade(_split(x[..., :ilp], -1, 4 * lanes), -2)   # the four interleaved sums of each lane
    total = None
    for k in range(whole, n):
        total = x[..., k] if total is None else total + x[..., k]
    for lane in range(lanes):
        vector = partial[..., lane]
        for k in range(ilp + lane, whole, lanes):
            vector = vector + x[..., k]
        for k in range(1, 4):
            vector = vector + partial[..., k * lanes + lane]
        total = vector if total is None else total + vector
    return total


_SHORT = 4 * 256
"""Vectors a row may hold for its four interleaved cascades to take at most two levels (runs of 16, then the runs'
sums; each cascade sums under 256 vectors)."""


def _few_vectors(x, whole, lanes):
    """``_inner_vectorized`` of rows of fewer than ``_SHORT`` whole vectors, in a few NumPy calls: the four
    interleaved cascades of the vectors as cascades of groups of four (where the row holds a group), the 0-3
    leftover vectors added to the first, the four added in order; then the leftover elements and the lanes."""
    rows, count = x.shape[:-1], whole // lanes
    if len(rows) == 1 and rows[0] == 1:
        return _one_row(x[0], whole, lanes)
    grouped = count - count % 4
    if grouped:
        groups = x[..., :grouped * lanes].reshape(rows + (grouped // 4, 4 * lanes))
        partial = _short_cascade(groups, _sequential).reshape(rows + (4, lanes))
        total = partial[..., 0, :]   # (adds of slices: a reduce adds many rows of a few lanes slowly)
        for k in range(grouped, count):
            total = total + x[..., k * lanes:(k + 1) * lanes]
        for k in range(1, 4):
            total = total + partial[..., k, :]
    else:
        total = _sequential(x[..., :whole].reshape(rows + (count, lanes)), -2)
    if len(rows) == 1:   # the leftover elements, then the lanes, as the rows of a copy: one reduce adds them in order
        tail = x.shape[-1] - whole
        stacked = numpy.empty((tail + lanes, rows[0]), x.dtype)
        stacked[:tail] = x[:, whole:].T
        stacked[tail:] = total.T
        return _add_reduce(stacked, 0)
    if whole < x.shape[-1]:
        total = numpy.concatenate([x[..., whole:], total], -1)
    return _sequential(total, -1)


def _one_row(row, whole, lanes):
    """``_few_vectors`` of one row (1-d, contiguous), as a 1-element array: each run of adds along the vectors is one
    NumPy reduce over a non-inner axis (one vector after another), the last few elements a running sum."""
    count = whole // lanes
    grouped = count - count % 4
    if grouped:
        partial = _short_cascade(row[:grouped * lanes].reshape(grouped // 4, 4 * lanes), _add_reduce).reshape(4, lanes)
        if grouped < count:
            partial = numpy.concatenate([partial[:1], row[grouped * lanes:whole].reshape(-1, lanes), partial[1:]])
        total = _add_reduce(partial, 0)
    else:
        total = _add_reduce(row[:whole].reshape(count, lanes), 0)
    if whole < row.shape[0]:
        total = numpy.concatenate([row[whole:], total])
    return _accumulate(total)[-1:]


_SHORT_ROW_ORDERS = [numpy.array([0] + list(range(4, n)) + [1, 2, 3] if n >= 4 else range(n), numpy.intp)
                     for n in range(8)]
"""The order ``_row_sum`` adds a row of n < 8 elements in: the first of its four interleaved sums, the elements
after the last group of four, then the other three (n < 4: one after another)."""


def _short_cascade(x, down):
    """``_cascade`` along the second-last axis of fewer than 256 elements (runs of 16: two levels at most), each run
    of adds by ``down`` (``_sequential``, or NumPy's reduce where it is known to add in order)."""
    count = x.shape[-2]
    runs = count - count % 16
    if not runs:
        return down(x, -2)
    if runs == 16:
        total = down(x[..., :16, :], -2)
    else:
        total = down(down(x[..., :runs, :].reshape(x.shape[:-2] + (runs // 16, 16, x.shape[-1])), -2), -2)
    return total if runs == count else down(x[..., runs:, :], -2) + total


_SUMS = {"inner": _inner_vectorized, "cascade": lambda x: _cascade(x, -1), "rows": lambda x: _row_sum(x, -1)}


def _column_sums(x, runs):
    """Sums along the last axis of ``x`` (2-d or more) by one of cascade_sum's loops: its columns (the second-last
    axis) in ``runs`` of (begin, end, how)."""
    if len(runs) == 1:
        return _SUMS[runs[0][2]](x)
    return numpy.concatenate([_SUMS[how](x[..., begin:end, :]) for begin, end, how in runs], -1)


# --- the iterator's plan ---------------------------------------------------------------------------------------
def _iterator(shape, strides, reduced, itemsize):
    """The dims TensorIterator makes of a sum of an array of ``shape``/``strides`` (no 1s, no negative strides) over
    the dims in ``reduced``, fastest first after coalescing: the NumPy axes' order that lays them out, and each
    dim's (size, input stride, whether reduced)."""
    ndim = len(shape)
    out_strides, running = [0] * ndim, itemsize
    for d in reversed(range(ndim)):
        if d not in reduced:
            out_strides[d], running = running, running * shape[d]
    operands = (out_strides, strides)
    perm = iteration_order(shape, operands, reduction=True)
    groups = []   # [size, input stride, output stride, source dims]
    for d in perm:
        last = groups[-1] if groups else None
        if last and last[1] * last[0] == strides[d] and last[2] * last[0] == out_strides[d]:
            last[0] *= shape[d]
            last[3].append(d)
        else:
            groups.append([shape[d], strides[d], out_strides[d], [d]])
    order = tuple(d for group in reversed(groups) for d in reversed(group[3]))
    return order, [(size, stride, out_stride == 0) for size, stride, out_stride, _ in groups]


def _runs(itemsize, size0, stride0, size1, stride1, pieces=None):
    """How cascade_sum's 2-d loop sums the columns of a (size1, size0) step: runs of (begin, end, how), ``how``
    "inner" (contiguous rows as vectors), "rows" (row_sum) or "cascade" (the plain cascade, which whole vectors of
    contiguous columns, or groups of 4 strided ones, take). With ``pieces``, the column ranges threads took."""
    lanes, runs = _lanes(itemsize), []
    for begin, end in pieces or ((0, size1),):
        if stride0 == itemsize and size0 >= lanes:
            runs.append((begin, end, "inner"))
            continue
        if stride1 == itemsize and end - begin >= lanes:
            block = 4 * lanes
        elif stride0 < stride1:
            runs.append((begin, end, "rows"))
            continue
        else:
            block = 4
        middle = begin + (end - begin) // block * block
        runs += [(begin, middle, "cascade"), (middle, end, "rows")]
    merged = []
    for begin, end, how in runs:
        if begin < end and merged and merged[-1][2] == how:
            merged[-1] = (merged[-1][0], end, how)
        elif begin < end:
            merged.append((begin, end, how))
    return tuple(merged)


def _thread_ranges(count, threads, grain):
    """The [begin, end) ranges ``at::parallel_for(0, count, grain)`` gives OpenMP's threads."""
    if count <= grain or threads == 1:
        return [(0, count)]
    used = min(threads, -(-count // grain)) if grain > 0 else threads
    chunk = -(-count // used)
    return [(t * chunk, min(count, (t + 1) * chunk)) for t in range(used) if t * chunk < count]


def _column_pieces(iterator, threads, itemsize):
    """The ranges of iterator dim 1 that ATen's parallel_dim_reduction gives each thread where it splits that dim
    (None where it splits another, which leaves every output's adds as on one thread)."""
    best = len(iterator) - 1
    for dim in range(len(iterator) - 1, -1, -1):
        size, _, reduced = iterator[dim]
        if reduced:
            break
        if size >= threads:
            best = dim
            break
        if size > iterator[best][0]:
            best = dim
    if best != 1:
        return None
    size, stride, _ = iterator[1]
    pieces = []
    for begin, end in _thread_ranges(size, threads, 1):
        if stride == itemsize:   # rounded to 128 bytes of columns
            begin -= begin % (128 // itemsize)
            end = end if end == size else end - end % (128 // itemsize)
        if begin < end:
            pieces.append((begin, end))
    return pieces


@functools.lru_cache(maxsize=1024)
def _plan(shape, strides, dims, itemsize, keepdim, threads):
    """How to sum an array of ``shape``/``strides`` over ``dims`` (sorted, in range) as PyTorch does on ``threads``
    threads: (the shape without 1s, its axes' order, the iterator's shape in that order, the column runs, how many
    iterator dims are reduced, the output's shape, the iterator), or None for a sum that adds nothing."""
    out_shape = tuple(1 if d in dims else n for d, n in enumerate(shape))
    if not keepdim:
        out_shape = tuple(n for d, n in enumerate(out_shape) if d not in dims)
    if all(shape[d] == 1 for d in dims) or 0 in shape:
        return None, out_shape
    kept = [d for d, n in enumerate(shape) if n != 1]
    reduced = frozenset(i for i, d in enumerate(kept) if d in dims)
    order, iterator = _iterator([shape[d] for d in kept], [strides[d] for d in kept], reduced, itemsize)
    count = sum(r for _, _, r in iterator)
    size0, stride0, _ = iterator[0]
    size1, stride1, _ = iterator[1] if len(iterator) > 1 else (1, 0, False)
    pieces = _column_pieces(iterator, threads, itemsize) if threads > 1 and count == 1 else None
    runs = _runs(itemsize, size0, stride0, size1, stride1, pieces)
    shape_in_order = tuple(size for size, _, _ in reversed(iterator))
    if len(iterator) == 1:
        shape_in_order = (1,) + shape_in_order
    return (tuple(shape[d] for d in kept), order, shape_in_order, runs, count, iterator), out_shape


def _two_pass(x, iterator, threads):
    """A full reduction on several threads as ATen's two_pass_reduction: each thread's range of elements (in
    iterator order) summed into its own buffer by cascade_sum's 2-d loops, then the buffers summed."""
    itemsize, sizes = x.itemsize, [size for size, _, _ in iterator]
    strides = [stride for _, stride, _ in iterator] + [0]
    x = x.reshape(tuple(reversed(sizes)))
    buffer = numpy.zeros(threads, x.dtype)
    for thread, (begin, end) in enumerate(_thread_ranges(x.size, threads, GRAIN)):
        offset, sums = begin, [numpy.zeros(1, x.dtype)]
        while offset < end:
            values, rest = [], offset
            for size in sizes:
                values.append(rest % size)
                rest //= size
            step0, step1 = min(sizes[0] - values[0], end - offset), 1
            if step0 == sizes[0] and len(sizes) > 1:
                step1 = min(sizes[1] - values[1], (end - offset) // sizes[0])
            if len(sizes) > 1:
                block = x[tuple(reversed(values[2:])) + (slice(values[1], values[1] + step1),
                                                         slice(values[0], values[0] + step0))]
            else:
                block = x[None, offset:offset + step0]
            sums.append(_column_sums(block, _runs(itemsize, step0, strides[0], step1, strides[1])))
            offset += step0 * step1
        buffer[thread] = _sequential(numpy.concatenate(sums), -1)
    return _column_sums(buffer[None], _runs(itemsize, threads, itemsize, 1, 0))[0]


def _threads():
    """PyTorch's intra-op thread count here (ember's: ``get_num_threads``)."""
    from .. import _runtime
    return _runtime.get_num_threads()


_TRAILING = tuple(tuple(tuple(range(ndim - k, ndim)) for k in range(ndim + 1)) for ndim in range(17))
"""``_TRAILING[ndim][k]``: the last ``k`` of ``ndim`` dims, in order."""


def _trailing_sums(a, count):
    """The sums over the last ``count`` dims of a C-contiguous array of fewer than GRAIN elements (one thread) where
    each row they make has fewer than ``_SHORT`` whole vectors, straight from the row cascades (the iterator's plan
    for them: one reduced dim of contiguous rows); None for other rows (shorter than a vector among several rows, or
    longer)."""
    lanes, n = _lanes(a.itemsize), math.prod(a.shape[a.ndim - count:])
    rows = a.size // n
    if n < lanes:
        return _accumulate(a.reshape(-1)[_SHORT_ROW_ORDERS[n]])[-1:] if rows == 1 else None
    if n >= _SHORT * lanes:
        return None
    whole = n - n % lanes
    return _one_row(a.reshape(-1), whole, lanes) if rows == 1 else _few_vectors(a.reshape(rows, n), whole, lanes)


def torch_sum(a, dims, keepdim, threads=None):
    """The sum of a float32/float64 array over ``dims`` (a tuple of dims in range) with the bits of PyTorch's CPU
    sum on ``threads`` threads (ember's thread count when None)."""
    size, ndim = a.size, a.ndim
    if 1 < size < GRAIN and ndim < len(_TRAILING) and dims == _TRAILING[ndim][len(dims)] and a.flags.c_contiguous:
        sums = _trailing_sums(a, len(dims))
        if sums is not None:
            kept = a.shape[:ndim - len(dims)]
            return numpy.add(sums, a.dtype.type(0)).reshape(kept + (1,) * len(dims) if keepdim else kept)
    if a.strides and min(a.strides) < 0:
        a = numpy.ascontiguousarray(a)
    if size < GRAIN:
        threads = 1
    elif threads is None:
        threads = _threads()
    plan, out_shape = _plan(a.shape, a.strides, tuple(sorted(dims)), a.itemsize, keepdim, threads)
    if plan is None:   # nothing to add: PyTorch adds each element to a zero
        return numpy.add(_add_reduce(a, dims, None, None, True), a.dtype.type(0), order="C").reshape(out_shape)
    squeezed, order, shape_in_order, runs, count, iterator = plan
    x = a.reshape(squeezed).transpose(order).reshape(shape_in_order)
    if threads > 1 and a.size >= GRAIN and count == len(iterator):
        sums = _two_pass(x, iterator, threads)
    else:
        sums = _column_sums(x, runs)
        if count > 1:   # each further reduced dim adds its sums to the output one after another
            sums = _sequential(sums.reshape(sums.shape[:sums.ndim - count + 1] + (-1,)), -1)
    return numpy.add(sums, a.dtype.type(0), order="C").reshape(out_shape)   # row-major, as PyTorch's output


def sum_array(a, dims, keepdims=False):
    """An array's sum over ``dims`` (a dim or a tuple) in Sum's order of adds (a float32 or float64 ndarray's with
    PyTorch's bits), for array paths that must give the Tensor op's bits."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if type(a) is numpy.ndarray and a.dtype in CASCADED:
        return torch_sum(a, tuple(d % a.ndim for d in dims), keepdims)
    return a.sum(axis=dims, keepdims=keepdims)
