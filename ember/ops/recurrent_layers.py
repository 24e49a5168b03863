"""One recurrent layer in one direction over a whole sequence as a single primitive (LSTM, GRU, Elman RNN).

Forward projects every time step's input with one GEMM, then loops over time on arrays, writing the gates, cell
states and outputs of all steps into preallocated buffers. Backward loops back over time (one GEMM per step, for
the gradient of the previous hidden state) and then computes the weight, bias and input gradients with one GEMM
each over the whole sequence. Under ``create_graph`` the backward is written with Tensor ops instead (the step
formulas of ``ember.ops.recurrent``), so it differentiates again.

The sequence is in packed layout: ``x`` holds the rows of each time step one after another. ``batch_sizes`` gives
the rows of each step (non-increasing, as a PackedSequence); None means every step has all ``h0.shape[0]`` rows.
Row ``r`` of a step continues row ``r`` of the state; a row past its sequence's end keeps its last state.
"""
import functools

import numpy

from .._tensor import _make
from ..autograd.function import Primitive
from ..autograd.grad_mode import state
from . import recurrent, shape
from .pointwise.transcendental import sigmoid_of_negated_

__all__ = []


def quiet(method):
    """Runs ``method`` with NumPy's floating-point warnings off (exp overflows in the sigmoid), keywords allowed."""
    @functools.wraps(method)
    def run(*args, **kwargs):
        with numpy.errstate(all="ignore"):
            return method(*args, **kwargs)
    return run


# --- the layout of a sequence --------------------------------------------------------------------------------------
def _blocks(x, h0, batch_sizes):
    """(start, stop) rows of each time step, in time order."""
    if batch_sizes is None:
        batch = h0.shape[0]
        return [(t, t + batch) for t in range(0, x.shape[0], batch)] if batch else []
    blocks, start = [], 0
    for size in batch_sizes:
        blocks.append((start, start + size))
        start += size
    return blocks


def _entering(xp, previous, initial, rows):
    """The first ``rows`` rows of the state entering a step: the previous step's, then (when the batch grows, in the
    reverse direction) the initial state of the sequences that start here."""
    have = previous.shape[0]
    return previous[:rows] if have >= rows else xp.concatenate([previous, initial[have:rows]])


def _previous(xp, sequence, initial, blocks, order):
    """For every row of ``sequence`` (a state per step), the state that entered its step."""
    batch = initial.shape[0]
    if all(stop - start == batch for start, stop in blocks):
        parts = [initial, sequence[:len(sequence) - batch]] if order is blocks else [sequence[batch:], initial]
        return xp.concatenate(parts)
    result, previous = xp.empty_like(sequence), initial
    for start, stop in order:
        result[start:stop] = _entering(xp, previous, initial, stop - start)
        previous = sequence[start:stop]
    return result


def _final(xp, sequence, initial, blocks, reverse):
    """The state each row ends in: a reverse pass ends at step 0; a forward one where each sequence ends."""
    if not blocks:
        return initial.copy()
    if reverse:
        start, stop = blocks[0]
        return sequence[start:stop].copy()
    result = xp.empty_like(initial)
    for t, (start, stop) in enumerate(blocks):
        ending = blocks[t + 1][1] - blocks[t + 1][0] if t + 1 < len(blocks) else 0
        if ending < stop - start:
            result[ending:stop - start] = sequence[start + ending:stop]
    return result


def _projection(xp, x, w_ih, *biases):
    """x W_ih^T plus the given biases, for all time steps in one GEMM."""
    projected = xp.matmul(x, w_ih.T)
    for bias in biases:
        if bias is not None:
            projected += bias
    return projected


