"""The backward pass: walks the recorded graph in topological order without recursion.

Each node's backward returns one gradient per input; the engine sums it back to the input's shape and dtype
(broadcasting is undone here, once, for every op), adds up gradients that meet at a node, runs hooks, and
accumulates into the ``.grad`` of leaves.
"""
import heapq
import itertools
import sys
import threading
import warnings
from collections import OrderedDict

from .._backend import xp_of
from .._tensor import Tensor, _make, _wrap, add_hook
from . import anomaly_mode
from ._saved import check_kept_versions
from .function import (AccumulateGrad, GradientEdge, Node, _as_array, _ndarray, current_grad_fn, dispatch_hooks,
                       registry)
from .grad_mode import state

dispatch_check = [None]
"""Set while a ``__torch_dispatch__`` subclass instance lives: ``check(node, grads)`` before a node's backward, which
refuses the subclass's gradients where the node's formula would read their arrays."""


transforms_active = [None]
"""Set by ``ember.func``: a function telling whether a function transform (vmap, grad, ...) is running."""


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Computes the gradients of ``tensors`` with respect to the graph's leaves and accumulates them in ``.grad``."""
    if transforms_active[0] is not None and transforms_active[0]():
        raise RuntimeError("backward() called inside a functorch transform. This is not supported, please use "
                           "functorch.grad or functorch.vjp instead or call backward() outside of functorch "
                           "transforms.")
    tensors = (tensors,) if isinstance(tensors, (Tensor, GradientEdge)) else tuple(tensors)
    grads = _root_grads(tensors, grad_tensors)
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, (Tensor, GradientEdge)) else tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        for t in inputs:   # PyTorch's engine retains the grad of each input, refusing one without requires_grad
            if not isinstance(t, GradientEdge) and not t.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if create_graph and not _warned_create_graph:
        _warned_create_graph.append(True)   # once per process, as PyTorch's
        warnings.warn("Using backward() with create_graph=True will create a reference cycle between the parameter and "
                      "its gradient which can cause a memory leak. We recommend using autograd.grad when creating the "
                      "graph to avoid this. If you have to use this function, make sure to reset the .grad fields of "
                      "your parameters to None after use to break the cycle and avoid the leak.", UserWarning,
                      stacklevel=3 if sys._getframe(1).f_code is _tensor_backward.__code__ else 2)
    _run(tensors, grads, create_graph if retain_graph is None else retain_graph, create_graph, inputs, capture=False)


_warned_create_graph = []


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Returns the gradients of ``outputs`` with respect to ``inputs`` without touching any ``.grad``. Outputs and
    inputs may be ``autograd.graph.GradientEdge``s (the gradient flowing along that edge of the graph)."""
    outputs = (outputs,) if isinstance(outputs, (Tensor, GradientEdge)) else tuple(outputs)
    single_input = isinstance(inputs, (Tensor, GradientEdge))
    inputs = (inputs,) if single_input else tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                             materialize_grads)
    grads = _root_grads(outputs, grad_outputs)
    for t in inputs:   # after the outputs' checks: PyTorch's engine checks the outputs first
        if not isinstance(t, GradientEdge) and not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    captured = _run(outputs, grads, create_graph if retain_graph is None else retain_graph, create_graph, inputs,
                    capture=True)
    if allow_unused is None:
        allow_unused = materialize_grads
    results = []
    for index, (t, g) in enumerate(zip(inputs, captured)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {index} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
            if materialize_grads:
                if isinstance(t, GradientEdge):
                    raise RuntimeError("materialize_grads cannot be used when the given input is a GradientEdge")
                g = t.new_zeros(t.shape) if hasattr(t, "new_zeros") else _make(t._data * 0)
        as_gradient = getattr(type(t), "_as_gradient", None)   # a subclass's gradients as it holds them
        results.append(g if as_gradient is None or g is None else as_gradient(t, g))
    return tuple(results)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads):
    """``is_grads_batched``: one backward per index of the grad_outputs' leading dim, results stacked along it."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    if any(g is None for g in grad_outputs):
        _root_grads(outputs, grad_outputs)   # PyTorch's error for a non-scalar output; a scalar's 0-d ones has no batch
        raise ValueError("vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some input, but that input is a Tensor "
                         "of dimensionality 0 so expected in_dim to satisfy 0 <= in_dim < 0.")
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        if isinstance(t, Tensor) and isinstance(g, Tensor) and g._data.shape[1:] != t._data.shape:
            raise RuntimeError("If `is_grads_batched=True`, we interpret the first dimension of each grad_output as "
                               "the batch dimension. The sizes of the remaining dimensions are expected to match the "
                               f"shape of corresponding output, but a mismatch was detected: grad_output[{i}] has a "
                               f"shape of {type(g.shape)(g.shape[1:])} and output[{i}] has a shape of {t.shape}. If "
                               "you only want some tensors in `grad_output` to be considered batched, consider using "
                               "vmap.")
    size = grad_outputs[0]._data.shape[0]
    if size == 0:   # PyTorch reads the first grad_output's first row
        raise IndexError("index 0 is out of bounds for dimension 0 with size 0")
    keep = create_graph if retain_graph is None else retain_graph
    samples = [grad(outputs, inputs, [g[b] if create_graph else _make(g._data[b, ...]) for g in grad_outputs],
                    retain_graph=keep or b < size - 1, create_graph=create_graph,
                    allow_unused=materialize_grads if allow_unused is None else allow_unused) for b in range(size)]
    results = []
    for t, per_input in zip(inputs, zip(*samples)):
        if per_input[0] is None:   # materialized as PyTorch's: zeros of the input's shape, without the batch dim
            results.append(t.new_zeros(t.shape) if materialize_grads else None)
        elif create_graph:   # ops register Stack; autograd sits below them, so it looks the op up by name
            results.append(registry["Stack"].apply(*per_input, 0))
        else:
            results.append(_make(xp_of(per_input[0]._data).stack([g._data for g in per_input])))
    return tuple(results)


