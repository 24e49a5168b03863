"""RAdam: Adam with the variance of the adaptive learning rate rectified during warm-up."""
import numpy

from .._backend import xp_of
from .._tensor import Tensor
from ._kernels import add_scaled, addcmul_, axpy, lerp_
from .optimizer import (Optimizer, ParamsT, _check_betas, _check_lr, _check_non_negative, _decay_factor,
                        _multi_tensor_form, _recorded_gradient, _step_tensor, _zeros_state)


class RAdam(Optimizer):
    """Plain momentum steps while the approximated SMA length is <= 5, then rectified Adam steps."""

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        _check_lr(lr)
        _check_non_negative("epsilon value", eps)
        _check_betas(betas)
        _check_non_negative("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def _init_state(self, group, param, state):
        state["step"] = _step_tensor(0.0)
        state["exp_avg"] = _zeros_state(param)
        state["exp_avg_sq"] = _zeros_state(param)

    def _differentiable_update(self, group, param, grad, state):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        grad = _recorded_gradient(group, param, grad, state)
        step = float(state["step"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction2 = 1 - beta2 ** step
        corrected = exp_avg / (1 - beta1 ** step)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add(eps)
            param.add_(corrected * lr * adaptive * rect, alpha=-1.0)
        else:
            param.add_(corrected * lr, alpha=-1.0)

    def _update(self, group, param, grad, state):
        # PyTorch's op sequence (_single_tensor_radam), with its fused multiply-adds (``_kernels``) but for
        # addcmul_'s: the step goes through PyTorch's sqrt (MKL's), whose bits are out of reach, and fusing them
        # made the step 1.6-2x slower; the temporaries in kept arrays (``Optimizer._scratch``)
        xp, lr, (beta1, beta2), weight_decay = xp_of(param), float(group["lr"]), group["betas"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        state["step"]._data += 1
        step = float(state["step"]._data)
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param *= _decay_factor(group["lr"], weight_decay)
            else:
                grad = add_scaled(grad, weight_decay, param)
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        work, update = self._scratch(param, 0), self._scratch(param, 1)
        lerp_(exp_avg, grad, 1 - beta1, work)
        exp_avg_sq *= beta2
        addcmul_(exp_avg_sq, grad, grad, 1 - beta2, work, fused=False)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        if _multi_tensor_form(group, param):
            self._multi_tensor_step(group, param, step, exp_avg, exp_avg_sq, bias_correction1, bias_correction2)
            return
        xp.divide(exp_avg, bias_correction1, out=update)
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            # a number over a tensor is the tensor's reciprocal times the number in PyTorch (Tensor.__rtruediv__)
            adaptive_lr = xp.sqrt(exp_avg_sq, out=work)
            adaptive_lr += group["eps"]
            xp.divide(1, adaptive_lr, out=adaptive_lr)
            adaptive_lr *= bias_correction2 ** 0.5
            update *= adaptive_lr
            update *= rect
        axpy(param, -1.0, update)

    def _multi_tensor_step(self, group, param, step, exp_avg, exp_avg_sq, bias_correction1, bias_correction2):
        """The rest of PyTorch's foreach form of the step (_multi_tensor_radam): the rectified and unrectified steps
        folded into one factor per element, its sign and scale through a reciprocal."""
        xp, lr, beta2 = xp_of(param), float(group["lr"]), group["betas"][1]
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5 \
            if rho_t > 5 else 0
        unrect_step_size = (lr * (0 if rect > 0 else 1.0) / bias_correction1) * -1
        scale = (bias_correction2 ** 0.5) * (lr * rect / bias_correction1) * -1
        factor = xp.sqrt(exp_avg_sq, out=self._scratch(param, 0))
        factor += group["eps"]
        # unrectified: over -0.0, to -inf, whose reciprocal is -0.0 (and 0 / -0.0 NaN where eps vanishes, as there)
        with numpy.errstate(divide="ignore", invalid="ignore"):
            factor /= scale
            xp.divide(1, factor, out=factor)
        factor += unrect_step_size
        addcmul_(param, exp_avg, factor, 1, self._scratch(param, 1), fused=False)
