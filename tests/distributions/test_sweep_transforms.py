"""Every ``transforms.*`` class of PyTorch 2.13 against torch.distributions.transforms: forward, inverse,
log_abs_det_jacobian (values and gradients), domain/codomain, event_dim, bijective, sign, shapes, caching, ``inv``,
equality, composition and repr; the ``constraints`` objects' checks and reprs, and ``biject_to``/``transform_to`` of
each constraint."""
import numpy
import pytest

from tests.distributions.sweep import compare, gradients

rng = numpy.random.default_rng(5)


def _spd(n, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ numpy.swapaxes(a, -1, -2) + n * numpy.eye(n)


REAL = rng.standard_normal((4, 3))
POSITIVE = rng.uniform(0.2, 3.0, (4, 3))
UNIT = rng.uniform(0.05, 0.95, (4, 3))
SQUARE = rng.standard_normal((2, 3, 3))


def _normal(T, L):
    return L.distributions.Normal(L.tensor([0.5, -1.0, 2.0], dtype=L.float64), L.tensor([1.0, 2.0, 0.5],
                                                                                        dtype=L.float64))


# name -> (transform maker(T: the transforms module, L: the library), input array in its domain)
TRANSFORMS = {
    "identity": (lambda T, L: T.identity_transform, REAL),
    "Abs": (lambda T, L: T.AbsTransform(), REAL),
    "Affine_numbers": (lambda T, L: T.AffineTransform(1.5, -2.0), REAL),
    "Affine_tensors": (lambda T, L: T.AffineTransform(L.tensor([1.0, 2.0, 3.0], dtype=L.float64),
                                                      L.tensor([0.5, -1.0, 2.0], dtype=L.float64)), REAL),
    "Affine_event_dim": (lambda T, L: T.AffineTransform(0.5, L.tensor([1.0, 3.0, 2.0], dtype=L.float64),
                                                        event_dim=1), REAL),
    "Affine_zero_scale": (lambda T, L: T.AffineTransform(0.0, 0.0), REAL),
    "Exp": (lambda T, L: T.ExpTransform(), REAL),
    "Power": (lambda T, L: T.PowerTransform(L.tensor(2.5, dtype=L.float64)), POSITIVE),
    "Power_number": (lambda T, L: T.PowerTransform(-0.5), POSITIVE),
    "Sigmoid": (lambda T, L: T.SigmoidTransform(), REAL * 5),
    "Softplus": (lambda T, L: T.SoftplusTransform(), REAL * 5),
    "Tanh": (lambda T, L: T.TanhTransform(), REAL),
    "Softmax": (lambda T, L: T.SoftmaxTransform(), REAL),
    "StickBreaking": (lambda T, L: T.StickBreakingTransform(), REAL),
    "LowerCholesky": (lambda T, L: T.LowerCholeskyTransform(), SQUARE),
    "PositiveDefinite": (lambda T, L: T.PositiveDefiniteTransform(), SQUARE),
    "CorrCholesky": (lambda T, L: T.CorrCholeskyTransform(), rng.standard_normal((2, 6))),
    "Reshape": (lambda T, L: T.ReshapeTransform((4, 3), (2, 6)), REAL),
    "Reshape_batch": (lambda T, L: T.ReshapeTransform((3,), (3, 1)), REAL),
    "Independent": (lambda T, L: T.IndependentTransform(T.ExpTransform(), 1), REAL),
    "Independent_affine": (lambda T, L: T.IndependentTransform(T.AffineTransform(1.0, 3.0), 2), REAL),
    "Compose": (lambda T, L: T.ComposeTransform([T.AffineTransform(1.0, 2.0), T.ExpTransform()]), REAL),
    "Compose_empty": (lambda T, L: T.ComposeTransform([]), REAL),
    "Compose_events": (lambda T, L: T.ComposeTransform([T.ExpTransform(), T.StickBreakingTransform(),
                                                        T.AffineTransform(1.0, 2.0)]), REAL),
    "Compose_inverse": (lambda T, L: T.ComposeTransform([T.SigmoidTransform().inv, T.ExpTransform()]), UNIT),
    "Cat": (lambda T, L: T.CatTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0)], dim=1, lengths=[1, 2]),
            REAL),
    "Cat_rows": (lambda T, L: T.CatTransform([T.ExpTransform(), T.SigmoidTransform()], dim=0), REAL),
    "Stack": (lambda T, L: T.StackTransform([T.ExpTransform(), T.TanhTransform(), T.AffineTransform(0.0, 3.0)],
                                            dim=1), REAL),
    "CumulativeDistribution": (lambda T, L: T.CumulativeDistributionTransform(_normal(T, L)), REAL),
    "inverse_Exp": (lambda T, L: T.ExpTransform().inv, POSITIVE),
    "inverse_Sigmoid_cached": (lambda T, L: T.SigmoidTransform(cache_size=1).inv, UNIT),
    "Exp_cached": (lambda T, L: T.ExpTransform(cache_size=1), REAL),
}


