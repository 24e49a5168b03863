"""``nn.CrossMapLRN2d`` against torch's legacy module: forward and backward values (its backward is its legacy
Function's, which differs from the derivative of its forward, and ember's equals it), errors and repr."""
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import check, check_error


@pytest.mark.parametrize("size", [2, 3, 4, 5, 8])
@pytest.mark.parametrize("channels", [1, 3, 6, 11])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_values_and_gradients(size, channels, dtype):
    x = numpy.random.default_rng(size * channels).standard_normal((2, channels, 3, 4)).astype(dtype) * 2
    check(lambda lib, x: lib.nn.CrossMapLRN2d(size, alpha=0.3, beta=0.75, k=1.5)(x), x)
    check(lambda lib, x: lib.nn.CrossMapLRN2d(size)(x), x)


def test_defaults_half_empty_and_no_grad():
    x = numpy.random.default_rng(0).standard_normal((2, 5, 2, 2)).astype(numpy.float16)
    check(lambda lib, x: lib.nn.CrossMapLRN2d(3, alpha=0.5)(x), x, rtol=2e-3, atol=2e-3)
    check(lambda lib, x: lib.nn.CrossMapLRN2d(3)(x), numpy.zeros((0, 4, 3, 3), numpy.float32))
    check(lambda lib, x: lib.nn.CrossMapLRN2d(3)(x), x.astype(numpy.float32), grad=False)


def test_backward_is_the_legacy_functions():
    x = numpy.random.default_rng(1).standard_normal((1, 6, 2, 2))
    # the legacy backward is not the forward's derivative: ember reproduces that, as torch's gradcheck shows
    assert not torch.autograd.gradcheck(torch.nn.CrossMapLRN2d(3, alpha=0.5), (torch.tensor(x, requires_grad=True),),
                                        raise_exception=False)
    check(lambda lib, x: lib.nn.CrossMapLRN2d(3, alpha=0.5)(x), x)


def test_errors_repr_and_node_name():
    for shape in [(2, 3, 4), (1, 2, 3, 4, 5), (3,)]:
        check_error(lambda lib, x: lib.nn.CrossMapLRN2d(3)(x), numpy.ones(shape, numpy.float32),
                    match=f"CrossMapLRN2d: Expected input to be 4D, got {len(shape)}D instead.")
    check_error(lambda lib, x: lib.nn.CrossMapLRN2d(3)(x), numpy.ones((1, 2, 3, 3), numpy.int64),
                match="result type Float can't be cast to the desired output type Long")
    x = numpy.ones((1, 4, 2, 2), numpy.float32)
    check_error(lambda lib, x: lib.nn.CrossMapLRN2d(1)(x.requires_grad_()).sum().backward(), x,
                match=r"start \(1\) \+ length \(4\) exceeds dimension size \(4\)")
    mods = [lib.nn.CrossMapLRN2d(5, alpha=0.2, beta=0.5, k=2.5) for lib in (ember, torch)]
    assert repr(mods[0]) == repr(mods[1]) == "CrossMapLRN2d(5, alpha=0.2, beta=0.5, k=2.5)"
    assert repr(ember.nn.CrossMapLRN2d(3)) == repr(torch.nn.CrossMapLRN2d(3))
    assert list(mods[0].state_dict()) == list(mods[1].state_dict()) == []
    names = [lib.nn.CrossMapLRN2d(3)(lib.ones(1, 2, 2, 2, requires_grad=True)).grad_fn.name() for lib in (ember, torch)]
    assert names[0] == names[1] == "CrossMapLRN2dBackward"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.nn.CrossMapLRN2d(3)(ember.ones(1, 2, 2, 2))
