"""One LSTM or GRU time step as a single primitive: the hidden matmul and every gate in one forward, the
gradients of all inputs in one backward: one formula, run on arrays normally and on Tensors under ``create_graph``
(where the activations are recomputed as a graph of the inputs, so the step differentiates again).

The recurrent layers loop over time calling these, which replaces about fifteen graph nodes per step by one.
"""
from .._tensor import _make
from ..autograd.function import Primitive
from ..autograd.grad_mode import state
from . import rearrange, shape
from ._util import quiet
from .pointwise.transcendental import sigmoid_of_negated_

__all__ = []


class LSTMStep(Primitive):
    """(h', c') from ``gi`` (x W_ih^T with both biases), the previous ``h`` and ``c``, and ``w_hh``."""

    @staticmethod
    @quiet
    def forward(ctx, gi, h, c, w_hh):
        xp, size = ctx.xp, c.shape[1]
        gates = xp.matmul(h, w_hh.T)
        gates += gi
        sigmoids = [gates[:, :2 * size], gates[:, 3 * size:]]   # i, f | g | o
        for part in sigmoids:
            xp.negative(part, out=part)
            sigmoid_of_negated_(xp, part)
        xp.tanh(gates[:, 2 * size:3 * size], out=gates[:, 2 * size:3 * size])
        c_next = gates[:, size:2 * size] * c
        c_next += gates[:, :size] * gates[:, 2 * size:3 * size]
        tanh_c = xp.tanh(c_next)
        ctx.save_for_backward(gi, h, c, w_hh, gates, tanh_c)
        return gates[:, 3 * size:] * tanh_c, c_next

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        gi, h, c, w_hh, gates, tanh_c = ctx.saved_tensors
        if state.enabled:   # create_graph
            return lstm_step_grads(ctx.needs_input_grad, gi, h, c, w_hh, grad_h, grad_c)
        xp, size = ctx.xp, c.shape[1]
        gates = gates._data
        i, f, g, o = (gates[:, k * size:(k + 1) * size] for k in range(4))
        grads = _lstm_grads(ctx.needs_input_grad, grad_h._data, grad_c._data, i, f, g, o, c._data, tanh_c._data,
                            h._data, w_hh._data, _Arrays(xp))
        return tuple(None if grad is None else _make(grad) for grad in grads)


class GRUStep(Primitive):
    """h' from ``gi`` (x W_ih^T + b_ih), the previous ``h``, ``w_hh`` and ``b_hh`` (or None)."""

    @staticmethod
    @quiet
    def forward(ctx, gi, h, w_hh, b_hh=None):
        xp, size = ctx.xp, h.shape[1]
        gh = xp.matmul(h, w_hh.T)
        if b_hh is not None:
            gh += b_hh
        rz = gi[:, :2 * size] + gh[:, :2 * size]
        xp.negative(rz, out=rz)
        sigmoid_of_negated_(xp, rz)
        r, z = rz[:, :size], rz[:, size:]
        n = r * gh[:, 2 * size:]
        n += gi[:, 2 * size:]
        xp.tanh(n, out=n)
        ctx.save_for_backward(gi, h, w_hh, b_hh, rz, n, gh)
        h_next = h - n
        h_next *= z
        h_next += n
        return h_next

    @staticmethod
    def backward(ctx, grad):
        gi, h, w_hh, b_hh, rz, n, gh = ctx.saved_tensors
        size = h.shape[1]
        if state.enabled:   # create_graph
            return gru_step_grads(ctx.needs_input_grad, gi, h, w_hh, b_hh, grad)
        rz, gh = rz._data, gh._data
        grads = _gru_grads(ctx.needs_input_grad, grad._data, rz[:, :size], rz[:, size:], n._data, gh[:, 2 * size:],
                           h._data, w_hh._data, _Arrays(ctx.xp))
        return tuple(None if grad is None else _make(grad) for grad in grads)


# --- the backward formulas, on Tensors (differentiable) or on arrays (no graph, no per-op dispatch) -----------------
class _Arrays:
    """Concatenation and transpose of ``xp`` arrays, as ``_Tensors`` does them for Tensors."""

    def __init__(self, xp):
        self.xp = xp

    def cat(self, parts):
        return self.xp.concatenate(parts, 1)

    @staticmethod
    def t(array):
        return array.T


class _Tensors:
    """Concatenation along dim 1 and transpose of Tensors, recorded when grad mode is on."""

    @staticmethod
    def cat(parts):
        return rearrange.cat(parts, 1)

    @staticmethod
    def t(tensor):
        return tensor.t()


def _lstm_grads(needs, grad_h, grad_c, i, f, g, o, c, tanh_c, h, w_hh, ops):
    """Gradients of (gi, h, c, w_hh) from those of (h', c') and the step's activations."""
    grad_c = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
    grad_gates = ops.cat([grad_c * g * i * (1 - i), grad_c * c * f * (1 - f), grad_c * i * (1 - g * g),
                          grad_h * tanh_c * o * (1 - o)])
    return (grad_gates if needs[0] else None, grad_gates @ w_hh if needs[1] else None,
            grad_c * f if needs[2] else None, ops.t(grad_gates) @ h if needs[3] else None)


def _gru_grads(needs, grad, r, z, n, h_n, h, w_hh, ops):
    """Gradients of (gi, h, w_hh, b_hh) from that of h' and the step's activations (``h_n``: h W_hn^T + b_hn)."""
    grad_n = grad * (1 - z) * (1 - n * n)
    grad_rz = ops.cat([grad_n * h_n * r * (1 - r), grad * (h - n) * z * (1 - z)])
    grad_gh = ops.cat([grad_rz, grad_n * r])
    return (ops.cat([grad_rz, grad_n]) if needs[0] else None,
            grad * z + grad_gh @ w_hh if needs[1] else None,
            ops.t(grad_gh) @ h if needs[2] else None,
            grad_gh.sum(0) if len(needs) > 3 and needs[3] else None)


def lstm_step_grads(needs, gi, h, c, w_hh, grad_h, grad_c):
    """The gradients of one LSTM step's (gi, h, c, w_hh) written with Tensor ops, so they differentiate again: the
    activations are recomputed as a graph of the inputs."""
    gates = gi + h.matmul(w_hh.t())
    i, f, g, o = shape.chunk(gates, 4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    tanh_c = (f * c + i * g).tanh()
    return _lstm_grads(needs, grad_h, grad_c, i, f, g, o, c, tanh_c, h, w_hh, _Tensors)


def gru_step_grads(needs, gi, h, w_hh, b_hh, grad):
    """The gradients of one GRU step's (gi, h, w_hh, b_hh) written with Tensor ops, so they differentiate again."""
    size = h.shape[1]
    gh = h.matmul(w_hh.t()) if b_hh is None else h.matmul(w_hh.t()) + b_hh
    rz = (gi[:, :2 * size] + gh[:, :2 * size]).sigmoid()
    n = (gi[:, 2 * size:] + rz[:, :size] * gh[:, 2 * size:]).tanh()
    return _gru_grads(needs, grad, rz[:, :size], rz[:, size:], n, gh[:, 2 * size:], h, w_hh, _Tensors)


def lstm_step(gi, h, c, w_hh):
    """(h', c') of one LSTM step; ``gi`` holds the input projection plus both biases."""
    return LSTMStep.apply(gi, h, c, w_hh)


def gru_step(gi, h, w_hh, b_hh=None):
    """h' of one GRU step; ``gi`` holds the input projection plus b_ih."""
    return GRUStep.apply(gi, h, w_hh) if b_hh is None else GRUStep.apply(gi, h, w_hh, b_hh)
