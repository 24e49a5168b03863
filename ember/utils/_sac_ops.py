"""Which of PyTorch's ATen overloads a selective checkpointing policy is shown for each ember op call.

PyTorch calls the policy for every ATen op its dispatcher runs below autograd (``linear`` arrives as ``t`` and
``addmm``, ``F.cross_entropy`` as ``_log_softmax`` and ``nll_loss_forward``). ember's graph already has PyTorch's
nodes where users walk it (``AddmmBackward0`` with ``TBackward0`` shown under it, ``MeanBackward0`` over a sum and a
division), and each of PyTorch's autograd nodes is named after the ATen overload that recorded it
(``library._aten_nodes``). So an op call's ATen ops are the nodes it added to the graph, read in recording order
through ``next_functions`` (shown nodes included, the inner nodes a composite hides excluded); a call that recorded
no node (nothing required grad) is named after its primitive or composite. A few ops whose PyTorch kernels run ATen
ops outside the graph (dropout's mask, batch norm's reserve) add those here.
"""
from .._tensor import Tensor
from ..autograd.function import Composite, Node
from ..library._aten import aten
from ..library._aten_nodes import overload_of_node

IGNORED = ("detach", "is_contiguous", "is_strides_like_format", "is_non_overlapping_and_dense", "size", "sym_size",
           "stride", "sym_stride", "storage_offset", "sym_storage_offset", "numel", "sym_numel", "dim")
"""Operators PyTorch's selective checkpointing passes through without asking the policy (``SAC_IGNORED_OPS``)."""


def overload(operator, name):
    """``torch.ops.aten.<operator>.<name>``, or None where PyTorch has no such overload."""
    try:
        return getattr(getattr(aten, operator), name)
    except AttributeError:
        return None


def _tensors(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors(item)


def _next_nodes(node):
    try:
        functions = node.next_functions
    except Exception:   # a node without PyTorch's layout (a user's Function whose inputs are gone)
        return ()
    return [function for function, _ in functions if isinstance(function, Node)]


def hidden_nodes(nodes):
    """The ids of the nodes among ``nodes`` that no node shows: a composite's inner steps under a node that lists
    the composite's own inputs (the sum and division under ``MeanBackward1``). Shown are the nodes reachable through
    ``next_functions`` from those no other node's backward leads to (the region's results, and results unused)."""
    region, used = {id(node) for node in nodes}, set()
    for node in nodes:
        for edge in node._edges or ():
            if edge is not None and isinstance(edge[0], Node):
                used.add(id(edge[0]))
    shown, stack = set(), [node for node in nodes if id(node) not in used]
    while stack:
        node = stack.pop()
        if id(node) not in shown:
            shown.add(id(node))
            stack += [f for f in _next_nodes(node) if id(f) in region or not f._sequence]   # (shown nodes: 0)
    return region - shown


def _graph_ops(outputs, created, hidden):
    """The ATen ops of the nodes behind ``outputs`` that this call created (ids in ``created``, and the shown
    nodes under them), inputs before the nodes using them, as PyTorch's dispatcher ran them."""
    ops, seen = [], set()

    def visit(node):
        seen.add(id(node))
        for function in _next_nodes(node):
            if id(function) not in seen and (id(function) in created or not function._sequence):
                visit(function)
        if id(node) not in hidden:
            named = overload_of_node(node.name())
            if named is not None:
                ops.append(named)
    for tensor in outputs:
        node = tensor.grad_fn
        if node is not None and id(node) in created and id(node) not in seen:
            visit(node)
    return ops


def _by_name(cls, args):
    """The ATen op of a call that recorded no node: the primitive's node name in PyTorch's table, else the
    operator the composite is registered as (its ``Tensor`` or ``Scalar`` overload by the second argument, as for
    ``x > 0``)."""
    named = overload_of_node(cls.__name__ + "Backward0")
    if named is not None:
        return [named]
    if issubclass(cls, Composite):
        packet = getattr(aten, cls.__name__, None) if cls.__name__.isidentifier() else None
        if packet is not None:
            names = packet.overloads()
            if "Tensor" in names and "Scalar" in names and len(args) > 1:
                return [(cls.__name__, "Tensor" if isinstance(args[1], Tensor) else "Scalar")]
            return [(cls.__name__, "default" if "default" in names else names[0])]
    return []


def _dropout_ops(args, kwargs, out, ops):
    """PyTorch's CPU dropout in training draws its mask into an ``empty_like`` tensor in place and scales it."""
    if any(t is out for t in _tensors(args)) or not ops:
        return ops
    return [("empty_like", "default"), ("bernoulli_", "float"), ("div_", "Scalar")] + ops


def _batch_norm_ops(args, kwargs, out, ops):
    """PyTorch's CPU batch norm allocates the (empty) reserve before ``native_batch_norm``."""
    return [("empty", "memory_format")] + ops if ops else ops


def _linear_ops(args, kwargs, out, ops):
    """Without a bias, ``at::linear`` is ``matmul(input, weight.t())``: the weight's ``t`` comes before the fold of
    the input (the graph lists the input first)."""
    if ops[:3] == [("view", "default"), ("t", "default"), ("mm", "default")]:
        return [ops[1], ops[0]] + ops[2:]
    return ops


EXTRA = {"dropout": _dropout_ops, "batch_norm": _batch_norm_ops, "linear": _linear_ops}
"""Composite name -> ``(args, kwargs, out, ops) -> ops``: ATen ops PyTorch's kernel runs outside the graph."""

NO_OPS = ("AssignInplace",)
"""Calls that are not ATen ops of their own (the write of an in-place op: the op before it is its ATen op)."""


def aten_ops(cls, args, kwargs, out, created, hidden):
    """``[(OpOverload, ...)]`` PyTorch's dispatcher would run for one call of ``cls`` that returned ``out`` and
    recorded the nodes whose ids are in ``created``."""
    if cls.__name__ in NO_OPS:
        return []
    outputs = list(_tensors(out))
    ops = _graph_ops(outputs, created, hidden) if created else []
    if not ops and not any(t.grad_fn is not None and id(t.grad_fn) in created for t in outputs):
        ops = _by_name(cls, args)
    extra = EXTRA.get(cls.__name__)
    if extra is not None:
        ops = extra(args, kwargs, out, ops)
    result = []
    for operator, name in ops:
        if operator not in IGNORED:
            found = overload(operator, name)
            if found is not None:
                result.append(found)
    return result


def aten_output(out):
    """A call's result as an ATen op returns it: a named tuple (``max``'s values and indices) as a plain tuple, a
    tuple of tensors (``split``'s) as a list."""
    if type(out) is tuple:
        return list(out)
    return tuple(out) if isinstance(out, tuple) else out


def in_place(op):
    """The in-place overload of ``op`` (``aten.add_.Tensor`` for ``aten.add.Tensor``), or ``op``."""
    return overload(op._opname + "_", op._overloadname) or op
