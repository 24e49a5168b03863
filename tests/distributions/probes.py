"""What the sweep asks of each distribution case: shapes, flags, constraints, moments, seeded draws, densities,
cdf/icdf, supports, expansion, validation and the gradients of rsample, log_prob, entropy and cdf."""
import contextlib

import numpy
import torch

from tests.distributions.sweep import gradients, leaves, tensors

@contextlib.contextmanager
def validation(lib, flag):
    """``Distribution.set_default_validate_args(flag)`` for the block (``None``: left as it is)."""
    before = lib.distributions.Distribution._validate_args
    if flag is not None:
        lib.distributions.Distribution.set_default_validate_args(flag)
    try:
        yield
    finally:
        lib.distributions.Distribution.set_default_validate_args(before)


def build(lib, case, grad=False, validate=None, params=None):
    """The case's distribution on ``lib`` (its parameters require grad when ``grad``), and its parameter tensors."""
    p = tensors(lib, case["params"] if params is None else params, grad)
    with validation(lib, validate):
        return case["ctor"](lib.distributions, lib, p), p


def seeded(lib, fn):
    lib.manual_seed(11)
    return fn()


def _value(lib, case, key="inside"):
    return tensors(lib, case[key])


def _expanded(lib, case):
    d, _ = build(lib, case)
    e = d.expand((5,) + tuple(d.batch_shape))
    value = tensors(lib, case["inside"][:1])
    return (repr(e), e.batch_shape, e.event_shape, type(e).__name__, seeded(lib, lambda: e.sample((2,))),
            e.log_prob(value), e.mean)


def _grad(lib, case, fn):
    d, p = build(lib, case, grad=True)
    return gradients(lib, fn(d), leaves(p))


def _quantiles(lib, case):
    shape = numpy.shape(case["inside"])
    return lib.tensor(numpy.random.default_rng(3).uniform(0.05, 0.95, shape))


def _value_grad(lib, case):
    d, _ = build(lib, case)
    value = tensors(lib, case["inside"], grad=True)
    return gradients(lib, d.log_prob(value), [value])


def _second_grad(lib, case):
    """The gradient of the sum of log_prob's first gradients (with respect to the parameters): second derivatives."""
    d, p = build(lib, case, grad=True)
    inputs = leaves(p)
    first = lib.autograd.grad(d.log_prob(_value(lib, case)).sum(), inputs, create_graph=True, allow_unused=True)
    total = sum((g * (i + 1)).sum() for i, g in enumerate(first) if g is not None)
    return gradients(lib, total, inputs)


def _icdf_grad(lib, case):
    d, p = build(lib, case, grad=True)
    q = _quantiles(lib, case).requires_grad_()
    return gradients(lib, d.icdf(q), leaves(p) + [q])


_PROBED = {"arg_constraints", "support", "batch_shape", "event_shape", "mean", "mode", "variance", "stddev",
           "has_rsample", "has_enumerate_support"}


def _attribute_names(case):
    """The public non-method attributes of the case's torch distribution (parameters, lazy properties)."""
    d, _ = build(torch, case)
    names = []
    for name in dir(d):
        if name.startswith("_") or name in _PROBED:
            continue
        try:
            value = getattr(d, name)
        except Exception:   # noqa: BLE001 - an attribute that raises is compared too
            names.append(name)
            continue
        if not callable(value) or isinstance(value, (torch.Tensor, torch.distributions.Distribution)):
            names.append(name)
    return names


def _attributes(lib, case):
    d, _ = build(lib, case)
    kinds = (lib.distributions.Distribution, lib.distributions.transforms.Transform)
    return {name: repr(v) if isinstance(v, kinds) else v
            for name, v in ((name, getattr(d, name)) for name in _attribute_names(case))}


def _empty_value(lib, case):
    d, _ = build(lib, case, validate=False)
    shape = (0,) + tuple(d.batch_shape) + tuple(d.event_shape)
    return d.log_prob(lib.zeros(shape, dtype=lib.tensor(case["inside"]).dtype))


def _expanded_empty(lib, case):
    d, _ = build(lib, case)
    e = d.expand((0,) + tuple(d.batch_shape))
    return e.batch_shape, seeded(lib, lambda: e.sample((2,)))


def _draw_flags(lib, case, method):
    """Whether draws require grad and are leaves, from parameters that require grad."""
    d, _ = build(lib, case, grad=True)
    return seeded(lib, lambda: (lambda x: (x.requires_grad, x.is_leaf))(getattr(d, method)((2,))))


