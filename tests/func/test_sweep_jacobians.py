"""Jacobians of 0-d and empty tensors (found by a differential sweep against PyTorch 2.13): jacrev of a 0-d output,
jacrev/jacfwd/hessian with an empty input or output, and autograd.grad with batched grad_outputs of a 0-d output or
of an empty batch; jvp, jacfwd and hessian through logcumsumexp (its backward's log-space form, differentiated for
the cotangent at zero as ember's forward mode does, gave NaN); logit's jvp outside [0, 1] (NaN, or 0 with eps, as
PyTorch's; ember's gave 0 and NaN). Each program runs on ember and on torch."""
import numpy as np
import pytest

from tests.optim.sweep import check

PROGRAMS = {
    "jacrev 0-d": lambda L: L.func.jacrev(lambda x: x ** 3)(L.tensor(2.0)),
    "jacrev 0-d tuple": lambda L: L.func.jacrev(lambda x: (x ** 3, x.sin()))(L.tensor(0.5, dtype=L.float64)),
    "jacfwd 0-d": lambda L: L.func.jacfwd(lambda x: x ** 3)(L.tensor(2.0)),
    "hessian 0-d": lambda L: L.func.hessian(lambda x: x ** 3)(L.tensor(2.0, dtype=L.float64)),
    "jacrev of 0-d in vmap": lambda L: L.vmap(L.func.jacrev(lambda x: x.exp()))(L.tensor([0.5, 1.0])),
    "batched grad 0-d": lambda L: _batched_0d(L),
    "batched grad empty batch": lambda L: L.autograd.grad(L.ones(0, requires_grad=True) * 2, [L.ones(1)],
                                                          L.ones(0, 0), is_grads_batched=True),
}
for name in ("jacrev", "jacfwd"):
    PROGRAMS.update({
        f"{name} empty input": lambda L, n=name: getattr(L.func, n)(lambda x: x * 2)(L.ones(0)),
        f"{name} 2x0 input": lambda L, n=name: getattr(L.func, n)(lambda x: x * 2)(L.ones(2, 0)),
        f"{name} empty input, 0-d output": lambda L, n=name: getattr(L.func, n)(lambda x: x.sum())(L.ones(0)),
        f"{name} empty output": lambda L, n=name: getattr(L.func, n)(lambda x: x.new_ones(0) + x.sum())(L.ones(3)),
        f"{name} empty and full inputs": lambda L, n=name: getattr(L.func, n)(
            lambda x, y: x.sum() + y * 2, argnums=(0, 1))(L.ones(0), L.ones(2)),
    })


def _batched_0d(L):
    x = L.tensor(2.0, requires_grad=True)
    return L.autograd.grad(x ** 3, x, L.tensor([1.0, 2.0]), is_grads_batched=True)


@pytest.mark.parametrize("name", PROGRAMS)
def test_jacobians_of_0d_and_empty_as_torch(name):
    check(PROGRAMS[name], warns=False)


_A = np.random.default_rng(3).standard_normal((4, 5))
_WITH_NEG_INF = _A.copy()
_WITH_NEG_INF[:, 2] = -np.inf
LOGCUMSUMEXP = {
    "jvp, dim 1": lambda L: L.func.jvp(lambda x: x.logcumsumexp(1), (L.tensor(_A),), (L.tensor(_A[::-1].copy()),)),
    "jvp, dim 0": lambda L: L.func.jvp(lambda x: x.logcumsumexp(0), (L.tensor(_A),), (L.tensor(_A[::-1].copy()),)),
    "jvp, 0-d": lambda L: L.func.jvp(lambda x: x.logcumsumexp(0), (L.tensor(1.5, dtype=L.float64),),
                                     (L.tensor(2.0, dtype=L.float64),)),
    "jvp, -inf entries": lambda L: L.func.jvp(lambda x: x.logcumsumexp(1), (L.tensor(_WITH_NEG_INF),),
                                              (L.tensor(_A),)),
    "jvp, float32": lambda L: L.func.jvp(lambda x: x.logcumsumexp(1), (L.tensor(_A, dtype=L.float32),),
                                         (L.tensor(_A, dtype=L.float32),)),
    "jacfwd": lambda L: L.func.jacfwd(lambda x: x.logcumsumexp(1))(L.tensor(_A[:2])),
    "hessian": lambda L: L.func.hessian(lambda x: (x.logcumsumexp(1) * L.tensor(_A)).sum())(L.tensor(_A)),
    "gradient of the gradient for the cotangent": lambda L: _cotangent_derivative(L),
}


def _cotangent_derivative(L):
    x, v = L.tensor(_A, requires_grad=True), L.tensor(_A + 3, requires_grad=True)
    gradient, = L.autograd.grad(x.logcumsumexp(1), x, v, create_graph=True)
    return L.autograd.grad(gradient.sum(), v)


@pytest.mark.parametrize("name", LOGCUMSUMEXP)
def test_forward_mode_of_logcumsumexp_as_torch(name):
    check(LOGCUMSUMEXP[name], warns=False)



_OUTSIDE = [-0.5, 0.3, 1.5, 0.0, 1.0]
_CLAMPED = [-0.5, 0.3, 1.5, 0.05, 1.0, 0.1, 0.9]


def _logit_gradient(L, values, eps=None):
    x = L.tensor(values, requires_grad=True)
    return L.autograd.grad(L.logit(x, eps).sum(), x)


LOGIT = {
    "jvp outside [0, 1]": lambda L: L.func.jvp(L.logit, (L.tensor(_OUTSIDE),), (L.ones(5),)),
    "jvp with eps": lambda L: L.func.jvp(lambda x: L.logit(x, 0.1), (L.tensor(_CLAMPED),), (L.ones(7),)),
    "gradient outside [0, 1]": lambda L: _logit_gradient(L, _OUTSIDE),
    "gradient with eps": lambda L: _logit_gradient(L, _CLAMPED, 0.1),
    "hessian": lambda L: L.func.hessian(lambda x: L.logit(x).sum())(L.tensor([0.2, 0.7], dtype=L.float64)),
    "hessian with eps": lambda L: L.func.hessian(lambda x: L.logit(x, 1e-3).sum())(L.tensor([0.2, 0.7, 2.0],
                                                                                          dtype=L.float64)),
}


@pytest.mark.parametrize("name", LOGIT)
def test_forward_mode_of_logit_as_torch(name):
    check(LOGIT[name], warns=False)
