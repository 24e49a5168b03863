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
import threading
from collections import OrderedDict

import numpy

from .._tensor import _make
from ..autograd.function import Primitive
from ..autograd.grad_mode import state
from . import _buffers, _parallel, rearrange, recurrent
from ._blas import SMALL, column_ranges, row_blocks, small_products
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
        return xp.concatenate(parts, out=_empty(xp, sequence) if sequence.dtype == initial.dtype else None)
    result, previous = _empty(xp, sequence), initial
    for start, stop in order:
        result[start:stop] = _entering(xp, previous, initial, stop - start)
        previous = sequence[start:stop]
    return result


def _final(xp, sequence, initial, blocks, reverse):
    """The state each row ends in: a reverse pass ends at step 0; a forward one where each sequence ends."""
    if not blocks:
        return initial.copy()
    if reverse or blocks[-1][1] - blocks[-1][0] == initial.shape[0]:   # one step holds every row's last state
        start, stop = blocks[0] if reverse else blocks[-1]
        return sequence[start:stop].copy()
    result = xp.empty_like(initial)
    for t, (start, stop) in enumerate(blocks):
        ending = blocks[t + 1][1] - blocks[t + 1][0] if t + 1 < len(blocks) else 0
        if ending < stop - start:
            result[ending:stop - start] = sequence[start + ending:stop]
    return result


def _empty(xp, like, shape=None):
    """An uninitialised array shaped as ``like`` (or ``shape``), of its dtype: a sequence's large arrays come from the
    buffer pool, so a training loop does not fault their pages in again every step (``ops/_buffers.py``)."""
    return _buffers.empty(xp, like.shape if shape is None else shape, like.dtype)


def _product(xp, a, b):
    """``a @ b`` (a matrix times a matrix or a stack of them), into a pooled array where both are float32 or
    float64 of one dtype (NumPy's own matmul picks the other dtypes' result)."""
    if a.dtype != b.dtype or a.dtype.char not in "fd":
        return xp.matmul(a, b)
    shape = a.shape[:-1] + b.shape[-1:] if b.ndim == 2 else b.shape[:-2] + a.shape[:-1] + b.shape[-1:]
    return xp.matmul(a, b, out=_empty(xp, a, shape))


def _projection(xp, x, w_ih, *biases):
    """x W_ih^T plus the given biases, for all time steps in one GEMM."""
    projected = _product(xp, x, w_ih.T)
    for bias in biases:
        if bias is not None:
            projected += bias
    return projected


