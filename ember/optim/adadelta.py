"""Adadelta: steps sized by the ratio of running RMS of past updates to running RMS of gradients."""
from .._backend import xp_of
from .._tensor import Tensor
from ._kernels import add_scaled, addcmul_, axpy
from .optimizer import (Optimizer, ParamsT, _check_lr, _check_non_negative, _recorded_gradient, _step_tensor,
                        _zeros_state)


class Adadelta(Optimizer):
    """p -= lr * sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g, with running averages decayed by rho."""

    _capturable_xla = (False, False)

    def __init__(self, params: ParamsT, lr: float | Tensor = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_non_negative("epsilon value", eps)
        _check_non_negative("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def _init_state(self, group, param, state):
        state["step"] = _step_tensor(0.0)
        state["square_avg"] = _zeros_state(param)
        state["acc_delta"] = _zeros_state(param)

    def _differentiable_update(self, group, param, grad, state):
        rho, eps = group["rho"], group["eps"]
        grad = _recorded_gradient(group, param, grad, state)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_().clone()
        delta.div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        param.add_(delta, alpha=-float(group["lr"]))

    def _update(self, group, param, grad, state):
        # PyTorch's op sequence (_single_tensor_adadelta), with its fused multiply-adds (``_kernels``) but for
        # addcmul_'s: the step goes through PyTorch's sqrt (MKL's), whose bits are out of reach, and fusing them
        # doubled the step
        xp, rho, eps = xp_of(param), group["rho"], group["eps"]
        state["step"]._data += 1
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = add_scaled(grad, group["weight_decay"], param)
        square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
        # the temporaries in kept arrays (``Optimizer._scratch``)
        work, std, delta = (self._scratch(param, index) for index in range(3))
        square_avg *= rho
        addcmul_(square_avg, grad, grad, 1 - rho, work, fused=False)
        xp.sqrt(xp.add(square_avg, eps, out=std), out=std)
        xp.sqrt(xp.add(acc_delta, eps, out=delta), out=delta)
        delta /= std
        delta *= grad
        acc_delta *= rho
        addcmul_(acc_delta, delta, delta, 1 - rho, work, fused=False)
        axpy(param, -float(group["lr"]), delta)