def _root_grads(tensors, grad_tensors):
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    else:
        grad_tensors = tuple(grad_tensors)
    if len(grad_tensors) < len(tensors):   # (PyTorch pairs them up, leaving out extra gradients)
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grad_tensors)} gradients")
    grads = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if isinstance(t, GradientEdge):
            grads.append(_edge_root_grad(i, t, g))
            continue
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if t._data.dtype.kind == "c":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs but got "
                                   f"torch.{t.dtype.name}")
            g = _make(xp_of(t._data).array(1, t._data.dtype).reshape(t._data.shape))   # numpy.ones runs Python code
        elif not isinstance(g, Tensor):
            g = _make(_ones_like(t._data) * g)
        elif g._data.shape != t._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a "
                               f"shape of {t.shape}.")
        grads.append(g)
    return grads


def _ones_like(array):
    return xp_of(array).ones_like(array)


def _edge_root_grad(i, edge, g):
    """The gradient a backward starts with at a ``GradientEdge`` output: ``g``, or ones where the node recorded
    that output's shape and it has one element (ember's single-output nodes record no shapes)."""
    node = edge.node
    if isinstance(node, AccumulateGrad) or not isinstance(node, Node):
        raise RuntimeError(f"element {i} of tensors is a GradientEdge to a {type(node).__name__}; only the edges of "
                           "nodes that ops recorded can start a backward")
    meta = node._output_meta[edge.output_nr] if node._output_meta else None
    if g is None:
        if meta is None:
            raise RuntimeError(f"grad_outputs must be given for the GradientEdge at index {i}: its node does not "
                               "record the shape of its outputs")
        shape, dtype = meta
        if any(size != 1 for size in shape):
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return _make(node.xp.ones(shape, dtype))
    if not isinstance(g, Tensor):
        raise TypeError("gradients can be either Tensors or None, but got " + type(g).__name__)
    if meta is not None and g._data.shape != meta[0]:
        raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a "
                           f"shape of {type(g.shape)(meta[0])}.")
    return g


def _dependencies(roots):
    """Counts, for every node reachable from ``roots``, how many edges lead into it; and the same for the leaves
    that have post-accumulate-grad hooks (keyed by id), so those can be finished as soon as their gradient is whole."""
    counts = {}
    hooked_leaves = {}
    stack = list(roots)
    expanded = set(roots)   # a root that another root reaches is counted but not walked twice
    while stack:
        for edge in stack.pop()._edges:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Node):
                if target in counts:
                    counts[target] += 1
                else:
                    counts[target] = 1
                    if target not in expanded:
                        stack.append(target)
            elif target._post_accumulate_grad_hooks:
                hooked_leaves[id(target)] = hooked_leaves.get(id(target), 0) + 1
    return counts, hooked_leaves