# Gated layers keep their gates gate-major, (gates, rows, hidden): every gate of a step is then one contiguous block,
# which NumPy's elementwise passes run several times faster than the strided column blocks of (rows, gates * hidden).
def _by_gate(xp, weight, gates, order=None):
    """A (gates * hidden, k) weight as (gates, k, hidden), so ``v @ result`` is each gate's v W^T; gates in ``order``.
    A small weight is copied contiguous (NumPy's batched matmul then runs ~15 % faster, hidden 128); a large one
    stays a transposed view (the transposing copy alone costs ~40 ms at hidden 1024, and the GEMMs are no faster)."""
    weight = weight.reshape(gates, weight.shape[0] // gates, weight.shape[1])
    by_gate = (weight if order is None else weight[order]).transpose(0, 2, 1)
    return xp.ascontiguousarray(by_gate) if weight.size <= _SMALL else by_gate


_SMALL = 1 << 18


# LSTMLayer computes its gates in the order i, f, o, g (the three sigmoids together), with the sigmoid gates' weights
# and biases halved: sigmoid(x) = (1 + tanh(x / 2)) / 2, so one tanh activates all four gates of a step, and two
# passes over the sigmoid gates finish them (measured ~15 % faster per step than exp, add and reciprocal on three
# gates plus a tanh on the fourth; halving is exact in binary floating point).
_IFOG = [0, 1, 3, 2]   # from PyTorch's i, f, g, o, and back


def _lstm_weight(xp, weight):
    by_gate = _by_gate(xp, weight, 4, _IFOG)
    by_gate[:3] *= 0.5
    return by_gate


def _activate_lstm_gates(xp, gates):
    """Activates (4, rows, hidden) gates i, f, o, g in place, the sigmoid gates holding x / 2."""
    xp.tanh(gates, out=gates)
    sigmoids = gates[:3]
    sigmoids *= 0.5
    sigmoids += 0.5


def _gru_weight(xp, weight):
    """``_by_gate``'s (3, k, hidden) with the r and z gates negated (a new array): GRULayer's projections are then
    the -x that the sigmoid's exp takes, saving a pass over both gates per step."""
    signs = xp.ones((3, 1, 1), weight.dtype)
    signs[:2] = -1
    return _by_gate(xp, weight, 3) * signs


def _gru_projection(xp, x, w_ih, *biases):
    """x W_ih^T plus the biases, gate-major (3, rows, hidden), r and z negated: one GEMM per gate for all steps."""
    projected = _product(xp, x, _gru_weight(xp, w_ih))
    biases = [b for b in biases if b is not None]
    if biases:
        bias = sum(biases[1:], biases[0]).reshape(3, 1, -1).copy()
        bias[:2] *= -1
        projected += bias
    return projected


def _row_major(xp, by_gate):
    """(gates, rows, hidden) as the (rows, gates * hidden) array of PyTorch's gate layout."""
    gates, rows, size = by_gate.shape
    result = _empty(xp, by_gate, (rows, gates, size))
    result[...] = by_gate.transpose(1, 0, 2)
    return result.reshape(rows, gates * size)


def _sigmoid_(xp, part):
    xp.negative(part, out=part)
    sigmoid_of_negated_(xp, part)


def _gate_products(xp, weights, rows, spread=False):
    """The step product ``h @ weights`` ((gates, k, hidden) weights, ``rows`` rows of h) as ``product(h, out)``: one
    batched matmul, or column blocks of each gate (``_blas.column_ranges``) where OpenBLAS's small-matrix kernel runs
    them faster, at once on the intra-op threads with ``spread``. Call inside the loop's ``small_products``, which
    sets the thread count the choice depends on. Measured at batch 20 (10-32), blocks against one product: transposed
    weights 0.49-0.88x from hidden 1024 up, 1.09-1.12x at 256-768; contiguous weights 0.81x at 256 but 1.1-2.1x from
    512 up: so only the first."""
    ranges = _gate_ranges(weights, rows)
    if len(ranges) == 1:
        return lambda h, out: xp.matmul(h, weights, out=out)
    blocks = [(g, start, stop, weights[g, :, start:stop]) for g in range(weights.shape[0]) for start, stop in ranges]

    def product(h, out):
        def run(first, last):
            for g, start, stop, block in blocks[first:last]:
                xp.matmul(h, block, out=out[g, :, start:stop])
        _over_blocks(len(blocks), run, spread)
        return out
    return product


def _over_blocks(count, run, spread):
    """``run(first, last)`` over ``count`` step-product blocks: split over the intra-op threads where ``spread``,
    else all at once on this thread."""
    if spread:
        _parallel.parallel_for(count, run)
    else:
        run(0, count)


def _spread(multiply_adds, blocked):
    """Whether a recurrence's step products (of ``multiply_adds``) run as blocks spread over the intra-op threads,
    each on one BLAS thread, rather than as products the BLAS threads (which pack the whole weight again every step):
    for large products where one BLAS thread makes blocks (``blocked()``, asked at one)."""
    if multiply_adds < SMALL or _parallel.num_threads() == 1:
        return False
    with small_products(0):
        return blocked()


def _gate_ranges(weights, rows):
    """The column ranges ``_gate_products`` cuts each gate's weight into (one, ``[None]``, where it stays whole)."""
    transposed = weights.strides[-2] == weights.itemsize   # each gate's weight a transposed view (large layers)
    return column_ranges((rows, weights.shape[1]), weights) if transposed and weights.shape[-1] >= 1024 else [None]


def _spread_gates(xp, multiply_adds, weights, rows):
    """``_spread`` for a training forward's ``_gate_products`` (column blocks of each gate)."""
    return xp is numpy and _spread(multiply_adds, lambda: len(_gate_ranges(weights, rows)) > 1)


def _lstm_general(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, order, keep):
    """LSTMLayer's forward over the steps' row blocks in ``order``: the input projection for all steps, then per
    step the hidden projection added and the gates activated. Returns (gates, cells, tanh_cells, raw, output);
    tanh_cells holds every step only when ``keep``."""
    size = c0.shape[1]
    gates = _product(xp, x, _lstm_weight(xp, w_ih))   # i/2, f/2, o/2, g before activation; then i, f, o, g
    biases = [b for b in (b_ih, b_hh) if b is not None]
    if biases:
        bias = sum(biases[1:], biases[0]).reshape(4, 1, size)[_IFOG]
        bias[:3] *= 0.5
        gates += bias
    rows, batch = x.shape[0], h0.shape[0]
    output = _empty(xp, x, (rows, h0.shape[1]))
    cells = _empty(xp, x, (rows, size))
    tanh_cells = _empty(xp, x, (rows if keep else batch, size))
    raw = output if w_hr is None else _empty(xp, x, (rows, size))
    hidden, scratch = xp.empty((4, batch, size), x.dtype), xp.empty((batch, size), x.dtype)
    h, c = h0, c0
    weights, multiply_adds = _lstm_weight(xp, w_hh), h0.shape[0] * h0.shape[1] * size
    spread = _spread_gates(xp, multiply_adds, weights, batch)
    with small_products(0 if spread else multiply_adds):
        step_product = _gate_products(xp, weights, batch, spread)
        for start, stop in order:
            n = stop - start
            g = gates[:, start:stop]
            g += step_product(_entering(xp, h, h0, n), hidden[:, :n])
            i, f, o, gg = g
            _activate_lstm_gates(xp, g)
            c_next = xp.multiply(f, _entering(xp, c, c0, n), out=cells[start:stop])
            c_next += xp.multiply(i, gg, out=scratch[:n])
            tanh_c = xp.tanh(c_next, out=tanh_cells[start:stop] if keep else tanh_cells[:n])
            h = xp.multiply(o, tanh_c, out=raw[start:stop])
            if w_hr is not None:
                h = xp.matmul(h, w_hr.T, out=output[start:stop])
            c = c_next
    return gates, cells, tanh_cells, raw, output


# --- LSTM ------------------------------------------------------------------------------------------------------------
class LSTMLayer(Primitive):
    """(output, h_n, c_n) of one LSTM layer and direction: ``x`` (rows, input), ``h0`` (batch, proj or hidden),
    ``c0`` (batch, hidden), the layer's weights (biases and ``w_hr`` may be None)."""

    @staticmethod
    @quiet
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, batch_sizes=None, reverse=False):
        xp, size = ctx.xp, c0.shape[1]
        keep = any(ctx.needs_input_grad)   # tanh(c) of every step, for backward
        plain = _plain(xp, x, h0, batch_sizes)
        if plain and not keep:
            run = _lstm_hidden_major if size >= _HIDDEN_MAJOR_FROM else _lstm_stacked
            return run(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse)
        blocks = _blocks(x, h0, batch_sizes)
        order = blocks[::-1] if reverse else blocks
        # The stacked GEMM measured 0.86x (input 28, hidden 128, batch 100) to 0.96x (input 128) of the general
        # forward's time, but 1.06x with input 256: there the projection over the sequence is the better GEMM.
        stacked = plain and size < _HIDDEN_MAJOR_FROM and x.shape[1] <= size
        run = _lstm_stacked_recorded if stacked else _lstm_general
        gates, cells, tanh_cells, raw, output = run(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, order, keep)
        if keep:
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
        xp, (blocks, order), needs = ctx.xp, ctx.layout, ctx.needs_input_grad
        grad_output = grad_output._data
        dh, dc = grad_h._data.copy(), grad_c._data.copy()
        size = c0.shape[1]
        # The gate gradients of each step are formed gate-major (contiguous passes) and copied row-major, in PyTorch's
        # gate order i, f, g, o: the step's dh is then one GEMM with W_hh as it is (not four and a sum over gates),
        # and the weight gradients and dx are single GEMMs on the copy, with no gate reordering of any weight.
        rows = _empty(xp, gates, (gates.shape[1], 4 * size))
        grad_states = _empty(xp, output)   # the gradient of each step's (projected) hidden state
        previous_c = _previous(xp, cells, c0, blocks, order)
        dc_step, grad_step = xp.empty_like(c0), xp.empty((4,) + c0.shape, gates.dtype)
        with small_products(dh.shape[0] * dh.shape[1] * w_hh.shape[0]):
            for start, stop in reversed(order):
                n = stop - start
                dh_step = xp.add(dh[:n], grad_output[start:stop], out=grad_states[start:stop])
                if w_hr is not None:
                    dh_step = dh_step @ w_hr
                g, d, tanh_c = gates[:, start:stop], grad_step[:, :n], tanh_cells[start:stop]
                i, f, o, gg = g
                d_i, d_f, d_o, d_g = d
                dc_n = xp.multiply(tanh_c, tanh_c, out=dc_step[:n])   # dc += dh o (1 - tanh(c)^2)
                xp.subtract(1, dc_n, out=dc_n)
                dc_n *= o
                dc_n *= dh_step
                dc_n += dc[:n]
                xp.subtract(1, g[:3], out=d[:3])   # sigmoid'(.) = s (1 - s)
                d[:3] *= g[:3]
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
                step_rows = rows[start:stop]
                by_gate = step_rows.reshape(n, 4, size)
                xp.copyto(by_gate[:, :2], d[:2].transpose(1, 0, 2))
                xp.copyto(by_gate[:, 2], d_g)
                xp.copyto(by_gate[:, 3], d_o)
                xp.matmul(step_rows, w_hh, out=dh[:n])
        grads = [_product(xp, rows, w_ih) if needs[0] else None, dh if needs[1] else None, dc if needs[2] else None,
                 rows.T @ x if needs[3] else None,
                 rows.T @ _previous(xp, output, h0, blocks, order) if needs[4] else None]
        bias = rows.sum(0) if needs[5] or needs[6] else None
        grads += [bias if needs[5] else None, (bias.copy() if needs[5] else bias) if needs[6] else None]
        return _wrap(grads + [grad_states.T @ raw if needs[7] else None])


