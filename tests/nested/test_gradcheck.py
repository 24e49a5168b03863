"""Finite-difference checks (ember.autograd.gradcheck, float64) of the jagged ops whose gradients go through a
padded tensor or per-component work, independent of PyTorch's NJT backward (which fails or differs for several)."""
import numpy as np
import pytest

import ember

OFFSETS = [0, 2, 5, 6]


def _nested(values):
    return ember.nested.nested_tensor_from_jagged(values, ember.tensor(OFFSETS))


CASES = {
    "softmax over the ragged dim": lambda v: _nested(v).softmax(1).values(),
    "mean over the ragged dim": lambda v: _nested(v).mean(1),
    "amax over the ragged dim": lambda v: _nested(v).amax(1),
    "sum over batch and ragged dims": lambda v: _nested(v).sum((0, 1)),
    "to_padded_tensor": lambda v: ember.nested.to_padded_tensor(_nested(v), -1.0),
    "matmul with a batch-dim operand": lambda v: (_nested(v) @ ember.ones(3, 4, 2, dtype=ember.float64)).values(),
    "dense operand with the batch dim": lambda v: (_nested(v) * ember.arange(3.0).reshape(3, 1, 1)).values(),
    "unbind": lambda v: ember.cat([c.sum(0) ** 2 for c in _nested(v).unbind()]),
    "layer_norm": lambda v: ember.nn.functional.layer_norm(_nested(v), (4,)).values(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    values = ember.tensor(np.random.default_rng(0).standard_normal((6, 4)), requires_grad=True)
    assert ember.autograd.gradcheck(CASES[name], (values,), eps=1e-6, atol=1e-5)


def test_gradcheck_attention():
    rng = np.random.default_rng(1)
    q, k, v = (ember.tensor(rng.standard_normal((6, 2, 3)), requires_grad=True) for _ in range(3))

    def attend(q, k, v):
        heads = [_nested(t).transpose(1, 2) for t in (q, k, v)]
        return ember.nn.functional.scaled_dot_product_attention(*heads).values()
    assert ember.autograd.gradcheck(attend, (q, k, v), eps=1e-6, atol=1e-5)
