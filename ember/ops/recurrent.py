"""One LSTM or GRU time step as a single primitive: the hidden matmul and every gate in one forward, the
gradients of all inputs in one backward (Tensor ops, so it differentiates again under ``create_graph``).

The recurrent layers loop over time calling these, which replaces about fifteen graph nodes per step by one.
"""
from ..autograd.function import Primitive
from ..autograd.grad_mode import state
from . import shape
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
        if state.enabled:   # create_graph: the activations again, as a graph of the inputs
            gates = gi + h.matmul(w_hh.t())
            i, f, g, o = shape.chunk(gates, 4, 1)
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            tanh_c = (f * c + i * g).tanh()
        else:
            i, f, g, o = shape.chunk(gates, 4, 1)
        grad_c = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
        grad_gates = shape.cat([grad_c * g * i * (1 - i), grad_c * c * f * (1 - f), grad_c * i * (1 - g * g),
                                grad_h * tanh_c * o * (1 - o)], 1)
        needs = ctx.needs_input_grad
        return (grad_gates if needs[0] else None, grad_gates.matmul(w_hh) if needs[1] else None,
                grad_c * f if needs[2] else None, grad_gates.t().matmul(h) if needs[3] else None)


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
        if state.enabled:   # create_graph: the activations again, as a graph of the inputs
            gh = h.matmul(w_hh.t()) if b_hh is None else h.matmul(w_hh.t()) + b_hh
            i_rz, i_n = gi.split([2 * h.shape[1], h.shape[1]], 1)
            h_rz, h_n = gh.split([2 * h.shape[1], h.shape[1]], 1)
            rz = (i_rz + h_rz).sigmoid()
            r, z = shape.chunk(rz, 2, 1)
            n = (i_n + r * h_n).tanh()
        else:
            r, z = shape.chunk(rz, 2, 1)
            h_n = gh[:, 2 * h.shape[1]:]
        grad_n = grad * (1 - z) * (1 - n * n)
        grad_rz = shape.cat([grad_n * h_n * r * (1 - r), grad * (h - n) * z * (1 - z)], 1)
        grad_gh = shape.cat([grad_rz, grad_n * r], 1)
        needs = ctx.needs_input_grad
        return (shape.cat([grad_rz, grad_n], 1) if needs[0] else None,
                grad * z + grad_gh.matmul(w_hh) if needs[1] else None,
                grad_gh.t().matmul(h) if needs[2] else None,
                grad_gh.sum(0) if len(needs) > 3 and needs[3] else None)


def lstm_step(gi, h, c, w_hh):
    """(h', c') of one LSTM step; ``gi`` holds the input projection plus both biases."""
    return LSTMStep.apply(gi, h, c, w_hh)


def gru_step(gi, h, w_hh, b_hh=None):
    """h' of one GRU step; ``gi`` holds the input projection plus b_ih."""
    return GRUStep.apply(gi, h, w_hh) if b_hh is None else GRUStep.apply(gi, h, w_hh, b_hh)
