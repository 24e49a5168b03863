"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""
from .._backend import xp_of
from ..ops._parallel import ufunc
from .._tensor import Tensor
from ._kernels import add_scaled, axpy, fma_into
from .optimizer import (Optimizer, ParamsT, required, _add_sparse_, _check_fused, _check_lr, _check_non_negative,
                        _fused_kernel_tail, _state_tensor)


class SGD(Optimizer):
    """p -= lr * g, where g is the gradient (plus weight decay) passed through optional momentum."""

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float | Tensor = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None):
        if lr is not required:
            _check_lr(lr)
        _check_non_negative("momentum value", momentum)
        _check_non_negative("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))
        _check_fused(self, fused, foreach, differentiable)

    def _init_state(self, group, param, state):
        if group["momentum"] != 0:
            state["momentum_buffer"] = None

    def _skipped_step_state(self, group, param, state):
        # PyTorch's fused step makes the buffer (uninitialized, with empty_like) before the kernel sees the inf flag;
        # ember's holds zeros
        if group["momentum"] != 0 and state.get("momentum_buffer") is None:
            state["momentum_buffer"] = _state_tensor(xp_of(param._data).zeros_like(param._data))

    def _sparse_update(self, group, param, grad, state):
        # as PyTorch's: the momentum buffer is sparse too, and weight decay cannot add a dense parameter to it
        if group["fused"]:
            raise RuntimeError("`_fused_sgd` does not support sparse gradients")
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        momentum = group["momentum"]
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            buffer = grad.clone() if buffer is None else buffer * momentum + grad * (1 - group["dampening"])
            state["momentum_buffer"] = buffer
            grad = grad + buffer * momentum if group["nesterov"] else buffer
        _add_sparse_(param, grad, -float(group["lr"]))

    _has_fused = True
    _complex_as_real = False
    _foreach_differentiable = True

    def _differentiable_update(self, group, param, grad, state):
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = grad.clone().detach()
            else:
                buffer.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buffer, alpha=momentum) if group["nesterov"] else buffer
        if isinstance(lr, Tensor) and lr.requires_grad:
            param.addcmul_(grad, lr, value=-1)
        else:
            param.add_(grad, alpha=-float(lr))

    def _update(self, group, param, grad, state):
        # PyTorch's op sequence (_single_tensor_sgd), each add with an alpha one fused multiply-add as there
        lr, momentum, weight_decay = float(group["lr"]), group["momentum"], float(group["weight_decay"])
        xp = xp_of(param)
        if group["maximize"]:   # negated before the weight decay is added, as PyTorch's
            grad = -grad
        if weight_decay:
            grad = add_scaled(grad, weight_decay, param)
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                # copy as an array: arithmetic on 0-d arrays returns scalars, which cannot be updated in place
                buffer = state["momentum_buffer"] = _state_tensor(xp.array(grad, dtype=param.dtype))
            else:   # in place, in parts at once on the intra-op threads when large
                data = buffer._data
                dampening = group["dampening"]
                tail = _fused_kernel_tail(group, data)
                if tail:   # before the vector part overwrites the buffer
                    old = data.reshape(-1)[-tail:].copy()
                ufunc(xp.multiply, data, momentum, out=data)
                if dampening == 0:   # alpha 1: the fused sum is the plain one
                    ufunc(xp.add, data, grad, out=data)
                else:
                    axpy(data, 1 - dampening, grad)
                if tail:   # the fused kernel's scalar loop: buffer * momentum + grad * (1 - dampening), the first fused
                    scaled = xp.broadcast_to(grad, data.shape).reshape(-1)[-tail:] * (1 - dampening)
                    fma_into(data.reshape(-1)[-tail:], old, momentum, scaled)
            grad = add_scaled(grad, momentum, buffer._data) if group["nesterov"] else buffer._data
        axpy(param, -lr, grad)
