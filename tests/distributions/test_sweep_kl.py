"""kl_divergence against PyTorch 2.13 for every pair its registry holds (values and the gradients of both sides'
parameters, in float64 and float32), the exponential-family fallback, and the NotImplementedError of pairs it
lacks."""
import pytest
import torch

from tests.distributions.cases import in_float32, make_cases
from tests.distributions.probes import build
from tests.distributions.sweep import compare, gradients, leaves

P, Q = make_cases(0), make_cases(1)
TABLES = {"float64": (P, Q), "float32": (in_float32(P), in_float32(Q))}

# the sweep's case for each class (batch shapes broadcast pairwise)
CASE_OF = {
    "Bernoulli": "Bernoulli_probs", "Beta": "Beta", "Binomial": "Binomial", "Categorical": "Categorical_logits",
    "ContinuousBernoulli": "ContinuousBernoulli_probs", "Dirichlet": "Dirichlet", "Exponential": "Exponential",
    "Gamma": "Gamma", "Gumbel": "Gumbel", "Geometric": "Geometric_probs", "HalfNormal": "HalfNormal",
    "Laplace": "Laplace", "LowRankMultivariateNormal": "LowRankMultivariateNormal",
    "MultivariateNormal": "MultivariateNormal_cov", "Normal": "Normal", "OneHotCategorical": "OneHotCategorical",
    "Pareto": "Pareto", "Poisson": "Poisson", "TransformedDistribution": "TransformedDistribution",
    "Uniform": "Uniform", "Independent": "Independent", "Cauchy": "Cauchy",
}
REGISTERED = sorted({(p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY} -
                    {("ExponentialFamily", "ExponentialFamily")})
PAIRS = [(CASE_OF[p], CASE_OF[q]) for p, q in REGISTERED] + [
    ("MultivariateNormal_tril", "MultivariateNormal_precision"), ("Categorical_probs", "Categorical_logits"),
    ("Binomial", "Binomial_logits"), ("Chi2", "Gamma"), ("Chi2", "Chi2"),
    # the exponential-family fallback (Bregman divergence of the log-normalizer), and what it refuses
    ("Wishart_cov", "Wishart_cov"), ("Wishart_tril", "Wishart_precision"),
    ("NegativeBinomial_probs", "NegativeBinomial_probs"),
    # pairs with no rule: NotImplementedError
    ("Cauchy", "Normal"), ("Normal", "Cauchy"), ("VonMises", "VonMises"), ("Weibull", "Weibull"),
    ("StudentT", "StudentT"), ("Geometric_logits", "Poisson"), ("Normal_scalars", "Normal"),
    ("Normal_float32", "Normal_float32"), ("Exponential", "Exponential"), ("Uniform", "Normal_broadcast"),
    ("Poisson", "Gamma"), ("Bernoulli_logits", "Beta"), ("Dirichlet", "Beta"),
]


def _lowrank(D, L, n):
    return D.LowRankMultivariateNormal(L.zeros(n), L.ones(n, 1), L.ones(n))


def _affine(D, L, scale):
    return D.TransformedDistribution(D.Normal(L.zeros(2), L.ones(2)), [D.transforms.AffineTransform(0.0, scale)])


# pairs whose rule refuses them, or gives infinity where q's support is smaller
SPECIAL = {
    "low-rank event shapes": lambda D, L: D.kl_divergence(_lowrank(D, L, 3), _lowrank(D, L, 2)),
    "normal, low-rank event shapes": lambda D, L: D.kl_divergence(D.MultivariateNormal(L.zeros(2), L.eye(2)),
                                                                  _lowrank(D, L, 3)),
    "low-rank, normal event shapes": lambda D, L: D.kl_divergence(_lowrank(D, L, 3),
                                                                  D.MultivariateNormal(L.zeros(2), L.eye(2))),
    "normal event shapes": lambda D, L: D.kl_divergence(D.MultivariateNormal(L.zeros(3), L.eye(3)),
                                                        D.MultivariateNormal(L.zeros(2), L.eye(2))),
    "binomial counts": lambda D, L: D.kl_divergence(D.Binomial(3, L.tensor([0.3, 0.5])),
                                                    D.Binomial(L.tensor([5.0, 2.0]), L.tensor([0.3, 0.4]))),
    "binomial fewer counts": lambda D, L: D.kl_divergence(D.Binomial(L.tensor([5.0, 2.0]), L.tensor([0.3, 0.5])),
                                                          D.Binomial(2, L.tensor([0.3, 0.4]))),
    "independent dims": lambda D, L: D.kl_divergence(D.Independent(D.Normal(L.zeros(2, 3), 1.0), 1),
                                                     D.Independent(D.Normal(L.zeros(2, 3), 1.0), 2)),
    "transforms differ": lambda D, L: D.kl_divergence(_affine(D, L, 2.0), _affine(D, L, 3.0)),
    "transforms equal": lambda D, L: D.kl_divergence(_affine(D, L, 2.0), _affine(D, L, 2.0)),
    "uniform outside": lambda D, L: D.kl_divergence(D.Uniform(L.tensor([0.0, 2.0]), 3.0), D.Uniform(1.0, 4.0)),
    "pareto below": lambda D, L: D.kl_divergence(D.Pareto(L.tensor([1.0, 3.0]), 2.0), D.Pareto(2.0, 2.0)),
    "pareto heavy tail": lambda D, L: D.kl_divergence(D.Pareto(1.0, L.tensor([0.5, 1.5, 3.0])),
                                                      D.Normal(0.0, 1.0)),
    "uniform into beta": lambda D, L: D.kl_divergence(D.Uniform(L.tensor([-0.5, 0.2]), 0.8), D.Beta(2.0, 3.0)),
    "uniform at zero": lambda D, L: D.kl_divergence(D.Uniform(L.tensor([0.0, 0.5]), 1.0), D.Gamma(2.0, 3.0)),
    "categorical zeros": lambda D, L: D.kl_divergence(D.Categorical(L.tensor([0.5, 0.5, 0.0])),
                                                      D.Categorical(L.tensor([0.5, 0.0, 0.5]))),
    "bernoulli edges": lambda D, L: D.kl_divergence(D.Bernoulli(L.tensor([0.0, 1.0, 0.5])),
                                                    D.Bernoulli(L.tensor([1.0, 0.0, 0.0]))),
}


@pytest.mark.parametrize("name", SPECIAL)
def test_kl_special_pairs(name):
    assert compare(lambda lib: SPECIAL[name](lib.distributions, lib)) is None


def test_every_registered_pair_is_swept():
    assert len(REGISTERED) == 86


def _kl(lib, p_name, q_name, grad, dtype="float64"):
    p_cases, q_cases = TABLES[dtype]
    p, p_params = build(lib, p_cases[p_name], grad=grad)
    q, q_params = build(lib, q_cases[q_name], grad=grad)
    value = lib.distributions.kl_divergence(p, q)
    return gradients(lib, value, leaves([p_params, q_params])) if grad else value


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("grad", [False, True], ids=["value", "grad"])
@pytest.mark.parametrize("pair", PAIRS, ids="-".join)
def test_kl_divergence(pair, grad, dtype):
    assert compare(lambda lib: _kl(lib, *pair, grad, dtype)) is None
