"""Adagrad: per-coordinate steps scaled by the root of the running sum of squared gradients."""
from .._backend import xp_of
from .._tensor import Tensor
from ._kernels import add_scaled, addcdiv_, addcmul_
from .optimizer import (Optimizer, ParamsT, _check_fused, _check_lr, _check_non_negative, _recorded_gradient,
                        _state_tensor, _step_tensor)


class Adagrad(Optimizer):
    """p -= lr / (1 + (step - 1) * lr_decay) * g / (sqrt(sum of g^2) + eps)."""

    _has_fused = True

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None):
        _check_lr(lr)
        _check_non_negative("lr_decay value", lr_decay)
        _check_non_negative("weight_decay value", weight_decay)
        _check_non_negative("initial_accumulator_value value", initial_accumulator_value)
        _check_non_negative("epsilon value", eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        _check_fused(self, fused, foreach, differentiable)
        # PyTorch fills Adagrad's state at construction, so a fresh state_dict already holds it
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(group, p, self.state[p])

    def _init_state(self, group, param, state):
        # PyTorch reads the constructor's accumulator value, not the group's
        xp = xp_of(param._data)
        state["step"] = _step_tensor(0.0, fused=bool(group["fused"]))
        state["sum"] = _state_tensor(xp.full_like(param._data, self.defaults["initial_accumulator_value"]))

    def _sparse_update(self, group, param, grad, state):
        # as PyTorch's: the sum and the parameter change only where the (coalesced) gradient has entries
        if group["fused"]:
            raise RuntimeError("`fused` does not support sparse grad or complex param")
        if group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        state["step"]._data += 1
        grad = (-grad if group["maximize"] else grad).coalesce()
        where, values = tuple(grad._indices_._data), grad._values_._data
        clr = float(group["lr"]) / (1 + (float(state["step"]._data) - 1) * group["lr_decay"])
        total = state["sum"]._data
        total[where] += values * values
        param._data[where] -= clr * (values / (xp_of(values).sqrt(total[where]) + group["eps"]))

    def _differentiable_update(self, group, param, grad, state):
        grad = _recorded_gradient(group, param, grad, state)
        step = float(state["step"])
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        total = state["sum"]
        total.addcmul_(grad, grad, value=1)
        param.addcdiv_(grad, total.sqrt() + group["eps"], value=-clr)

    def _update(self, group, param, grad, state):
        # PyTorch's op sequence (_single_tensor_adagrad); its fused multiply-add (``_kernels``) where ``fused`` is
        # set: off it, the step goes through PyTorch's MKL sqrt, whose bits are out of reach (as Adam)
        state["step"]._data += 1
        step = float(state["step"]._data)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = add_scaled(grad, group["weight_decay"], param)
        clr = float(group["lr"]) / (1 + (step - 1) * group["lr_decay"])
        total = state["sum"]._data
        work, std = self._scratch(param, 0), self._scratch(param, 1)   # kept temporaries (``Optimizer._scratch``)
        addcmul_(total, grad, grad, 1, work, fused=bool(group["fused"]))
        xp_of(param).sqrt(total, out=std)
        std += group["eps"]
        addcdiv_(param, grad, std, -clr, work)
