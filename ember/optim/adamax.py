"""Adamax: Adam with the second moment replaced by an exponentially weighted infinity norm."""
from .._backend import xp_of
from .._tensor import Tensor
from ._kernels import add_scaled, addcdiv_, lerp_
from .optimizer import (Optimizer, ParamsT, _check_betas, _check_lr, _check_non_negative, _recorded_gradient,
                        _step_tensor, _zeros_state)


class Adamax(Optimizer):
    """p -= lr / (1 - beta1^t) * m / u, where u = max(beta2 * u, |g| + eps)."""

    def __init__(self, params: ParamsT, lr: float | Tensor = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        _check_lr(lr)
        _check_non_negative("epsilon value", eps)
        _check_betas(betas)
        _check_non_negative("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _init_state(self, group, param, state):
        state["step"] = _step_tensor(0.0)
        state["exp_avg"] = _zeros_state(param)
        state["exp_inf"] = _zeros_state(param)

    def _differentiable_update(self, group, param, grad, state):
        from ..ops.rearrange import cat
        beta1, beta2 = group["betas"]
        grad = _recorded_gradient(group, param, grad, state)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg.lerp_(grad, 1 - beta1)
        norms = cat([exp_inf.mul_(beta2).unsqueeze(0), grad.abs().add_(group["eps"]).unsqueeze_(0)], 0)
        exp_inf.copy_(norms.amax(0, keepdim=False))
        clr = group["lr"] / (1 - beta1 ** float(state["step"]))
        param.addcdiv_(exp_avg, exp_inf, value=-float(clr))

    def _update(self, group, param, grad, state):
        # PyTorch's op sequence (_single_tensor_adamax), with its fused multiply-adds (``_kernels``)
        xp, (beta1, beta2) = xp_of(param), group["betas"]
        if group["maximize"]:
            grad = -grad
        state["step"]._data += 1
        step = float(state["step"]._data)
        if group["weight_decay"] != 0:
            grad = add_scaled(grad, group["weight_decay"], param)
        exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
        work = self._scratch(param, 0)   # the temporaries in kept arrays (``Optimizer._scratch``)
        lerp_(exp_avg, grad, 1 - beta1, work)
        exp_inf *= beta2
        bound = xp.abs(grad, out=work)
        bound += group["eps"]
        xp.maximum(exp_inf, bound, out=exp_inf)
        addcdiv_(param, exp_avg, exp_inf, -(float(group["lr"]) / (1 - beta1 ** step)), work)
