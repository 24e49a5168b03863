"""In-place random fills go through the dispatch point while a dispatch hook is active: under forward AD they
zero the tangent as PyTorch's do (their direct write into the array used to keep it)."""
import pytest
import torch

import ember

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")   # torch's forward_ad uses it

FILLS = {"uniform_": lambda t: t.uniform_(), "normal_": lambda t: t.normal_(),
         "bernoulli_": lambda t: t.bernoulli_(0.5), "exponential_": lambda t: t.exponential_(),
         "random_": lambda t: t.random_(0, 4)}


@pytest.mark.parametrize("name", FILLS)
def test_random_fills_zero_the_tangent_as_pytorch(name):
    tangents = []
    for library in (ember, torch):
        forward_ad = library.autograd.forward_ad
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(library.zeros(3), library.ones(3))
            FILLS[name](dual)
            tangent = forward_ad.unpack_dual(dual).tangent
            tangents.append(None if tangent is None else tangent.tolist())
    assert tangents[0] == tangents[1]


def test_same_draws_with_and_without_a_hook():
    ember.manual_seed(3)
    plain = ember.empty(5).uniform_().tolist()
    ember.manual_seed(3)
    with ember.autograd.forward_ad.dual_level():
        hooked = ember.empty(5).uniform_().tolist()
    assert plain == hooked