# --- GRU -------------------------------------------------------------------------------------------------------------
class GRULayer(Primitive):
    """(output, h_n) of one GRU layer and direction: ``x`` (rows, input), ``h0`` (batch, hidden), the layer's
    weights (biases may be None)."""

    @staticmethod
    @quiet
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False):
        xp, size = ctx.xp, h0.shape[1]
        keep = any(ctx.needs_input_grad)
        if not keep and size >= _HIDDEN_MAJOR_FROM and _plain(xp, x, h0, batch_sizes):
            return _gru_hidden_major(x, h0, w_ih, w_hh, b_ih, b_hh, reverse)
        blocks = _blocks(x, h0, batch_sizes)
        order = blocks[::-1] if reverse else blocks
        b_hn = None if b_hh is None else b_hh[2 * size:]   # inside r * (h W_hn^T + b_hn); b_hr, b_hz add to x's
        folded = None if b_hh is None else xp.concatenate([b_hh[:2 * size], xp.zeros_like(b_hn)])
        gates = _gru_projection(xp, x, w_ih, b_ih, folded)   # -r, -z, n; then r, z, n
        hidden = _empty(xp, gates) if keep else xp.empty((3,) + h0.shape, x.dtype)   # h W_hh^T (+ b_hn)
        output = _empty(xp, x, (x.shape[0], size))
        scratch = xp.empty_like(h0)
        h = h0
        weights, multiply_adds = _gru_weight(xp, w_hh), h0.shape[0] * size * size
        spread = _spread_gates(xp, multiply_adds, weights, h0.shape[0])
        with small_products(0 if spread else multiply_adds):
            step_product = _gate_products(xp, weights, h0.shape[0], spread)
            for start, stop in order:
                n = stop - start
                h = _entering(xp, h, h0, n)
                gh = step_product(h, hidden[:, start:stop] if keep else hidden[:, :n])
                if b_hn is not None:
                    gh[2] += b_hn
                g = gates[:, start:stop]
                rz = g[:2]
                rz += gh[:2]
                sigmoid_of_negated_(xp, rz)
                r, z, new = g
                new += xp.multiply(r, gh[2], out=scratch[:n])
                xp.tanh(new, out=new)
                h_next = xp.subtract(h, new, out=output[start:stop])
                h_next *= z
                h_next += new
                h = h_next
        if keep:   # a copy of the hidden states: the output returned may be changed in place, as in PyTorch
            ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh, gates, hidden, output.copy())
            ctx.layout = blocks, order
        return output, _final(xp, output, h0, blocks, reverse)

    @staticmethod
    @quiet
    def backward(ctx, grad_output, grad_h):
        saved = ctx.saved_tensors
        if state.enabled:
            return _graph_backward(ctx, "GRU", saved[:6], (grad_output, grad_h))
        x, h0, w_ih, w_hh, _, _, gates, hidden, output = (None if t is None else t._data for t in saved)
        xp, (blocks, order) = ctx.xp, ctx.layout
        grad_output = grad_output._data
        dh = grad_h._data.copy()
        previous = _previous(xp, output, h0, blocks, order)
        grad_gi, grad_gh = _empty(xp, gates), _empty(xp, gates)
        dh_step, scratch, per_gate = xp.empty_like(h0), xp.empty_like(h0), xp.empty((3,) + h0.shape, h0.dtype)
        w_hh_gates = w_hh.reshape(3, -1, w_hh.shape[1])
        with small_products(h0.shape[0] * h0.shape[1] * w_hh.shape[1]):
            for start, stop in reversed(order):
                n = stop - start
                d = xp.add(dh[:n], grad_output[start:stop], out=dh_step[:n])
                r, z, new = gates[:, start:stop]
                dg = grad_gh[:, start:stop]
                d_new = grad_gi[2, start:stop]        # d (1 - z) (1 - n^2)
                xp.multiply(new, new, out=d_new)
                xp.subtract(1, d_new, out=d_new)
                d_new *= d
                d_new -= xp.multiply(d_new, z, out=scratch[:n])
                d_r, d_z, d_hn = dg
                xp.subtract(1, r, out=d_r)            # dn h_n r (1 - r)
                d_r *= r
                d_r *= d_new
                d_r *= hidden[2, start:stop]
                xp.subtract(1, z, out=d_z)            # d (h - n) z (1 - z)
                d_z *= z
                d_z *= d
                d_z *= xp.subtract(previous[start:stop], new, out=scratch[:n])
                xp.multiply(d_new, r, out=d_hn)
                xp.sum(xp.matmul(dg, w_hh_gates, out=per_gate[:, :n]), 0, out=dh[:n])
                dh[:n] += xp.multiply(d, z, out=d)
        grad_gi[:2] = grad_gh[:2]
        return _wrap(_weight_grads(ctx, grad_gi, grad_gh, x, w_ih, previous, dh))


