"""Jacobians of 0-d and empty tensors (found by a differential sweep against PyTorch 2.13): jacrev of a 0-d output,
jacrev/jacfwd/hessian with an empty input or output, and autograd.grad with batched grad_outputs of a 0-d output or
of an empty batch. Each program runs on ember and on torch."""
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
