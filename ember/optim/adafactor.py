"""Adafactor (Shazeer and Stern, 2018) as PyTorch's ``optim.Adafactor``: the second moment of a matrix's gradient kept
as row and column means (factored), updates scaled by the parameter's RMS and clipped by their own RMS."""
import numpy

from .._backend import xp_of
from .._tensor import Tensor
from .optimizer import Optimizer, ParamsT, _lerp_, _state_tensor, _step_tensor


class Adafactor(Optimizer):
    """p -= max(eps2, RMS(p)) * min(lr, 1 / sqrt(t)) * u / max(1, RMS(u) / d), u = g / sqrt(v), with v factored into
    row and column variances for parameters of two or more dims and 1 - beta2_t = t ** beta2_decay."""

    _elementwise = False   # the update reads whole-parameter norms: never packed with other parameters

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _prepare_group(self, group):
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.dtype.is_complex:
                raise RuntimeError("Adafactor does not support complex parameters")
            if p.grad.is_sparse:
                raise RuntimeError("Adafactor does not support sparse gradients")

    def _init_state(self, group, param, state):
        grad = param.grad._data
        xp = xp_of(grad)
        state["step"] = _step_tensor(0.0)
        if grad.ndim > 1:
            state["row_var"] = _state_tensor(xp.zeros(grad.shape[:-1] + (1,), grad.dtype))
            state["col_var"] = _state_tensor(xp.zeros(grad.shape[:-2] + (1,) + grad.shape[-1:], grad.dtype))
        else:
            state["variance"] = _state_tensor(xp.zeros_like(grad))

    def _update(self, group, param, grad, state):
        xp = xp_of(param)
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(numpy.finfo(param.dtype).eps)
        if group["maximize"]:
            grad = -grad
        lr, weight_decay = float(group["lr"]), group["weight_decay"]
        state["step"]._data += 1
        step = float(state["step"]._data)
        weight = step ** group["beta2_decay"]   # 1 - beta2 at this step
        rho = min(lr, 1 / step ** 0.5)
        alpha = max(eps2, _norm(xp, param) / param.size ** 0.5) * rho
        if weight_decay != 0:
            param *= 1 - lr * weight_decay
        if grad.ndim > 1:
            row_var, col_var = state["row_var"]._data, state["col_var"]._data
            _lerp_(row_var, xp.square(_norm(xp, grad, -1)) / grad.shape[-1], weight)
            _lerp_(col_var, xp.square(_norm(xp, grad, -2)) / grad.shape[-2], weight)
            estimate = xp.matmul(row_var, col_var)
            estimate /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = state["variance"]._data
            _lerp_(variance, grad * grad, weight)
            estimate = variance.copy()
        update = 1 / xp.sqrt(xp.maximum(estimate, eps1 * eps1))
        update *= grad
        denom = max(1.0, _norm(xp, update) / (update.size ** 0.5 * group["d"]))
        param += update * (-alpha / denom)


def _norm(xp, a, axis=None):
    """The Euclidean norm of ``a`` (along ``axis``, kept as a dim of one), as a float when whole."""
    if axis is None:
        return float(xp.sqrt(xp.sum(xp.square(a, dtype=numpy.float64))))
    return xp.sqrt(xp.sum(xp.square(a), axis=axis, keepdims=True))