# --- LSTM ------------------------------------------------------------------------------------------------------------
class LSTMLayer(Primitive):
    """(output, h_n, c_n) of one LSTM layer and direction: ``x`` (rows, input), ``h0`` (batch, proj or hidden),
    ``c0`` (batch, hidden), the layer's weights (biases and ``w_hr`` may be None)."""

    @staticmethod
    @quiet
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, batch_sizes=None, reverse=False):
        xp, size = ctx.xp, c0.shape[1]
        blocks = _blocks(x, h0, batch_sizes)
        order = blocks[::-1] if reverse else blocks
        gates = _projection(xp, x, w_ih, b_ih, b_hh)
        rows = x.shape[0]
        output = xp.empty((rows, h0.shape[1]), x.dtype)
        cells, tanh_cells = xp.empty((rows, size), x.dtype), xp.empty((rows, size), x.dtype)
        raw = output if w_hr is None else xp.empty((rows, size), x.dtype)
        hidden, scratch = xp.empty((h0.shape[0], 4 * size), x.dtype), xp.empty((h0.shape[0], size), x.dtype)
        w_hh_t = w_hh.T
        h, c = h0, c0
        for start, stop in order:
            n = stop - start
            g = gates[start:stop]
            g += xp.matmul(_entering(xp, h, h0, n), w_hh_t, out=hidden[:n])
            for part in (g[:, :2 * size], g[:, 3 * size:]):   # i, f | o
                xp.negative(part, out=part)
                sigmoid_of_negated_(xp, part)
            xp.tanh(g[:, 2 * size:3 * size], out=g[:, 2 * size:3 * size])
            c_next = xp.multiply(g[:, size:2 * size], _entering(xp, c, c0, n), out=cells[start:stop])
            c_next += xp.multiply(g[:, :size], g[:, 2 * size:3 * size], out=scratch[:n])
            tanh_c = xp.tanh(c_next, out=tanh_cells[start:stop])
            h = xp.multiply(g[:, 3 * size:], tanh_c, out=raw[start:stop])
            if w_hr is not None:
                h = xp.matmul(h, w_hr.T, out=output[start:stop])
            c = c_next
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, gates, cells, tanh_cells, raw, output)
        ctx.layout = blocks, order
        return output, _final(xp, output, h0, blocks, reverse), _final(xp, cells, c0, blocks, reverse)

    @staticmethod
    @quiet
    def backward(ctx, grad_output, grad_h, grad_c):
        saved = ctx.saved_tensors
        if state.enabled:
            return _graph_backward(ctx, "LSTM", saved[:8], (grad_output, grad_h, grad_c))
        x, h0, c0, w_ih, w_hh, _, _, w_hr, gates, cells, tanh_cells, raw, output = \
            (None if t is None else t._data for t in saved)
        xp, size, (blocks, order) = ctx.xp, c0.shape[1], ctx.layout
        grad_output = grad_output._data
        dh, dc = grad_h._data.copy(), grad_c._data.copy()
        grad_gates = xp.empty_like(gates)
        grad_states = xp.empty_like(output)   # the gradient of each step's (projected) hidden state
        previous_c = _previous(xp, cells, c0, blocks, order)
        dc_step = xp.empty_like(c0)
        for start, stop in reversed(order):
            n = stop - start
            dh_step = xp.add(dh[:n], grad_output[start:stop], out=grad_states[start:stop])
            if w_hr is not None:
                dh_step = dh_step @ w_hr
            g, d, tanh_c = gates[start:stop], grad_gates[start:stop], tanh_cells[start:stop]
            i, f, gg, o = (g[:, k * size:(k + 1) * size] for k in range(4))
            d_i, d_f, d_g, d_o = (d[:, k * size:(k + 1) * size] for k in range(4))
            dc_n = xp.multiply(tanh_c, tanh_c, out=dc_step[:n])   # dc += dh o (1 - tanh(c)^2)
            xp.subtract(1, dc_n, out=dc_n)
            dc_n *= o
            dc_n *= dh_step
            dc_n += dc[:n]
            for s, ds in ((g[:, :2 * size], d[:, :2 * size]), (o, d_o)):   # sigmoid'(.) = s (1 - s)
                xp.subtract(1, s, out=ds)
                ds *= s
            d_i *= gg
            d_i *= dc_n
            d_f *= previous_c[start:stop]
            d_f *= dc_n
            d_o *= tanh_c
            d_o *= dh_step
            xp.multiply(gg, gg, out=d_g)
            xp.subtract(1, d_g, out=d_g)
            d_g *= i
            d_g *= dc_n
            xp.multiply(dc_n, f, out=dc[:n])
            xp.matmul(d, w_hh, out=dh[:n])
        grads = _weight_grads(ctx, grad_gates, grad_gates, x, w_ih, _previous(xp, output, h0, blocks, order), dh, dc)
        return _wrap(grads + [grad_states.T @ raw if ctx.needs_input_grad[7] else None])


