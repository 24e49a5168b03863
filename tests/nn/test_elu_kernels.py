"""elu, selu and celu as one primitive of whole-array passes (``activation.Elu``), against PyTorch: values, signed
zeros, NaN and infinities, gradients (PyTorch's, finite differences, second derivatives), node names, empty,
one-element, 0-d, non-contiguous and multi-threaded inputs, and the composed form it falls back to (alpha <= 0,
16-bit floats, a dispatch hook)."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check, gradcheck, noncontiguous, sample

SPECIAL = numpy.array([numpy.nan, -0.0, 0.0, 1.0, -1.0, numpy.inf, -numpy.inf, 1e-30, -1e-30, 1e-45, -1e-45, 20.0,
                       -20.0, 88.0, 89.0, -104.0, 710.0, -750.0, 3e38, -3e38])
FLOATS = [numpy.float32, numpy.float64]
ELUS = [("elu", {}), ("elu", dict(alpha=0.3)), ("elu", dict(alpha=2.5)), ("selu", {}), ("celu", {}),
        ("celu", dict(alpha=0.5)), ("celu", dict(alpha=3.0))]


def special(dtype):
    """SPECIAL, padded to 64 elements: PyTorch's vectorised kernels then see them all (its scalar loop, on a
    tensor's last few elements, gives elu's gradient at NaN as the slope, its vectorised kernel NaN)."""
    padded = numpy.concatenate([SPECIAL, sample((64 - SPECIAL.size,), numpy.float64, low=-5, high=5, seed=20)])
    with numpy.errstate(over="ignore"):
        return padded.astype(dtype)


def function(name, options):
    return lambda lib, x: getattr(lib.nn.functional, name)(x, **options)


def assert_same_zeros_and_nans(fn, x):
    """fn(lib, x)'s signs where PyTorch's result is zero, and NaN where PyTorch's is."""
    ours = fn(ember, ember.tensor(x)).numpy()
    theirs = fn(torch, torch.tensor(x)).numpy()
    numpy.testing.assert_array_equal(numpy.isnan(ours), numpy.isnan(theirs))
    zero = theirs == 0
    numpy.testing.assert_array_equal(numpy.signbit(ours[zero]), numpy.signbit(theirs[zero]))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name,options", ELUS)
def test_matches_torch(name, options, dtype):
    fn = function(name, options)
    check(fn, sample((3, 5, 7), dtype, low=-6, high=4, seed=1))
    check(fn, special(dtype))
    assert_same_zeros_and_nans(fn, special(dtype))


@pytest.mark.parametrize("shape", [(0,), (1,), (2, 0, 3), ()])
def test_empty_one_element_and_zero_dim_inputs(shape):
    for name, options in ELUS[:4]:
        check(function(name, options), sample(shape, numpy.float32, seed=5))


def test_noncontiguous_inputs_match_torch():
    x = noncontiguous(sample((33, 40), numpy.float32, low=-5, high=5, seed=6))
    for name, options in ELUS:
        check(lambda lib, x: getattr(lib.nn.functional, name)(x.transpose(0, 1), **options), x)


@pytest.mark.parametrize("name,options", ELUS[::2])
def test_gradients_and_second_derivatives_against_finite_differences(name, options):
    x = numpy.array([-3.0, -1.0, -0.2, 0.3, 1.0, 2.0, 4.0])
    gradcheck(lambda lib, x: getattr(lib.nn.functional, name)(x, **options) ** 2, x)


@pytest.mark.parametrize("name,options,node", [("elu", {}, "EluBackward0"), ("selu", {}, "EluBackward0"),
                                               ("celu", dict(alpha=2.0), "CeluBackward0")])
def test_node_names_are_torchs(name, options, node):
    for lib in (ember, torch):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        assert type(getattr(lib.nn.functional, name)(x, **options).grad_fn).__name__ == node


def test_large_inputs_give_the_same_bits_on_two_threads():
    x = sample((300_000,), numpy.float32, low=-30, high=30, seed=8)
    g = sample((300_000,), numpy.float32, low=0, high=1, seed=9)
    runs = []
    for threads in (1, 2):
        previous = ember.get_num_threads()
        ember.set_num_threads(threads)
        try:
            results = []
            for name, options in (("elu", dict(alpha=0.7)), ("selu", {}), ("celu", dict(alpha=2.0))):
                e = ember.tensor(x, requires_grad=True)
                y = getattr(ember.nn.functional, name)(e, **options)
                y.backward(ember.tensor(g))
                results += [y.detach().numpy(), e.grad.numpy()]
            runs.append(results)
        finally:
            ember.set_num_threads(previous)
    for one, two in zip(*runs):
        numpy.testing.assert_array_equal(one, two)
    check(lambda lib, x: lib.nn.functional.selu(x), x)


@pytest.mark.parametrize("name,options", [("elu", dict(alpha=0.0)), ("elu", dict(alpha=-0.5)),
                                          ("celu", dict(alpha=-2.0))])
def test_alphas_outside_the_fast_form_match_torch(name, options):
    check(function(name, options), sample((4, 6), numpy.float32, low=-4, high=4, seed=10))
    check(function(name, options), special(numpy.float32), grad=False)


@pytest.mark.parametrize("dtype", [numpy.float16, "bfloat16"])
def test_16_bit_inputs_take_the_composed_form(dtype):
    def run(lib, x):
        x = x.to(getattr(lib, dtype)) if isinstance(dtype, str) else x
        return lib.nn.functional.elu(x, 0.5), lib.nn.functional.selu(x), lib.nn.functional.celu(x, 2.0)
    x = sample((5, 6), numpy.float32 if isinstance(dtype, str) else dtype, low=-4, high=4, seed=11)
    check(run, x, rtol=2e-2, atol=2e-2)


def test_inplace_forms_match_torch():
    def run(lib, x):
        y = x * 1
        lib.nn.functional.elu(y, 0.5, inplace=True)
        z = x * 1
        lib.nn.functional.celu(z[1:], 2.0, inplace=True)
        return y, z
    check(run, sample((4, 6), numpy.float32, seed=12))


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_under_a_dispatch_hook_the_composed_form_matches_torch():
    def run(lib, x):
        return lib.nn.functional.elu(x, 0.5).sum() + lib.nn.functional.selu(x).sum() + lib.nn.functional.celu(x).sum()
    with ember.autograd.detect_anomaly(), torch.autograd.detect_anomaly():
        assert ember.nn.functional.elu(ember.ones(2, requires_grad=True)).grad_fn.name() != "EluBackward0"
        check(run, sample((4, 6), numpy.float32, low=-25, high=25, seed=13))