def _ready_queue():
    """(heap, push) for nodes whose gradients are complete: popped latest-recorded first (PyTorch's order: a node's
    sequence number, the most recently made ready first among equal ones), so hooks run and gradients add up in
    PyTorch's order. ``heappop(heap)[2]`` is the next node."""
    heap, order = [], itertools.count(0, -1)

    def push(node):
        heapq.heappush(heap, (-node._sequence, next(order), node))
    return heap, push


def _without_gradient(target, counts, buffers, push, hooked_leaves, leaf_grads, create_graph, handed_out):
    """An edge into ``target`` carried no gradient (a backward returned None for it): one dependency fewer. A node
    left with none and no gradient at all passes the same on along its edges, so a node that other paths do reach
    still runs."""
    stack = [target]
    while stack:
        target = stack.pop()
        if not isinstance(target, Node):
            if hooked_leaves and id(target) in hooked_leaves:
                _hooked_leaf_edge_done(target, hooked_leaves, leaf_grads, create_graph, handed_out)
            continue
        count = counts[target] - 1
        counts[target] = count
        if count == 0:
            if target in buffers:
                push(target)
            else:
                stack.extend(edge[0] for edge in target._edges if edge is not None)


def _hooked_leaf_edge_done(leaf, hooked_leaves, leaf_grads, create_graph, handed_out):
    """One edge into a leaf with post-accumulate-grad hooks is done (with or without a gradient); after the last,
    the leaf's gradient, if any came, is finished now: hooks, ``.grad``, post-accumulate hooks."""
    key = id(leaf)
    hooked_leaves[key] -= 1
    if not hooked_leaves[key] and key in leaf_grads:
        _finish_leaf(*leaf_grads.pop(key), create_graph, handed_out)


class _Running(threading.local):
    """What the backward running on this thread was asked, for a node whose backward runs many ops' backwards (a
    compiled forward's): whether the graph is kept for another backward (else each op's saved arrays can go at
    once, as the engine lets its own nodes' go); and that backward's ``GraphTask``, or the parts ``current_task``
    makes it of on first request (None outside a backward)."""
    retain_graph = True
    task = None


running = _Running()
_task_ids = itertools.count()


class GraphTask:
    """One backward call, as ``autograd.graph`` asks about it: an id, whether it will run a node, and callbacks to
    run once it has finished (after every gradient is accumulated)."""

    __slots__ = ("id", "callbacks", "_roots", "_root_leaves", "_counts", "_wanted_leaves", "_wanted_outputs",
                 "_leaves", "_needed", "_leading")

    def __init__(self, roots, root_leaves, counts, wanted_leaves, wanted_outputs):
        self.id = next(_task_ids)
        self.callbacks = []
        self._roots, self._root_leaves, self._counts = set(roots), root_leaves, counts
        self._wanted_leaves, self._wanted_outputs = wanted_leaves, wanted_outputs
        self._leaves = self._needed = self._leading = None

    def will_execute(self, node):
        """Whether PyTorch's engine would run ``node`` (an ``AccumulateGrad``: accumulate into its leaf) in this
        backward: reachable from the outputs and, when ``inputs`` were given, on a path to one of them."""
        if isinstance(node, AccumulateGrad):
            leaf = id(node.variable)
            if self._wanted_leaves is not None and leaf not in self._wanted_leaves:
                return False
            return leaf in self._reachable_leaves()
        if node not in self._counts and node not in self._roots:
            return False
        return self._wanted_leaves is None or node in self._needed_nodes()

    def _reachable_leaves(self):
        if self._leaves is None:
            leaves = set(self._root_leaves)
            for node in itertools.chain(self._roots, self._counts):
                for edge in node._edges:
                    if edge is not None and not isinstance(edge[0], Node):
                        leaves.add(id(edge[0]))
            self._leaves = leaves
        return self._leaves

    def _needed_nodes(self):
        """The nodes on a path to an input: each node is decided after the nodes its edges lead to."""
        if self._needed is None:
            order, seen = [], set()
            stack = [(root, False) for root in self._roots]
            while stack:
                node, expanded = stack.pop()
                if expanded:
                    order.append(node)
                    continue
                if node in seen:
                    continue
                seen.add(node)
                stack.append((node, True))
                for edge in node._edges:
                    if edge is not None and isinstance(edge[0], Node) and edge[0] not in seen:
                        stack.append((edge[0], False))
            needed = {node for node, _ in self._wanted_outputs}
            leading = set()
            for node in order:
                for edge in node._edges:
                    if edge is not None and (edge[0] in needed if isinstance(edge[0], Node)
                                             else id(edge[0]) in self._wanted_leaves):
                        needed.add(node)
                        leading.add(node)
                        break
            self._needed, self._leading = needed, leading
        return self._needed

    def _runs(self, accumulate):
        """The nodes whose backward runs when ``inputs`` were given: those with an edge on a path to an input, and
        for ``backward(inputs=)`` (``accumulate``) the inputs' own nodes. A node only an ``autograd.grad`` input's
        (its gradient captured) or on no path to one is not run, so its saved tensors stay, as PyTorch's engine
        skips it."""
        self._needed_nodes()
        if not accumulate:
            return self._leading
        return self._leading | {node for node, _ in self._wanted_outputs}


