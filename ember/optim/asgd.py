"""ASGD: stochastic gradient descent with a decaying step and Polyak averaging of the iterates."""
from .._backend import xp_of
from .._tensor import Tensor
from ._kernels import add_scaled, addcmul_, axpy
from .optimizer import (Optimizer, ParamsT, _check_lr, _check_non_negative, _multi_tensor_form, _recorded_gradient,
                        _step_tensor, _zeros_state)


class ASGD(Optimizer):
    """p = p * (1 - lambd * eta) - eta * g; ``ax`` averages the iterates once the step count passes t0."""

    _capturable_tensors = ("params, mus, etas, and state_steps",) * 2

    _scalar_state = frozenset({"step", "eta", "mu"})

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        _check_lr(lr)
        _check_non_negative("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _init_state(self, group, param, state):
        state["step"] = _step_tensor(0.0)
        state["eta"] = _step_tensor(float(group["lr"]))
        state["mu"] = _step_tensor(1.0)
        state["ax"] = _zeros_state(param)

    def _differentiable_update(self, group, param, grad, state):
        lr, lambd, alpha = float(group["lr"]), group["lambd"], group["alpha"]
        grad = _recorded_gradient(group, param, grad, state)
        eta, mu, ax = float(state["eta"]), state["mu"], state["ax"]
        param.mul_(1 - lambd * eta)
        param.add_(grad, alpha=-eta)
        if float(mu) != 1:
            ax.add_(param.sub(ax).mul_(mu))
        else:
            ax.copy_(param)
        step = float(state["step"])
        state["eta"].fill_(lr / ((1 + lambd * lr * step) ** alpha))
        mu.fill_(1 / max(1, step - group["t0"]))

    def _update(self, group, param, grad, state):
        # PyTorch's op sequence (_single_tensor_asgd, or _multi_tensor_asgd for its foreach form), with its fused
        # multiply-adds (``_kernels``)
        lr, lambd = float(group["lr"]), group["lambd"]
        if group["maximize"]:
            grad = -grad
        state["step"]._data += 1
        if group["weight_decay"] != 0:
            grad = add_scaled(grad, group["weight_decay"], param)
        ax, mu, eta = state["ax"]._data, state["mu"]._data, state["eta"]._data
        if _multi_tensor_form(group, param):
            # the decay folded into the step: p - eta * (g + lambd * p), eta (a 0-d tensor) in its own type
            addcmul_(param, add_scaled(grad, lambd, param), eta.astype(param.dtype), -1)
            addcmul_(ax, param - ax, mu.astype(param.dtype), 1)
        else:
            param *= 1 - lambd * float(eta)
            axpy(param, -float(eta), grad)
            if float(mu) != 1:
                ax += (param - ax) * mu
            else:
                xp_of(ax).copyto(ax, param)
        step = float(state["step"]._data)
        if _multi_tensor_form(group, param):
            # there eta is computed from the step tensor: in its type, the quotient as reciprocal times lr
            state["eta"]._data[...] = 1 / (state["step"]._data * (lambd * lr) + 1) ** group["alpha"] * lr
        else:
            state["eta"]._data[...] = lr / (1 + lambd * lr * step) ** group["alpha"]
        state["mu"]._data[...] = 1 / max(1, step - group["t0"])