# --- GRU -------------------------------------------------------------------------------------------------------------
class GRULayer(Primitive):
    """(output, h_n) of one GRU layer and direction: ``x`` (rows, input), ``h0`` (batch, hidden), the layer's
    weights (biases may be None)."""

    @staticmethod
    @quiet
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False):
        xp, size = ctx.xp, h0.shape[1]
        blocks = _blocks(x, h0, batch_sizes)
        order = blocks[::-1] if reverse else blocks
        gates = _projection(xp, x, w_ih, b_ih)   # becomes r, z, n
        hidden = xp.empty_like(gates)             # h W_hh^T + b_hh of each step
        output = xp.empty((x.shape[0], size), x.dtype)
        scratch = xp.empty((h0.shape[0], size), x.dtype)
        w_hh_t = w_hh.T
        h = h0
        for start, stop in order:
            n = stop - start
            h = _entering(xp, h, h0, n)
            gh = xp.matmul(h, w_hh_t, out=hidden[start:stop])
            if b_hh is not None:
                gh += b_hh
            g = gates[start:stop]
            rz = g[:, :2 * size]
            rz += gh[:, :2 * size]
            xp.negative(rz, out=rz)
            sigmoid_of_negated_(xp, rz)
            new = g[:, 2 * size:]
            new += xp.multiply(rz[:, :size], gh[:, 2 * size:], out=scratch[:n])
            xp.tanh(new, out=new)
            h_next = xp.subtract(h, new, out=output[start:stop])
            h_next *= rz[:, size:]
            h_next += new
            h = h_next
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh, gates, hidden, output)
        ctx.layout = blocks, order
        return output, _final(xp, output, h0, blocks, reverse)

    @staticmethod
    @quiet
    def backward(ctx, grad_output, grad_h):
        saved = ctx.saved_tensors
        if state.enabled:
            return _graph_backward(ctx, "GRU", saved[:6], (grad_output, grad_h))
        x, h0, w_ih, w_hh, _, _, gates, hidden, output = (None if t is None else t._data for t in saved)
        xp, size, (blocks, order) = ctx.xp, h0.shape[1], ctx.layout
        grad_output = grad_output._data
        dh = grad_h._data.copy()
        previous = _previous(xp, output, h0, blocks, order)
        grad_gi, grad_gh = xp.empty_like(gates), xp.empty_like(gates)
        dh_step, scratch = xp.empty_like(h0), xp.empty_like(h0)
        for start, stop in reversed(order):
            n = stop - start
            d = xp.add(dh[:n], grad_output[start:stop], out=dh_step[:n])
            g, di, dg = gates[start:stop], grad_gi[start:stop], grad_gh[start:stop]
            r, z, new = g[:, :size], g[:, size:2 * size], g[:, 2 * size:]
            d_new = di[:, 2 * size:]              # d (1 - z) (1 - n^2)
            xp.multiply(new, new, out=d_new)
            xp.subtract(1, d_new, out=d_new)
            d_new *= d
            d_new -= xp.multiply(d_new, z, out=scratch[:n])
            d_r, d_z = dg[:, :size], dg[:, size:2 * size]
            xp.subtract(1, r, out=d_r)            # dn h_n r (1 - r)
            d_r *= r
            d_r *= d_new
            d_r *= hidden[start:stop, 2 * size:]
            xp.subtract(1, z, out=d_z)            # d (h - n) z (1 - z)
            d_z *= z
            d_z *= d
            d_z *= xp.subtract(previous[start:stop], new, out=dh[:n])
            xp.multiply(d_new, r, out=dg[:, 2 * size:])
            xp.matmul(dg, w_hh, out=dh[:n])
            dh[:n] += xp.multiply(d, z, out=d)
        grad_gi[:, :2 * size] = grad_gh[:, :2 * size]
        return _wrap(_weight_grads(ctx, grad_gi, grad_gh, x, w_ih, previous, dh))