def current_task():
    """The ``GraphTask`` of the backward running on this thread (made on first request), or None outside one."""
    task = running.task
    if type(task) is tuple:
        task = running.task = GraphTask(*task)
    return task


def _is_checkpoint_valid():
    """False while a backward given ``inputs`` (``autograd.grad``, ``backward(inputs=)``) runs: the reentrant
    checkpoint's rerun cannot deliver gradients only to those."""
    task = running.task
    if type(task) is tuple:
        return task[3] is None
    return task is None or task._wanted_leaves is None


def _run(tensors, grads, retain_graph, create_graph, inputs, capture):
    previous, retained, task = state.enabled, running.retain_graph, running.task
    state.enabled, running.retain_graph = create_graph, retain_graph
    try:
        return _execute(tensors, grads, retain_graph, create_graph, inputs, capture)
    finally:
        state.enabled, running.retain_graph, running.task = previous, retained, task


def _input_keys(inputs):
    """What the engine looks for per input: ``{id(leaf): index}`` and ``{(node, output_nr): index}`` (a
    ``GradientEdge`` names its node and output; one to an ``AccumulateGrad`` names that leaf)."""
    leaves, outputs = {}, {}
    for i, t in enumerate(inputs):
        if isinstance(t, GradientEdge):
            if isinstance(t.node, AccumulateGrad):
                leaves[id(t.node.variable)] = i
            else:
                outputs[(t.node, t.output_nr)] = i
        elif current_grad_fn(t) is None:
            leaves[id(t)] = i
        else:
            outputs[(t.grad_fn, t._output_nr)] = i
    return leaves, outputs


