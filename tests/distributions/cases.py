"""Every torch.distributions class of PyTorch 2.13 as sweep cases: a constructor (``D`` is the library's
``distributions``, ``L`` the library), its parameter arrays, values inside and outside the support."""
import numpy

rng = numpy.random.default_rng(0)   # make_cases draws from its own


def positive(*shape, low=0.5, high=3.0):
    return rng.uniform(low, high, shape)


def real(*shape):
    return rng.standard_normal(shape)


def unit(*shape):
    return rng.uniform(0.1, 0.9, shape)


def simplex(*shape):
    w = rng.uniform(0.1, 1.0, shape)
    return w / w.sum(-1, keepdims=True)


def spd(n, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ numpy.swapaxes(a, -1, -2) + n * numpy.eye(n)


def counts(high, *shape):
    return rng.integers(0, high, shape).astype(float)


def case(ctor, params, inside, outside=None):
    return {"ctor": ctor, "params": params, "inside": inside, "outside": outside}


def _corr_cholesky(n):
    c = spd(n)
    d = numpy.sqrt(numpy.diag(c))
    return numpy.linalg.cholesky(c / numpy.outer(d, d))


HALF = numpy.array([-1.0, 0.5, 2.0])


def make_cases(seed):
    """The cases, their arrays drawn from ``seed``."""
    global rng
    rng = numpy.random.default_rng(seed)
    return {
        "Bernoulli_probs": case(lambda D, L, p: D.Bernoulli(probs=p["p"]), {"p": unit(3)}, counts(2, 4, 3),
                                numpy.array([0.5, 2.0, -1.0])),
        "Bernoulli_logits": case(lambda D, L, p: D.Bernoulli(logits=p["l"]), {"l": real(3)}, counts(2, 4, 3), HALF),
        "Beta": case(lambda D, L, p: D.Beta(p["a"], p["b"]), {"a": positive(3), "b": positive(3)}, unit(4, 3),
                     numpy.array([0.0, 1.5, -0.5])),
        "Binomial": case(lambda D, L, p: D.Binomial(p["n"], probs=p["p"]),
                         {"n": numpy.array([5.0, 7.0, 3.0]), "p": unit(3)}, counts(4, 4, 3), numpy.array([1.5, 8, -1])),
        "Binomial_logits": case(lambda D, L, p: D.Binomial(6, logits=p["l"]), {"l": real(2, 1)}, counts(7, 4, 2, 3),
                                numpy.array([7.0, 0.5, 2.0])),
        "Categorical_probs": case(lambda D, L, p: D.Categorical(probs=p["p"]), {"p": simplex(2, 5)},
                                  rng.integers(0, 5, (3, 2)), numpy.array([5, -1])),
        "Categorical_logits": case(lambda D, L, p: D.Categorical(logits=p["l"]), {"l": real(2, 5)},
                                   rng.integers(0, 5, (3, 2)), numpy.array([1.5, 2.0])),
        "Cauchy": case(lambda D, L, p: D.Cauchy(p["m"], p["s"]), {"m": real(3), "s": positive(3)}, real(4, 3)),
        "Chi2": case(lambda D, L, p: D.Chi2(p["df"]), {"df": positive(3, low=1.5)}, positive(4, 3), HALF),
        "ContinuousBernoulli_probs": case(lambda D, L, p: D.ContinuousBernoulli(probs=p["p"]),
                                          {"p": numpy.array([0.2, 0.5, 0.8])}, unit(4, 3),
                                          numpy.array([1.5, -0.1, 0.3])),
        "ContinuousBernoulli_logits": case(lambda D, L, p: D.ContinuousBernoulli(logits=p["l"]), {"l": real(3)},
                                           unit(4, 3), numpy.array([1.5, -0.1, 0.3])),
        "Dirichlet": case(lambda D, L, p: D.Dirichlet(p["c"]), {"c": positive(2, 4)}, simplex(3, 2, 4),
                          numpy.array([0.5, 0.5, 0.5, 0.5])),
        "Exponential": case(lambda D, L, p: D.Exponential(p["r"]), {"r": positive(3)}, positive(4, 3), HALF),
        "FisherSnedecor": case(lambda D, L, p: D.FisherSnedecor(p["a"], p["b"]),
                               {"a": positive(3, low=2), "b": positive(3, low=5, high=9)}, positive(4, 3), HALF),
        "Gamma": case(lambda D, L, p: D.Gamma(p["c"], p["r"]), {"c": positive(3), "r": positive(3)}, positive(4, 3),
                      HALF),
        # float32: PyTorch 2.13's log_prob and cdf compare the concentration with a float32 zero, refusing float64
        "GeneralizedPareto": case(lambda D, L, p: D.GeneralizedPareto(p["m"], p["s"], p["c"]),
                                  {"m": real(3).astype(numpy.float32), "s": positive(3).astype(numpy.float32),
                                   "c": numpy.array([0.3, -0.2, 0.0], dtype=numpy.float32)},
                                  (positive(4, 3, low=0.1, high=0.5) + 1.5).astype(numpy.float32),
                                  numpy.array([-5.0, -5.0, -5.0], dtype=numpy.float32)),
        "Geometric_probs": case(lambda D, L, p: D.Geometric(probs=p["p"]), {"p": unit(3)}, counts(6, 4, 3), HALF),
        "Geometric_logits": case(lambda D, L, p: D.Geometric(logits=p["l"]), {"l": real(3)}, counts(6, 4, 3), HALF),
        "Gumbel": case(lambda D, L, p: D.Gumbel(p["m"], p["s"]), {"m": real(3), "s": positive(3)}, real(4, 3)),
        "HalfCauchy": case(lambda D, L, p: D.HalfCauchy(p["s"]), {"s": positive(3)}, positive(4, 3), HALF),
        "HalfNormal": case(lambda D, L, p: D.HalfNormal(p["s"]), {"s": positive(3)}, positive(4, 3), HALF),
        "Independent": case(lambda D, L, p: D.Independent(D.Normal(p["m"], p["s"]), 1),
                            {"m": real(2, 3), "s": positive(2, 3)}, real(4, 2, 3)),
        "InverseGamma": case(lambda D, L, p: D.InverseGamma(p["c"], p["r"]),
                             {"c": positive(3, low=2.5), "r": positive(3)},
                             positive(4, 3), HALF),
        "Kumaraswamy": case(lambda D, L, p: D.Kumaraswamy(p["a"], p["b"]), {"a": positive(3), "b": positive(3)},
                            unit(4, 3), numpy.array([1.5, -0.5, 0.5])),
        "LKJCholesky": case(lambda D, L, p: D.LKJCholesky(3, p["c"]), {"c": positive(2)},
                            numpy.stack([_corr_cholesky(3) for _ in range(2)]), numpy.eye(3) * 2),
        "Laplace": case(lambda D, L, p: D.Laplace(p["m"], p["s"]), {"m": real(3), "s": positive(3)}, real(4, 3)),
        "LogNormal": case(lambda D, L, p: D.LogNormal(p["m"], p["s"]), {"m": real(3), "s": positive(3)}, positive(4, 3),
                          HALF),
        "LogisticNormal": case(lambda D, L, p: D.LogisticNormal(p["m"], p["s"]), {"m": real(2, 3), "s": positive(2, 3)},
                               simplex(4, 2, 4), numpy.array([0.5, 0.5, 0.5, 0.5])),
        "LowRankMultivariateNormal": case(lambda D, L, p: D.LowRankMultivariateNormal(p["m"], p["w"], p["d"]),
                                          {"m": real(2, 3), "w": real(3, 2), "d": positive(3)}, real(4, 2, 3)),
        "MixtureSameFamily": case(lambda D, L, p: D.MixtureSameFamily(D.Categorical(logits=p["l"]),
                                                                      D.Normal(p["m"], p["s"])),
                                  {"l": real(2, 3), "m": real(2, 3), "s": positive(2, 3)}, real(4, 2)),
        "Multinomial": case(lambda D, L, p: D.Multinomial(6, probs=p["p"]), {"p": simplex(2, 3)},
                            numpy.array([[[1, 2, 3], [6, 0, 0]], [[2, 2, 2], [0, 1, 5]]], dtype=float),
                            numpy.array([1.0, 1.0, 1.0])),
        "Multinomial_logits": case(lambda D, L, p: D.Multinomial(4, logits=p["l"]), {"l": real(3)},
                                   numpy.array([[1.0, 2, 1], [4, 0, 0]]), numpy.array([1.5, 1.5, 1.0])),
        "MultivariateNormal_cov": case(lambda D, L, p: D.MultivariateNormal(p["m"], covariance_matrix=p["c"]),
                                       {"m": real(2, 3), "c": spd(3)}, real(4, 2, 3)),
        "MultivariateNormal_tril": case(lambda D, L, p: D.MultivariateNormal(p["m"], scale_tril=p["t"]),
                                        {"m": real(3), "t": numpy.linalg.cholesky(spd(3))}, real(4, 3)),
        "MultivariateNormal_precision": case(lambda D, L, p: D.MultivariateNormal(p["m"], precision_matrix=p["p"]),
                                             {"m": real(3), "p": spd(3, (2,))}, real(4, 2, 3)),
        "NegativeBinomial_probs": case(lambda D, L, p: D.NegativeBinomial(p["n"], probs=p["p"]),
                                       {"n": positive(3, low=1, high=5), "p": unit(3)}, counts(7, 4, 3), HALF),
        "NegativeBinomial_logits": case(lambda D, L, p: D.NegativeBinomial(3.0, logits=p["l"]), {"l": real(3)},
                                        counts(7, 4, 3), HALF),
        "Normal": case(lambda D, L, p: D.Normal(p["m"], p["s"]), {"m": real(3), "s": positive(3)}, real(4, 3)),
        "Normal_broadcast": case(lambda D, L, p: D.Normal(p["m"], p["s"]), {"m": real(2, 1), "s": positive(3)},
                                 real(4, 2, 3)),
        "Normal_scalars": case(lambda D, L, p: D.Normal(0.5, 2.0), {}, real(4, 3)),
        "Normal_float32": case(lambda D, L, p: D.Normal(p["m"], p["s"]),
                               {"m": real(3).astype(numpy.float32), "s": positive(3).astype(numpy.float32)},
                               real(4, 3).astype(numpy.float32)),
        "OneHotCategorical": case(lambda D, L, p: D.OneHotCategorical(probs=p["p"]), {"p": simplex(2, 4)},
                                  numpy.eye(4)[rng.integers(0, 4, 6)].reshape(3, 2, 4), numpy.array([1.0, 1.0, 0, 0])),
        "OneHotCategoricalStraightThrough": case(lambda D, L, p: D.OneHotCategoricalStraightThrough(logits=p["l"]),
                                                 {"l": real(2, 4)},
                                                 numpy.eye(4)[rng.integers(0, 4, 6)].reshape(3, 2, 4),
                                                 numpy.array([0.5, 0.5, 0, 0])),
        "Pareto": case(lambda D, L, p: D.Pareto(p["s"], p["a"]), {"s": positive(3), "a": positive(3, low=2.5)},
                       positive(4, 3) + 3.0, HALF),
        "Poisson": case(lambda D, L, p: D.Poisson(p["r"]), {"r": positive(3)}, counts(6, 4, 3), HALF),
        "RelaxedBernoulli": case(lambda D, L, p: D.RelaxedBernoulli(p["t"], probs=p["p"]),
                                 {"t": numpy.array(0.7), "p": unit(3)}, unit(4, 3), numpy.array([1.5, -0.5, 0.5])),
        "RelaxedOneHotCategorical": case(lambda D, L, p: D.RelaxedOneHotCategorical(p["t"], logits=p["l"]),
                                         {"t": numpy.array(0.7), "l": real(2, 4)}, simplex(3, 2, 4),
                                         numpy.array([0.5, 0.5, 0.5, 0.5])),
        "StudentT": case(lambda D, L, p: D.StudentT(p["df"], p["m"], p["s"]),
                         {"df": positive(3, low=2.5, high=6), "m": real(3), "s": positive(3)}, real(4, 3)),
        "TransformedDistribution": case(
            lambda D, L, p: D.TransformedDistribution(D.Normal(p["m"], p["s"]),
                                                      [D.transforms.AffineTransform(1.0, 2.0),
                                                       D.transforms.ExpTransform()]),
            {"m": real(3), "s": positive(3)}, positive(4, 3), HALF),
        "Uniform": case(lambda D, L, p: D.Uniform(p["lo"], p["hi"]), {"lo": numpy.array([-1.0, 0.0, 2.0]),
                                                                      "hi": numpy.array([1.0, 0.5, 5.0])},
                        numpy.array([[0.0, 0.25, 3.0], [-0.5, 0.1, 4.5]]), numpy.array([2.0, -1.0, 1.0])),
        "VonMises": case(lambda D, L, p: D.VonMises(p["m"], p["k"]), {"m": real(3), "k": positive(3)},
                         rng.uniform(-3, 3, (4, 3))),
        "Weibull": case(lambda D, L, p: D.Weibull(p["s"], p["c"]), {"s": positive(3), "c": positive(3)}, positive(4, 3),
                        HALF),
        "Wishart_cov": case(lambda D, L, p: D.Wishart(p["df"], covariance_matrix=p["c"]),
                            {"df": numpy.array([4.0, 5.5]), "c": spd(3)}, spd(3, (4, 2)), -numpy.eye(3)),
        "Wishart_tril": case(lambda D, L, p: D.Wishart(p["df"], scale_tril=p["t"]),
                             {"df": numpy.array(3.5), "t": numpy.linalg.cholesky(spd(2))}, spd(2, (3,)), -numpy.eye(2)),
        "Wishart_precision": case(lambda D, L, p: D.Wishart(p["df"], precision_matrix=p["p"]),
                                  {"df": numpy.array(4.0), "p": spd(2, (2,))}, spd(2, (3, 2)), -numpy.eye(2)),
    }


CASES = make_cases(0)


def in_float32(cases):
    """The cases with their float64 parameters and values in float32 (dtype propagation, float32 arithmetic)."""
    def cast(value):
        if isinstance(value, dict):
            return {k: cast(v) for k, v in value.items()}
        if isinstance(value, numpy.ndarray) and value.dtype == numpy.float64:
            return value.astype(numpy.float32)
        return value
    return {name: {**case, "params": cast(case["params"]), "inside": cast(case["inside"]),
                   "outside": cast(case["outside"])} for name, case in cases.items()}
