"""Seeded draws through every sampler's branches (small and large Poisson rates, binomial counts, gamma shapes below
one, von Mises concentrations, ...) compared value for value with PyTorch 2.13's, and values at the edges of
supports and parameter ranges (boundaries, zero probabilities, infinite moments, icdf at 0 and 1)."""

import numpy
import pytest

from tests.distributions.sweep import compare

INF = float("inf")


def f(L, *values, dtype="float64"):
    return L.tensor(numpy.array(values, dtype=dtype))


DRAWS = {
    "poisson": lambda L: L.distributions.Poisson(f(L, 0.01, 0.5, 9.9, 10.0, 15.0, 300.0, 1e5)),
    "poisson32": lambda L: L.distributions.Poisson(f(L, 0.5, 15.0, 300.0, dtype="float32")),
    "binomial": lambda L: L.distributions.Binomial(
        f(L, 5.0, 100.0, 1000.0, 20.0, 0.0, 1e6), f(L, 0.3, 0.5, 0.9, 0.02, 0.5, 0.999)
    ),
    "binomial_logits": lambda L: L.distributions.Binomial(50, logits=f(L, -3.0, 0.0, 4.0)),
    "gamma": lambda L: L.distributions.Gamma(f(L, 0.01, 0.1, 0.5, 1.0, 5.0, 1000.0), 1.0),
    "gamma32": lambda L: L.distributions.Gamma(f(L, 0.01, 0.5, 5.0, dtype="float32"), f(L, 2.0, dtype="float32")),
    "beta": lambda L: L.distributions.Beta(f(L, 0.05, 0.5, 3.0, 100.0), f(L, 0.05, 2.0, 0.3, 100.0)),
    "dirichlet": lambda L: L.distributions.Dirichlet(f(L, [0.01, 0.1, 1.0], [5.0, 50.0, 0.5])),
    "negbinomial": lambda L: L.distributions.NegativeBinomial(f(L, 0.5, 5.0, 100.0), f(L, 0.1, 0.5, 0.9)),
    "vonmises": lambda L: L.distributions.VonMises(f(L, 0.0, 1.0, -2.0, 3.0), f(L, 1e-6, 0.5, 10.0, 1e4)),
    "vonmises32": lambda L: L.distributions.VonMises(
        f(L, 0.0, 1.0, dtype="float32"), f(L, 0.5, 100.0, dtype="float32")
    ),
    "geometric": lambda L: L.distributions.Geometric(f(L, 1e-4, 0.3, 0.999)),
    "studentT": lambda L: L.distributions.StudentT(f(L, 0.5, 2.0, 50.0)),
    "chi2": lambda L: L.distributions.Chi2(f(L, 0.1, 1.0, 30.0)),
    "multinomial": lambda L: L.distributions.Multinomial(40, f(L, [0.1, 0.2, 0.7], [0.5, 0.5, 0.0])),
    "categorical": lambda L: L.distributions.Categorical(logits=f(L, [0.1, 0.2, 0.7, -5.0], [5.0, 0.5, 0.5, 0.0])),
    "onehot": lambda L: L.distributions.OneHotCategorical(f(L, [0.1, 0.2, 0.7], [0.5, 0.5, 0.0])),
    "bernoulli": lambda L: L.distributions.Bernoulli(f(L, 0.0, 0.3, 1.0)),
    "lkj": lambda L: L.distributions.LKJCholesky(4, f(L, 0.5, 1.0, 10.0)),
    "wishart": lambda L: L.distributions.Wishart(f(L, 3.0, 10.0), covariance_matrix=L.eye(3, dtype=L.float64)),
    "kumaraswamy": lambda L: L.distributions.Kumaraswamy(f(L, 0.5, 5.0), f(L, 0.2, 3.0)),
    "relaxed": lambda L: L.distributions.RelaxedOneHotCategorical(f(L, 0.1), logits=f(L, 0.0, 1.0, -1.0)),
    "contbern": lambda L: L.distributions.ContinuousBernoulli(f(L, 0.01, 0.499, 0.5, 0.501, 0.99)),
    "lowrank": lambda L: L.distributions.LowRankMultivariateNormal(
        f(L, 0.0, 1.0, 2.0), f(L, [1.0], [0.5], [2.0]), f(L, 1.0, 2.0, 0.5)
    ),
    "mixture": lambda L: L.distributions.MixtureSameFamily(
        L.distributions.Categorical(f(L, 0.2, 0.8)), L.distributions.Gamma(f(L, 0.5, 4.0), 1.0)
    ),
}


@pytest.mark.parametrize("method", ["sample", "rsample"])
@pytest.mark.parametrize("name", DRAWS)
def test_seeded_draws(name, method):
    def draws(L):
        L.manual_seed(21)
        return getattr(DRAWS[name](L), method)((300,))

    assert compare(draws) is None


