"""Loss differences found by the nn sweep, each compared with PyTorch in the test: 0-d smooth L1 / Huber, the
arguments PyTorch's losses have no derivative for, range and shape checks of BCE and the margin losses, the weight's
dtype in nll_loss and F.triplet_margin_loss's positive margin."""
import numpy
import pytest

from tests.oracle import same_outcome


def same(fn):
    """``fn`` on ember and torch: the same error, or the same arrays within this file's tolerance."""
    same_outcome(fn, rtol=1e-12)


def t(lib, shape, seed=0, low=-2.0, high=2.0, grad=False):
    value = lib.tensor(numpy.random.default_rng(seed).uniform(low, high, shape))
    return value.requires_grad_() if grad else value


def value_and_grad(loss, x):
    loss.sum().backward()
    return [loss.detach().numpy(), x.grad.numpy()]


@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_zero_dim_smooth_l1_and_huber_as_torch(name, reduction):
    """0-d inputs raised TypeError (NumPy's abs of a 0-d array is a scalar, no out= target)."""
    def run(lib):
        x = t(lib, (), grad=True)
        return value_and_grad(getattr(lib.nn.functional, name)(x, t(lib, (), 1), reduction=reduction), x)
    same(run)


@pytest.mark.parametrize("delta", [0.0, -1.0])
def test_huber_refuses_non_positive_delta_as_torch(delta):
    same(lambda lib: lib.nn.functional.huber_loss(t(lib, (3,)), t(lib, (3,), 1), delta=delta))


NOT_DIFFERENTIABLE = {
    "soft_margin-target": lambda F, lib: F.soft_margin_loss(t(lib, (3, 4)), t(lib, (3, 4), 1, grad=True)),
    "bce-weight": lambda F, lib: F.binary_cross_entropy(t(lib, (3, 4), 0, 0.1, 0.9, True), t(lib, (3, 4), 1, 0, 1),
                                                        weight=t(lib, (4,), 2, grad=True)),
    "bce_logits-weight": lambda F, lib: F.binary_cross_entropy_with_logits(t(lib, (3, 4)), t(lib, (3, 4), 1, 0, 1),
                                                                           weight=t(lib, (4,), 2, grad=True)),
    "bce_logits-pos_weight": lambda F, lib: F.binary_cross_entropy_with_logits(
        t(lib, (3, 4), grad=True), t(lib, (3, 4), 1, 0, 1), pos_weight=t(lib, (4,), 2, grad=True)),
    "multi_margin-weight": lambda F, lib: F.multi_margin_loss(t(lib, (3, 4)), lib.tensor([0, 1, 3]),
                                                              weight=t(lib, (4,), 2, grad=True)),
    "nll-weight": lambda F, lib: F.nll_loss(t(lib, (3, 4)), lib.tensor([0, 1, 3]), weight=t(lib, (4,), 2, grad=True)),
    "nll2d-weight": lambda F, lib: F.nll_loss(t(lib, (3, 4, 2)), lib.tensor([[0, 1]] * 3),
                                              weight=t(lib, (4,), 2, grad=True)),
    "cross_entropy-weight": lambda F, lib: F.cross_entropy(t(lib, (3, 4)), lib.tensor([0, 1, 3]),
                                                           weight=t(lib, (4,), 2, grad=True), label_smoothing=0.1),
}


@pytest.mark.parametrize("case", sorted(NOT_DIFFERENTIABLE))
def test_arguments_without_derivative_are_refused_as_torch(case):
    same(lambda lib: NOT_DIFFERENTIABLE[case](lib.nn.functional, lib))

    def quiet(lib):   # without grad mode nothing would be recorded: no error
        with lib.no_grad():
            return [NOT_DIFFERENTIABLE[case](lib.nn.functional, lib).numpy()]
    same(quiet)