def _execute(tensors, grads, retain_graph, create_graph, inputs, capture):
    wanted_leaves = wanted_outputs = captured = None
    if inputs is not None:
        captured = [None] * len(inputs)
        wanted_leaves, wanted_outputs = _input_keys(inputs)
    handed_out = set()   # ids of gradient arrays already stored somewhere: copy for another
    for g in grads:
        handed_out.add(id(g._data))
    leaf_grads = {}   # id -> [leaf, summed grad]: a leaf's hooks and .grad see the total of its contributions once

    buffers = {}
    roots = []
    root_leaves = []
    for t, g in zip(tensors, grads):
        if isinstance(t, GradientEdge):
            node, nr = t.node, t.output_nr
        else:
            node, nr = current_grad_fn(t), t._output_nr
        if node is None:
            _deliver_to_leaf(leaf_grads, t, g)
            root_leaves.append(id(t))
            continue
        buffer = buffers.get(node)
        if buffer is None:
            buffer = buffers[node] = [None] * node._num_outputs
            roots.append(node)
        buffer[nr] = g if buffer[nr] is None else buffer[nr] + g

    counts, hooked_leaves = _dependencies(roots)
    running.task = (roots, root_leaves, counts, wanted_leaves, wanted_outputs)
    runs = None   # with inputs: the nodes on a path to one (the others are not run)
    if inputs is not None:
        hooked_leaves = {}
        runs = current_task()._runs(not capture)
    ready, push = _ready_queue()
    pop = heapq.heappop
    for node in roots:
        if node not in counts:
            push(node)
    check_nan = anomaly_mode.is_anomaly_enabled()
    # Without create_graph, primitives with an array_backward get and give arrays: a gradient stays an array in
    # ``buffers`` until something needs a Tensor (a backward on Tensors, a hook, a leaf's .grad).
    fast = not create_graph and not dispatch_hooks
    while ready:
        node = pop(ready)[2]
        output_grads = buffers.pop(node)
        if runs is not None and node not in runs:   # tensor hooks and captures only, as PyTorch's engine
            _before_node(node, _tensors(output_grads), create_graph, wanted_outputs, captured, node_hooks=False)
            continue
        function = node._function
        if node._hooked or wanted_outputs:
            output_grads = _before_node(node, _tensors(output_grads), create_graph, wanted_outputs, captured)
        on_arrays = False
        if fast and node._backward_on_arrays and node._num_outputs == 1:
            g = output_grads[0]
            kind = type(g)
            if kind is _ndarray:
                on_arrays = True
            elif kind is Tensor:
                g, on_arrays = g._data, True
            elif g is not None and not isinstance(g, Tensor):   # a CuPy array (a Tensor subclass: the Tensor path)
                on_arrays = True
        if not on_arrays:
            output_grads = _tensors(output_grads)
            if dispatch_check[0] is not None:   # a __torch_dispatch__ subclass exists (ember._python_dispatch)
                dispatch_check[0](node, output_grads)
            if node._num_outputs > 1 and node.materialize_grads:
                for nr, g in enumerate(output_grads):
                    if g is None and node._output_meta[nr] is not None:   # (a non-tensor output's stays None)
                        shape, dtype = node._output_meta[nr]
                        output_grads[nr] = _make(node.xp.zeros(shape, dtype))
        try:
            if node._kept_versions:
                check_kept_versions(node)
            if on_arrays:   # input_grads are arrays
                input_grads = function.array_backward(node, g)
            else:
                input_grads = function.backward(node, *output_grads)
        except Exception as error:
            if check_nan and node._trace:
                anomaly_mode.report(node)
            raise error
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        edges = node._edges
        if len(input_grads) != len(edges) and _wrong_count(node, input_grads, edges):
            raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                               f"(expected {len(edges)}, got {len(input_grads)})")
        if node._python_function and node._shown_positions is not None:   # a custom Function with non-tensor inputs
            _check_non_tensor_grads(node, input_grads)
        if node._hooked and "_post_hooks" in node.__dict__:
            if on_arrays:
                input_grads, on_arrays = _wrap_all(input_grads, node.xp), False
            for hook in node._post_hooks.values():
                replaced = hook(input_grads, tuple(_tensors(output_grads)))
                if replaced is not None:
                    input_grads = _replaced_grads(hook, replaced, input_grads, edges)
        if not retain_graph and node._saved is not None:
            node._release()
        i = -1
        for edge, g, meta in zip(edges, input_grads, node._input_meta):
            i += 1
            if edge is None:
                continue
            if g is None:   # the target waits for one gradient fewer
                _without_gradient(edge[0], counts, buffers, push, hooked_leaves, leaf_grads, create_graph,
                                  handed_out)
                continue
            if on_arrays:
                if type(g) is not _ndarray:
                    g = _as_array(g, node.xp)   # NumPy gives 0-d results as scalars
                if g.shape != meta[0] or g.dtype is not meta[1] and g.dtype != meta[1]:
                    g = _conform(_wrap(g), *meta, node, i)
            elif not isinstance(g, Tensor):
                raise TypeError(f"{node.name()} returned a {type(g).__name__} as gradient {i}; expected a Tensor")
            elif type(g) is Tensor or not g.is_sparse:   # a sparse gradient (embedding's) arrives as it is
                data = g._data
                if data.shape != meta[0] or data.dtype is not meta[1] and data.dtype != meta[1]:
                    g = _conform(g, *meta, node, i)
            if check_nan:
                if not isinstance(g, Tensor):
                    g = _wrap(g)
                anomaly_mode.check(node, i, g)
            target, nr = edge
            if isinstance(target, Tensor):
                entry = leaf_grads.get(id(target))
                if entry is None:
                    leaf_grads[id(target)] = [target, g]
                else:
                    entry[1] = _add(entry[1], g)
                if hooked_leaves and id(target) in hooked_leaves:
                    _hooked_leaf_edge_done(target, hooked_leaves, leaf_grads, create_graph, handed_out)
                continue
            buffer = buffers.get(target)
            if buffer is None:
                buffers[target] = buffer = [None] * target._num_outputs
            previous = buffer[nr]
            buffer[nr] = g if previous is None else _add(previous, g)
            count = counts[target] - 1
            counts[target] = count
            if count == 0:
                push(target)
    for leaf, g in leaf_grads.values():   # g: a Tensor, or an array from an array_backward
        if wanted_leaves is not None:   # a leaf that is not an input: PyTorch runs neither its hooks nor anything
            index = wanted_leaves.get(id(leaf))
            if index is None:
                continue
        if leaf._hooks:
            g = _run_leaf_hooks(leaf, g if isinstance(g, Tensor) else _wrap(g))
        if wanted_leaves is not None:
            if not isinstance(g, Tensor):
                g = _wrap(g)
            if capture:
                captured[index] = g if captured[index] is None else captured[index] + g
                continue
        _accumulate(leaf, g, create_graph, handed_out)
        if leaf._post_accumulate_grad_hooks:
            _run_post_accumulate_hooks(leaf)
    if wanted_outputs and not capture:   # backward(inputs=[non-leaf]) fills that tensor's .grad
        for i in wanted_outputs.values():
            if captured[i] is not None and not isinstance(inputs[i], GradientEdge):
                if inputs[i].retains_grad:   # its .grad was filled as the gradient arrived
                    continue
                if inputs[i].grad_fn is not None:
                    inputs[i].retain_grad()  # as PyTorch: the non-leaf now retains its .grad
                _accumulate(inputs[i], captured[i], create_graph, handed_out)
    task = running.task
    if type(task) is GraphTask:
        for callback in task.callbacks:
            callback()
    return captured


