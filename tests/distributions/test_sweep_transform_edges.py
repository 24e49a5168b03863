"""Transforms at the edges of their domains against PyTorch 2.13: saturating sigmoid/tanh/softplus/softmax and stick
breaking (float64 and float32), inverses at the ends of the codomain, zero scales and exponents, and the derived
properties of compositions (sign, event dims, domains), of inverses and of cached copies."""

import numpy
import pytest

from tests.distributions.sweep import compare


def f(L, *values, dtype="float64"):
    return L.tensor(numpy.array(values, dtype=dtype))


def both(t, x):
    y = t(x)
    return y, t.inv(y), t.log_abs_det_jacobian(x, y)


EDGES = {
    "sigmoid large": lambda L: both(
        L.distributions.transforms.SigmoidTransform(), f(L, -800.0, -40.0, 0.0, 40.0, 800.0)
    ),
    "sigmoid large32": lambda L: both(
        L.distributions.transforms.SigmoidTransform(), f(L, -100.0, -20.0, 0.0, 20.0, 100.0, dtype="float32")
    ),
    "sigmoid inverse ends": lambda L: L.distributions.transforms.SigmoidTransform().inv(f(L, 0.0, 1.0, 0.5)),
    "sigmoid inverse ends32": lambda L: L.distributions.transforms.SigmoidTransform().inv(
        f(L, 0.0, 1.0, 1e-30, dtype="float32")
    ),
    "tanh inverse ends": lambda L: L.distributions.transforms.TanhTransform().inv(f(L, -1.0, 1.0, 0.999999)),
    "tanh large": lambda L: both(L.distributions.transforms.TanhTransform(), f(L, -30.0, 30.0, 1e-8)),
    "softplus inverse small": lambda L: L.distributions.transforms.SoftplusTransform().inv(
        f(L, 1e-30, 1e-5, 50.0, 0.0)
    ),
    "softplus large": lambda L: both(L.distributions.transforms.SoftplusTransform(), f(L, -800.0, 800.0, 30.0)),
    "exp inverse zero": lambda L: L.distributions.transforms.ExpTransform().inv(f(L, 0.0, -1.0)),
    "power inverse zero": lambda L: L.distributions.transforms.PowerTransform(f(L, 0.5)).inv(f(L, 0.0, -1.0)),
    "affine zero scale": lambda L: both(L.distributions.transforms.AffineTransform(1.0, 0.0), f(L, 1.0, 2.0)),
    "stickbreaking large": lambda L: both(
        L.distributions.transforms.StickBreakingTransform(), f(L, [50.0, -50.0, 0.0], [-800.0, 800.0, 3.0])
    ),
    "stickbreaking inverse vertex": lambda L: L.distributions.transforms.StickBreakingTransform().inv(
        f(L, 1.0, 0.0, 0.0)
    ),
    "softmax large": lambda L: L.distributions.transforms.SoftmaxTransform()(f(L, 800.0, 0.0, -800.0)),
    "corr cholesky large": lambda L: both(L.distributions.transforms.CorrCholeskyTransform(), f(L, 30.0, -30.0, 0.5)),
    "lower cholesky large": lambda L: L.distributions.transforms.LowerCholeskyTransform()(
        f(L, [800.0, 1.0], [2.0, -800.0])
    ),
    "positive definite": lambda L: both(
        L.distributions.transforms.PositiveDefiniteTransform(), f(L, [0.5, 0.0], [2.0, -1.0])
    ),
    "cdf transform": lambda L: both(
        L.distributions.transforms.CumulativeDistributionTransform(L.distributions.Normal(0.0, f(L, 1.0))),
        f(L, -40.0, 0.0, 9.0),
    ),
    "abs inverse": lambda L: L.distributions.transforms.AbsTransform().inv(f(L, 2.0, -1.0)),
    "sign compose": lambda L: (
        L.distributions.transforms.ComposeTransform(
            [L.distributions.transforms.AffineTransform(0.0, -1.0), L.distributions.transforms.ExpTransform()]
        ).sign,
        L.distributions.transforms.AffineTransform(0.0, -2.0).inv.sign,
        L.distributions.transforms.PowerTransform(-2.0).sign,
    ),
    "event_dim compose": lambda L: (
        lambda t: (t.event_dim, t.domain.event_dim, t.codomain.event_dim, repr(t.domain), repr(t.codomain))
    )(
        L.distributions.transforms.ComposeTransform(
            [
                L.distributions.transforms.IndependentTransform(L.distributions.transforms.ExpTransform(), 1),
                L.distributions.transforms.ReshapeTransform((3,), (3, 1)),
            ]
        )
    ),
    "cat transform event": lambda L: (lambda t: (repr(t.domain), repr(t.codomain), t.bijective, t.event_dim))(
        L.distributions.transforms.CatTransform(
            [L.distributions.transforms.StickBreakingTransform(), L.distributions.transforms.ExpTransform()],
            dim=-1,
            lengths=[2, 1],
        )
    ),
    "stack repr": lambda L: repr(
        L.distributions.transforms.StackTransform([L.distributions.transforms.ExpTransform()], dim=1)
    ),
    "cat ladj batch": lambda L: (lambda t, x: t.log_abs_det_jacobian(x, t(x)))(
        L.distributions.transforms.CatTransform(
            [L.distributions.transforms.ExpTransform(), L.distributions.transforms.SigmoidTransform()],
            dim=0,
            lengths=[1, 1],
        ),
        f(L, [1.0, 2.0], [3.0, 4.0]),
    ),
    "inv of inv": lambda L: (lambda t: (t.inv.inv is t, repr(t.inv.inv), t.inv == t.inv, t.inv is t.inv))(
        L.distributions.transforms.ExpTransform()
    ),
    "with_cache inv": lambda L: (
        lambda t: (repr(t), t._cache_size, t.inv._cache_size if hasattr(t.inv, "_cache_size") else None)
    )(L.distributions.transforms.ExpTransform().inv.with_cache(1)),
}


@pytest.mark.parametrize("name", EDGES)
def test_transform_edge_values(name):
    assert compare(EDGES[name]) is None
