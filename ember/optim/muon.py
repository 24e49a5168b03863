"""Muon (Jordan et al., 2024) as PyTorch's ``optim.Muon``: SGD momentum on 2-D parameters whose update is
orthogonalised by a quintic Newton-Schulz iteration run in bfloat16, as PyTorch runs it."""
import math

import numpy

from .._backend import xp_of
from .optimizer import Optimizer, ParamsT, _decay_factor, _lerp_, _zeros_state

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


def _bfloat16(xp, a):
    """``a`` rounded to bfloat16 (nearest, ties to even) and held as float32: each of PyTorch's bfloat16 ops rounds
    its float32 result once, so the iteration rounds where PyTorch's does without needing a bfloat16 array type."""
    bits = xp.ascontiguousarray(a, dtype=numpy.float32).view(numpy.uint32)
    bits = (bits + numpy.uint32(0x7FFF) + ((bits >> 16) & numpy.uint32(1))) & numpy.uint32(0xFFFF0000)
    return bits.view(numpy.float32)


def _zeropower_via_newtonschulz(xp, grad, ns_coefficients, ns_steps, eps):
    """An approximate orthogonalisation U S' V^T (S' near one) of a 2-D ``grad`` by ``ns_steps`` quintic
    Newton-Schulz steps with coefficients (a, b, c), in bfloat16 arithmetic; returned as float32."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (numpy.float32(v) for v in ns_coefficients)
    tall = grad.shape[0] > grad.shape[1]
    x = _bfloat16(xp, grad.T if tall else grad)
    norm = _bfloat16(xp, xp.sqrt(xp.sum(xp.square(x))))
    x = _bfloat16(xp, x / xp.maximum(norm, _bfloat16(xp, xp.asarray(eps, numpy.float32))))
    for _ in range(ns_steps):
        gram = _bfloat16(xp, x @ x.T)
        gram_update = _bfloat16(xp, b * gram + c * (gram @ gram))
        x = _bfloat16(xp, a * x + gram_update @ x)
    return x.T if tall else x


def _adjust_lr(lr, adjust_lr_fn, shape):
    """The step size for a (rows, cols) parameter: ``lr`` times sqrt(max(1, rows / cols)) ("original", Jordan's) or
    0.2 sqrt(max(rows, cols)) ("match_rms_adamw", Moonshot's, to match AdamW's update RMS)."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    """Momentum (Nesterov by default) whose update is orthogonalised by Newton-Schulz before the step, with
    decoupled weight decay; for the 2-D weights of hidden layers (others go to an optimizer such as AdamW)."""

    _elementwise = False   # the update is a whole-matrix iteration: never packed with other parameters

    def __init__(self, params: ParamsT, lr: float = 1e-3, weight_decay: float = 0.1, momentum: float = 0.95,
                 nesterov: bool = True, ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
                 eps: float = EPS, ns_steps: int = DEFAULT_NS_STEPS, adjust_lr_fn: str | None = None):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                      ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                                      adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    def _prepare_group(self, group):
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.dtype.is_complex:
                raise RuntimeError("Muon does not support complex parameters")
            if p.grad.is_sparse:
                raise RuntimeError("Muon does not support sparse gradients")

    def _init_state(self, group, param, state):
        state["momentum_buffer"] = _zeros_state(param)

    def _update(self, group, param, grad, state):
        xp = xp_of(param)
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        lr, momentum = group["lr"], group["momentum"]   # a Tensor lr scales in its dtype, as PyTorch's
        buffer = state["momentum_buffer"]._data
        _lerp_(buffer, grad, 1 - momentum)
        if group["nesterov"]:
            update = grad.copy()
            _lerp_(update, buffer, momentum)
        else:
            update = buffer
        update = _zeropower_via_newtonschulz(xp, update, group["ns_coefficients"], group["ns_steps"], group["eps"])
        step = float(_adjust_lr(lr, group["adjust_lr_fn"], param.shape))
        param *= _decay_factor(lr, group["weight_decay"])
        param += -step * update.astype(param.dtype, copy=False)