def _t(lib, name):
    return TRANSFORMS[name][0](lib.distributions.transforms, lib)


def _x(lib, name, grad=False):
    return lib.tensor(TRANSFORMS[name][1], requires_grad=grad)


def _description(t):
    out = [repr(t), t.event_dim, t.bijective, repr(t.domain), repr(t.codomain), t.domain.event_dim,
           t.codomain.event_dim, repr(t.inv), t.inv.event_dim]
    try:
        out.append(t.sign)
    except NotImplementedError:
        out.append("no sign")
    return out


def _cache(lib, name):
    t = _t(lib, name)
    x = _x(lib, name)
    y = t(x)
    return t(x) is y, t.inv(y) is x, t.with_cache(1)(x) is t.with_cache(1)(x), repr(t.with_cache(1))


def _ladj_grad(lib, name):
    t = _t(lib, name)
    x = _x(lib, name, grad=True)
    y = t(x)
    return gradients(lib, t.log_abs_det_jacobian(x, y), [x]) + gradients(lib, y, [x])


PROBES = {
    "forward": lambda L, n: _t(L, n)(_x(L, n)),
    "inverse": lambda L, n: (lambda t: t.inv(t(_x(L, n))))(_t(L, n)),
    "inverse_call": lambda L, n: (lambda t: t._inverse(t(_x(L, n))))(_t(L, n)),
    "ladj": lambda L, n: (lambda t, x: t.log_abs_det_jacobian(x, t(x)))(_t(L, n), _x(L, n)),
    "inverse_ladj": lambda L, n: (lambda t, y: t.inv.log_abs_det_jacobian(y, t.inv(y)))(_t(L, n),
                                                                                        _t(L, n)(_x(L, n))),
    "description": lambda L, n: _description(_t(L, n)),
    "shapes": lambda L, n: (lambda t, s: (t.forward_shape(s), t.inverse_shape(t.forward_shape(s))))(
        _t(L, n), TRANSFORMS[n][1].shape),
    "codomain_check": lambda L, n: (lambda t: t.codomain.check(t(_x(L, n))))(_t(L, n)),
    "equality": lambda L, n: (_t(L, n) == _t(L, n), _t(L, n) != L.distributions.transforms.ExpTransform(),
                              _t(L, n).inv.inv == _t(L, n)),
    "cache": _cache,
    "gradients": _ladj_grad,
}


@pytest.mark.parametrize("probe", PROBES)
@pytest.mark.parametrize("name", TRANSFORMS)
def test_transform(name, probe):
    assert compare(lambda lib: PROBES[probe](lib, name)) is None


ERRORS = {
    "cache size": lambda T, L: T.ExpTransform(cache_size=2),
    "with_cache size": lambda T, L: T.ExpTransform().with_cache(3),
    "reshape sizes": lambda T, L: T.ReshapeTransform((2, 3), (4,)),
    "reshape input": lambda T, L: T.ReshapeTransform((2, 3), (6,))(L.zeros(3, 2)),
    "reshape forward_shape": lambda T, L: T.ReshapeTransform((2, 3), (6,)).forward_shape((5,)),
    "reshape inverse_shape": lambda T, L: T.ReshapeTransform((2, 3), (6,)).inverse_shape((5,)),
    "softmax forward_shape": lambda T, L: T.SoftmaxTransform().forward_shape(()),
    "stick-breaking shape": lambda T, L: T.StickBreakingTransform().inverse_shape(()),
    "lower cholesky": lambda T, L: T.LowerCholeskyTransform()(L.zeros(3)),
    "corr cholesky length": lambda T, L: T.CorrCholeskyTransform()(L.zeros(4)),
    "corr cholesky inverse shape": lambda T, L: T.CorrCholeskyTransform().inverse_shape((3, 4)),
    "abs ladj": lambda T, L: T.AbsTransform().log_abs_det_jacobian(L.ones(2), L.ones(2)),
    "abs sign": lambda T, L: T.AbsTransform().sign,
    "base ladj": lambda T, L: T.Transform().log_abs_det_jacobian(L.ones(2), L.ones(2)),
    "base call": lambda T, L: T.Transform()(L.ones(2)),
    "compose cache": lambda T, L: T.ComposeTransform([T.ExpTransform()], cache_size=2),
    "cat dims": lambda T, L: T.CatTransform([T.ExpTransform()], dim=0, lengths=[1, 2]),
    "cat input": lambda T, L: T.CatTransform([T.ExpTransform(), T.ExpTransform()], dim=5)(L.zeros(2, 2)),
    "stack size": lambda T, L: T.StackTransform([T.ExpTransform()], dim=0)(L.zeros(2, 2)),
    "stack non-transform": lambda T, L: T.StackTransform([T.ExpTransform(), 3]),
    "affine scale sign": lambda T, L: T.AffineTransform(0.0, L.tensor([1.0, -1.0])).sign,
    "power sign tensor": lambda T, L: T.PowerTransform(L.tensor([2.0, -1.0])).sign,
    "independent non-transform": lambda T, L: T.IndependentTransform(3, 1),
    "compose non-transform": lambda T, L: T.ComposeTransform([T.ExpTransform(), "x"])(L.zeros(2)),
    "power shapes": lambda T, L: T.PowerTransform(L.ones(3, 1)).forward_shape((2,)),
    "affine shapes": lambda T, L: T.AffineTransform(L.zeros(4), 1.0).inverse_shape((3,)),
    "cumulative sign": lambda T, L: T.CumulativeDistributionTransform(T.ExpTransform()).sign,
}


