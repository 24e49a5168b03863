"""The losses' reduction arguments as PyTorch's: the deprecated size_average / reduce flags (with their warning),
the deprecated name 'elementwise_mean', kl_div's 'mean' warning, the invalid-name errors, and the
``torch.nn._reduction`` helpers custom losses import."""
import warnings

import numpy
import pytest
import torch

import ember


def _run(lib, fn):
    """(result or error, [(category, message)]) of ``fn(lib)``, every warning kept."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(lib)
            result = result.detach().numpy() if isinstance(result, lib.Tensor) else result
        except Exception as error:   # noqa: BLE001  (the error is compared)
            result = (type(error), str(error))
    return result, [(w.category, str(w.message)) for w in caught]


def _same(fn):
    expected, expected_warnings = _run(torch, fn)
    got, got_warnings = _run(ember, fn)
    if isinstance(expected, numpy.ndarray):
        numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    else:
        assert got == expected
    assert got_warnings == expected_warnings


_X = numpy.random.RandomState(0).randn(4, 3).astype(numpy.float32)
_P = numpy.random.RandomState(1).rand(4, 3).astype(numpy.float32)
_T = numpy.array([0, 1, 2, 0])

LOSSES = {
    "nll_loss": lambda t, **k: t.nn.functional.nll_loss(t.tensor(_X), t.tensor(_T), **k),
    "cross_entropy": lambda t, **k: t.nn.functional.cross_entropy(t.tensor(_X), t.tensor(_T), **k),
    "mse_loss": lambda t, **k: t.nn.functional.mse_loss(t.tensor(_X), t.tensor(_P), **k),
    "l1_loss": lambda t, **k: t.nn.functional.l1_loss(t.tensor(_X), t.tensor(_P), **k),
    "smooth_l1_loss": lambda t, **k: t.nn.functional.smooth_l1_loss(t.tensor(_X), t.tensor(_P), **k),
    "kl_div": lambda t, **k: t.nn.functional.kl_div(t.tensor(_X), t.tensor(_P), **k),
    "binary_cross_entropy": lambda t, **k: t.nn.functional.binary_cross_entropy(t.tensor(_P), t.tensor(_P), **k),
    "bce_with_logits": lambda t, **k: t.nn.functional.binary_cross_entropy_with_logits(t.tensor(_X), t.tensor(_P),
                                                                                       **k),
    "poisson_nll_loss": lambda t, **k: t.nn.functional.poisson_nll_loss(t.tensor(_X), t.tensor(_P), **k),
    "soft_margin_loss": lambda t, **k: t.nn.functional.soft_margin_loss(t.tensor(_X), t.tensor(_P), **k),
    "multilabel_soft_margin_loss": lambda t, **k: t.nn.functional.multilabel_soft_margin_loss(
        t.tensor(_X), t.tensor(_P), **k),
    "multi_margin_loss": lambda t, **k: t.nn.functional.multi_margin_loss(t.tensor(_X), t.tensor(_T), **k),
    "hinge_embedding_loss": lambda t, **k: t.nn.functional.hinge_embedding_loss(t.tensor(_X), t.tensor(_P), **k),
    "margin_ranking_loss": lambda t, **k: t.nn.functional.margin_ranking_loss(t.tensor(_X), t.tensor(_P),
                                                                              t.ones(4, 3), **k),
}


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_legacy_flags_choose_the_reduction_and_warn(name, size_average, reduce):
    _same(lambda t: LOSSES[name](t, size_average=size_average, reduce=reduce, reduction="sum"))


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", ["mean", "batchmean", "elementwise_mean", "bogus"])
def test_reduction_names(name, reduction):
    _same(lambda t: LOSSES[name](t, reduction=reduction))


@pytest.mark.parametrize("reduction", ["elementwise_mean", "bogus"])
def test_reduction_names_of_losses_without_legacy_flags(reduction):
    _same(lambda t: t.nn.functional.huber_loss(t.tensor(_X), t.tensor(_P), reduction=reduction))
    _same(lambda t: t.nn.functional.gaussian_nll_loss(t.tensor(_X), t.tensor(_P), t.ones(4, 3), reduction=reduction))
    _same(lambda t: t.nn.functional.ctc_loss(t.tensor(_X).reshape(2, 2, 3).log_softmax(2), t.tensor([[1], [2]]),
                                             (2, 2), (1, 1), reduction=reduction))


@pytest.mark.parametrize("size_average", [None, False])
@pytest.mark.parametrize("reduce", [None, False])
def test_loss_modules_take_the_legacy_flags(size_average, reduce):
    _same(lambda t: t.nn.NLLLoss(size_average=size_average, reduce=reduce).reduction)
    _same(lambda t: t.nn.KLDivLoss(size_average=size_average, reduce=reduce)(t.tensor(_X), t.tensor(_P)))


def test_nn_reduction_module():
    def helpers(t):
        import importlib
        reduction = importlib.import_module(f"{t.__name__}.nn._reduction")
        return ([reduction.get_enum(r) for r in ("none", "mean", "sum", "elementwise_mean")],
                [reduction.legacy_get_string(a, b) for a in (None, True, False) for b in (None, True, False)],
                reduction.legacy_get_string(False, None, emit_warning=False),
                [reduction.legacy_get_enum(a, b) for a in (None, False) for b in (None, False)])
    _same(helpers)
    _same(lambda t: __import__(f"{t.__name__}.nn._reduction", fromlist=["x"]).get_enum("bogus"))


@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("shapes", [
    ((2, 10), (2, 1)), ((2, 10), (3,)), ((2, 10), ()), ((10,), (2,)), ((10,), (1, 1)), ((), ()),
    ((2, 3, 4), (2,)), ((2, 3, 4), (3, 4)), ((2, 3, 4), (2, 5)), ((2, 3, 4, 5), (2, 4, 4)), ((2, 3, 4, 5), (2, 4)),
    ((2, 3, 4, 5), (3, 4, 5)), ((2, 3, 4, 5, 6), (2, 4, 5, 7)),
], ids=str)
def test_class_index_target_shape_errors_are_pytorchs(loss, shapes):
    """A (N, 1) target for (N, C) scores (y.reshape(-1, 1), a common slip) and other mismatches raise PyTorch's
    exception and message, from nll_loss_nd's checks and its kernels' in their order."""
    from tests.oracle import check_same_error
    input_shape, target_shape = shapes
    check_same_error(lambda t: getattr(t.nn.functional, loss)(t.zeros(input_shape),
                                                                 t.zeros(target_shape, dtype=t.long)))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_one_element_target_of_a_1d_input_is_its_class_index(reduction):
    """PyTorch takes a (1,) target of a (C,) input as the 0-d class index: a 0-d loss whatever the reduction."""
    from tests.oracle import check
    check(lambda t, x: (t.nn.functional.nll_loss(x, t.tensor([3]), reduction=reduction),
                        t.nn.functional.cross_entropy(x, t.tensor([3]), reduction=reduction)),
          numpy.random.default_rng(0).standard_normal(10).astype(numpy.float32), grad=False)   # torch: no backward
