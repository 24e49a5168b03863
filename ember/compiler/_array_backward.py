"""A compiled backward from the forward's own nodes, scheduled as autograd's engine would, on arrays.

When every op of a captured forward that gradients flow through is a primitive (no composite op recorded whole;
in-place writes followed as ``assign_inplace`` moves their target in the graph), the replay keeps each step's ctx,
and the compiled node's backward runs their backwards — ``array_backward`` where a one-output primitive has one,
else ``backward`` on tensors, as the engine chooses without ``create_graph`` — in the engine's order: the same
dependency counts, the same last-in-first-out ready list, gradients summed in the order they arrive and conformed to
their input's shape and dtype alike, so every value is eager ember's, bit for bit, without the engine's per-op
nodes, edges and checks. Other forwards keep the recorded backward program (``_capture._capture_backward``) or
replay through autograd.
"""
import numpy

from .._tensor import Tensor, _wrap
from ..autograd import engine as _engine
from ..autograd.function import _as_array, _saved_entry


class Plan:
    """The static schedule of a forward's backward. ``nodes``: per forward step that recorded a node, (its step's
    index, its primitive, its gradient flows, whether it runs ``array_backward``, its outputs' (shape, dtype), whether
    it materializes missing output gradients as zeros); a flow is (input index, target, slot, the input's (shape,
    dtype)), its target (node, output number) or None for a leaf. ``roots``: per differentiable output, its
    (node, output number); ``counts``: per node reached from them, the flows that lead into it; ``wanted``: the
    slot of each input and parameter whose gradient the backward returns."""

    def __init__(self, nodes, roots, counts, wanted):
        self.nodes, self.roots, self.counts, self.wanted = nodes, roots, counts, wanted


def plan(program, wanted_slots):
    """The ``Plan`` of ``program``'s forward, or None where some gradient would pass through anything but a
    primitive's node (a composite op recorded whole, an in-place write ``_write`` cannot follow, a needed argument
    that is not one tensor)."""
    wanted = set(wanted_slots)
    producer, nodes, saved = {}, [], set()
    for index, step in enumerate(program.forward):
        kind = step[0]
        if kind == "composite":
            return None
        if kind == "write":
            if not _write(step, producer, wanted, saved):
                return None
            continue
        if kind != "primitive" or step[8] is None:   # no node: nothing needed a gradient
            continue
        _, cls, specs, _, needs, outs, multiple, _, (input_meta, output_meta, materialize, kept) = step
        saved |= kept
        flows = []
        for i, need in enumerate(needs):
            if not need:
                continue
            spec = specs[i] if i < len(specs) else None
            if spec is None or spec[0] != "slot":
                return None
            flows.append((i, producer.get(spec[1]), spec[1], input_meta[i]))
        for nr, slot in enumerate(outs):
            producer[slot] = (len(nodes), nr)
        on_arrays = not multiple and cls._node_cls._backward_on_arrays
        nodes.append((index, cls, tuple(flows), on_arrays, output_meta if multiple else None, materialize))
    roots = []
    for position, _ in program.grad_in:
        root = producer.get(program.output_slots[position])
        if root is None:
            return None
        roots.append(root)
    return Plan(nodes, roots, _dependencies(nodes, roots), wanted_slots)


def _write(write, producer, wanted, saved):
    """Follows an in-place write as eager autograd does, or says it cannot (False). A write that meets no gradient
    (into a buffer, or a tensor the region made without one: running statistics, dropout's masks) changes nothing;
    one of a node's output into another node's output (``relu_`` after batch norm) moves the target to the source's
    node, as ``assign_inplace`` does, unless some node saved the target (eager would copy it, or raise at
    backward). Anything else is refused."""
    _, target, (kind, source) = write
    gradient = kind == "slot" and source in producer
    if target in wanted or target in saved:
        return False
    if target not in producer:
        return not gradient
    if not gradient:
        return False
    producer[target] = producer[source]
    return True


def _dependencies(nodes, roots):
    """Per node reachable from ``roots``, how many flows lead into it (autograd.engine's ``_dependencies``)."""
    counts, stack = {}, list(dict.fromkeys(k for k, _ in roots))
    expanded = set(stack)
    while stack:
        for _, target, _, _ in nodes[stack.pop()][2]:
            if target is None:
                continue
            k = target[0]
            if k in counts:
                counts[k] += 1
            else:
                counts[k] = 1
                if k not in expanded:
                    stack.append(k)
    return counts


