"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay and the AMSGrad variant."""
import math

from .._tensor import Tensor
from .optimizer import Optimizer, ParamsT, _check_non_negative, _state_tensor, _step_tensor


class Adam(Optimizer):
    """Adam: per-parameter steps scaled by running estimates of the gradient's first and second moments."""

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3,
                 betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False):
        _check_non_negative("learning rate", float(lr))
        _check_non_negative("epsilon value", eps)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        _check_non_negative("weight_decay value", weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, group, param, state):
        state["step"] = _step_tensor(0.0)
        state["exp_avg"] = _state_tensor(_array_module(param._data).zeros_like(param._data))
        state["exp_avg_sq"] = _state_tensor(_array_module(param._data).zeros_like(param._data))
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _state_tensor(_array_module(param._data).zeros_like(param._data))

    def _update(self, group, param, grad, state):
        lr, (beta1, beta2), eps, weight_decay = float(group["lr"]), group["betas"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if weight_decay:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * param
        state["step"]._data += 1
        step = float(state["step"]._data)
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        xp = _array_module(param)
        # the arithmetic of exp_avg += (1 - beta1) * (grad - exp_avg) etc., with the temporaries in kept scratch
        # arrays (fresh ones per step are returned to the OS and faulted in again)
        work, denominator = self._scratch(param, 0), self._scratch(param, 1)
        xp.subtract(grad, exp_avg, out=work)
        work *= 1 - beta1
        exp_avg += work
        exp_avg_sq *= beta2
        xp.multiply(1 - beta2, grad, out=work)
        work *= grad
        exp_avg_sq += work
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
        second = exp_avg_sq
        if group["amsgrad"]:
            maximum = state["max_exp_avg_sq"]._data
            xp.maximum(maximum, exp_avg_sq, out=maximum)
            second = maximum
        xp.sqrt(second, out=denominator)
        denominator /= bias_correction2_sqrt
        denominator += eps
        xp.multiply(lr / bias_correction1, exp_avg, out=work)
        work /= denominator
        param -= work


class AdamW(Adam):
    """Adam with decoupled weight decay: parameters shrink by lr * weight_decay each step."""

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3,
                 betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


def _array_module(array):
    from .._backend import xp_of
    return xp_of(array)
