"""The distributions API around the distributions against PyTorch 2.13: the constraint registry (unknown and custom
constraints), sample shapes given as ints and lists, reprs (after lazy parameters appear, of composite
distributions), expand on subclasses, validation of TransformedDistribution, cdf and icdf, copies and pickles, the
classes' flags, supports and bases, the transform classes' domains, parameters as the tensors given, torch.func
over distributions, and the meta device (shapes only; the samplers PyTorch has no meta kernel for refuse it)."""

import copy
import pickle

import numpy
import pytest
import torch

import ember
from tests.distributions.sweep import compare


def f(L, *values, dtype="float64"):
    return L.tensor(numpy.array(values, dtype=dtype))


def subclass_expand(L):
    class My(L.distributions.Normal):
        def __init__(self, loc):
            super().__init__(loc, 1.0)

    return My(L.zeros(2)).expand((3, 2))


def subclass_ok(L):
    class My(L.distributions.Normal):
        pass

    e = My(L.zeros(2), 1.0).expand((3, 2))
    return type(e).__name__, e.batch_shape


def register_custom(L):
    C = L.distributions.constraints

    class Pos2(C.Constraint):
        def check(self, x):
            return x > 2

    pos2 = Pos2()

    @L.distributions.biject_to.register(Pos2)
    def _(constraint):
        return L.distributions.transforms.ComposeTransform(
            [L.distributions.transforms.ExpTransform(), L.distributions.transforms.AffineTransform(2.0, 1.0)]
        )

    t = L.distributions.biject_to(pos2)
    return repr(t), t(f(L, 0.0, 1.0))


def _flag(value):
    return "property" if isinstance(value, property) else value


def _classes(L):
    return [
        (n, getattr(L.distributions, n))
        for n in sorted(L.distributions.__all__)
        if isinstance(getattr(L.distributions, n), type)
        and issubclass(getattr(L.distributions, n), L.distributions.Distribution)
    ]


def shift(L, make, attr):
    p = f(L, 0.2, 0.6)
    d = make(L, p)
    with L.no_grad():
        p.add_(0.1)
    v = getattr(d, attr)
    return v() if callable(v) else v


