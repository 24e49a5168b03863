"""softplus (and logsigmoid through it) and binary_cross_entropy_with_logits as primitives of whole-array passes
(``activation.Softplus``, ``loss.BinaryCrossEntropyWithLogits``), against PyTorch: values, signed zeros, NaN and
infinities, large |x| where exp overflows, both sides of softplus's threshold, weights, pos_weight and reductions,
gradients (input and target; PyTorch's, finite differences, second derivatives), node names, empty, one-element,
0-d, non-contiguous and multi-threaded inputs, and the composed forms they fall back to."""
import numpy
import pytest
import torch

import ember
from tests.nn.test_elu_kernels import assert_same_zeros_and_nans, function, special
from tests.oracle import check, gradcheck, noncontiguous, sample

FLOATS = [numpy.float32, numpy.float64]
SOFTPLUS = [{}, dict(beta=2.0), dict(beta=0.5, threshold=3.0), dict(beta=1.0, threshold=0.0),
            dict(beta=-1.5, threshold=2.0), dict(threshold=100.0)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("options", SOFTPLUS)
def test_softplus_matches_torch(options, dtype):
    fn = function("softplus", options)
    check(fn, sample((3, 5, 7), dtype, low=-30, high=30, seed=2))
    check(fn, special(dtype))   # with threshold 100, PyTorch's gradient at 89 (exp overflows) is NaN
    assert_same_zeros_and_nans(fn, special(dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_logsigmoid_far_out_matches_torch(dtype):
    x = numpy.concatenate([special(dtype), sample((50,), dtype, low=-60, high=60, seed=3)])
    check(lambda lib, x: lib.nn.functional.logsigmoid(x), x)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_logsigmoid_signed_zeros_match_torch(dtype):
    # a vanishing log1p(exp(-x)) gives +0.0 (printed "0."), a tiny negative one rounded to half precision -0.0
    values = [110.0, 200.0, 50.0, 20.0, 0.0, -0.0, -5.0, float("inf"), float("-inf")]
    ours = ember.nn.functional.logsigmoid(ember.tensor(values, dtype=getattr(ember, dtype))).float().numpy()
    theirs = torch.nn.functional.logsigmoid(torch.tensor(values, dtype=getattr(torch, dtype))).float().numpy()
    numpy.testing.assert_array_equal(ours, theirs)
    numpy.testing.assert_array_equal(numpy.signbit(ours), numpy.signbit(theirs))


def test_softplus_with_half_of_the_elements_past_the_threshold():
    x = sample((4000,), numpy.float32, low=-40, high=40, seed=4)
    check(lambda lib, x: lib.nn.functional.softplus(x, beta=3.0, threshold=5.0), x)


@pytest.mark.parametrize("shape", [(0,), (1,), (2, 0, 3), ()])
def test_empty_one_element_and_zero_dim_inputs(shape):
    x = sample(shape, numpy.float32, seed=5)
    check(function("softplus", dict(beta=2.0)), x)
    t, w = numpy.asarray(numpy.abs(x) / 3), numpy.asarray(numpy.abs(x))   # arrays for 0-d x too
    for reduction in ("sum", "none"):
        check(lambda lib, x, t, w: lib.nn.functional.binary_cross_entropy_with_logits(
            x, t, w.detach(), reduction=reduction, pos_weight=w.detach() * 2), x, t, w)


def test_noncontiguous_inputs_match_torch():
    x = noncontiguous(sample((33, 40), numpy.float32, low=-5, high=5, seed=6))
    check(lambda lib, x: lib.nn.functional.softplus(x.transpose(0, 1), 2.0), x)
    t = noncontiguous(sample((33, 40), numpy.float32, low=0, high=1, seed=7))
    check(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(x[:, ::2], t[:, ::2]), x, t)


def test_softplus_gradients_and_second_derivatives_against_finite_differences():
    x = numpy.array([-3.0, -1.0, -0.2, 0.3, 1.0, 2.0, 4.0])
    gradcheck(lambda lib, x: lib.nn.functional.softplus(x, beta=2.0, threshold=3.0) ** 2, x)


def test_softplus_node_name_is_torchs():
    for lib in (ember, torch):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        assert type(lib.nn.functional.softplus(x).grad_fn).__name__ == "SoftplusBackward0"


def test_large_inputs_give_the_same_bits_on_two_threads():
    x = sample((300_000,), numpy.float32, low=-30, high=30, seed=8)
    t = sample((300_000,), numpy.float32, low=0, high=1, seed=9)
    runs = []
    for threads in (1, 2):
        previous = ember.get_num_threads()
        ember.set_num_threads(threads)
        try:
            e = ember.tensor(x, requires_grad=True)
            y = ember.nn.functional.softplus(e, 2.0)
            y.backward(ember.tensor(t))
            results = [y.detach().numpy(), e.grad.numpy()]
            e = ember.tensor(x, requires_grad=True)
            loss = ember.nn.functional.binary_cross_entropy_with_logits(e, ember.tensor(t), reduction="none")
            loss.backward(ember.tensor(t))
            runs.append(results + [loss.detach().numpy(), e.grad.numpy()])
        finally:
            ember.set_num_threads(previous)
    for one, two in zip(*runs):
        numpy.testing.assert_array_equal(one, two)
    check(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(x, t), x, t)


def test_16_bit_softplus_is_computed_in_float32_by_the_primitive():
    check(lambda lib, x: lib.nn.functional.softplus(x, 2.0), sample((5, 6), numpy.float16, low=-4, high=4, seed=11))


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_under_a_dispatch_hook_the_composed_forms_match_torch():
    x = sample((4, 6), numpy.float32, low=-25, high=25, seed=13)
    t = sample((4, 6), numpy.float32, low=0, high=1, seed=14)

    def run(lib, x, t):
        return lib.nn.functional.softplus(x, 2.0, 3.0).sum() + lib.nn.functional.binary_cross_entropy_with_logits(x, t)
    with ember.autograd.detect_anomaly(), torch.autograd.detect_anomaly():
        assert ember.nn.functional.softplus(ember.ones(2, requires_grad=True)).grad_fn.name() != "SoftplusBackward0"
        check(run, x, t)


# --- binary_cross_entropy_with_logits ---------------------------------------------------------------------------
LOGITS = numpy.array([[0.0, -0.0, 1e-3, -1e-3, 2.0, -2.0], [30.0, -30.0, 100.0, -100.0, 1e4, -1e4],
                      [17.0, -17.0, 40.0, -40.0, 0.5, -0.5]])
TARGETS = numpy.array([[0.0, 1.0, 0.3, 0.7, 1.0, 0.0], [1.0, 0.0, 0.9999999, 1e-7, 0.5, 1.0],
                       [0.0, 1.0, 1.0, 0.0, 0.25, 0.75]])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("extras", ["", "weight", "pos_weight", "weight pos_weight"])
def test_bce_with_logits_matches_torch(extras, reduction, dtype):
    x, t = LOGITS.astype(dtype), TARGETS.astype(dtype)
    weight = numpy.array([0.5, 2.0, 1.0, 3.0, 0.0, 1.5], dtype)
    pos_weight = numpy.array([[1.0, 3.0, 0.2, 2.0, 1.0, 0.5]], dtype)

    def loss(lib, x, t, w, p):
        return lib.nn.functional.binary_cross_entropy_with_logits(
            x, t, weight=w.detach() if "weight" in extras.split() else None,
            pos_weight=p.detach() if "pos_weight" in extras else None, reduction=reduction)
    check(loss, x, t, weight, pos_weight)   # the target's gradient too
    check(loss, sample((4, 6), dtype, low=-8, high=8, seed=15), sample((4, 6), dtype, low=0, high=1, seed=16),
          weight, pos_weight)


def test_bce_with_logits_nonfinite_logits_match_torch():
    x = numpy.array([numpy.nan, numpy.inf, -numpy.inf, numpy.inf, -numpy.inf, 0.0], numpy.float32)
    t = numpy.array([0.5, 0.0, 0.0, 1.0, 1.0, 0.5], numpy.float32)
    pos_weight = numpy.full(6, 2.0, numpy.float32)
    for p in (None, pos_weight):
        check(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(
            x, t, pos_weight=None if p is None else lib.tensor(p), reduction="none"), x, t, grad=False)


def test_bce_with_logits_gradients_against_finite_differences():
    x = numpy.array([[-3.0, -0.4, 0.2, 1.5], [2.5, -1.0, 0.7, -2.0]])
    t = numpy.array([[0.1, 0.9, 0.5, 0.3], [1.0, 0.0, 0.6, 0.2]])
    w, p = numpy.array([0.5, 1.0, 2.0, 1.5]), numpy.array([2.0, 0.5, 1.0, 3.0])
    gradcheck(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(
        x, t, lib.tensor(w), pos_weight=lib.tensor(p)), x, t)
    gradcheck(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="sum"), x, t)


def test_bce_with_logits_node_name_and_composed_cases_match_torch():
    for lib in (ember, torch):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        for reduction in ("none", "mean"):
            loss = lib.nn.functional.binary_cross_entropy_with_logits(x, lib.tensor([0.0, 1.0]), reduction=reduction)
            assert type(loss.grad_fn).__name__ == "BinaryCrossEntropyWithLogitsBackward0"
    x = sample((3, 4), numpy.float32, seed=17)
    t64 = sample((3, 4), numpy.float64, low=0, high=1, seed=18)
    check(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(x, t.detach()), x, t64,   # mixed
          rtol=1e-6, atol=1e-7)   # the composed form computes in float32 before promoting, PyTorch in float64
    w = sample((4,), numpy.float64, low=0, high=2, seed=19)
    check(lambda lib, x, t, w: lib.nn.functional.binary_cross_entropy_with_logits(x, t, w.detach()),
          x.astype(numpy.float64), t64, w)
