"""nn module differences found by the nn sweep, each compared with PyTorch in the test: InstanceNorm's num_features
check and momentum=None, instance_norm's single spatial element, EmbeddingBag's negative padding_idx, Unflatten's
repr of a list, bilinear's shape checks and get_parameter/get_buffer's message for a missing name."""
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import same_outcome


def same(fn):
    """``fn`` on ember and torch: the same error, or the same arrays within this file's tolerance."""
    same_outcome(fn, rtol=1e-5, atol=1e-6)


def t(lib, shape, seed=0):
    return lib.tensor(numpy.random.default_rng(seed).uniform(-2, 2, shape), dtype=lib.float32)


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("shape", [(4, 5), (2, 4, 5), (3, 5), (2, 3, 5)])
def test_instance_norm_checks_num_features_as_torch(affine, shape):
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.nn.InstanceNorm1d(3, affine=affine)(t(lib, shape))
        assert any("does not match num_features" in str(w.message) for w in caught) == (shape[-2] != 3)
        return out
    same(run)


@pytest.mark.parametrize("shape", [(2, 3, 1), (3, 1)])
def test_instance_norm_of_one_spatial_element_as_torch(shape):
    same(lambda lib: lib.nn.InstanceNorm1d(3)(t(lib, shape)))
    same(lambda lib: lib.nn.functional.instance_norm(t(lib, (2, 3, 1, 1))))
    same(lambda lib: lib.nn.InstanceNorm1d(3, track_running_stats=True).eval()(t(lib, shape)))


def test_instance_norm_momentum_none_as_torch():
    def run(lib):
        m = lib.nn.InstanceNorm1d(3, momentum=None, track_running_stats=True)
        m(t(lib, (2, 3, 5)))
        m(t(lib, (2, 3, 5), 1))
        return m.running_mean, m.running_var, m.num_batches_tracked
    same(run)


@pytest.mark.parametrize("padding_idx", [-1, -5, 2, 5, -6])
def test_embedding_bag_padding_idx_as_torch(padding_idx):
    def run(lib):
        bag = lib.nn.EmbeddingBag(5, 3, mode="sum", padding_idx=padding_idx)
        return repr(bag) + str(bag.padding_idx) + str(bag.weight[bag.padding_idx].abs().sum().item())
    same(run)


def test_unflatten_repr_keeps_the_given_sequence_as_torch():
    for size in ([2, 2], (2, 2)):
        assert repr(ember.nn.Unflatten(1, size)) == repr(torch.nn.Unflatten(1, size))


BILINEAR = {
    "ranks": ((2, 3), (4,), None), "batch": ((2, 3), (3, 4), None), "input1": ((2, 5), (2, 4), None),
    "input2": ((2, 3), (2, 5), None), "bias": ((2, 3), (2, 4), (3,)), "unbatched": ((3,), (4,), (2,)),
}


@pytest.mark.parametrize("case", sorted(BILINEAR))
def test_bilinear_checks_as_torch(case):
    one, two, bias = BILINEAR[case]
    same(lambda lib: lib.nn.functional.bilinear(t(lib, one), t(lib, two, 1), t(lib, (2, 3, 4), 2),
                                                None if bias is None else t(lib, bias, 3)))


@pytest.mark.parametrize("target", ["0.foo", "0.in_features", "0.weight", "1.weight"])
@pytest.mark.parametrize("getter", ["get_parameter", "get_buffer"])
def test_get_parameter_and_buffer_messages_as_torch(getter, target):
    same(lambda lib: str(list(getattr(lib.nn.Sequential(lib.nn.Linear(2, 2)), getter)(target).shape)))


@pytest.mark.parametrize("shape, groups", [((3, 2, 3), 2), ((4, 2, 3), 2), ((3, 2), 1)])
def test_dirac_checks_groups_as_torch(shape, groups):
    same(lambda lib: lib.nn.init.dirac_(lib.empty(shape), groups=groups))


@pytest.mark.parametrize("shape", [(3, 4), (0, 3, 4), (2, 5, 4)])
def test_local_response_norm_shapes_as_torch(shape):
    same(lambda lib: lib.nn.functional.local_response_norm(t(lib, shape), 2))

    def itself(lib):   # an empty input comes back as itself, as PyTorch's
        x = lib.empty(0, 3, 4)
        return str(lib.nn.functional.local_response_norm(x, 2) is x)
    same(itself)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Unflatten(1, (2, 2.0)), lambda lib: lib.nn.Unflatten(1, 2),
    lambda lib: lib.nn.Unflatten(1, [2, 2]),
    lambda lib: lib.nn.TripletMarginLoss(margin=0.0), lambda lib: lib.nn.TripletMarginLoss(margin=-1.0),
    lambda lib: lib.nn.MultiMarginLoss(p=3), lambda lib: lib.nn.MultiMarginLoss(p=2)])
def test_constructor_checks_as_torch(make):
    same(lambda lib: repr(make(lib)))
