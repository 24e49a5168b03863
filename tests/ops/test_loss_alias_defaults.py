"""torch's top-level loss functions (the ATen forms, integer ``reduction``) reduce nothing by default, unlike
nn.functional's: ember's must give torch's shapes and values."""
import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same

RNG = numpy.random.default_rng(3)
A, B = RNG.uniform(-1, 1, (2, 3)).astype(numpy.float32), RNG.uniform(0, 1, (2, 3)).astype(numpy.float32)
LOG_PROBS = numpy.log(RNG.dirichlet(numpy.ones(4), (5, 2))).astype(numpy.float32)

CALLS = {
    "binary_cross_entropy_with_logits": lambda lib: lib.binary_cross_entropy_with_logits(lib.tensor(A), lib.tensor(B)),
    "hinge_embedding_loss": lambda lib: lib.hinge_embedding_loss(lib.tensor(A), lib.tensor(B).sign()),
    "cosine_embedding_loss": lambda lib: lib.cosine_embedding_loss(lib.tensor(A), lib.tensor(B), lib.ones(2)),
    "margin_ranking_loss": lambda lib: lib.margin_ranking_loss(lib.tensor(A[0]), lib.tensor(B[0]), lib.ones(3)),
    "triplet_margin_loss": lambda lib: lib.triplet_margin_loss(lib.tensor(A), lib.tensor(B), lib.tensor(A * 2)),
    "kl_div": lambda lib: lib.kl_div(lib.tensor(A), lib.tensor(B)),
    "ctc_loss": lambda lib: lib.ctc_loss(lib.tensor(LOG_PROBS), lib.tensor([[1, 2], [1, 1]]), [5, 5], [2, 2]),
}


@pytest.mark.parametrize("name", CALLS)
def test_top_level_losses_reduce_nothing_by_default(name):
    assert_same(CALLS[name](ember), CALLS[name](torch))
