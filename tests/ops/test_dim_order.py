"""Tensor.dim_order against PyTorch on many stride patterns (contiguous, permuted, channels-last, expanded, size-1
and size-0 dims, equal strides, 0-d and 1-d) with every kind of ambiguity_check, errors included; const_data_ptr and
mutable_data_ptr."""
import itertools
import math

import numpy
import pytest
import torch

import ember

RNG = numpy.random.default_rng(3)


def outcome(fn):
    """fn()'s result, or its exception's type and message."""
    try:
        return fn()
    except Exception as error:   # noqa: BLE001 (compared with PyTorch's)
        return type(error).__name__, str(error)


def checks(L):
    """ambiguity_check values in library ``L``."""
    return [False, True, [], [L.contiguous_format], [L.channels_last], [L.channels_last_3d],
            [L.contiguous_format, L.channels_last], [L.channels_last, L.channels_last_3d, L.contiguous_format],
            [L.preserve_format], [L.contiguous_format, L.contiguous_format]]


def assert_dim_order_matches(make):
    """``make(L)`` builds the same strided tensor in ember and torch: same strides, then the same dim_order under
    every ambiguity_check."""
    t, e = make(torch), make(ember)
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride(), (e.stride(), t.stride())
    for t_check, e_check in zip(checks(torch), checks(ember)):
        expected = outcome(lambda: t.dim_order(ambiguity_check=t_check))
        got = outcome(lambda: e.dim_order(ambiguity_check=e_check))
        assert got == expected, (tuple(t.shape), t.stride(), t_check)


def strided(shape, strides):
    def make(L):
        extent = 1 + sum((s - 1) * st for s, st in zip(shape, strides)) if 0 not in shape else 1
        return L.zeros(max(extent, 1)).as_strided(shape, strides)
    return make


NAMED = {
    "0-d": lambda L: L.zeros(()),
    "1-d": lambda L: L.zeros(5),
    "1-d of one": lambda L: L.zeros(1),
    "1-d expanded": lambda L: L.zeros(1).expand(4),
    "1-d strided": lambda L: L.zeros(10)[::3],
    "contiguous": lambda L: L.zeros(2, 3, 5, 7),
    "transposed": lambda L: L.zeros(2, 3, 5, 7).transpose(1, 2),
    "permuted": lambda L: L.zeros(2, 3, 5, 7).permute(3, 1, 0, 2),
    "matrix transposed": lambda L: L.zeros(4, 6).t(),
    "channels_last": lambda L: L.zeros(2, 3, 5, 7).to(memory_format=L.channels_last),
    "channels_last contiguous()": lambda L: L.zeros(2, 3, 5, 7).contiguous(memory_format=L.channels_last),
    "channels_last_3d": lambda L: L.zeros(2, 3, 4, 5, 6).to(memory_format=L.channels_last_3d),
    "size-1 batch": lambda L: L.zeros(1, 2, 3, 4),
    "size-1 middle": lambda L: L.zeros(3, 1, 4),
    "all size 1": lambda L: L.zeros(1, 1, 1),
    "unsqueezed": lambda L: L.zeros(3, 4).unsqueeze(1),
    "unsqueezed permuted": lambda L: L.zeros(3, 4).unsqueeze(0).permute(2, 0, 1),
    "expanded batch": lambda L: L.zeros(3, 4).expand(2, 3, 4),
    "expanded middle": lambda L: L.zeros(3, 1, 4).expand(3, 5, 4),
    "expanded last": lambda L: L.zeros(3, 1).expand(3, 4),
    "expanded all": lambda L: L.zeros(()).expand(2, 3),
    "expanded permuted": lambda L: L.zeros(3, 1, 4).expand(3, 5, 4).permute(1, 2, 0),
    "sliced": lambda L: L.zeros(2, 3, 8, 5)[:, :, ::2],
    "narrowed": lambda L: L.zeros(6, 4)[1:4, 1:3],
    "column": lambda L: L.zeros(4, 3)[:, 0:1],
    "selected": lambda L: L.zeros(4, 3, 5).select(1, 0),
    "equal strides": strided((2, 2), (1, 1)),
    "equal strides, sizes differ": strided((3, 2), (1, 1)),
    "equal strides, outer shorter": strided((2, 3), (1, 1)),
    "equal strides 3-d": strided((2, 3, 4), (2, 2, 1)),
    "overlapping": strided((3, 4), (1, 2)),
    "gappy": strided((2, 3), (10, 3)),
    "non-dividing strides": strided((3, 3, 2), (6, 4, 1)),
    "empty strided": strided((2, 0, 3), (5, 7, 1)),
    "empty with a size-1 dim": strided((0, 1, 3), (3, 3, 1)),
}


