"""Rprop: resilient backpropagation, per-coordinate step sizes adapted from the signs of successive gradients."""
from .._backend import xp_of
from .._tensor import Tensor
from .optimizer import Optimizer, ParamsT, _check_lr, _recorded_gradient, _state_tensor, _step_tensor, _zeros_state


class Rprop(Optimizer):
    """Step sizes grow by etas[1] while a gradient keeps its sign and shrink by etas[0] when it flips."""

    _capturable_xla = (True, True)

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _init_state(self, group, param, state):
        state["step"] = _step_tensor(0.0)
        state["prev"] = _zeros_state(param)
        lr = float(group["lr"])   # a complex parameter's parts are two elements: both start at lr
        state["step_size"] = _state_tensor(xp_of(param._data).full_like(param._data, complex(lr, lr)
                                                                         if param.is_complex() else lr))

    def _differentiable_update(self, group, param, grad, state):
        (eta_minus, eta_plus), (step_size_min, step_size_max) = group["etas"], group["step_sizes"]
        grad = _recorded_gradient(group, param, grad, state)
        prev, step_size = state["prev"], state["step_size"]
        sign = grad.mul(prev.clone()).sign()
        sign[sign.gt(0)] = eta_plus
        sign[sign.lt(0)] = eta_minus
        sign[sign.eq(0)] = 1
        step_size.mul_(sign).clamp_(step_size_min, step_size_max)
        grad = grad.clone()
        grad[sign.eq(eta_minus)] = 0
        param.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)

    def _update(self, group, param, grad, state):
        xp, (eta_minus, eta_plus), (step_size_min, step_size_max) = xp_of(param), group["etas"], group["step_sizes"]
        if group["maximize"]:
            grad = -grad
        state["step"]._data += 1
        prev, step_size = state["prev"]._data, state["step_size"]._data
        agreement = grad * prev
        factor = xp.where(agreement > 0, eta_plus, xp.where(agreement < 0, eta_minus, 1.0)).astype(step_size.dtype)
        step_size *= factor
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)
        # after a sign flip the coordinate waits a step: no move, and no sign to compare next time
        grad = xp.where(agreement < 0, 0, grad)
        param -= xp.sign(grad) * step_size
        xp.copyto(prev, grad)