def _moment_flags(lib, case):
    d, _ = build(lib, case, grad=True)
    flags = []
    for name in ("mean", "variance", "mode", "stddev", "entropy", "perplexity"):
        try:
            value = getattr(d, name)
            flags.append((value() if callable(value) else value).requires_grad)
        except Exception as error:   # noqa: BLE001 - which moments a class lacks is compared too
            flags.append(type(error).__name__)
    return flags


def _without_grad(lib, case):
    with lib.no_grad():
        d, _ = build(lib, case, grad=True)
        return d.log_prob(_value(lib, case)).requires_grad


PROBES = {
    "repr": lambda L, c: repr(build(L, c)[0]),
    "shapes": lambda L, c: (lambda d: (d.batch_shape, d.event_shape, d.has_rsample, d.has_enumerate_support,
                                       type(d).__name__))(build(L, c)[0]),
    "support": lambda L, c: (lambda s: (repr(s), s.event_dim, s.is_discrete))(build(L, c)[0].support),
    "support_check": lambda L, c: build(L, c)[0].support.check(_value(L, c)),
    "arg_constraints": lambda L, c: {k: repr(v) for k, v in build(L, c)[0].arg_constraints.items()},
    "attributes": _attributes,
    "mean": lambda L, c: build(L, c)[0].mean,
    "mode": lambda L, c: build(L, c)[0].mode,
    "variance": lambda L, c: build(L, c)[0].variance,
    "stddev": lambda L, c: build(L, c)[0].stddev,
    "entropy": lambda L, c: build(L, c)[0].entropy(),
    "perplexity": lambda L, c: build(L, c)[0].perplexity(),
    "sample": lambda L, c: seeded(L, lambda: build(L, c)[0].sample((2,))),
    "sample_scalar": lambda L, c: seeded(L, lambda: build(L, c)[0].sample()),
    "rsample": lambda L, c: seeded(L, lambda: build(L, c)[0].rsample((2, 1))),
    "log_prob": lambda L, c: build(L, c)[0].log_prob(_value(L, c)),
    "log_prob_outside_validated": lambda L, c: build(L, c, validate=True)[0].log_prob(_value(L, c, "outside")),
    "log_prob_outside_unvalidated": lambda L, c: build(L, c, validate=False)[0].log_prob(_value(L, c, "outside")),
    "cdf": lambda L, c: build(L, c)[0].cdf(_value(L, c)),
    "icdf": lambda L, c: build(L, c)[0].icdf(_quantiles(L, c)),
    "enumerate_support": lambda L, c: (lambda d: (d.enumerate_support(), d.enumerate_support(False)))(build(L, c)[0]),
    "expand": _expanded,
    "grad_rsample": lambda L, c: seeded(L, lambda: _grad(L, c, lambda d: d.rsample((2,)))),
    "grad_log_prob": lambda L, c: _grad(L, c, lambda d: d.log_prob(_value(L, c))),
    "grad_entropy": lambda L, c: _grad(L, c, lambda d: d.entropy()),
    "grad_cdf": lambda L, c: _grad(L, c, lambda d: d.cdf(_value(L, c))),
    "grad_mean_variance": lambda L, c: _grad(L, c, lambda d: d.mean.sum() + d.variance.sum()),
    "sample_empty": lambda L, c: seeded(L, lambda: build(L, c)[0].sample((2, 0))),
    "rsample_empty": lambda L, c: seeded(L, lambda: build(L, c)[0].rsample((0,))),
    "log_prob_empty": _empty_value,
    "expand_empty": _expanded_empty,
    "sample_flags": lambda L, c: _draw_flags(L, c, "sample"),
    "rsample_flags": lambda L, c: _draw_flags(L, c, "rsample"),
    "moment_flags": _moment_flags,
    "log_prob_no_grad": _without_grad,
    "grad_log_prob_value": _value_grad,
    "grad2_log_prob": _second_grad,
    "grad_icdf": _icdf_grad,
}


def _spoiled(case, name, how):
    params = dict(case["params"])
    value = numpy.asarray(params[name])
    params[name] = numpy.full_like(value, numpy.nan) if how == "nan" else numpy.asarray(-value - 1)
    return params


def invalid_probes(case):
    """For each array parameter: construction with NaN or negated values, validated and not."""
    probes = {}
    for name, value in case["params"].items():
        if not isinstance(value, numpy.ndarray) or value.dtype.kind != "f":
            continue
        for how in ("nan", "negated"):
            for flag in (True, False, None):
                def probe(L, c, name=name, how=how, flag=flag):
                    d, _ = build(L, c, validate=flag, params=_spoiled(c, name, how))
                    return repr(d), d.log_prob(_value(L, c)) if flag is False else None
                probes[f"{name}_{how}_validate={flag}"] = probe
    return probes