EDGES = {
    "beta edges": lambda L: L.distributions.Beta(
        f(L, 1.0, 0.5, 2.0), f(L, 1.0, 0.5, 2.0), validate_args=False
    ).log_prob(f(L, [0.0], [1.0])),
    "exponential zero": lambda L: L.distributions.Exponential(f(L, 1.0, 2.0)).log_prob(f(L, 0.0, 0.0)),
    "uniform bounds": lambda L: (
        lambda d: (d.log_prob(f(L, 0.0, 1.0)), d.cdf(f(L, 0.0, 1.0)), d.icdf(f(L, 0.0, 1.0)), d.entropy())
    )(L.distributions.Uniform(0.0, f(L, 1.0, 1.0), validate_args=False)),
    "pareto scale": lambda L: (lambda d: (d.log_prob(f(L, 1.0, 2.0)), d.cdf(f(L, 1.0, 2.0)), d.mean, d.variance))(
        L.distributions.Pareto(f(L, 1.0, 2.0), f(L, 0.5, 3.0))
    ),
    "binomial extremes": lambda L: (
        lambda d: (d.log_prob(f(L, [0.0, 0.0, 5.0], [5.0, 5.0, 0.0])), d.entropy(), d.mean, d.variance, d.mode)
    )(L.distributions.Binomial(5, f(L, 0.0, 1.0, 0.5))),
    "binomial logits extremes": lambda L: L.distributions.Binomial(5, logits=f(L, -100.0, 100.0, 0.0)).log_prob(
        f(L, [0.0, 5.0, 2.0])
    ),
    "bernoulli extremes": lambda L: (
        lambda d: (d.log_prob(f(L, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])), d.entropy(), d.mode)
    )(L.distributions.Bernoulli(f(L, 0.0, 1.0, 0.5))),
    "categorical zeros": lambda L: (lambda d: (d.log_prob(L.tensor([0, 1, 2])), d.entropy(), d.mode))(
        L.distributions.Categorical(f(L, 0.5, 0.5, 0.0))
    ),
    "geometric one": lambda L: (lambda d: (d.log_prob(f(L, 0.0, 1.0)), d.entropy(), d.mean, d.variance))(
        L.distributions.Geometric(f(L, 1.0, 0.5))
    ),
    "poisson zero rate": lambda L: (lambda d: (d.log_prob(f(L, 0.0, 1.0)), d.mode))(
        L.distributions.Poisson(f(L, 0.0, 0.0), validate_args=False)
    ),
    "gamma zero": lambda L: L.distributions.Gamma(f(L, 1.0, 0.5, 2.0), 1.0).log_prob(f(L, 0.0, 0.0, 0.0)),
    "gamma cdf": lambda L: L.distributions.Gamma(f(L, 1.0, 0.5, 2.0), 1.0).cdf(f(L, 0.0, 1.0, 100.0)),
    "dirichlet vertex": lambda L: L.distributions.Dirichlet(f(L, 1.0, 2.0, 0.5), validate_args=False).log_prob(
        f(L, 1.0, 0.0, 0.0)
    ),
    "normal icdf ends": lambda L: L.distributions.Normal(0.0, f(L, 1.0, 1.0, 1.0)).icdf(f(L, 0.0, 1.0, 0.5)),
    "normal cdf tails": lambda L: L.distributions.Normal(0.0, 1.0).cdf(f(L, -40.0, 40.0, -8.0)),
    "laplace icdf ends": lambda L: L.distributions.Laplace(0.0, f(L, 1.0, 1.0)).icdf(f(L, 0.0, 1.0)),
    "cauchy icdf ends": lambda L: L.distributions.Cauchy(0.0, f(L, 1.0, 1.0)).icdf(f(L, 0.0, 1.0)),
    "exponential icdf": lambda L: L.distributions.Exponential(f(L, 1.0, 1.0)).icdf(f(L, 0.0, 1.0)),
    "gumbel cdf": lambda L: L.distributions.Gumbel(0.0, 1.0).cdf(f(L, -50.0, 50.0, 0.0)),
    "studentT moments": lambda L: (lambda d: (d.mean, d.variance, d.entropy()))(
        L.distributions.StudentT(f(L, 0.5, 1.5, 3.0))
    ),
    "cauchy moments": lambda L: (lambda d: (d.mean, d.variance, d.mode))(L.distributions.Cauchy(f(L, 0.0), 1.0)),
    "halfcauchy": lambda L: (
        lambda d: (d.mean, d.variance, d.log_prob(f(L, 0.0)), d.cdf(f(L, 0.0)), d.icdf(f(L, 0.0, 0.5)))
    )(L.distributions.HalfCauchy(f(L, 1.0))),
    "halfnormal": lambda L: (lambda d: (d.log_prob(f(L, 0.0, -1.0)), d.cdf(f(L, 0.0, -1.0))))(
        L.distributions.HalfNormal(f(L, 1.0), validate_args=False)
    ),
    "lognormal zero": lambda L: (lambda d: (d.log_prob(f(L, 0.0)), d.cdf(f(L, 0.0))))(
        L.distributions.LogNormal(f(L, 0.0), 1.0, validate_args=False)
    ),
    "weibull": lambda L: (lambda d: (d.log_prob(f(L, 0.0, 0.0)), d.cdf(f(L, 0.0, 1.0)), d.entropy(), d.mode))(
        L.distributions.Weibull(1.0, f(L, 0.5, 2.0), validate_args=False)
    ),
    "fisher moments": lambda L: (lambda d: (d.mean, d.variance, d.mode))(
        L.distributions.FisherSnedecor(f(L, 1.0, 3.0, 10.0), f(L, 1.0, 3.0, 5.0))
    ),
    "inverse gamma moments": lambda L: (lambda d: (d.mean, d.variance, d.mode, d.entropy()))(
        L.distributions.InverseGamma(f(L, 0.5, 1.5, 3.0), 1.0)
    ),
    "kumaraswamy moments": lambda L: (lambda d: (d.mean, d.variance, d.mode, d.entropy()))(
        L.distributions.Kumaraswamy(f(L, 0.5, 1.0, 3.0), f(L, 0.5, 1.0, 2.0))
    ),
    "gpd": lambda L: (
        lambda d: (d.mean, d.variance, d.mode, d.entropy(), d.support.check(f(L, 0.5, 3.0, 30.0, dtype="float32")))
    )(L.distributions.GeneralizedPareto(0.0, 1.0, f(L, 0.5, -0.5, 1.5, dtype="float32"))),
    "gpd icdf": lambda L: L.distributions.GeneralizedPareto(0.0, 1.0, f(L, 0.5, -0.5, 0.0, dtype="float32")).icdf(
        f(L, 0.0, 0.5, 1.0, dtype="float32")
    ),
    "negbin moments": lambda L: (lambda d: (d.mean, d.variance, d.mode, d.log_prob(f(L, 0.0, 3.0, 7.0))))(
        L.distributions.NegativeBinomial(f(L, 0.5, 1.0, 5.0), f(L, 0.2, 0.5, 0.0))
    ),
    "beta moments": lambda L: (lambda d: (d.mode, d.entropy()))(
        L.distributions.Beta(f(L, 0.5, 2.0, 1.0, 1.0), f(L, 2.0, 0.5, 1.0, 3.0))
    ),
    "dirichlet mode": lambda L: L.distributions.Dirichlet(f(L, [0.5, 2.0, 3.0], [2.0, 2.0, 0.5], [1.0, 1.0, 1.0])).mode,
    "gamma mode": lambda L: L.distributions.Gamma(f(L, 0.5, 1.0, 3.0), 2.0).mode,
    "chi2 mode": lambda L: L.distributions.Chi2(f(L, 0.5, 2.0, 3.0)).mode,
    "multinomial entropy": lambda L: L.distributions.Multinomial(4, f(L, [0.2, 0.3, 0.5], [0.0, 0.5, 0.5])).entropy(),
    "multinomial mode": lambda L: L.distributions.Multinomial(7, f(L, [0.2, 0.3, 0.5], [0.0, 0.5, 0.5])).mode,
    "mvn entropy": lambda L: L.distributions.MultivariateNormal(
        L.zeros(2, 3, dtype=L.float64), L.eye(3, dtype=L.float64) * 2
    ).entropy(),
    "lkj logprob": lambda L: L.distributions.LKJCholesky(3, f(L, 0.5, 1.0, 4.0)).log_prob(L.eye(3, dtype=L.float64)),
    "lkj dim": lambda L: L.distributions.LKJCholesky(1, 1.0),
    "wishart df": lambda L: L.distributions.Wishart(f(L, 1.0), covariance_matrix=L.eye(3)),
    "wishart moments": lambda L: (lambda d: (d.mean, d.mode, d.variance, d.entropy()))(
        L.distributions.Wishart(f(L, 2.5, 4.0, 6.0), covariance_matrix=L.eye(3, dtype=L.float64) * 2)
    ),
    # the circular variance is left out: ember's exact Bessel functions against PyTorch's polynomial fits
    "vonmises moments": lambda L: (lambda d: (d.mean, d.mode))(
        L.distributions.VonMises(f(L, 0.5, 4.0), f(L, 0.5, 50.0))
    ),
    "relaxed bernoulli logprob": lambda L: L.distributions.RelaxedBernoulli(f(L, 0.5), logits=f(L, 0.0, 2.0)).log_prob(
        f(L, 0.3, 0.999)
    ),
    "logistic normal mean": lambda L: L.distributions.LogisticNormal(f(L, 0.0, 1.0), f(L, 1.0, 2.0)).mean,
    "continuous bernoulli": lambda L: (
        lambda d: (
            d.mean,
            d.variance,
            d.entropy(),
            d.cdf(f(L, 0.3, 0.3, 0.3, 0.3, 0.3)),
            d.icdf(f(L, 0.3, 0.3, 0.3, 0.3, 0.3)),
            d.log_prob(f(L, 0.3, 0.3, 0.3, 0.3, 0.3)),
        )
    )(L.distributions.ContinuousBernoulli(f(L, 0.01, 0.499, 0.5, 0.501, 0.99))),
}