@pytest.mark.parametrize("name", ERRORS)
def test_transform_edge(name):
    assert compare(lambda lib: ERRORS[name](lib.distributions.transforms, lib)) is None


def _c(name):
    return lambda L: eval(name, {"C": L.distributions.constraints, "L": L})   # noqa: S307 - the sweep's own text


CONSTRAINTS = ["C.real", "C.boolean", "C.nonnegative_integer", "C.positive_integer", "C.integer_interval(1, 4)",
               "C.positive", "C.nonnegative", "C.unit_interval", "C.greater_than(1.5)", "C.greater_than_eq(-1)",
               "C.less_than(L.tensor([0.5, 1.0, 2.0]))", "C.interval(-1, 2)", "C.half_open_interval(0, 1)",
               "C.simplex", "C.real_vector", "C.multinomial(5)", "C.one_hot", "C.lower_triangular",
               "C.lower_cholesky", "C.corr_cholesky", "C.square", "C.symmetric", "C.positive_semidefinite",
               "C.positive_definite", "C.independent(C.positive, 1)", "C.independent(C.real, 0)",
               "C.cat([C.positive, C.real], 1, [1, 2])", "C.stack([C.positive, C.unit_interval, C.real], 1)",
               "C.dependent", "C.dependent(is_discrete=True, event_dim=1)", "C.positive_definite"]
VALUES = {
    "vector": numpy.array([[0.3, 0.7, 0.0], [1.0, 2.0, 3.0], [-1.0, 0.5, 0.5], [2.0, 2.0, 1.0]]),
    "counts": numpy.array([[1.0, 2.0, 2.0], [0.0, 5.0, 0.0], [4.0, 0.0, 0.0], [1.5, 0.0, 3.5]]),
    "one_hot": numpy.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
    "matrices": numpy.stack([_spd(3), numpy.linalg.cholesky(_spd(3)), -_spd(3), rng.standard_normal((3, 3)),
                             numpy.eye(3), numpy.diag([1.0, 0.0, 2.0])]),
    "corr": numpy.stack([numpy.eye(3), numpy.linalg.cholesky(_spd(3))]),
    "bools": numpy.array([True, False]),
    "ints": numpy.array([0, 1, 4, -2]),
}


def _check(lib, constraint, values):
    c = _c(constraint)(lib)
    return c.check(lib.tensor(VALUES[values]))


@pytest.mark.parametrize("constraint", dict.fromkeys(CONSTRAINTS))
def test_constraint(constraint):
    assert compare(lambda lib: (lambda c: (repr(c), c.is_discrete, c.event_dim))(_c(constraint)(lib))) is None
    for values in VALUES:
        assert compare(lambda lib: _check(lib, constraint, values)) is None, values


REGISTERED = ["C.real", "C.positive", "C.nonnegative", "C.greater_than(1.5)", "C.greater_than_eq(-1)",
              "C.less_than(L.tensor([0.5, 1.0, 2.0]))", "C.unit_interval", "C.interval(-1, 2)",
              "C.half_open_interval(0, 1)", "C.simplex", "C.real_vector", "C.lower_cholesky", "C.corr_cholesky",
              "C.positive_definite", "C.positive_semidefinite", "C.independent(C.positive, 1)",
              "C.cat([C.positive, C.real], 1, [1, 2])", "C.stack([C.positive, C.unit_interval, C.real], 1)",
              "C.boolean", "C.integer_interval(1, 4)", "C.dependent"]
UNCONSTRAINED = {"C.lower_cholesky": rng.standard_normal((2, 3, 3)), "C.positive_definite": rng.standard_normal(
    (2, 3, 3)), "C.positive_semidefinite": rng.standard_normal((2, 3, 3)), "C.corr_cholesky": rng.standard_normal(
    (2, 3))}


def _registry(lib, registry, constraint):
    t = getattr(lib.distributions, registry)(_c(constraint)(lib))
    x = lib.tensor(UNCONSTRAINED.get(constraint, rng.standard_normal((4, 3))) if False else
                   UNCONSTRAINED.get(constraint, REAL))
    y = t(x)
    return repr(t), y, t.log_abs_det_jacobian(x, y), t.inv(y), t.codomain.check(y)


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("constraint", REGISTERED)
def test_constraint_registry(constraint, registry):
    assert compare(lambda lib: _registry(lib, registry, constraint)) is None
