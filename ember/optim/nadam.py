"""NAdam: Adam with Nesterov momentum and a warming-up momentum schedule."""
from .._backend import xp_of
from .._tensor import Tensor
from ._kernels import add_scaled, addcdiv_, addcmul_, lerp_
from .optimizer import (Optimizer, ParamsT, _check_betas, _check_lr, _check_non_negative, _decay_factor,
                        _multi_tensor_form, _recorded_gradient, _step_tensor, _zeros_state)


class NAdam(Optimizer):
    """Adam whose step mixes the current gradient and the next momentum, weighted by the schedule mu_t."""

    _capturable_tensors = ("params, mu_products and state_steps", "params, mu_products, and state_steps")

    _scalar_state = frozenset({"step", "mu_product"})

    def __init__(self, params: ParamsT, lr: float | Tensor = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        _check_lr(lr)
        _check_non_negative("epsilon value", eps)
        _check_betas(betas)
        _check_non_negative("weight_decay value", weight_decay)
        _check_non_negative("momentum_decay value", momentum_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _init_state(self, group, param, state):
        state["step"] = _step_tensor(0.0)
        state["mu_product"] = _step_tensor(1.0)
        state["exp_avg"] = _zeros_state(param)
        state["exp_avg_sq"] = _zeros_state(param)

    def _differentiable_update(self, group, param, grad, state):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        grad = _recorded_gradient(group, param, grad, state)
        step = float(state["step"])
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * group["momentum_decay"])))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * group["momentum_decay"])))
        mu_product = state["mu_product"]
        mu_product.mul_(mu)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denominator = exp_avg_sq.div(1 - beta2 ** step).sqrt().add(eps)
        param.addcdiv_(grad * (-lr * (1.0 - mu) / (1.0 - mu_product)), denominator)
        param.addcdiv_(exp_avg * (-lr * mu_next / (1.0 - mu_product * mu_next)), denominator)

    def _update(self, group, param, grad, state):
        # PyTorch's op sequence (_single_tensor_nadam), with its fused multiply-adds (``_kernels``) but for
        # addcmul_'s: the step goes through PyTorch's sqrt (MKL's), whose bits are out of reach, and fusing it
        # made the step ~60 % slower
        xp, lr, (beta1, beta2) = xp_of(param), float(group["lr"]), group["betas"]
        weight_decay, momentum_decay = group["weight_decay"], group["momentum_decay"]
        if group["maximize"]:
            grad = -grad
        state["step"]._data += 1
        step = float(state["step"]._data)
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param *= _decay_factor(group["lr"], weight_decay)
            else:
                grad = add_scaled(grad, weight_decay, param)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        # the product is kept in float32, as PyTorch keeps it
        state["mu_product"]._data *= mu
        mu_product = float(state["mu_product"]._data)
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        work, denominator = self._scratch(param, 0), self._scratch(param, 1)   # kept temporaries (``_scratch``)
        lerp_(exp_avg, grad, 1 - beta1, work)
        exp_avg_sq *= beta2
        addcmul_(exp_avg_sq, grad, grad, 1 - beta2, work, fused=False)
        if _multi_tensor_form(group, param):   # PyTorch's foreach form divides the square root instead
            xp.sqrt(exp_avg_sq, out=denominator)
            denominator /= bias_correction2 ** 0.5
        else:
            xp.sqrt(xp.divide(exp_avg_sq, bias_correction2, out=denominator), out=denominator)
        denominator += group["eps"]
        addcdiv_(param, grad, denominator, -lr * (1.0 - mu) / (1.0 - mu_product), work)
        addcdiv_(param, exp_avg, denominator, (-lr * mu_next) / (1.0 - mu_product * mu_next), work)