def test_cross_entropy_of_probabilities_takes_a_weight_with_gradient_as_torch():
    def run(lib):
        w = t(lib, (4,), 2, 0.1, 2, grad=True)
        return value_and_grad(lib.nn.functional.cross_entropy(t(lib, (3, 4)), t(lib, (3, 4), 1, 0, 1), weight=w), w)
    same(run)


CHECKS = {
    "bce-target-range": lambda F, lib: F.binary_cross_entropy(lib.tensor([0.5]), lib.tensor([2.0])),
    "bce_logits-int-target": lambda F, lib: F.binary_cross_entropy_with_logits(lib.tensor([0.5, 0.5]),
                                                                               lib.tensor([1, 0])),
    "bce_logits-pos_weight-shape": lambda F, lib: F.binary_cross_entropy_with_logits(
        t(lib, (2, 3)), t(lib, (2, 3), 1, 0, 1), pos_weight=t(lib, (2,), 2)),
    "nll-weight-dtype": lambda F, lib: F.nll_loss(t(lib, (3, 4)).float(), lib.tensor([1, 2, 0]), weight=t(lib, (4,))),
    "cross_entropy-weight-dtype": lambda F, lib: F.cross_entropy(t(lib, (3, 4)), lib.tensor([1, 1, 1]),
                                                                 ignore_index=1, weight=lib.ones(4)),
    "triplet-margin": lambda F, lib: F.triplet_margin_loss(t(lib, (3, 2)), t(lib, (3, 2), 1), t(lib, (3, 2), 2),
                                                           margin=-1),
    "triplet-dims": lambda F, lib: F.triplet_margin_loss(t(lib, (3, 2)), t(lib, (2,), 1), t(lib, (3, 2), 2)),
    "aten-triplet-dims": lambda F, lib: lib.triplet_margin_loss(t(lib, (3, 2)), t(lib, (2,), 1), t(lib, (3, 2), 2)),
    "multi_margin-target-size": lambda F, lib: F.multi_margin_loss(t(lib, (4, 5)), lib.tensor([0, 1, 2])),
    "multi_margin-target-2d": lambda F, lib: F.multi_margin_loss(t(lib, (4, 5)), lib.tensor([[0, 1, 2, 3]])),
    "multi_margin-empty-classes": lambda F, lib: F.multi_margin_loss(t(lib, (4, 0)), lib.tensor([0, 1, 2, 3])),
    "multi_margin-3d": lambda F, lib: F.multi_margin_loss(t(lib, (2, 3, 4)), lib.tensor([0, 1])),
    "multi_margin-negative-target": lambda F, lib: F.multi_margin_loss(t(lib, (4, 5)), lib.tensor([0, 1, 2, -1])),
    "multi_margin-large-target": lambda F, lib: F.multi_margin_loss(t(lib, (4, 5)), lib.tensor([0, 1, 2, 5])),
    "multi_margin-weight-size": lambda F, lib: F.multi_margin_loss(t(lib, (4, 5)), lib.tensor([0, 1, 2, 3]),
                                                                   weight=lib.ones(4)),
    "multi_margin-weight-2d": lambda F, lib: F.multi_margin_loss(t(lib, (4, 5)), lib.tensor([0, 1, 2, 3]),
                                                                 weight=lib.ones(1, 5)),
    "multilabel_margin-large-target": lambda F, lib: F.multilabel_margin_loss(
        t(lib, (2, 4)), lib.tensor([[4, 0, -1, 1], [1, 2, 3, -1]])),
    "multilabel_margin-target-below": lambda F, lib: F.multilabel_margin_loss(
        t(lib, (2, 4)), lib.tensor([[-2, 0, -1, 1], [1, 2, 3, -1]])),
    "multilabel_margin-target-size": lambda F, lib: F.multilabel_margin_loss(t(lib, (2, 4)),
                                                                             lib.tensor([[0, 0, -1, 1]])),
    "multilabel_margin-3d": lambda F, lib: F.multilabel_margin_loss(t(lib, (2, 3, 4)),
                                                                    lib.zeros(2, 3, 4, dtype=lib.int64)),
    "cosine_embedding-1d-target": lambda F, lib: F.cosine_embedding_loss(t(lib, (3,)), t(lib, (3,)), lib.ones(3)),
    "cosine_embedding-0d-target": lambda F, lib: F.cosine_embedding_loss(t(lib, (3, 2)), t(lib, (3, 2)),
                                                                         lib.tensor(1.)),
    "cosine_embedding-2d-target": lambda F, lib: F.cosine_embedding_loss(t(lib, (3, 2)), t(lib, (3, 2)),
                                                                         lib.ones(3, 1)),
}


