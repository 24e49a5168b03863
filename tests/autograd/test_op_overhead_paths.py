"""The per-op fast paths against PyTorch: a primitive's edges recorded while its inputs are read, binary ufuncs on
small operands, relu against a cached zero, and leaf gradients summed and accumulated as arrays."""
import numpy
import pytest
import torch

import ember
from tests.oracle import as_numpy


def _pair(shape, seed, dtype="float32"):
    value = numpy.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ember.tensor(value, requires_grad=True), torch.tensor(value, requires_grad=True)


@pytest.mark.parametrize("n", [1, 1000])
def test_overhead_step_matches_torch_over_repeated_steps(n):
    (a, ta), (b, tb) = _pair((n,), 0), _pair((n,), 1)
    c, tc = ember.ones(n), torch.ones(n)
    for _ in range(3):   # the second and later steps accumulate into existing .grad in place
        (a * b + c).relu().sum().backward()
        (ta * tb + tc).relu().sum().backward()
    numpy.testing.assert_allclose(as_numpy(a.grad), ta.grad.numpy(), rtol=1e-6)
    numpy.testing.assert_allclose(as_numpy(b.grad), tb.grad.numpy(), rtol=1e-6)


def test_a_leaf_reached_by_several_routes_sums_its_array_gradients_once():
    (a, ta) = _pair((3, 4), 2)
    seen = {}
    for lib, x in ((ember, a), (torch, ta)):
        x.register_hook(lambda g, lib=lib: seen.update({lib.__name__: type(g).__name__}))
        (x * x + x * 3.0 + x).sum().backward()
    numpy.testing.assert_allclose(as_numpy(a.grad), ta.grad.numpy(), rtol=1e-6)
    assert seen["ember"] == "Tensor"   # a leaf hook sees a tensor although the gradients met as arrays


def test_add_with_two_leaf_edges_stores_separate_grads():
    (a, ta), (b, tb) = _pair((2, 3), 3), _pair((2, 3), 4)
    (a + b).sum().backward()
    (ta + tb).sum().backward()
    assert a.grad._data is not b.grad._data   # one gradient array reaches both: the second leaf gets a copy
    a.grad.add_(1)
    numpy.testing.assert_allclose(as_numpy(b.grad), tb.grad.numpy())


@pytest.mark.parametrize("other", [2, 2.5, True, "int64", "float64", "float16"])
def test_mixed_dtype_products_promote_and_differentiate_as_torch(other):
    (a, ta) = _pair((2, 3), 5)
    if isinstance(other, str):
        value = numpy.arange(1, 4).astype(other)
        eo, to = ember.tensor(value), torch.tensor(value)
    else:
        eo = to = other
    ops = [lambda x, y: x * y, lambda x, y: y * x, lambda x, y: x + y, lambda x, y: x / y]
    if other is not True:   # subtracting a bool raises in both
        ops.append(lambda x, y: x - y)
    for op in ops:
        er, tr = op(a, eo), op(ta, to)
        assert str(er.dtype).split(".")[1] == str(tr.dtype).split(".")[1]
        numpy.testing.assert_allclose(as_numpy(er.detach()), tr.detach().numpy(), rtol=1e-3)
        er.sum().backward()
        tr.sum().backward()
        numpy.testing.assert_allclose(as_numpy(a.grad), ta.grad.numpy(), rtol=1e-3)


def test_broadcasting_gradients_and_errors_match_torch():
    (a, ta), (b, tb) = _pair((4, 1, 3), 6), _pair((5, 1), 7)
    (a * b).relu().sum().backward()
    (ta * tb).relu().sum().backward()
    numpy.testing.assert_allclose(as_numpy(a.grad), ta.grad.numpy(), rtol=1e-5)
    numpy.testing.assert_allclose(as_numpy(b.grad), tb.grad.numpy(), rtol=1e-5)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(2\)"):
        ember.ones(3, requires_grad=True) * ember.ones(2)


def test_relu_gradient_passes_nan_and_stops_at_zero_as_torch():
    values = [float("nan"), -1.0, 2.0, 0.0, -0.0]
    e, t = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    er, tr = e.relu(), t.relu()
    numpy.testing.assert_array_equal(numpy.signbit(as_numpy(er.detach())), numpy.signbit(tr.detach().numpy()))
    (eg,) = ember.autograd.grad(er, e, ember.ones(5), create_graph=True)   # ReluGrad, the Tensor path
    (tg,) = torch.autograd.grad(tr, t, torch.ones(5), create_graph=True)
    numpy.testing.assert_array_equal(as_numpy(eg.detach()), tg.detach().numpy())
    er.backward(ember.ones(5))   # array_backward
    numpy.testing.assert_array_equal(as_numpy(e.grad), tg.detach().numpy())


@pytest.mark.parametrize("dtype", ["int8", "int64", "float16", "float64"])
def test_relu_keeps_the_dtype(dtype):
    value = numpy.array([-3, 0, 4, 7]).astype(dtype)
    er, tr = ember.tensor(value).relu(), torch.tensor(value).relu()
    assert str(er.dtype).split(".")[1] == str(tr.dtype).split(".")[1]
    numpy.testing.assert_array_equal(as_numpy(er), tr.numpy())


def test_in_place_change_of_a_saved_input_is_caught():
    (a, _), (b, _) = _pair((3,), 8), _pair((3,), 9)
    y = a * b.detach().clone().requires_grad_()
    x = a.detach().clone().requires_grad_()
    h = x * 2
    y = h * b
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_gradient_of_a_non_float_edge_and_retain_grad():
    (a, ta) = _pair((3,), 10)
    h, th = a * 2, ta * 2
    h.retain_grad()
    th.retain_grad()
    (h * ember.tensor([1, 2, 3])).sum().backward()
    (th * torch.tensor([1, 2, 3])).sum().backward()
    numpy.testing.assert_allclose(as_numpy(h.grad), th.grad.numpy())
    numpy.testing.assert_allclose(as_numpy(a.grad), ta.grad.numpy())


def test_operators_on_parameters_and_mixed_array_types_take_the_general_path_alike():
    value = numpy.arange(6, dtype="float32").reshape(2, 3)
    p, tp = ember.nn.Parameter(ember.tensor(value)), torch.nn.Parameter(torch.tensor(value))
    x, tx = ember.tensor(value[0].astype("float64")), torch.tensor(value[0].astype("float64"))
    for er, tr in ((p * p + p, tp * tp + tp), (p * x + x, tp * tx + tx), (x + p * 2, tx + tp * 2)):
        assert str(er.dtype).split(".")[1] == str(tr.dtype).split(".")[1]
        numpy.testing.assert_allclose(as_numpy(er.detach()), tr.detach().numpy())
        er.sum().backward()
        tr.sum().backward()
    numpy.testing.assert_allclose(as_numpy(p.grad), tp.grad.numpy())