# --- Elman RNN -------------------------------------------------------------------------------------------------------
class RNNLayer(Primitive):
    """(output, h_n) of one Elman RNN layer and direction (``nonlinearity`` 'tanh' or 'relu'): ``x`` (rows, input),
    ``h0`` (batch, hidden), the layer's weights (biases may be None)."""

    @staticmethod
    @quiet
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", batch_sizes=None, reverse=False):
        xp = ctx.xp
        blocks = _blocks(x, h0, batch_sizes)
        order = blocks[::-1] if reverse else blocks
        output = _projection(xp, x, w_ih, b_ih, b_hh)   # the pre-activations, activated step by step in place
        hidden = xp.empty_like(h0)
        w_hh_t = w_hh.T
        h = h0
        for start, stop in order:
            a = output[start:stop]
            a += xp.matmul(_entering(xp, h, h0, stop - start), w_hh_t, out=hidden[:stop - start])
            if nonlinearity == "tanh":
                xp.tanh(a, out=a)
            else:
                xp.maximum(a, 0, out=a)
            h = a
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh, output)
        ctx.layout, ctx.nonlinearity = (blocks, order), nonlinearity
        return output, _final(xp, output, h0, blocks, reverse)

    @staticmethod
    @quiet
    def backward(ctx, grad_output, grad_h):
        saved = ctx.saved_tensors
        if state.enabled:
            return _graph_backward(ctx, "RNN_TANH" if ctx.nonlinearity == "tanh" else "RNN_RELU", saved[:6],
                                   (grad_output, grad_h))
        x, h0, w_ih, w_hh, _, _, output = (None if t is None else t._data for t in saved)
        xp, (blocks, order) = ctx.xp, ctx.layout
        grad_output = grad_output._data
        dh = grad_h._data.copy()
        grad_pre = xp.empty_like(output)
        scratch = xp.empty_like(h0)
        for start, stop in reversed(order):
            n = stop - start
            d = xp.add(dh[:n], grad_output[start:stop], out=grad_pre[start:stop])
            y = output[start:stop]
            if ctx.nonlinearity == "tanh":   # tanh' = 1 - y^2
                slope = xp.multiply(y, y, out=scratch[:n])
                d *= xp.subtract(1, slope, out=slope)
            else:
                d *= y > 0
            xp.matmul(d, w_hh, out=dh[:n])
        return _wrap(_weight_grads(ctx, grad_pre, grad_pre, x, w_ih, _previous(xp, output, h0, blocks, order), dh))


def _weight_grads(ctx, grad_gi, grad_gh, x, w_ih, previous, *state_grads):
    """The gradients of (x, *states, w_ih, w_hh, b_ih, b_hh) from those of the input projection ``grad_gi`` and of
    the hidden projection ``grad_gh`` of every step (the same array where the biases add up): one GEMM each."""
    needs = ctx.needs_input_grad
    k = 1 + len(state_grads)
    grads = [grad_gi @ w_ih if needs[0] else None]
    grads += [g if need else None for g, need in zip(state_grads, needs[1:k])]
    grads += [grad_gi.T @ x if needs[k] else None, grad_gh.T @ previous if needs[k + 1] else None]
    b_ih = grad_gi.sum(0) if needs[k + 2] else None
    if grad_gh is grad_gi and b_ih is not None:
        grads += [b_ih, b_ih.copy() if needs[k + 3] else None]
    else:
        grads += [b_ih, grad_gh.sum(0) if needs[k + 3] else None]
    return grads


def _wrap(grads):
    return tuple(None if grad is None else _make(grad) for grad in grads)


# --- create_graph: the backward as Tensor ops ------------------------------------------------------------------------
def _rows_then(rows, full):
    """``full`` with its first rows replaced by ``rows``."""
    return rows if rows.shape[0] == full.shape[0] else shape.cat([rows, full[rows.shape[0]:]])