def _tensors(grads):
    """Per output, its gradient as a Tensor (those kept as arrays wrapped), or None."""
    for g in grads:
        if g is not None and not isinstance(g, Tensor):
            return [_wrap(g) if g is not None and not isinstance(g, Tensor) else g for g in grads]
    return grads


def _replaced_grads(hook, replaced, input_grads, edges):
    """A node hook's returned gradients, checked as PyTorch checks them (ember's nodes may also have an edge per
    non-tensor argument: a hook may leave out those trailing Nones)."""
    if not isinstance(replaced, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(replaced).__name__}'")
    missing = len(input_grads) - len(replaced)
    if missing > 0 and edges and all(edge is None for edge in edges[len(replaced):]):
        replaced = replaced + (None,) * missing
    elif missing:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has returned an incorrect number of values (got "
                           f"{len(replaced)}, but expected {len(input_grads)})")
    for old, new in zip(input_grads, replaced):
        if new is not None:
            _check_replaced(hook, old, new)
    return replaced


def _check_non_tensor_grads(node, input_grads):
    """Refuses a gradient a custom Function's backward gave for an argument that was not a tensor."""
    for i, g in enumerate(input_grads):
        if g is not None and i not in node._shown_positions:
            raise RuntimeError(f"function {node.name()} returned a gradient different than None at position {i + 1}, "
                               "but the corresponding forward input was not a Variable")


def _hook_name(hook):
    return getattr(hook, "__name__", repr(hook))


def _hooked_grad(hook, g):
    """``hook(g)``: its returned tensor (checked as PyTorch checks a hook's result), or ``g``."""
    replaced = hook(g)
    if replaced is None:
        return g
    _check_replaced(hook, g, replaced)
    return replaced


def _check_replaced(hook, g, replaced):
    """Refuses a hook's replacement for gradient ``g`` that is not a tensor of its dtype, device and shape."""
    if g is None:
        raise RuntimeError("can't replace a None gradient with a non-None value")
    if not isinstance(replaced, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(replaced).__name__}'")
    if replaced.dtype != g.dtype or replaced.device != g.device:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was {g.type()} got "
                           f"{replaced.type()})")
    if replaced.shape != g.shape:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")


def _wrap_all(arrays, xp):
    """Gradient arrays from an ``array_backward`` as tensors (for hooks)."""
    return tuple(None if g is None else _wrap(g if type(g) is _ndarray else _as_array(g, xp)) for g in arrays)