@pytest.mark.parametrize("case", sorted(CHECKS))
def test_loss_argument_checks_as_torch(case):
    same(lambda lib: CHECKS[case](lib.nn.functional, lib))


def test_aten_triplet_margin_loss_takes_any_margin_as_torch():
    same(lambda lib: [lib.triplet_margin_loss(t(lib, (3, 2)), t(lib, (3, 2), 1), t(lib, (3, 2), 2), margin=-0.5,
                                              reduction=1).numpy()])


@pytest.mark.parametrize("shapes", [((), ()), ((), (1,)), ((2,), ()), ((2,), (1,))])
def test_multi_margin_of_unbatched_input_takes_the_target_shape_as_torch(shapes):
    def run(lib):
        x = t(lib, shapes[0], grad=True)
        target = lib.zeros(shapes[1], dtype=lib.int64) + (1 if shapes[0] else 0)
        return value_and_grad(lib.nn.functional.multi_margin_loss(x, target, reduction="none"), x)
    same(run)


@pytest.mark.parametrize("target", [0, [1, -1, 0], [[1, -1, 0], [0, 2, -1]]])
def test_multilabel_margin_of_small_inputs_as_torch(target):
    def run(lib):
        x = t(lib, numpy.shape(target), grad=True)
        return value_and_grad(lib.nn.functional.multilabel_margin_loss(x, lib.tensor(target), reduction="none"), x)
    same(run)


@pytest.mark.parametrize("var_shape", [(3, 4, 2), (3, 4), (3, 1, 2), (3, 4, 1), (1, 4, 2), (1, 1, 2), (2,)])
def test_gaussian_nll_variance_shapes_and_clamp_as_torch(var_shape):
    """PyTorch 2.13 takes a var differing from the input in one dim of size 1, and clamps it at eps without
    recording the clamp (ember's gradient was 0 below eps)."""
    def run(lib):
        x = t(lib, (3, 4, 2), grad=True)
        var = t(lib, var_shape, 2, -1e-3, 0.5).abs().requires_grad_()
        loss = lib.nn.functional.gaussian_nll_loss(x, t(lib, (3, 4, 2), 1), var, eps=0.1)
        loss.backward()
        return [loss.detach().numpy(), x.grad.numpy(), var.grad.numpy()]
    same(run)


@pytest.mark.parametrize("var", [0.5, -0.5, "negative-tensor"])
def test_gaussian_nll_number_and_negative_variance_as_torch(var):
    def run(lib):
        v = -lib.ones(5, dtype=lib.float64) if var == "negative-tensor" else var
        return [lib.nn.functional.gaussian_nll_loss(t(lib, (3, 4)), t(lib, (3, 4), 1), v).numpy()]
    same(run)


def test_probability_targets_refuse_an_ignore_index_as_torch():
    same(lambda lib: lib.nn.functional.cross_entropy(t(lib, (3, 4)), t(lib, (3, 4), 1, 0, 1), ignore_index=1))
    same(lambda lib: [lib.nn.functional.cross_entropy(t(lib, (3, 4)), t(lib, (3, 4), 1, 0, 1), ignore_index=-3)
                      .numpy()])


def test_multilabel_soft_margin_of_a_scalar_as_torch():
    same(lambda lib: lib.nn.functional.multilabel_soft_margin_loss(t(lib, ()), lib.tensor(1.0, dtype=lib.float64)))
