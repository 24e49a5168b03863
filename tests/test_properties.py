"""Hypothesis property tests against torch: binary ops over random broadcastable shapes and dtypes, in-place
broadcasting, and reductions over random dims with and without keepdim. (Indexing keys are covered in
tests/ops/test_indexing.py.)"""
import numpy
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import broadcastable_shapes, mutually_broadcastable_shapes

import ember
from tests.oracle import check, sample as _sample

F32, F64, I64, BOOL = numpy.float32, numpy.float64, numpy.int64, numpy.bool_


def sample(shape, dtype, *args, **kwargs):
    """oracle.sample, as an array also for 0-d shapes."""
    return numpy.asarray(_sample(shape, dtype, *args, **kwargs))

BINARY = {
    "sub": lambda L, a, b: L.sub(a, b, alpha=2),
    "div": lambda L, a, b: a / b,
    "pow": lambda L, a, b: a.abs() ** b,
    "atan2": lambda L, a, b: L.atan2(a, b),
    "hypot": lambda L, a, b: L.hypot(a, b),
    "minimum": lambda L, a, b: L.minimum(a, b),
    "lerp": lambda L, a, b: L.lerp(a, b, 0.25),
    "xlogy": lambda L, a, b: L.xlogy(a, b.abs()),
    "eq": lambda L, a, b: a == b,
    "lt": lambda L, a, b: a < b,
    "isclose": lambda L, a, b: L.isclose(a, b),
}


@settings(max_examples=30, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_like_torch(shapes, op, seed):
    a, b = (sample(shape, F64, 0.5, 2, seed=seed + i) for i, shape in enumerate(shapes.input_shapes))
    e_out, _ = check(BINARY[op], a, b)
    assert tuple(e_out.shape) == shapes.result_shape


@settings(max_examples=30, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
       dtypes=st.tuples(*[st.sampled_from([F32, F64, I64, BOOL])] * 2))
def test_three_operand_ops_broadcast_and_promote_like_torch(shapes, dtypes):
    condition, a, b = (sample(s, d, seed=i) for i, (s, d) in enumerate(zip(shapes.input_shapes, (BOOL,) + dtypes)))
    check(lambda L, c, x, y: L.where(c, x, y), condition, a, b, grad=False)
    check(lambda L, c, x, y: L.addcmul(x.double(), y.double(), c.double(), value=0.5), condition, a, b, grad=False)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), dtype=st.sampled_from([F32, I64, BOOL]))
def test_integer_and_bool_ops_broadcast_like_torch(data, dtype):
    a_shape, b_shape = data.draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    a, b = sample(a_shape, dtype, 0, 5, seed=1), sample(b_shape, dtype, 0, 5, seed=2)
    if dtype is F32:
        check(lambda L, x, y: L.maximum(x, y) * 2 - y, a, b, grad=False)
    else:
        check(lambda L, x, y: [x & y, x | y, x ^ y, L.logical_and(x, y)], a, b, grad=False)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_inplace_ops_broadcast_the_other_operand_only(data):
    shape = data.draw(st.lists(st.integers(1, 3), max_size=3).map(tuple))
    other_shape = data.draw(broadcastable_shapes(shape, max_dims=len(shape)).filter(
        lambda other: numpy.broadcast_shapes(shape, other) == shape))
    x, y = sample(shape, F64, seed=3), sample(other_shape, F64, seed=4)
    check(lambda L, a, b: a.clone().mul_(b).add_(b, alpha=3), x, y)


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_inplace_op_that_would_grow_the_target_raises_like_torch(data):
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, min_side=1, max_side=3))
    target_shape, other_shape = shapes.input_shapes
    if shapes.result_shape == target_shape:
        return
    x, y = sample(target_shape, F64, seed=5), sample(other_shape, F64, seed=6)
    with pytest.raises(RuntimeError) as torch_error:
        torch.tensor(x).add_(torch.tensor(y))
    with pytest.raises(RuntimeError) as ember_error:
        ember.tensor(x).add_(ember.tensor(y))
    assert str(ember_error.value) == str(torch_error.value)


def _dims(data, ndim, min_size=1):
    return data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=min_size, max_size=ndim,
                              unique_by=lambda d: d % ndim))


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple), data=st.data())
def test_float_reductions_over_random_dims(shape, data):
    dims, keepdim = _dims(data, len(shape)), data.draw(st.booleans())
    x = sample(shape, F64, seed=data.draw(st.integers(0, 100)))
    correction = data.draw(st.sampled_from([0, 1]))
    if all(shape[d] > correction for d in dims):
        check(lambda L, a: [a.var(dims, keepdim=keepdim, correction=correction),
                            a.std(dims, keepdim=keepdim, correction=correction)], x)
    check(lambda L, a: [a.logsumexp(dims, keepdim=keepdim), a.norm(p=2, dim=dims, keepdim=keepdim),
                        a.norm(p=1, dim=dims, keepdim=keepdim), a.nansum(dims, keepdim=keepdim),
                        a.amin(dims, keepdim=keepdim)], x)


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple), data=st.data(),
       dtype=st.sampled_from([F32, I64, BOOL]))
def test_single_dim_reductions_over_random_dim(shape, data, dtype):
    dim, keepdim = data.draw(st.integers(-len(shape), len(shape) - 1)), data.draw(st.booleans())
    x = sample(shape, dtype, seed=data.draw(st.integers(0, 100)))
    check(lambda L, a: [a.all(dim, keepdim=keepdim), a.any(dim, keepdim=keepdim), a.count_nonzero(dim)], x,
          grad=False)
    if dtype is not BOOL:   # torch's argmax and argmin reject bool input
        check(lambda L, a: [a.cumsum(dim), a.max(dim, keepdim=keepdim).values, a.min(dim, keepdim).indices,
                            a.prod(dim, keepdim=keepdim), a.argmax(dim, keepdim=keepdim), a.argmin(dim)], x)