def _conform(g, shape, dtype, node, index):
    """``g`` summed back to the input's ``shape`` (broadcasting undone) and cast to its ``dtype``; a complex
    gradient of a real input is its real part, taken silently as PyTorch's engine does (a cast would warn that it
    discards the imaginary part)."""
    if g._data.shape != shape:
        g = _sum_to(g, shape, node, index)
    if g._data.dtype is not dtype and g._data.dtype != dtype:
        if g._data.dtype.kind == "c" and dtype.kind != "c":
            g = g.real
        if g._data.dtype != dtype:
            g = g.to(_dtype_of(dtype))
    return g


def _add(a, b):
    """Two gradients for one output, each a Tensor or an array of the same shape and dtype, summed."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return (a if isinstance(a, Tensor) else _wrap(a)) + (b if isinstance(b, Tensor) else _wrap(b))
    total = a + b
    return total if type(total) is _ndarray else _as_array(total, xp_of(a))


def _finish_leaf(leaf, g, create_graph, handed_out):
    """Runs a leaf's gradient hooks, accumulates into ``.grad``, then runs its post-accumulate-grad hooks."""
    if leaf._hooks:
        g = _run_leaf_hooks(leaf, g if isinstance(g, Tensor) else _wrap(g))
    _accumulate(leaf, g, create_graph, handed_out)
    _run_post_accumulate_hooks(leaf)


def _run_post_accumulate_hooks(leaf):
    for hook in list(leaf._post_accumulate_grad_hooks.values()):
        if hook(leaf) is not None:
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def _deliver_to_leaf(leaf_grads, leaf, g):
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, g]
    else:
        entry[1] = _add(entry[1], g)


def _run_leaf_hooks(leaf, g):
    for hook in leaf._hooks.values():
        g = _hooked_grad(hook, g)
    return g


def _wrong_count(node, input_grads, edges):
    """Extra gradients must be None; ember's primitives may leave out trailing non-tensor arguments."""
    if len(input_grads) > len(edges):
        return any(g is not None for g in input_grads[len(edges):])
    missing = edges[len(input_grads):]
    return not node._function._array_level or missing.count(None) != len(missing)


def _before_node(node, output_grads, create_graph, wanted_outputs, captured, node_hooks=True):
    """Runs tensor hooks, the node's pre-hooks (unless not ``node_hooks``: a node that will not run), retain_grad and
    autograd.grad captures on the gradients arriving at ``node``."""
    if node._output_hooks:
        for nr, hooks in node._output_hooks.items():
            g = output_grads[nr]
            if g is None:
                continue
            for hook in list(hooks.values()):
                g = _hooked_grad(hook, g)
            output_grads[nr] = g
    if node_hooks and "_pre_hooks" in node.__dict__:
        for hook in node._pre_hooks.values():
            replaced = hook(tuple(output_grads))
            if replaced is not None:
                output_grads = list(_replaced_grads(hook, replaced, output_grads, ()))
    if node._retained:
        for nr, ref in node._retained.items():
            tensor = ref()
            g = output_grads[nr]
            if tensor is not None and g is not None:
                g = g if create_graph else g.detach()
                tensor.grad = _make(g._data.copy()) if tensor.grad is None else tensor.grad + g
    if wanted_outputs:
        for nr, g in enumerate(output_grads):
            index = wanted_outputs.get((node, nr))
            if index is not None and captured is not None:
                captured[index] = g
    return output_grads


def _accumulate(leaf, g, create_graph, handed_out):
    """Adds ``g`` (a Tensor, or an array from an ``array_backward``) into ``leaf.grad`` (in place when the graph of
    the gradient is not wanted)."""
    grad = leaf.__dict__.get("grad") if type(leaf) is Tensor else leaf.grad
    if "_grad_dtype" in leaf.__dict__:   # a leaf's grad_dtype casts what arrives (None keeps it)
        g = _cast_to_grad_dtype(leaf, g)
    given = g
    if type(g) is Tensor:
        data = g._data
    elif isinstance(g, Tensor):
        if g.is_sparse or type(g)._dispatches:   # sparse gradients add up as sparse tensors (coalesced), those of a
            leaf.grad = g if grad is None else grad + g   # __torch_dispatch__ subclass through its handler (its array
            return                                        # is a placeholder)
        data = g._data
    else:
        data, g = g, None
    if grad is None:
        variable = leaf._data
        if id(data) in handed_out or _views_another(data) or not getattr(data.flags, "writeable", True) or (
                data.strides != variable.strides and _other_layout(data, variable)):
            data = _laid_out_as(data, variable)
            g = _make(data, g.requires_grad, g.grad_fn, g._output_nr) if create_graph else _make(data)
        elif g is None or not create_graph:
            g = _make(data)
        handed_out.add(id(data))
        if getattr(type(given), "_takes_over_calls", False):   # a DTensor's gradient stays one (its array is a shard)
            g = given.detach()
            g._data = data
        leaf.grad = g
    elif create_graph or grad.requires_grad or (type(grad) is not Tensor and type(grad)._dispatches):
        leaf.grad = grad + (_wrap(data) if g is None else g)
    else:
        grad._data += data
        grad._version_counter[0] += 1