def _entering_tensor(previous, initial, rows):
    have = previous.shape[0]
    return previous[:rows] if have >= rows else shape.cat([previous, initial[have:rows]])


def _graph_backward(ctx, mode, inputs, grads):
    """The gradients of the layer's inputs written with Tensor ops: the forward again, step by step as a graph of
    the inputs, then back over time with the step formulas of ``ember.ops.recurrent``, so they differentiate again."""
    lstm, gru = mode == "LSTM", mode == "GRU"
    if lstm:
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = inputs
        grad_output, dh, dc = grads
    else:
        (x, h0, w_ih, w_hh, b_ih, b_hh), c0, w_hr = inputs, None, None
        (grad_output, dh), dc = grads, None
    blocks, order = ctx.layout
    gi = x.matmul(w_ih.t())
    for bias in (b_ih, None if gru else b_hh):
        if bias is not None:
            gi = gi + bias
    entering, h, c = {}, h0, c0
    for start, stop in order:
        n = stop - start
        h = _entering_tensor(h, h0, n)
        c = _entering_tensor(c, c0, n) if lstm else None
        step = gi[start:stop]
        if lstm:
            raw, c_next = recurrent.lstm_step(step, h, c, w_hh)
            entering[start] = (h, c, raw)
            h, c = (raw if w_hr is None else raw.matmul(w_hr.t())), c_next
        elif gru:
            entering[start] = (h,)
            h = recurrent.gru_step(step, h, w_hh, b_hh)
        else:
            entering[start] = (h,)
            pre = step + h.matmul(w_hh.t())
            h = pre.tanh() if mode == "RNN_TANH" else pre.relu()
            entering[start] += (h,)
    grad_gi, grad_w_hh, grad_b_hh, grad_w_hr = {}, 0, 0, 0
    for start, stop in reversed(order):
        n = stop - start
        d = dh[:n] + grad_output[start:stop]
        if lstm:
            h, c, raw = entering[start]
            if w_hr is not None:
                grad_w_hr = grad_w_hr + d.t().matmul(raw)
                d = d.matmul(w_hr)
            g_gi, g_h, g_c, g_w = recurrent.lstm_step_grads((True,) * 4, gi[start:stop], h, c, w_hh, d, dc[:n])
            dc = _rows_then(g_c, dc)
        elif gru:
            h, = entering[start]
            g_gi, g_h, g_w, g_b = recurrent.gru_step_grads((True,) * 4, gi[start:stop], h, w_hh, b_hh, d)
            grad_b_hh = grad_b_hh + g_b
        else:
            h, y = entering[start]
            g_gi = d * (1 - y * y) if mode == "RNN_TANH" else d * (y > 0)
            g_h, g_w = g_gi.matmul(w_hh), g_gi.t().matmul(h)
        dh = _rows_then(g_h, dh)
        grad_gi[start] = g_gi
        grad_w_hh = grad_w_hh + g_w
    needs = ctx.needs_input_grad
    grad_gi = shape.cat([grad_gi[start] for start, _ in blocks]) if blocks else gi * 0
    b_ih = grad_gi.sum(0)
    result = [grad_gi.matmul(w_ih), dh] + ([dc] if lstm else []) + \
        [grad_gi.t().matmul(x), grad_w_hh, b_ih, grad_b_hh if gru else b_ih] + ([grad_w_hr] if lstm else [])
    return tuple(g if need and not isinstance(g, int) else None for g, need in zip(result, needs))


# --- entry points ----------------------------------------------------------------------------------------------------
def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, batch_sizes=None, reverse=False):
    """(output, h_n, c_n) of one LSTM layer and direction over packed ``x``."""
    return LSTMLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes=batch_sizes, reverse=reverse)


def gru_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False):
    """(output, h_n) of one GRU layer and direction over packed ``x``."""
    return GRULayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes=batch_sizes, reverse=reverse)


def rnn_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", batch_sizes=None, reverse=False):
    """(output, h_n) of one Elman RNN layer and direction over packed ``x``."""
    return RNNLayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity, batch_sizes=batch_sizes,
                          reverse=reverse)