# Tensors whose size-1 or size-0 dims ember gives other strides than PyTorch (NumPy's strides there: a
# channels-last copy keeps row-major strides on its size-1 dims, an empty array has zero strides), so their
# dim_order can differ too; the dim_order of PyTorch's strides is checked through as_strided.
STRIDES_DIFFER = {
    "channels_last one channel": lambda L: L.zeros(2, 1, 5, 7).to(memory_format=L.channels_last),
    "channels_last 1x1 image": lambda L: L.zeros(2, 3, 1, 1).to(memory_format=L.channels_last),
    "channels_last_3d one channel": lambda L: L.zeros(2, 1, 3, 4, 5).to(memory_format=L.channels_last_3d),
    "empty contiguous": lambda L: L.zeros(2, 0, 3),
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_patterns_match_torch(name):
    assert_dim_order_matches(NAMED[name])


@pytest.mark.parametrize("name", sorted(STRIDES_DIFFER))
def test_torchs_strides_of_size_one_dims_give_torchs_dim_order(name):
    t = STRIDES_DIFFER[name](torch)
    assert_dim_order_matches(strided(tuple(t.shape), t.stride()))


@pytest.mark.parametrize("name", sorted(STRIDES_DIFFER))
def test_size_one_dims_strides(name):
    # channels-last tensors with size-1 dims take PyTorch's strides (ember/_memory_format.py), empty ones too
    # (Tensor.stride())
    assert_dim_order_matches(STRIDES_DIFFER[name])


def _patterns():
    """Stride patterns of ranks 2..5: row-major strides of a permuted shape, some strides zeroed or duplicated,
    some sizes 1 or 0."""
    found = []
    for ndim in (2, 3, 4, 5):
        for _ in range(60):
            shape = [int(s) for s in RNG.choice([1, 2, 3, 4], ndim, p=[0.25, 0.25, 0.25, 0.25])]
            if RNG.random() < 0.1:
                shape[RNG.integers(ndim)] = 0
            order = RNG.permutation(ndim)
            strides = [0] * ndim
            step = 1
            for d in order[::-1]:
                strides[d] = step
                step *= max(shape[d], 1)
            if RNG.random() < 0.3:
                strides[RNG.integers(ndim)] = 0
            if RNG.random() < 0.2:
                a, b = RNG.choice(ndim, 2, replace=False)
                strides[a] = strides[b]
            found.append((tuple(shape), tuple(int(s) for s in strides)))
    return found


@pytest.mark.parametrize("shape, strides", _patterns())
def test_random_stride_patterns_match_torch(shape, strides):
    assert_dim_order_matches(strided(shape, strides))


def test_every_order_of_three_dims_matches_torch():
    for sizes in itertools.product((1, 2, 3), repeat=3):
        for order in itertools.permutations(range(3)):
            strides = [0] * 3
            for position, d in enumerate(order):
                strides[d] = math.prod(sizes[k] for k in order[position + 1:])
            assert_dim_order_matches(strided(sizes, tuple(strides)))


@pytest.mark.parametrize("bad", ["ILLEGAL", (True,), None, 1, ("contiguous_format",), "list of strings"])
def test_bad_ambiguity_check_is_a_type_error(bad):
    def run(L):
        value = bad
        if bad == (True,):
            value = [True]
        elif bad == ("contiguous_format",):
            value = [L.contiguous_format, "contiguous_format"]
        elif bad == "list of strings":
            value = ["channels_last"]
        return outcome(lambda: L.zeros(2, 3).dim_order(ambiguity_check=value))
    assert run(ember) == run(torch) == ("TypeError", "The ambiguity_check argument must be a bool or a list of "
                                                     "memory formats.")


def test_ambiguity_check_is_keyword_only():
    with pytest.raises(TypeError):
        torch.zeros(2).dim_order(True)
    with pytest.raises(TypeError):
        ember.zeros(2).dim_order(True)


def test_documented_examples():
    assert ember.empty((2, 3, 5, 7)).dim_order() == (0, 1, 2, 3)
    assert ember.empty((2, 3, 5, 7)).transpose(1, 2).dim_order() == (0, 2, 1, 3)
    assert ember.empty((2, 3, 5, 7)).to(memory_format=ember.channels_last).dim_order() == (0, 2, 3, 1)
    assert ember.empty((1, 2, 3, 4)).dim_order() == (0, 1, 2, 3)
    with pytest.raises(RuntimeError, match="^The tensor does not have unique dim order, or cannot map to exact one "
                                           "of the given memory formats.$"):
        ember.empty((1, 2, 3, 4)).dim_order(ambiguity_check=True)
    assert ember.empty((1, 2, 3, 4)).dim_order(ambiguity_check=[ember.contiguous_format, ember.channels_last]) == \
        (0, 1, 2, 3)
    with pytest.raises(RuntimeError, match="^The tensor does not have unique dim order.$"):
        ember.zeros(3, 1).expand(3, 4).dim_order(ambiguity_check=[ember.contiguous_format])


def test_sparse_tensors_have_no_dim_order():
    sparse = ember.eye(3).to_sparse()
    with pytest.raises(AttributeError, match=r"^Can't get dim order on sparse type: .* Use Tensor.to_dense\(\) to "
                                             r"convert to a dense tensor first.$"):
        sparse.dim_order()


def test_const_and_mutable_data_ptr_are_data_ptr():
    x = ember.arange(12.0).reshape(3, 4)
    view = x[1:, 2:]
    for t in (x, view, x.t()):
        assert t.const_data_ptr() == t.mutable_data_ptr() == t.data_ptr()
    assert view.const_data_ptr() - x.const_data_ptr() == 6 * x.element_size()
    base = torch.arange(12.0).reshape(3, 4)
    assert base[1:, 2:].const_data_ptr() - base.const_data_ptr() == 6 * base.element_size()