CALLS = {
    # under torch.func: validation checks the whole batch at once (torch._is_all_true)
    "vmap normal log_prob": lambda L: L.func.vmap(
        lambda m: L.distributions.Normal(m, 1.0, validate_args=False).log_prob(f(L, 0.5, 1.0))
    )(f(L, [0.0, 1.0], [2.0, 3.0])),
    "vmap normal validated": lambda L: L.func.vmap(
        lambda m: L.distributions.Normal(m, 1.0, validate_args=True).log_prob(f(L, 0.5, 1.0))
    )(f(L, [0.0, 1.0], [2.0, 3.0])),
    "vmap gamma entropy": lambda L: L.func.vmap(lambda c: L.distributions.Gamma(c, 2.0, validate_args=False).entropy())(
        f(L, [1.0, 2.0], [3.0, 4.0])
    ),
    "vmap mvn log_prob": lambda L: L.func.vmap(
        lambda m: L.distributions.MultivariateNormal(m, L.eye(2, dtype=L.float64), validate_args=False).log_prob(
            f(L, 0.5, 1.0)
        )
    )(f(L, [0.0, 1.0], [2.0, 3.0])),
    "vmap categorical": lambda L: L.func.vmap(
        lambda lg: L.distributions.Categorical(logits=lg, validate_args=False).log_prob(L.tensor(1))
    )(f(L, [0.0, 1.0, 2.0], [2.0, 3.0, 0.0])),
    "vmap kl": lambda L: L.func.vmap(
        lambda m: L.distributions.kl_divergence(
            L.distributions.Normal(m, 1.0, validate_args=False), L.distributions.Normal(0.0, 2.0, validate_args=False)
        )
    )(f(L, 0.0, 1.0, 2.0)),
    "grad of log_prob": lambda L: L.func.grad(
        lambda m: L.distributions.Normal(m, 2.0, validate_args=False).log_prob(f(L, 0.5)).sum()
    )(f(L, 0.3)),
    "jacrev entropy": lambda L: L.func.jacrev(
        lambda c: L.distributions.Beta(c, f(L, 2.0, 3.0), validate_args=False).entropy()
    )(f(L, 1.5, 0.5)),
    "hessian dirichlet": lambda L: L.func.hessian(
        lambda c: L.distributions.Dirichlet(c, validate_args=False).log_prob(f(L, 0.2, 0.3, 0.5))
    )(f(L, 1.5, 0.5, 2.0)),
    # parameters are the tensors given (broadcast_tensors returns a tensor of the broadcast shape itself)
    "broadcast_tensors identity": lambda L: (
        lambda a, b, c: [x is y for x, y in zip(L.broadcast_tensors(a, b, c), (a, b, c))]
    )(L.zeros(2, 3, requires_grad=True), L.ones(3), L.ones(2, 3)),
    "normal loc alias": lambda L: shift(L, lambda L, p: L.distributions.Normal(p, 1.0), "mean"),
    "normal same shapes alias": lambda L: shift(L, lambda L, p: L.distributions.Normal(p, f(L, 1.0, 2.0)), "mean"),
    "normal is same": lambda L: (lambda p: L.distributions.Normal(p, f(L, 1.0, 2.0)).loc is p)(f(L, 0.0, 1.0)),
    "normal number is same": lambda L: (lambda p: L.distributions.Normal(p, 1.0).loc is p)(f(L, 0.0, 1.0)),
    "bernoulli probs alias": lambda L: shift(L, lambda L, p: L.distributions.Bernoulli(p), "mean"),
    "bernoulli probs is same": lambda L: (lambda p: L.distributions.Bernoulli(p).probs is p)(f(L, 0.2, 0.6)),
    "categorical probs alias": lambda L: shift(L, lambda L, p: L.distributions.Categorical(p), "probs"),
    "gamma alias": lambda L: shift(L, lambda L, p: L.distributions.Gamma(p, f(L, 1.0, 2.0)), "mean"),
    "dirichlet alias": lambda L: shift(L, lambda L, p: L.distributions.Dirichlet(p), "mean"),
    "uniform alias": lambda L: shift(L, lambda L, p: L.distributions.Uniform(p, f(L, 1.0, 2.0)), "mean"),
    "mvn loc alias": lambda L: shift(
        L, lambda L, p: L.distributions.MultivariateNormal(p, L.eye(2, dtype=L.float64)), "mean"
    ),
    "lognormal alias": lambda L: shift(L, lambda L, p: L.distributions.LogNormal(p, f(L, 1.0, 2.0)), "mean"),
    "independent alias": lambda L: shift(
        L, lambda L, p: L.distributions.Independent(L.distributions.Normal(p, 1.0), 1), "mean"
    ),
    "binomial alias": lambda L: shift(L, lambda L, p: L.distributions.Binomial(5, p), "mean"),
    "beta alias": lambda L: shift(L, lambda L, p: L.distributions.Beta(p, f(L, 1.0, 2.0)), "mean"),
    "exponential alias": lambda L: shift(L, lambda L, p: L.distributions.Exponential(p), "mean"),
    "poisson alias": lambda L: shift(L, lambda L, p: L.distributions.Poisson(p), "mean"),
    "laplace alias": lambda L: shift(L, lambda L, p: L.distributions.Laplace(p, f(L, 1.0, 2.0)), "mean"),
    "studentT alias": lambda L: shift(L, lambda L, p: L.distributions.StudentT(f(L, 3.0, 4.0), p), "mean"),
    "vonmises alias": lambda L: shift(L, lambda L, p: L.distributions.VonMises(p, f(L, 1.0, 2.0)), "mean"),
    "relaxed alias": lambda L: shift(L, lambda L, p: L.distributions.RelaxedBernoulli(f(L, 0.5), probs=p), "probs"),
    "cb alias": lambda L: shift(L, lambda L, p: L.distributions.ContinuousBernoulli(p), "probs"),
    "geometric alias": lambda L: shift(L, lambda L, p: L.distributions.Geometric(p), "mean"),
    "negbin alias": lambda L: shift(L, lambda L, p: L.distributions.NegativeBinomial(3.0, p), "mean"),
    "lowrank alias": lambda L: shift(
        L,
        lambda L, p: L.distributions.LowRankMultivariateNormal(p, L.ones(2, 1, dtype=L.float64), f(L, 1.0, 2.0)),
        "mean",
    ),
    "expand noncontig": lambda L: (lambda d: (d.batch_shape, d.mean, d.log_prob(f(L, [0.0, 1.0]))))(
        L.distributions.Normal(
            L.arange(6.0, dtype=L.float64).reshape(2, 3).t(), f(L, 1.0, 2.0).unsqueeze(0).expand(3, 2)
        )
    ),
    "transform_to unknown": lambda L: L.distributions.transform_to(L.distributions.constraints.nonnegative_integer),
    "biject_to unknown": lambda L: L.distributions.biject_to(L.distributions.constraints.unit_interval.__class__(0, 1)),
    "biject_to not constraint": lambda L: L.distributions.biject_to(3),
    "register bad": lambda L: L.distributions.biject_to.register(3),
    "register custom": register_custom,
    "sample int shape": lambda L: L.distributions.Normal(0.0, 1.0).sample(2),
    "sample list shape": lambda L: (L.manual_seed(0), L.distributions.Normal(0.0, 1.0).sample([2, 1]))[1],
    "repr after logits": lambda L: (lambda d: (d.logits, repr(d))[1])(L.distributions.Bernoulli(f(L, 0.3))),
    "repr after entropy": lambda L: (lambda d: (d.entropy(), repr(d))[1])(L.distributions.Categorical(f(L, 0.3, 0.7))),
    "repr scalar": lambda L: repr(L.distributions.Normal(0.0, f(L, 2.0)[0])),
    "repr mvn": lambda L: repr(L.distributions.MultivariateNormal(L.zeros(2), scale_tril=L.eye(2))),
    "repr independent": lambda L: repr(L.distributions.Independent(L.distributions.Normal(L.zeros(2, 3), 1.0), 1)),
    "repr mixture": lambda L: repr(
        L.distributions.MixtureSameFamily(
            L.distributions.Categorical(L.ones(2)), L.distributions.Normal(L.zeros(2), 1.0)
        )
    ),
    "repr transformed": lambda L: repr(L.distributions.LogNormal(0.0, 1.0)),
    "repr wishart": lambda L: repr(L.distributions.Wishart(f(L, 3.0), L.eye(2, dtype=L.float64))),
    "repr lkj": lambda L: repr(L.distributions.LKJCholesky(3, 0.5)),
    "subclass expand": subclass_expand,
    "subclass expand ok": subclass_ok,
    "transformed validated outside": lambda L: L.distributions.LogNormal(0.0, 1.0, validate_args=True).log_prob(
        f(L, -1.0)
    ),
    "transformed validated inside": lambda L: L.distributions.LogNormal(0.0, 1.0, validate_args=True).log_prob(
        f(L, 1.0)
    ),
    "deepcopy normal": lambda L: (lambda d: (repr(d), d.loc, d.batch_shape))(
        copy.deepcopy(L.distributions.Normal(f(L, 1.0, 2.0), 1.0))
    ),
    "pickle transform": lambda L: repr(
        pickle.loads(
            pickle.dumps(
                L.distributions.transforms.ComposeTransform(
                    [L.distributions.transforms.ExpTransform(), L.distributions.transforms.AffineTransform(1.0, 2.0)]
                )
            )
        )
    ),
    "pickle normal": lambda L: (lambda d: (repr(d), d.loc))(
        pickle.loads(pickle.dumps(L.distributions.Normal(f(L, 1.0, 2.0), 1.0)))
    ),
    "is_dependent": lambda L: (
        L.distributions.constraints.is_dependent(L.distributions.Uniform(0.0, 1.0).support),
        L.distributions.constraints.is_dependent(L.distributions.constraints.real),
        L.distributions.constraints.is_dependent(L.distributions.Binomial.support),
    ),
    "dependent check": lambda L: L.distributions.constraints.dependent.check(f(L, 1.0)),
    "dependent property repr": lambda L: repr(L.distributions.Uniform.support),
    "class arg_constraints": lambda L: {k: repr(v) for k, v in L.distributions.Binomial.arg_constraints.items()},
    "class support": lambda L: repr(L.distributions.Binomial.support),
    "class attrs": lambda L: [(n, _flag(c.has_rsample), _flag(c.has_enumerate_support)) for n, c in _classes(L)],
    "class supports": lambda L: [(n, repr(c.support)) for n, c in _classes(L) if not isinstance(c.support, property)],
    "class mro": lambda L: [
        (
            n,
            [
                b.__name__
                for b in c.__mro__
                if not b.__name__.startswith("_") and b.__name__ not in ("BinaryProbsLogits", "Generic")
            ],
        )
        for n, c in _classes(L)
    ],
    "transform classes": lambda L: [
        (n, _flag(c.bijective), repr(_flag(getattr(c, "domain", None))), repr(_flag(getattr(c, "codomain", None))))
        for n, c in sorted(vars(L.distributions.transforms).items())
        if n in L.distributions.transforms.__all__ and isinstance(c, type)
    ],
    "sample validated wishart": lambda L: L.distributions.Wishart(
        f(L, 3.0), L.eye(2, dtype=L.float64), validate_args=True
    ).log_prob(-L.eye(2, dtype=L.float64)),
    "cdf validated": lambda L: L.distributions.Exponential(f(L, 1.0), validate_args=True).cdf(f(L, -1.0)),
    "icdf validated": lambda L: L.distributions.Normal(0.0, 1.0, validate_args=True).icdf(f(L, 2.0)),
    "enumerate expand": lambda L: L.distributions.Categorical(L.ones(2, 3)).enumerate_support(expand=True),
    "binomial enumerate varying": lambda L: L.distributions.Binomial(
        f(L, 2.0, 3.0), f(L, 0.5, 0.5)
    ).enumerate_support(),
    "multinomial total mismatch": lambda L: L.distributions.Multinomial(f(L, 2.0, 3.0), L.ones(2)),
    "multinomial log_prob": lambda L: L.distributions.Multinomial(probs=L.ones(3) / 3, validate_args=True).log_prob(
        f(L, 1.0, 0.0, 0.0)
    ),
    "onehot st rsample grad": lambda L: (
        lambda p: (
            L.manual_seed(3),
            L.autograd.grad(
                (L.distributions.OneHotCategoricalStraightThrough(p).rsample((4,)) * f(L, 1.0, 2.0, 3.0)).sum(), p
            ),
        )[1]
    )(f(L, 0.2, 0.3, 0.5).requires_grad_()),
}