def keep(ctx):
    """A replayed forward's ctx made ready for its backward: what it saved as the entries ``saved_arrays`` and
    ``saved_tensors`` read (no version checks: the compiled forward's arrays are its own, as the recorded backward
    program's are)."""
    saved = ctx._saved
    if saved:
        ctx._saved = [("array", value, 0) if type(value) is numpy.ndarray else _saved_entry(value, ())
                      for value in saved]
    return ctx


def run(plan, contexts, grads):
    """The gradients (arrays or None) of the wanted inputs and parameters, from the outputs' gradient arrays."""
    nodes, buffers = plan.nodes, {}
    for (k, nr), g in zip(plan.roots, grads):
        _add_into(buffers, nodes, k, nr, g)
    counts = dict(plan.counts)
    ready = [k for k in dict.fromkeys(k for k, _ in plan.roots) if k not in counts]
    leaves = {}
    release = not _engine.running.retain_graph
    while ready:
        k = ready.pop()
        _, cls, flows, on_arrays, output_meta, materialize = nodes[k]
        ctx = contexts[k]
        if on_arrays:   # (the common case inline: one output, its gradient an array)
            input_grads = cls.array_backward(ctx, buffers.pop(k)[0])
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
        else:
            input_grads = _node_backward(cls, ctx, buffers.pop(k), output_meta, materialize)
        if release:   # as the engine frees each node's saved arrays (the buffer pool can hand them out again)
            ctx._release()
        count = len(input_grads)
        for i, target, slot, meta in flows:
            g = input_grads[i] if i < count else None
            if g is None:
                _without_gradient(nodes, target, counts, buffers, ready)
                continue
            if type(g) is not numpy.ndarray:
                g = g._data if isinstance(g, Tensor) else _as_array(g, numpy)
            if g.shape != meta[0] or g.dtype != meta[1]:
                g = _conform(g, *meta)
            if target is None:
                previous = leaves.get(slot)
                leaves[slot] = g if previous is None else previous + g
                continue
            k, nr = target
            buffer = buffers.get(k)
            if buffer is None and nodes[k][4] is None:   # (one output: _add_into inline)
                buffers[k] = [g]
            else:
                _add_into(buffers, nodes, k, nr, g)
            counts[k] -= 1
            if counts[k] == 0:
                ready.append(k)
    return tuple(leaves.get(slot) for slot in plan.wanted)


def _add_into(buffers, nodes, k, nr, g):
    """Adds ``g`` to the gradient of node ``k``'s output ``nr`` (in arrival order, as the engine sums)."""
    buffer = buffers.get(k)
    if buffer is None:
        buffer = buffers[k] = [None] * (1 if nodes[k][4] is None else len(nodes[k][4]))
    buffer[nr] = g if buffer[nr] is None else buffer[nr] + g


def _node_backward(cls, ctx, output_grads, output_meta, materialize):
    """A node's input gradients from its outputs' gradient arrays where it has no ``array_backward`` (or several
    outputs), as the engine computes them without ``create_graph``: ``backward`` on tensors, missing gradients of a
    several-output node as zeros unless it said otherwise."""
    if output_meta is not None and materialize:
        output_grads = [numpy.zeros(*output_meta[nr]) if g is None else g for nr, g in enumerate(output_grads)]
    grads = cls.backward(ctx, *(None if g is None else _wrap(g) for g in output_grads))
    return grads if type(grads) is tuple else (grads,)


def _without_gradient(nodes, target, counts, buffers, ready):
    """A flow into ``target`` carried no gradient: one dependency fewer, passed on from a node left with none and no
    gradient (autograd.engine's ``_without_gradient``)."""
    stack = [target]
    while stack:
        target = stack.pop()
        if target is None:
            continue
        k = target[0]
        counts[k] -= 1
        if counts[k] == 0:
            if k in buffers:
                ready.append(k)
            else:
                stack.extend(flow[1] for flow in nodes[k][2])


def _conform(g, shape, dtype):
    """``g`` summed back to ``shape`` (broadcasting undone) and cast to ``dtype``, as the engine's ``_conform``."""
    if g.shape != shape:
        lead = g.ndim - len(shape)
        dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1)
        if dims:
            if g.dtype.itemsize == 2 and (g.dtype.kind == "f" or g.dtype.name == "bfloat16"):   # as Sum's forward
                g = g.sum(axis=dims, keepdims=True, dtype=numpy.float32).astype(g.dtype)
            else:
                g = numpy.add.reduce(g, axis=dims, keepdims=True)
        g = g.reshape(shape)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g