# --- evaluation without gradients ----------------------------------------------------------------------------------
# Without gradients nothing is saved for backward, so a plain sequence (every step the whole batch) can be run in the
# layout fastest for its size. A large layer runs hidden-major: states as (hidden, batch), each step's hidden
# projection the single GEMM W_hh h^T, which OpenBLAS runs 1.2-1.8x faster than the gate-major h W_hh^T from hidden
# 256 up (batch 20-256), with the input projection one GEMM W_ih x^T for all steps and the weights used uncopied.
# A smaller LSTM layer multiplies [x_t, 1, h] by its stacked weights and biases, gate-major: one GEMM per step
# instead of a projection GEMM over the whole sequence (slow on these shapes: its output leaves the cache) plus a
# per-step addition of the two projections.
_HIDDEN_MAJOR_FROM = 256


def _plain(xp, x, h0, batch_sizes):
    """Whether a layer may take a path of its own for plain sequences (without gradients the evaluation paths below;
    a small LSTM also when training): on NumPy, in float32 or float64, over a sequence of full steps (a
    PackedSequence whose batch shrinks takes the general path)."""
    return (batch_sizes is None and xp is numpy and h0.shape[0] > 0 and x.dtype in (numpy.float32, numpy.float64)
            and h0.dtype == x.dtype)