@pytest.mark.parametrize("name", CALLS)
def test_call(name):
    assert compare(CALLS[name]) is None


def _meta_outcome(lib, fn):
    """Shapes, dtypes and devices of what ``fn(lib)`` gives on the meta device (no values), or its error."""
    try:
        result = fn(lib)
    except Exception as error:   # noqa: BLE001 - the error is the outcome compared
        return type(error).__name__, str(error).replace("ember.", "torch.")
    results = result if isinstance(result, tuple) else (result,)
    return [(tuple(r.shape), str(r.dtype).split(".")[-1], r.device.type) for r in results]


def _on_meta(L, *shape):
    return L.zeros(*shape, device="meta")


META = {
    "normal sample": lambda L: L.distributions.Normal(_on_meta(L, 2), 1.0, validate_args=False).sample((3,)),
    "normal log_prob": lambda L: L.distributions.Normal(_on_meta(L, 2), 1.0, validate_args=False).log_prob(
        _on_meta(L, 2)),
    "gamma rsample": lambda L: L.distributions.Gamma(_on_meta(L, 2), 1.0, validate_args=False).rsample(),
    "categorical sample": lambda L: L.distributions.Categorical(logits=_on_meta(L, 2, 3), validate_args=False).sample(),
    "mvn rsample": lambda L: L.distributions.MultivariateNormal(_on_meta(L, 2), L.eye(2, device="meta"),
                                                                validate_args=False).rsample(),
    "kl": lambda L: L.distributions.kl_divergence(L.distributions.Normal(_on_meta(L, 2), 1.0, validate_args=False),
                                                  L.distributions.Normal(_on_meta(L, 2), 2.0, validate_args=False)),
    "uniform rsample": lambda L: L.distributions.Uniform(_on_meta(L, 2), 1.0, validate_args=False).rsample(),
    "standard gamma": lambda L: L._standard_gamma(_on_meta(L, 2, 3)),
    "sample dirichlet": lambda L: L._sample_dirichlet(_on_meta(L, 2, 3)),
    "binomial": lambda L: L.binomial(_on_meta(L, 2), _on_meta(L, 2)),
    "standard gamma grad": lambda L: L._standard_gamma_grad(_on_meta(L, 2), _on_meta(L, 2)),
    "dirichlet grad": lambda L: L._dirichlet_grad(_on_meta(L, 2), _on_meta(L, 2), _on_meta(L, 2)),
}


@pytest.mark.parametrize("name", META)
def test_meta(name):
    assert _meta_outcome(ember, META[name]) == _meta_outcome(torch, META[name])
