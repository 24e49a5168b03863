"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay and the AMSGrad variant."""
from .._tensor import Tensor
from ._kernels import add_scaled, addcdiv_, addcmul_, fma_into, lerp_
from .optimizer import (Optimizer, ParamsT, _check_betas, _check_fused, _check_lr, _check_non_negative, _decay_factor,
                        _fused_kernel_tail, _recorded_gradient, _state_tensor, _step_tensor)


class Adam(Optimizer):
    """Adam: per-parameter steps scaled by running estimates of the gradient's first and second moments."""

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3,
                 betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        _check_lr(lr)
        _check_non_negative("epsilon value", eps)
        _check_betas(betas)
        _check_non_negative("weight_decay value", weight_decay)
        if not all(isinstance(beta, float) for beta in betas) and not all(isinstance(beta, Tensor) for beta in betas):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor):
                if foreach and not capturable:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(beta.reshape(()) if isinstance(beta, Tensor) else beta for beta in betas)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _check_fused(self, fused, foreach, differentiable)

    _has_fused = True
    _sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def _init_state(self, group, param, state):
        state["step"] = _step_tensor(0.0, fused=bool(group["fused"]))
        state["exp_avg"] = _state_tensor(_array_module(param._data).zeros_like(param._data))
        state["exp_avg_sq"] = _state_tensor(_array_module(param._data).zeros_like(param._data))
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _state_tensor(_array_module(param._data).zeros_like(param._data))

    def _differentiable_update(self, group, param, grad, state):
        # PyTorch's recorded arithmetic: the bias corrections as tensors of the step, the step size folded into
        # the denominator
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        grad = _recorded_gradient(group, param, grad, state)
        step = state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad.conj(), value=1 - beta2)
        step_size_neg = -(lr / (1 - beta1 ** step))
        bias_correction2_sqrt = (1 - beta2 ** step).sqrt()
        second = exp_avg_sq
        if group["amsgrad"]:
            maximum = state["max_exp_avg_sq"]
            maximum.copy_(maximum.maximum(exp_avg_sq))
            second = maximum
        denominator = (second.sqrt() / (bias_correction2_sqrt * step_size_neg)).add_(eps / step_size_neg)
        param.addcdiv_(exp_avg.clone(), denominator)

    def _update(self, group, param, grad, state):
        # PyTorch's op sequence (_single_tensor_adam; its foreach form computes the same); the fused kernel's
        # multiply-adds (``_kernels``) where ``fused`` is set: off it, PyTorch's step goes through its sqrt (MKL's,
        # not correctly rounded), whose bits are out of reach, and fusing would cost ~70 % of the step
        lr, eps, weight_decay = float(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = (float(beta) for beta in group["betas"])
        if group["maximize"]:
            grad = -grad
        state["step"]._data += 1
        if weight_decay:
            if group["decoupled_weight_decay"]:
                param *= _decay_factor(group["lr"], weight_decay)
            else:
                grad = add_scaled(grad, weight_decay, param)
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        xp = _array_module(param)
        # the temporaries in kept scratch arrays (fresh ones per step are returned to the OS and faulted in again)
        work, fused = self._scratch(param, 0), bool(group["fused"])
        lerp_(exp_avg, grad, 1 - beta1, work, fused)
        tail = _fused_kernel_tail(group, exp_avg_sq)
        if tail:   # before the vector part overwrites it
            old = exp_avg_sq.reshape(-1)[-tail:].copy()
        exp_avg_sq *= beta2
        addcmul_(exp_avg_sq, grad, grad, 1 - beta2, work, fused)
        if tail:   # the fused kernel's scalar loop: exp_avg_sq * beta2 fused with the rounded (1 - beta2) * grad * grad
            last = xp.broadcast_to(grad, exp_avg_sq.shape).reshape(-1)[-tail:]
            fma_into(exp_avg_sq.reshape(-1)[-tail:], old, beta2, last * (1 - beta2) * last)
        step = float(state["step"]._data)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        second = exp_avg_sq
        if group["amsgrad"]:
            maximum = state["max_exp_avg_sq"]._data
            xp.maximum(maximum, exp_avg_sq, out=maximum)
            second = maximum
        denominator = xp.sqrt(second, out=self._scratch(param, 1))
        denominator /= bias_correction2_sqrt
        denominator += eps
        addcdiv_(param, exp_avg, denominator, -(lr / bias_correction1), work)


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
