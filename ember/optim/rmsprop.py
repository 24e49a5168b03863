"""RMSprop: gradients divided by a running root mean square, optionally centred and with momentum."""
from .._backend import xp_of
from .._tensor import Tensor
from ._kernels import add_scaled, addcdiv_, addcmul_, axpy, lerp_
from .optimizer import (Optimizer, ParamsT, _check_lr, _check_non_negative, _recorded_gradient, _step_tensor,
                        _zeros_state)


class RMSprop(Optimizer):
    """p -= lr * g / (sqrt(E[g^2] - (E[g]^2 if centered)) + eps), through a momentum buffer when momentum > 0."""

    _capturable_xla = (True, True)

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False):
        _check_lr(lr)
        _check_non_negative("epsilon value", eps)
        _check_non_negative("momentum value", momentum)
        _check_non_negative("weight_decay value", weight_decay)
        _check_non_negative("alpha value", alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _init_state(self, group, param, state):
        state["step"] = _step_tensor(0.0)
        state["square_avg"] = _zeros_state(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_state(param)
        if group["centered"]:
            state["grad_avg"] = _zeros_state(param)

    def _differentiable_update(self, group, param, grad, state):
        alpha, lr, eps = group["alpha"], group["lr"], group["eps"]
        grad = _recorded_gradient(group, param, grad, state)
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add(eps)
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]
            buffer.mul_(group["momentum"]).addcdiv_(grad, avg)
            param.add_(buffer, alpha=-lr)
        else:
            param.addcdiv_(grad, avg, value=-lr)

    def _update(self, group, param, grad, state):
        # PyTorch's op sequence (_single_tensor_rmsprop), with its fused multiply-adds (``_kernels``) but for
        # addcmul_'s: the step goes through PyTorch's sqrt (MKL's), whose bits are out of reach, and fusing them
        # doubled the step
        xp, alpha, lr = xp_of(param), group["alpha"], float(group["lr"])
        state["step"]._data += 1
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = add_scaled(grad, group["weight_decay"], param)
        square_avg = state["square_avg"]._data
        work, avg = self._scratch(param, 0), self._scratch(param, 1)   # kept temporaries (``Optimizer._scratch``)
        square_avg *= alpha
        addcmul_(square_avg, grad, grad, 1 - alpha, work, fused=False)
        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            lerp_(grad_avg, grad, 1 - alpha, work)
            xp.copyto(avg, square_avg)
            addcmul_(avg, grad_avg, grad_avg, -1, work, fused=False)
            xp.sqrt(avg, out=avg)
        else:
            xp.sqrt(square_avg, out=avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]._data
            buffer *= group["momentum"]
            addcdiv_(buffer, grad, avg, 1, work)
            axpy(param, -lr, buffer)
        else:
            addcdiv_(param, grad, avg, -lr, work)
