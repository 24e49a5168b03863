"""Accumulating index writes (index_add, index_put(accumulate=True), the gradients of advanced indexing) through
the flat ``add.at`` of ``ops/indexing.py``'s ``_add_at_flat``: bit-equal to the row-wise ``add.at`` (repeated
indices summed in the same order) and PyTorch's values and gradients."""
import numpy
import pytest

import ember
from ember.ops import indexing
from tests.oracle import check, sample


def rows(size, shape, negative=True):
    """Indices into ``size`` rows, most of them repeated, half of them negative (index_add takes none)."""
    index = numpy.random.default_rng(0).integers(0, 6, shape)   # 6 distinct rows: many repeats of each
    if negative:
        index.reshape(-1)[::2] -= size
    return index


CASES = [   # name, function, arrays (float32; float64 too below), whether the flat add.at applies
    ("getitem_rows", lambda L, x, i: x[i], [sample((40, 64)), rows(40, (100,))], True),
    ("getitem_columns_2d_index", lambda L, x, i: x[:, i], [sample((64, 40)), rows(40, (10, 12))], True),
    ("getitem_3d_index", lambda L, x, i: x[i], [sample((40, 8, 9)), rows(40, (2, 5, 10))], True),
    ("getitem_new_axis_middle_dim", lambda L, x, i: x[None, :, i], [sample((6, 40, 9)), rows(40, (50,))], True),
    ("getitem_sliced", lambda L, x, i: x[:, i, 1:], [sample((6, 40, 9)), rows(40, (50,))], False),   # not contiguous
    ("index_add", lambda L, x, i, s: L.index_add(x, 0, i, s), [sample((40, 64)), rows(40, (100,), negative=False),
                                                               sample((100, 64), seed=1)], True),
    ("index_add_last_dim_alpha", lambda L, x, i, s: x.index_add(2, i, s, alpha=-2),
     [sample((6, 8, 40)), rows(40, (100,), negative=False), sample((6, 8, 100), seed=1)], True),
    ("index_add_in_place", lambda L, x, i, s: (x * 1).index_add_(1, i, s),
     [sample((30, 40)), rows(40, (100,), negative=False), sample((30, 100), seed=1)], True),
    ("index_put_broadcast_row", lambda L, x, i, v: x.index_put((i,), v, accumulate=True),
     [sample((40, 64)), rows(40, (100,)), sample((64,), seed=1)], True),
    ("index_put_scalar", lambda L, x, i, v: x.index_put((i,), v, accumulate=True),
     [sample((40, 64)), rows(40, (100,)), sample((), seed=1)], True),
    ("getitem_transposed_index", lambda L, x, i: x[i.t()], [sample((40, 64)), rows(40, (12, 10))], False),
    ("getitem_1d", lambda L, x, i: x[i], [sample((4000,)), rows(4000, (3000,))], False),
    ("getitem_empty_index", lambda L, x, i: x[i], [sample((40, 64)), rows(40, (0,))], False),
    ("index_add_empty_index", lambda L, x, i, s: x.index_add(0, i, s),
     [sample((40, 64)), rows(40, (0,), negative=False), sample((0, 64), seed=1)], False),
    ("getitem_few_elements", lambda L, x, i: x[i], [sample((10, 4)), rows(10, (6,))], False),
]


def _as(arrays, dtype):
    return [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]


def _ember_run(fn, arrays):
    """fn's output and the gradients of its inputs (for a fixed output gradient) as NumPy arrays."""
    inputs = [ember.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(ember, *inputs)
    out.backward(ember.tensor(sample(tuple(out.shape), out.detach().numpy().dtype, seed=9)))
    return [out.detach().numpy()] + [t.grad.numpy() for t in inputs if t.requires_grad]


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("name, fn, arrays, flat", CASES, ids=[case[0] for case in CASES])
def test_flat_add_at_is_bit_equal_to_row_add_at_and_matches_torch(monkeypatch, name, fn, arrays, flat, dtype):
    arrays = _as(arrays, dtype)
    check(fn, *arrays)
    taken = []
    add_at_flat = indexing._add_at_flat
    monkeypatch.setattr(indexing, "_add_at_flat", lambda *args: taken.append(add_at_flat(*args)) or taken[-1])
    fast = _ember_run(fn, arrays)
    assert any(taken) == flat
    monkeypatch.setattr(indexing, "_add_at_flat", lambda *args: False)
    general = _ember_run(fn, arrays)
    for a, b in zip(fast, general, strict=True):
        numpy.testing.assert_array_equal(a, b, strict=True)


def test_few_elements_through_the_flat_path_are_bit_equal_too(monkeypatch):
    x, i = _as([sample((10, 4)), rows(10, (6,))], numpy.float64)
    general = _ember_run(lambda L, x, i: x[i], [x, i])
    monkeypatch.setattr(indexing, "_FLAT_AT_LEAST", 0)
    target = numpy.zeros((10, 4))
    assert indexing._add_at_flat(target, (i, Ellipsis), x[:6])
    for a, b in zip(_ember_run(lambda L, x, i: x[i], [x, i]), general, strict=True):
        numpy.testing.assert_array_equal(a, b, strict=True)
