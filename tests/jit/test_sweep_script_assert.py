"""assert and raise in scripted code, beside torch.jit.script: an assert compiles (ember refused the statement) and
checks at run time; a failed assert or a raise is PyTorch's torch.jit.Error, which is no RuntimeError."""
import warnings

import numpy
import pytest
import torch

import ember


def _rank_two(x):
    assert x.dim() == 2, "need 2d"
    return x + 1


def _positive(x, n: int):
    assert n > 0
    return x * n


def _sum_positive(x):
    assert x.sum() > 0, "sum must be positive"
    return x * 3


def _raises(x):
    if bool(x.sum() > 0):
        raise ValueError("bad value")
    return x - 1


def _last_dim(lib):
    class LastDim(lib.nn.Module):
        def forward(self, x):
            assert x.shape[-1] == 3, "last dim must be 3"
            return x * 2
    return LastDim()


CASES = [
    (_rank_two, lambda lib: (lib.ones(1, 2),), True),
    (_rank_two, lambda lib: (lib.ones(2),), False),
    (_positive, lambda lib: (lib.ones(2), 2), True),
    (_positive, lambda lib: (lib.ones(2), 0), False),
    (_sum_positive, lambda lib: (lib.ones(2),), True),
    (_sum_positive, lambda lib: (-lib.ones(2),), False),
    (_raises, lambda lib: (-lib.ones(2),), True),
    (_raises, lambda lib: (lib.ones(2),), False),
    (_last_dim, lambda lib: (lib.ones(2, 3),), True),
    (_last_dim, lambda lib: (lib.ones(3, 2),), False),
]


def _script(lib, target):
    target = target(lib) if target is _last_dim else target
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # torch 2.13 deprecates torch.jit.script
        return lib.jit.script(target)


@pytest.mark.parametrize("target, args, passes", CASES,
                         ids=[f"{c[0].__name__}-{'passes' if c[2] else 'fails'}" for c in CASES])
def test_assert_and_raise_match_torch(target, args, passes):
    scripted, reference = _script(ember, target), _script(torch, target)
    if passes:
        numpy.testing.assert_array_equal(scripted(*args(ember)).numpy(), reference(*args(torch)).numpy())
        return
    with pytest.raises(torch.jit.Error):
        reference(*args(torch))
    with pytest.raises(ember.jit.Error, match="The following operation failed in the TorchScript interpreter") \
            as got:
        scripted(*args(ember))
    assert not isinstance(got.value, RuntimeError)   # as torch.jit.Error, which derives from Exception only
