"""The rest of the distributions API against PyTorch 2.13: ``Distribution.set_default_validate_args`` and
``validate_args`` overrides, the value checks of ``log_prob`` (type, shape, support), ``Independent``,
``MixtureSameFamily`` and ``TransformedDistribution`` beyond the per-class sweep (their errors, discrete and
multivariate components, decreasing transforms), parameter broadcasting and dtypes, and ``sample_n``."""

import numpy
import pytest

from tests.distributions.probes import validation
from tests.distributions.sweep import compare


def _f(L, *values, dtype="float64"):
    return L.tensor(numpy.array(values, dtype=dtype))


def _validated_default(L, flag):
    with validation(L, flag):
        d = L.distributions.Normal(_f(L, 0.0, 1.0), _f(L, -1.0, 1.0))
        return repr(d), d._validate_args, d.log_prob(_f(L, 0.5, 0.5))


def _mixture(L, components):
    D = L.distributions
    return D.MixtureSameFamily(D.Categorical(logits=_f(L, [0.1, 0.5, -0.3], [1.0, 0.0, 0.2])), components)


def _mvn_components(L):
    D = L.distributions
    loc = L.tensor(numpy.arange(12.0).reshape(2, 3, 2) / 5)
    return D.MultivariateNormal(loc, scale_tril=L.eye(2, dtype=L.float64) * 0.7)


def _normal_components(L):
    D = L.distributions
    return D.Normal(L.tensor(numpy.arange(6.0).reshape(2, 3) / 3 - 1), _f(L, [0.5, 1.0, 2.0], [1.5, 0.3, 0.8]))


def _seeded(L, fn):
    L.manual_seed(4)
    return fn()


