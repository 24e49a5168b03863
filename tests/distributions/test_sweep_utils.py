"""``distributions.utils`` against PyTorch 2.13: broadcast_all (tensors, numbers, dtypes, refusals),
logits/probs conversions at their extremes, clamp_probs, the tril matrix/vector maps with diagonals, euler_constant
and lazy_property."""

import numpy
import pytest

from tests.distributions.sweep import compare


def f(L, *values, dtype="float64"):
    return L.tensor(numpy.array(values, dtype=dtype))


def U(L):
    return L.distributions.utils


CALLS = {
    "broadcast_all tensors": lambda L: U(L).broadcast_all(L.zeros(2, 1), f(L, 1.0, 2.0, 3.0)),
    "broadcast_all numbers": lambda L: U(L).broadcast_all(1, 2.5),
    "broadcast_all mixed": lambda L: U(L).broadcast_all(1, f(L, 1.0, 2.0, dtype="float32")),
    "broadcast_all int tensor": lambda L: U(L).broadcast_all(L.tensor([1, 2]), 0.5),
    "broadcast_all bad": lambda L: U(L).broadcast_all("a", 1.0),
    "broadcast_all none": lambda L: U(L).broadcast_all(None, 1.0),
    "broadcast_all mismatch": lambda L: U(L).broadcast_all(L.zeros(2), L.zeros(3)),
    "broadcast_all empty": lambda L: U(L).broadcast_all(),
    "logits_to_probs": lambda L: U(L).logits_to_probs(f(L, [0.0, 1.0, -2.0], [500.0, 0.0, -500.0])),
    "logits_to_probs binary": lambda L: U(L).logits_to_probs(f(L, 0.0, 40.0, -40.0), is_binary=True),
    "probs_to_logits": lambda L: U(L).probs_to_logits(f(L, 0.0, 0.5, 1.0)),
    "probs_to_logits binary": lambda L: U(L).probs_to_logits(f(L, 0.0, 0.5, 1.0, dtype="float32"), is_binary=True),
    "clamp_probs": lambda L: U(L).clamp_probs(f(L, 0.0, 0.5, 1.0, dtype="float32")),
    "clamp_probs64": lambda L: U(L).clamp_probs(f(L, 0.0, 0.5, 1.0)),
    "tril_matrix_to_vec": lambda L: U(L).tril_matrix_to_vec(L.arange(18.0).reshape(2, 3, 3)),
    "tril_matrix_to_vec diag": lambda L: U(L).tril_matrix_to_vec(L.arange(9.0).reshape(3, 3), diag=-1),
    "tril_matrix_to_vec diag1": lambda L: U(L).tril_matrix_to_vec(L.arange(9.0).reshape(3, 3), diag=1),
    "vec_to_tril_matrix": lambda L: U(L).vec_to_tril_matrix(L.arange(12.0).reshape(2, 6)),
    "vec_to_tril_matrix diag": lambda L: U(L).vec_to_tril_matrix(L.arange(3.0), diag=-1),
    "vec_to_tril_matrix bad": lambda L: U(L).vec_to_tril_matrix(L.arange(4.0)),
    "euler": lambda L: U(L).euler_constant,
    "lazy_property": lambda L: (lambda d: (("probs" in vars(d)), d.probs, "probs" in vars(d)))(
        L.distributions.Bernoulli(logits=f(L, 0.3))
    ),
}


@pytest.mark.parametrize("name", CALLS)
def test_call(name):
    assert compare(CALLS[name]) is None