@pytest.mark.parametrize("name", EDGES)
def test_edge_values(name):
    assert compare(EDGES[name]) is None


# discrete distributions with infinite logits, unnormalized probabilities, zero counts and extreme temperatures
DISCRETE = {
    "categorical -inf logits": lambda L: (
        lambda d: (d.probs, d.logits, d.entropy(), d.log_prob(L.tensor([0, 2])), d.mode)
    )(L.distributions.Categorical(logits=f(L, [0.0, -INF, 1.0], [-INF, -INF, 0.0]))),
    "categorical unnormalized": lambda L: (lambda d: (d.probs, d.logits, d.entropy()))(
        L.distributions.Categorical(probs=f(L, [1.0, 3.0, 0.0], [2.0, 2.0, 4.0]))
    ),
    "categorical unnormalized logits": lambda L: (lambda d: (d.probs, d.logits))(
        L.distributions.Categorical(logits=f(L, 100.0, 101.0, 99.0))
    ),
    "categorical float32 -inf": lambda L: L.distributions.Categorical(
        logits=f(L, 0.0, -INF, 1.0, dtype="float32")
    ).entropy(),
    "onehot -inf": lambda L: (lambda d: (d.entropy(), d.log_prob(f(L, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]))))(
        L.distributions.OneHotCategorical(logits=f(L, 0.0, -INF, 1.0))
    ),
    "multinomial zero count": lambda L: (lambda d: (d.mean, d.variance, d.log_prob(f(L, 0.0, 0.0, 0.0))))(
        L.distributions.Multinomial(0, f(L, 0.2, 0.3, 0.5))
    ),
    "multinomial -inf logits": lambda L: L.distributions.Multinomial(3, logits=f(L, 0.0, -INF, 1.0)).log_prob(
        f(L, 1.0, 0.0, 2.0)
    ),
    "bernoulli logits inf": lambda L: (lambda d: (d.probs, d.entropy(), d.log_prob(f(L, 1.0, 0.0))))(
        L.distributions.Bernoulli(logits=f(L, INF, -INF))
    ),
    "binomial total zero": lambda L: (
        lambda d: (d.log_prob(f(L, 0.0, 0.0)), d.entropy(), d.mean, d.enumerate_support())
    )(L.distributions.Binomial(0, f(L, 0.3, 0.7))),
    "geometric logits": lambda L: (lambda d: (d.probs, d.log_prob(f(L, 0.0, 3.0)), d.entropy()))(
        L.distributions.Geometric(logits=f(L, 40.0, -40.0))
    ),
    "negbin logits": lambda L: (lambda d: (d.probs, d.log_prob(f(L, 0.0, 3.0)), d.mean, d.variance))(
        L.distributions.NegativeBinomial(2.0, logits=f(L, 40.0, -40.0))
    ),
    "relaxed bernoulli extreme": lambda L: (
        L.manual_seed(0),
        L.distributions.RelaxedBernoulli(f(L, 0.01), logits=f(L, 0.0, 50.0)).rsample((4,)),
    )[1],
    "relaxed onehot extreme": lambda L: (
        L.manual_seed(0),
        L.distributions.RelaxedOneHotCategorical(f(L, 0.01), logits=f(L, 0.0, 50.0, -50.0)).rsample((3,)),
    )[1],
    "categorical sample huge": lambda L: (
        L.manual_seed(0),
        L.distributions.Categorical(logits=L.zeros(3, 1000, dtype=L.float64)).sample((5,)),
    )[1],
    "categorical sample 0d": lambda L: (L.manual_seed(0), L.distributions.Categorical(f(L, 0.2, 0.8)).sample())[1],
    "multinomial sample large": lambda L: (
        L.manual_seed(0),
        L.distributions.Multinomial(1000, f(L, [0.2, 0.3, 0.5], [0.9, 0.1, 0.0])).sample((2,)),
    )[1],
}


@pytest.mark.parametrize("name", DISCRETE)
def test_discrete_edges(name):
    assert compare(DISCRETE[name]) is None