ANY_GRAD_DTYPE = "any"
"""What a leaf's ``grad_dtype = None`` stores: gradients of any dtype are accepted and kept as they come."""


def _cast_to_grad_dtype(leaf, g):
    """``g`` in the dtype the leaf's ``grad_dtype`` asks for (as it came for ``None``)."""
    wanted = leaf.__dict__["_grad_dtype"]
    if wanted == ANY_GRAD_DTYPE:
        return g
    wrapped = g if isinstance(g, Tensor) else _wrap(g)
    return g if wrapped.dtype == wanted else wrapped.to(wanted)


def _views_another(data):
    """Whether ``data`` is a view of another array (a gradient laid over pooled memory, ``ops/_buffers``, owns it
    alone: its base is the pool's raw block, not an array)."""
    return not data.flags.owndata and isinstance(data.base, xp_of(data).ndarray)


def _other_layout(data, variable):
    """Whether the gradient ``data`` lies in memory otherwise than the dense ``variable`` it is for (strides of
    size-1 dims aside)."""
    if data.dtype != variable.dtype or data.shape != variable.shape or not _dense(variable):
        return False
    return any(a != b for a, b, n in zip(data.strides, variable.strides, data.shape) if n != 1)


def _dense(array):
    expected = array.itemsize
    for stride, size in sorted((abs(s), n) for s, n in zip(array.strides, array.shape) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _laid_out_as(data, variable):
    """A copy of the gradient ``data`` with the dense ``variable``'s strides (PyTorch's gradient layout contract: a
    channels-last or transposed parameter gets a gradient laid out as itself), row-major for other variables."""
    if data.shape != variable.shape or data.dtype != variable.dtype or not _dense(variable):
        return data.copy()
    out = xp_of(data).empty_like(variable)
    out[...] = data
    return out


def _sum_to(g, shape, node, index):
    """Sums a broadcast gradient back down to ``shape``."""
    lead = g.ndim - len(shape)
    if lead < 0 or any(s != 1 and s != gs for s, gs in zip(shape, g._data.shape[lead:])):
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {index} - got "
                           f"{list(g.shape)} but expected shape compatible with {list(shape)}")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and g._data.shape[lead + i] != 1)
    if dims:
        g = g.sum(dims, keepdim=True)
    return g.reshape(shape) if g._data.shape != shape else g


def _dtype_of(numpy_dtype):
    from .._dtype import from_numpy
    return from_numpy(numpy_dtype)


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Computes the gradient of this tensor with respect to graph leaves, accumulating into their ``.grad``."""
    backward(self, gradient, retain_graph, create_graph, inputs)


def _register_post_accumulate_grad_hook(self, hook):
    """Calls ``hook(tensor)`` once backward has accumulated this leaf's whole gradient into ``.grad``."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if self._post_accumulate_grad_hooks is None:
        self._post_accumulate_grad_hooks = OrderedDict()
    return add_hook(self._post_accumulate_grad_hooks, hook)


# named as PyTorch's Python methods are, which CPython's binding errors print ("Tensor.backward() takes ...")
for _method, _name in ((_tensor_backward, "backward"),
                       (_register_post_accumulate_grad_hook, "register_post_accumulate_grad_hook")):
    _method.__name__, _method.__qualname__ = _name, "Tensor." + _name
Tensor.backward = _tensor_backward
Tensor._post_accumulate_grad_hooks = None
Tensor.register_post_accumulate_grad_hook = _register_post_accumulate_grad_hook