def _stacked(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """The stacked weights and biases of a small LSTM layer, (4, input + 1 + width, hidden) for gates i, f, o, g with
    the sigmoid gates' halved."""
    features, size = x.shape[1], c0.shape[1]
    stacked = numpy.empty((4, features + 1 + h0.shape[1], size), x.dtype)
    for k, gate in enumerate(_IFOG):   # per gate: the fancy-indexed copy of all four measured ~3x slower (input 28)
        rows, scale = slice(gate * size, (gate + 1) * size), 0.5 if k < 3 else 1
        numpy.multiply(w_ih[rows].T, scale, out=stacked[k, :features])
        if b_ih is None or b_hh is None:
            stacked[k, features] = 0 if b_ih is None and b_hh is None else (b_hh if b_ih is None else b_ih)[rows]
        else:
            numpy.add(b_ih[rows], b_hh[rows], out=stacked[k, features])
        stacked[k, features] *= scale
        numpy.multiply(w_hh[rows].T, scale, out=stacked[k, features + 1:])
    return stacked


def _stacked_inputs(x, h0):
    """The (batch, input + 1 + width) buffer [x_t, 1, h] of ``_stacked``'s GEMM, holding h0."""
    features = x.shape[1]
    inputs = numpy.empty((h0.shape[0], features + 1 + h0.shape[1]), x.dtype)
    inputs[:, features] = 1
    inputs[:, features + 1:] = h0
    return inputs


_STACKED = OrderedDict()   # the weights' ids and dtype -> (copies of the weights, their stacked form)
_STACKED_LOCK = threading.Lock()
STACKED_KEPT = 8
"""Layers whose stacked weights evaluation keeps (least recently used dropped first)."""


def _stacked_again(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """``_stacked`` for evaluation, kept from the call before while the weights are the same arrays holding the same
    bits (compared to a copy: an in-place update need not tell). Stacking takes transposing copies, 0.25-0.73 ms a
    layer of a 2x128 LSTM (input 28, 128; timeit on a loaded host), comparing the bits 0.06-0.2."""
    weights = (w_ih, w_hh, b_ih, b_hh)
    key = tuple(id(w) for w in weights) + (x.dtype, x.shape[1], h0.shape[1], c0.shape[1])
    with _STACKED_LOCK:
        kept = _STACKED.get(key)
        if kept is not None:
            _STACKED.move_to_end(key)
    if kept is not None and all(_same_bits(a, b) for a, b in zip(kept[0], weights)):
        return kept[1]
    stacked = _stacked(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    with _STACKED_LOCK:
        _STACKED[key] = tuple(None if w is None else w.copy() for w in weights), stacked
        while len(_STACKED) > STACKED_KEPT:
            _STACKED.popitem(last=False)
    return stacked


def _same_bits(kept, array):
    if kept is None or array is None:
        return kept is array
    if kept.shape != array.shape or kept.dtype != array.dtype:
        return False
    bits = numpy.dtype(f"u{array.itemsize}")
    return bool((kept.view(bits) == array.view(bits)).all())


PART_ROWS = 16
"""Fewest batch rows per part of a recurrence's forward run in parts (``_in_batch_parts``)."""


def _in_batch_parts(batch, multiply_adds, run):
    """Calls ``run(first, last)`` on row ranges of the batch: in parts on the intra-op threads, each on one BLAS
    thread, where the step products are small (under ``SMALL`` multiply-adds, one BLAS thread anyway) and each part
    has ``PART_ROWS`` rows or more, else once on all rows. A recurrence's forward is independent from row to row, so
    each part needs no other (two Python threads each stepping their own rows overlap well: every step is a handful
    of NumPy calls that release the GIL)."""
    with small_products(multiply_adds):
        if multiply_adds < SMALL:
            _parallel.parallel_for(batch, run, PART_ROWS)
        else:
            run(0, batch)


@quiet
def _lstm_stacked(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
    """(output, h_n, c_n) of LSTMLayer's forward without gradients, one GEMM of [x_t, 1, h] per step; with a second
    intra-op thread, the batch's rows in parts, each part's recurrence on its own thread (``_in_batch_parts``)."""
    (batch, size), features, width = c0.shape, x.shape[1], h0.shape[1]
    stacked, inputs = _stacked_again(x, h0, c0, w_ih, w_hh, b_ih, b_hh), _stacked_inputs(x, h0)
    steps = x.shape[0] // batch
    output = _empty(numpy, x, (x.shape[0], width))
    xs, hs = x.reshape(steps, batch, features), output.reshape(steps, batch, width)
    c_n = numpy.empty_like(c0)

    def run(first, last):
        rows = last - first
        part = inputs[first:last]
        x_t, h_t = part[:, :features], part[:, features + 1:]
        gates, cells = numpy.empty((4, rows, size), x.dtype), tuple(numpy.empty((2, rows, size), x.dtype))
        i, f, o, g = gates
        sigmoids = gates[:3]
        raw = numpy.empty((rows, size), x.dtype) if w_hr is not None else None
        c, c_next = c0[first:last], cells[0]
        # Every view is made once and every ufunc given its output positionally: ~4 % of the loop's time (hidden 128).
        tanh, multiply, add, matmul, copyto = numpy.tanh, numpy.multiply, numpy.add, numpy.matmul, numpy.copyto
        for k, t in enumerate(range(steps - 1, -1, -1) if reverse else range(steps)):
            copyto(x_t, xs[t, first:last])
            matmul(part, stacked, gates)
            tanh(gates, gates)   # sigmoid(x) = (1 + tanh(x / 2)) / 2, the sigmoid gates holding x / 2
            multiply(sigmoids, 0.5, sigmoids)
            add(sigmoids, 0.5, sigmoids)
            multiply(f, c, c_next)
            multiply(i, g, i)
            add(c_next, i, c_next)
            tanh(c_next, f)
            if raw is None:
                h = multiply(o, f, hs[t, first:last])
            else:
                h = matmul(multiply(o, f, raw), w_hr.T, hs[t, first:last])
            copyto(h_t, h)
            c, c_next = c_next, cells[(k + 1) % 2]
        c_n[first:last] = c
    _in_batch_parts(batch, batch * (features + 1 + width) * size, run)
    last = slice(0, batch) if reverse else slice(x.shape[0] - batch, x.shape[0])
    return output, output[last].copy(), c_n


@quiet
def _lstm_stacked_recorded(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, order, keep):
    """``_lstm_general`` for a small layer over a plain sequence: each step one GEMM of [x_t, 1, h] by the stacked
    weights, written into the whole sequence's gates (no projection over the sequence, no bias pass, no per-step
    addition of two projections). Returns (gates, cells, tanh_cells, raw, output), kept for backward."""
    (batch, size), width = c0.shape, h0.shape[1]
    stacked, inputs = _stacked(x, h0, c0, w_ih, w_hh, b_ih, b_hh), _stacked_inputs(x, h0)
    rows, features = x.shape
    gates = _empty(numpy, x, (4, rows, size))
    cells, tanh_cells = _empty(numpy, x, (rows, size)), _empty(numpy, x, (rows, size))
    output = _empty(numpy, x, (rows, width))
    raw = output if w_hr is None else _empty(numpy, x, (rows, size))

    def run(first, last):   # rows first:last of every step (``_in_batch_parts``)
        part = inputs[first:last]
        x_t, h_t, scratch, c = part[:, :features], part[:, features + 1:], numpy.empty((last - first, size), x.dtype), \
            c0[first:last]
        for start, _ in order:
            start, stop = start + first, start + last
            g = gates[:, start:stop]
            numpy.copyto(x_t, x[start:stop])
            numpy.matmul(part, stacked, g)
            _activate_lstm_gates(numpy, g)
            i, f, o, gg = g
            c = numpy.multiply(f, c, cells[start:stop])
            c += numpy.multiply(i, gg, scratch)
            h = numpy.multiply(o, numpy.tanh(c, tanh_cells[start:stop]), raw[start:stop])
            if w_hr is not None:
                h = numpy.matmul(h, w_hr.T, output[start:stop])
            numpy.copyto(h_t, h)
    _in_batch_parts(batch, batch * (features + 1 + width) * size, run)
    return gates, cells, tanh_cells, raw, output


def _hidden_major_inputs(x, batch, w_ih, biases):
    """W_ih x^T plus the biases, (gates * hidden, rows), and each step's (start, stop) columns in time order."""
    projected = _product(numpy, w_ih, x.T)
    biases = [b for b in biases if b is not None]
    if biases:
        projected += sum(biases[1:], biases[0])[:, None]
    steps = range(0, x.shape[0], batch)
    return projected, [(t, t + batch) for t in steps]


def _hidden_major_outputs(states, batch):
    """The (steps, size, batch) states as the layer's (rows, size) output."""
    output = _empty(numpy, states, (states.shape[0], batch, states.shape[1]))
    output[...] = states.transpose(0, 2, 1)
    return output.reshape(-1, states.shape[1])


def _step_products(blocks, h, spread):
    """W_hh h by ``row_blocks``' (weights, out) ``blocks``: at once on the intra-op threads where ``spread``."""
    def run(first, last):
        for weights, block in blocks[first:last]:
            numpy.matmul(weights, h, out=block)
    _over_blocks(len(blocks), run, spread)


@quiet
def _lstm_hidden_major(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
    """(output, h_n, c_n) of LSTMLayer's forward for a large layer without gradients, hidden-major."""
    batch, size = c0.shape
    projected, columns = _hidden_major_inputs(x, batch, w_ih, (b_ih, b_hh))
    states = _empty(numpy, x, (len(columns), h0.shape[1], batch))
    gates, cells = numpy.empty((4 * size, batch), x.dtype), numpy.empty((2, size, batch), x.dtype)
    raw = numpy.empty((size, batch), x.dtype) if w_hr is not None else None
    h, c = numpy.ascontiguousarray(h0.T), numpy.ascontiguousarray(c0.T)
    steps = range(len(columns) - 1, -1, -1) if reverse else range(len(columns))
    spread = _spread(batch * h0.shape[1] * 4 * size, lambda: len(row_blocks(w_hh, h.shape, gates)) > 1)
    with small_products(0 if spread else batch * h0.shape[1] * 4 * size):
        blocks = row_blocks(w_hh, h.shape, gates)
        for k, t in enumerate(steps):
            _step_products(blocks, h, spread)
            gates += projected[:, columns[t][0]:columns[t][1]]
            i, f, g, o = gates.reshape(4, size, batch)
            _sigmoid_(numpy, gates[:2 * size])
            _sigmoid_(numpy, o)
            numpy.tanh(g, out=g)
            c_next = numpy.multiply(f, c, out=cells[k % 2])
            c_next += numpy.multiply(i, g, out=i)
            numpy.tanh(c_next, out=f)
            h = numpy.multiply(o, f, out=states[t] if raw is None else raw)
            if raw is not None:
                h = numpy.matmul(w_hr, raw, out=states[t])
            c = c_next
    last = states[0 if reverse else -1]
    return _hidden_major_outputs(states, batch), numpy.ascontiguousarray(last.T), numpy.ascontiguousarray(c.T)


@quiet
def _gru_hidden_major(x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """(output, h_n) of GRULayer's forward for a large layer without gradients, hidden-major."""
    batch, size = h0.shape
    b_rz = None if b_hh is None else numpy.concatenate([b_hh[:2 * size], numpy.zeros(size, b_hh.dtype)])
    projected, columns = _hidden_major_inputs(x, batch, w_ih, (b_ih, b_rz))
    states = _empty(numpy, x, (len(columns), size, batch))
    hidden = numpy.empty((3 * size, batch), x.dtype)
    h = numpy.ascontiguousarray(h0.T)
    steps = range(len(columns) - 1, -1, -1) if reverse else range(len(columns))
    spread = _spread(batch * size * 3 * size, lambda: len(row_blocks(w_hh, h.shape, hidden)) > 1)
    with small_products(0 if spread else batch * size * 3 * size):
        blocks = row_blocks(w_hh, h.shape, hidden)
        for t in steps:
            _step_products(blocks, h, spread)
            gh = hidden
            if b_hh is not None:
                gh[2 * size:] += b_hh[2 * size:, None]
            rz = gh[:2 * size]
            rz += projected[:2 * size, columns[t][0]:columns[t][1]]
            _sigmoid_(numpy, rz)
            r, z, new = gh.reshape(3, size, batch)
            new *= r
            new += projected[2 * size:, columns[t][0]:columns[t][1]]
            numpy.tanh(new, out=new)
            h_next = numpy.subtract(h, new, out=states[t])
            h_next *= z
            h_next += new
            h = h_next
    return _hidden_major_outputs(states, batch), numpy.ascontiguousarray(h.T)


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
        with small_products(h0.shape[0] * h0.shape[1] * w_hh.shape[0]):
            for start, stop in order:
                a = output[start:stop]
                a += xp.matmul(_entering(xp, h, h0, stop - start), w_hh_t, out=hidden[:stop - start])
                if nonlinearity == "tanh":
                    xp.tanh(a, out=a)
                else:
                    xp.maximum(a, 0, out=a)
                h = a
        # a copy of the hidden states where backward reads them: the output returned may be changed in place
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh, output.copy() if any(ctx.needs_input_grad) else output)
        ctx.layout, ctx.nonlinearity = (blocks, order), nonlinearity
        # 16-bit inputs: the projection accumulated in float32; the results are rounded once, to the input's dtype
        result = output if output.dtype == x.dtype else output.astype(x.dtype)
        return result, _final(xp, result, h0, blocks, reverse)

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
        grad_pre = _empty(xp, output)
        scratch = xp.empty_like(h0)
        with small_products(h0.shape[0] * h0.shape[1] * w_hh.shape[0]):
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
        grad_pre = grad_pre[None]   # one gate
        return _wrap(_weight_grads(ctx, grad_pre, grad_pre, x, w_ih, _previous(xp, output, h0, blocks, order), dh))


def _weight_grads(ctx, grad_gi, grad_gh, x, w_ih, previous, *state_grads):
    """The gradients of (x, *states, w_ih, w_hh, b_ih, b_hh) from the gate-major gradients of the input projection
    ``grad_gi`` and of the hidden projection ``grad_gh`` over the whole sequence (the same array where the biases
    add up). Where x needs its gradient, ``grad_gi`` is copied row-major once for that GEMM, and the weights'
    gradients from it are single GEMMs over all gates (faster than one per gate, and the copy is already paid);
    otherwise one GEMM per gate, on the gate-major arrays."""
    xp, needs = ctx.xp, ctx.needs_input_grad
    gates, _, size = grad_gi.shape

    def product(grad, operand):   # grad^T operand, (gates * hidden, k)
        if grad is grad_gi and rows is not None:
            return rows.T @ operand
        return xp.matmul(grad.transpose(0, 2, 1), operand).reshape(gates * size, -1)

    k = 1 + len(state_grads)
    rows = _row_major(xp, grad_gi) if needs[0] else None
    grads = [_product(xp, rows, w_ih) if needs[0] else None]
    grads += [g if need else None for g, need in zip(state_grads, needs[1:k])]
    for grad, operand, need in ((grad_gi, x, needs[k]), (grad_gh, previous, needs[k + 1])):
        grads.append(product(grad, operand) if need else None)
    b_ih = grad_gi.sum(1).reshape(-1) if needs[k + 2] else None
    if grad_gh is grad_gi and b_ih is not None:
        grads += [b_ih, b_ih.copy() if needs[k + 3] else None]
    else:
        grads += [b_ih, grad_gh.sum(1).reshape(-1) if needs[k + 3] else None]
    return grads


def _wrap(grads):
    return tuple(None if grad is None else _make(grad) for grad in grads)


# --- create_graph: the backward as Tensor ops ------------------------------------------------------------------------
def _rows_then(rows, full):
    """``full`` with its first rows replaced by ``rows``."""
    return rows if rows.shape[0] == full.shape[0] else rearrange.cat([rows, full[rows.shape[0]:]])


def _entering_tensor(previous, initial, rows):
    have = previous.shape[0]
    return previous[:rows] if have >= rows else rearrange.cat([previous, initial[have:rows]])


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
    grad_gi = rearrange.cat([grad_gi[start] for start, _ in blocks]) if blocks else gi * 0
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
