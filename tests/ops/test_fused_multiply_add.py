"""Ops PyTorch's CPU kernels compute with a fused multiply-add, bit for bit against torch: addcmul of float32
tensors (``value * tensor1`` rounded, then one fused multiply-add), as lerp's tests check lerp."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check


def _samples(shapes, seed=0):
    rng = numpy.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(numpy.float32) for shape in shapes]


@pytest.mark.parametrize("value", [1, 0.001, -2.5, 0.3])
@pytest.mark.parametrize("shapes", [((4096,), (4096,), (4096,)), ((3, 1), (1, 5), (3, 5)), ((), (), ()),
                                    ((7,), (1,), (7,))])
def test_addcmul_is_fused_as_torch(value, shapes):
    arrays = _samples(shapes)
    got = ember.addcmul(*(ember.tensor(a) for a in arrays), value=value)
    expected = torch.addcmul(*(torch.tensor(a) for a in arrays), value=value)
    assert got.shape == expected.shape and got.numpy().tobytes() == expected.numpy().tobytes()
    inplace = ember.tensor(numpy.broadcast_to(arrays[0], got.shape).copy())
    inplace.addcmul_(ember.tensor(arrays[1]), ember.tensor(arrays[2]), value=value)
    assert inplace.numpy().tobytes() == expected.numpy().tobytes()


def test_addcmul_gradients_and_node_as_torch():
    check(lambda L, a, b, c: L.addcmul(a, b, c, value=0.5), *_samples(((3, 1), (1, 5), (3, 5)), seed=1))
    x = ember.ones(2, requires_grad=True)
    assert type(ember.addcmul(x, x, x, value=2).grad_fn).__name__ == "AddcmulBackward0"



_ADD_FORMS = {
    "add": lambda L, a, b, alpha: L.add(a, b, alpha=alpha),
    "sub": lambda L, a, b, alpha: L.sub(a, b, alpha=alpha),
    "method_": lambda L, a, b, alpha: a.clone().add_(b, alpha=alpha),
    "sub_": lambda L, a, b, alpha: a.clone().sub_(b, alpha=alpha),
    "scalar_other": lambda L, a, b, alpha: a.add(0.3, alpha=alpha),
    "rsub": lambda L, a, b, alpha: L.rsub(a, 0.3, alpha=alpha),
    "int_other": lambda L, a, b, alpha: a.add((b * 8).to(L.int64), alpha=alpha),
}


@pytest.mark.parametrize("form", list(_ADD_FORMS))
@pytest.mark.parametrize("alpha", [-7e-4, 0.3, 2.5, 3])
@pytest.mark.parametrize("shapes", [((4096,), (4096,)), ((3, 1), (1, 5)), ((), ())])
def test_add_and_sub_with_alpha_are_fused_as_torch(form, alpha, shapes):
    # PyTorch's CPU add kernel computes input + alpha * other as fmadd(other, alpha, input): one rounding (the
    # last few elements of a row beside a broadcast number go through a scalar loop its compiler partly contracts)
    a, b = _samples(shapes, seed=2)
    if form.endswith("_") and a.shape != numpy.broadcast_shapes(a.shape, b.shape):
        a = numpy.broadcast_to(a, numpy.broadcast_shapes(a.shape, b.shape)).copy()
    got = _ADD_FORMS[form](ember, ember.tensor(a), ember.tensor(b), alpha)
    expected = _ADD_FORMS[form](torch, torch.tensor(a), torch.tensor(b), alpha)
    assert got.dtype == ember.float32 and got.shape == expected.shape
    assert got.numpy().tobytes() == expected.numpy().tobytes()


def test_add_with_alpha_gradients_and_nodes_as_torch():
    a, b = _samples(((3, 1), (1, 5)), seed=3)
    check(lambda L, x, y: L.add(x, y, alpha=0.3), a, b)
    check(lambda L, x, y: L.sub(x, y, alpha=-2.5), a, b)
    check(lambda L, x, y: x.add(y.double(), alpha=0.3), a, b)   # float64 keeps the unfused arithmetic
    for lib in (torch, ember):
        x, y = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        nodes = [lib.add(x, y, alpha=0.5).grad_fn, lib.sub(x, y, alpha=0.5).grad_fn]
        assert [type(n).__name__ for n in nodes] == ["AddBackward0", "SubBackward0"]
        assert [n._saved_alpha for n in nodes] == [0.5, 0.5]
        assert lib.add(x.detach(), y.detach(), alpha=0.5).grad_fn is None