CALLS = {
    # validation switches
    "default validation off": lambda L: _validated_default(L, False),
    "default validation on": lambda L: _validated_default(L, True),
    "explicit validation wins": lambda L: (lambda d: (d._validate_args, d.log_prob(_f(L, 2.0, 0.5))))(
        L.distributions.Uniform(_f(L, 0.0, 0.0), _f(L, 1.0, 1.0), validate_args=True)
    ),
    "explicit no validation": lambda L: L.distributions.Uniform(
        _f(L, 0.0, 0.0), _f(L, 1.0, 1.0), validate_args=False
    ).log_prob(_f(L, 2.0, 0.5)),
    "set_default_validate_args type": lambda L: L.distributions.Distribution.set_default_validate_args(1),
    # log_prob's value checks
    "value not a tensor": lambda L: L.distributions.Normal(0.0, 1.0, validate_args=True).log_prob(0.5),
    "value shape": lambda L: L.distributions.MultivariateNormal(L.zeros(3), L.eye(3), validate_args=True).log_prob(
        L.zeros(2)
    ),
    "value batch shape": lambda L: L.distributions.Normal(L.zeros(3), 1.0, validate_args=True).log_prob(L.zeros(4)),
    "value broadcasts": lambda L: L.distributions.Normal(L.zeros(3), 1.0, validate_args=True).log_prob(L.zeros(2, 1)),
    "value outside": lambda L: L.distributions.Exponential(L.ones(2), validate_args=True).log_prob(_f(L, -1.0, 1.0)),
    "value nan": lambda L: L.distributions.Normal(L.zeros(2), 1.0, validate_args=True).log_prob(_f(L, 0.0, numpy.nan)),
    "discrete value": lambda L: L.distributions.Poisson(L.ones(2), validate_args=True).log_prob(_f(L, 1.0, 0.5)),
    # parameters
    "broadcast parameters": lambda L: (lambda d: (d.batch_shape, d.loc, d.scale))(
        L.distributions.Normal(L.zeros(2, 1), L.ones(3))
    ),
    "number and tensor": lambda L: (lambda d: (d.batch_shape, d.loc, d.scale))(
        L.distributions.Gamma(2, L.ones(3, dtype=L.float64))
    ),
    "numbers": lambda L: (lambda d: (d.batch_shape, d.loc, d.scale, _seeded(L, d.sample)))(
        L.distributions.Laplace(1, 2.5)
    ),
    "parameters do not broadcast": lambda L: L.distributions.Normal(L.zeros(2), L.ones(3)),
    "mixed dtypes": lambda L: L.distributions.Normal(L.zeros(2, dtype=L.float64), L.ones(2)).loc,
    "integer parameters": lambda L: L.distributions.Normal(L.zeros(2, dtype=L.int64), L.ones(2)).mean,
    "probs and logits": lambda L: L.distributions.Bernoulli(probs=L.ones(2) / 2, logits=L.zeros(2)),
    "neither probs nor logits": lambda L: L.distributions.Categorical(),
    "categorical scalar probs": lambda L: L.distributions.Categorical(L.tensor(0.5)),
    "MVN no covariance": lambda L: L.distributions.MultivariateNormal(L.zeros(2)),
    "MVN two covariances": lambda L: L.distributions.MultivariateNormal(L.zeros(2), L.eye(2), scale_tril=L.eye(2)),
    "MVN vector covariance": lambda L: L.distributions.MultivariateNormal(L.zeros(2), L.ones(2)),
    "MVN scalar loc": lambda L: L.distributions.MultivariateNormal(L.tensor(0.0), L.eye(2)),
    "low-rank shapes": lambda L: L.distributions.LowRankMultivariateNormal(L.zeros(3), L.ones(2, 1), L.ones(3)),
    "multinomial sample counts": lambda L: _seeded(
        L, lambda: L.distributions.Multinomial(probs=L.ones(3) / 3).sample()
    ),
    "binomial sample counts": lambda L: _seeded(
        L, lambda: L.distributions.Binomial(L.tensor([3.0, 10.0]), L.tensor([0.5, 0.2])).sample((2,))
    ),
    "sample_n": lambda L: _seeded(L, lambda: L.distributions.Normal(L.zeros(2), 1.0).sample_n(3)),
    "rsample unsupported": lambda L: L.distributions.Poisson(L.ones(2)).rsample(),
    "enumerate unsupported": lambda L: L.distributions.Normal(0.0, 1.0).enumerate_support(),
    "expand too short": lambda L: L.distributions.Normal(L.zeros(3), 1.0).expand((2,)),
    "expand keeps validation": lambda L: (
        L.distributions.Normal(L.zeros(3), 1.0, validate_args=False).expand((2, 3))._validate_args
    ),
    "base Distribution": lambda L: (lambda d: (repr(d), d.batch_shape, d.event_shape))(
        L.distributions.Distribution(L.Size([2]), validate_args=False)
    ),
    "base mean": lambda L: L.distributions.Distribution(L.Size([2])).mean,
    # dtypes of parameters and values mixed, integer and bool values, numbers as parameters
    "normal f64 params f32 value": lambda L: L.distributions.Normal(_f(L, 0.0, 1.0), 1.0).log_prob(
        _f(L, 0.5, 0.5, dtype="float32")
    ),
    "normal f32 params f64 value": lambda L: L.distributions.Normal(_f(L, 0.0, 1.0, dtype="float32"), 1.0).log_prob(
        _f(L, 0.5, 0.5)
    ),
    "normal int value": lambda L: L.distributions.Normal(_f(L, 0.0, 1.0, dtype="float32"), 1.0).log_prob(
        L.tensor([1, 2])
    ),
    "categorical float value": lambda L: L.distributions.Categorical(_f(L, 0.2, 0.8)).log_prob(_f(L, 1.0, 0.0)),
    "categorical value broadcast": lambda L: L.distributions.Categorical(L.ones(2, 3) / 3).log_prob(
        L.tensor([[0], [1], [2]])
    ),
    "bernoulli int value": lambda L: L.distributions.Bernoulli(_f(L, 0.2, 0.8)).log_prob(L.tensor([1, 0])),
    "bernoulli bool value": lambda L: L.distributions.Bernoulli(_f(L, 0.2, 0.8), validate_args=False).log_prob(
        L.tensor([True, False])
    ),
    "poisson int value": lambda L: L.distributions.Poisson(_f(L, 2.0, 3.0)).log_prob(L.tensor([1, 4])),
    "binomial int value": lambda L: L.distributions.Binomial(5, _f(L, 0.2, 0.8)).log_prob(L.tensor([1, 4])),
    "gamma f32 value": lambda L: L.distributions.Gamma(_f(L, 2.0, 3.0), 1.0).log_prob(_f(L, 1.0, 4.0, dtype="float32")),
    "mvn f32 value": lambda L: L.distributions.MultivariateNormal(
        L.zeros(2, dtype=L.float64), L.eye(2, dtype=L.float64)
    ).log_prob(_f(L, 1.0, 4.0, dtype="float32")),
    "dirichlet f32 value": lambda L: L.distributions.Dirichlet(_f(L, 2.0, 3.0)).log_prob(
        _f(L, 0.3, 0.7, dtype="float32")
    ),
    "uniform int params": lambda L: (lambda d: (d.low, d.high, d.sample()))(
        L.distributions.Uniform(L.tensor([0, 1]), L.tensor([2, 3]))
    ),
    "exponential int rate": lambda L: L.distributions.Exponential(L.tensor([1, 2])).mean,
    "normal scalar tensors": lambda L: (lambda d: (d.batch_shape, d.loc, d.scale))(
        L.distributions.Normal(L.tensor(0.5), L.tensor(2.0))
    ),
    "normal requires_grad numbers": lambda L: L.distributions.Normal(0.5, 2.0).loc.requires_grad,
    "normal default dtype float64": lambda L: (
        L.set_default_dtype(L.float64),
        L.distributions.Normal(0.5, 2.0).loc.dtype,
        L.set_default_dtype(L.float32),
    )[1],
    "gamma sample dtype f32 numbers": lambda L: (L.manual_seed(1), L.distributions.Gamma(2.0, 3.0).sample((3,)))[1],
    "categorical sample int": lambda L: (
        L.manual_seed(1),
        L.distributions.Categorical(logits=L.zeros(4)).sample((3,)).dtype,
    )[1],
    "onehot sample dtype": lambda L: (
        L.manual_seed(1),
        L.distributions.OneHotCategorical(logits=L.zeros(4, dtype=L.float64)).sample((2,)),
    )[1],
    "bernoulli sample dtype": lambda L: (
        L.manual_seed(1),
        L.distributions.Bernoulli(_f(L, 0.3, 0.6, dtype="float32")).sample((2,)),
    )[1],
    # half precision: PyTorch's CPU samplers and LAPACK-backed matrices refuse it
    "gamma half": lambda L: L.distributions.Gamma(L.ones(2, dtype=L.float16), 1.0).sample(),
    "dirichlet half": lambda L: L.distributions.Dirichlet(L.ones(2, dtype=L.bfloat16)).sample(),
    "beta half": lambda L: L.distributions.Beta(L.ones(2, dtype=L.float16), 2.0).rsample(),
    "gamma grad half": lambda L: L._standard_gamma_grad(L.ones(2, dtype=L.float16), L.ones(2, dtype=L.float16)),
    "dirichlet grad half": lambda L: L._dirichlet_grad(*[L.ones(2, dtype=L.bfloat16)] * 3),
    "gamma integer": lambda L: L._standard_gamma(L.ones(2, dtype=L.int64)),
    "precision half": lambda L: (
        L.distributions.MultivariateNormal(
            L.zeros(2, dtype=L.float16), scale_tril=L.eye(2, dtype=L.float16)
        ).precision_matrix
    ),
    "wishart precision half": lambda L: (
        L.distributions.Wishart(L.tensor(3.0, dtype=L.float16), scale_tril=L.eye(2, dtype=L.float16)).precision_matrix
    ),
    "normal half": lambda L: (
        lambda d: (
            d.log_prob(L.ones(2, dtype=L.float16)),
            d.entropy(),
            d.cdf(L.zeros(2, dtype=L.float16)),
            _seeded(L, d.sample),
        )
    )(L.distributions.Normal(L.zeros(2, dtype=L.float16), 1.0)),
    # Independent
    "independent too many dims": lambda L: L.distributions.Independent(L.distributions.Normal(L.zeros(2), 1.0), 2),
    "independent zero dims": lambda L: (lambda d: (repr(d), d.batch_shape, d.event_shape, d.log_prob(L.ones(2))))(
        L.distributions.Independent(L.distributions.Normal(L.zeros(2), 1.0), 0)
    ),
    "independent discrete": lambda L: (lambda d: (d.has_enumerate_support, repr(d.support), d.entropy()))(
        L.distributions.Independent(L.distributions.Bernoulli(L.ones(2, 3) / 3), 1)
    ),
    "independent enumerate": lambda L: L.distributions.Independent(
        L.distributions.Bernoulli(L.ones(2, 3) / 3), 1
    ).enumerate_support(),
    "independent enumerate batch": lambda L: L.distributions.Independent(
        L.distributions.Bernoulli(L.ones(2, 3) / 3), 0
    ).enumerate_support(expand=False),
    "independent of independent": lambda L: (lambda d: (repr(d), d.event_shape, d.log_prob(L.zeros(2, 3))))(
        L.distributions.Independent(L.distributions.Independent(L.distributions.Normal(L.zeros(2, 3), 1.0), 1), 1)
    ),
    "independent validation": lambda L: L.distributions.Independent(
        L.distributions.Normal(L.zeros(2, 3), 1.0), 1, validate_args=True
    ).log_prob(L.zeros(4)),
    # MixtureSameFamily
    "mixture multivariate": lambda L: (
        lambda d: (
            repr(d),
            d.batch_shape,
            d.event_shape,
            d.mean,
            d.variance,
            d.log_prob(L.ones(4, 2, 2, dtype=L.float64)),
            _seeded(L, lambda: d.sample((3,))),
        )
    )(_mixture(L, _mvn_components(L))),
    "mixture cdf": lambda L: _mixture(L, _normal_components(L)).cdf(_f(L, [0.1, -0.3], [2.0, 0.0])),
    "mixture normal moments": lambda L: (lambda d: (d.mean, d.variance, d.stddev))(_mixture(L, _normal_components(L))),
    "mixture cdf multivariate": lambda L: _mixture(L, _mvn_components(L)).cdf(L.zeros(2, 2, dtype=L.float64)),
    "mixture not categorical": lambda L: L.distributions.MixtureSameFamily(
        L.distributions.Bernoulli(L.ones(3) / 2), _normal_components(L)
    ),
    "mixture not a distribution": lambda L: L.distributions.MixtureSameFamily(
        L.distributions.Categorical(L.ones(3) / 3), 3.0
    ),
    "mixture batch mismatch": lambda L: L.distributions.MixtureSameFamily(
        L.distributions.Categorical(L.ones(4, 3) / 3), _normal_components(L)
    ),
    "mixture component count": lambda L: L.distributions.MixtureSameFamily(
        L.distributions.Categorical(L.ones(2, 4) / 4), _normal_components(L)
    ),
    "mixture expand": lambda L: (lambda d: (repr(d), d.batch_shape, d.log_prob(L.zeros(5, 2, dtype=L.float64))))(
        _mixture(L, _normal_components(L)).expand((5, 2))
    ),
    "mixture support": lambda L: repr(_mixture(L, _normal_components(L)).support),
    "mixture validation": lambda L: L.distributions.MixtureSameFamily(
        L.distributions.Categorical(L.ones(3) / 3), L.distributions.Exponential(L.ones(3)), validate_args=True
    ).log_prob(_f(L, -1.0)),
    # TransformedDistribution
    "transformed decreasing cdf": lambda L: (lambda d: (d.cdf(_f(L, 0.5, 1.0)), d.icdf(_f(L, 0.2, 0.7))))(
        L.distributions.TransformedDistribution(
            L.distributions.Normal(_f(L, 0.0, 1.0), 1.0), [L.distributions.transforms.AffineTransform(1.0, -2.0)]
        )
    ),
    "transformed stick breaking": lambda L: (
        lambda d: (
            repr(d),
            d.batch_shape,
            d.event_shape,
            d.log_prob(L.ones(2, 3, dtype=L.float64) / 3),
            _seeded(L, lambda: d.rsample((2,))),
        )
    )(
        L.distributions.TransformedDistribution(
            L.distributions.Normal(L.zeros(2, 2, dtype=L.float64), 1.0),
            L.distributions.transforms.StickBreakingTransform(),
        )
    ),
    "transformed single transform": lambda L: repr(
        L.distributions.TransformedDistribution(
            L.distributions.Normal(0.0, 1.0), L.distributions.transforms.ExpTransform()
        )
    ),
    "transformed bad transforms": lambda L: L.distributions.TransformedDistribution(
        L.distributions.Normal(0.0, 1.0), [3]
    ),
    "transformed bad base event": lambda L: L.distributions.TransformedDistribution(
        L.distributions.Normal(L.zeros(3), 1.0), [L.distributions.transforms.ReshapeTransform((2,), (2, 1))]
    ),
    "transformed reshape": lambda L: (lambda d: (d.batch_shape, d.event_shape, d.log_prob(L.zeros(3, 2))))(
        L.distributions.TransformedDistribution(
            L.distributions.Normal(L.zeros(3, 6), 1.0), [L.distributions.transforms.ReshapeTransform((6,), (3, 2))]
        )
    ),
    "transformed icdf non-monotone": lambda L: L.distributions.TransformedDistribution(
        L.distributions.Normal(0.0, 1.0), [L.distributions.transforms.AbsTransform()]
    ).cdf(L.tensor(0.5)),
    "transformed sample_shape": lambda L: _seeded(L, lambda: L.distributions.LogNormal(0.0, 1.0).sample((2, 3))),
    "transformed expand": lambda L: (lambda d: (repr(d), d.batch_shape, d.base_dist.batch_shape))(
        L.distributions.LogNormal(L.zeros(3), 1.0).expand((2, 3))
    ),
}


@pytest.mark.parametrize("name", CALLS)
def test_call(name):
    assert compare(CALLS[name]) is None
