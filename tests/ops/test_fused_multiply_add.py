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

