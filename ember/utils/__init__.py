"""Utilities in PyTorch's layout: ``ember.utils.data`` holds datasets, samplers and the DataLoader; ``hooks`` the
handle hooks return; ``swap_tensors`` exchanges two tensors' contents in place."""
import copyreg
import gc
import weakref

from . import data  # noqa: F401
from . import checkpoint  # noqa: F401,E402
from . import hooks  # noqa: F401
from . import deterministic, dlpack  # noqa: F401,E402
from .._tensor import Tensor, _instance_dict
from ..autograd.function import Node

_TENSOR_SLOTS = frozenset(Tensor.__slots__) - {"__dict__", "__weakref__"}   # PyTorch's C++ tensor: swapped last


def swap_tensors(t1, t2):
    """Exchanges the contents of two tensors in place: data, shape, dtype, version counter, autograd state, class and
    Python attributes, so that each object now holds what the other held. PyTorch's checks and errors."""
    if weakref.getweakrefs(t1):
        raise RuntimeError("Cannot swap t1 because it has weakref associated with it")
    if weakref.getweakrefs(t2):
        raise RuntimeError("Cannot swap t2 because it has weakref associated with it")
    slots = set(copyreg._slotnames(t1.__class__)) - _TENSOR_SLOTS
    if slots != set(copyreg._slotnames(t2.__class__)) - _TENSOR_SLOTS:
        raise RuntimeError("Cannot swap t1 and t2 if they have different slots")
    held = _held_by_ember(*(t for t in (t1, t2) if isinstance(t, Tensor)))
    _check_use_count(t1, "t1", held)
    _check_use_count(t2, "t2", held)

    def swap(name):
        value = getattr(t1, name)
        setattr(t1, name, getattr(t2, name))
        setattr(t2, name, value)

    swap("__class__")
    dict1 = _instance_dict.__get__(t1)   # the whole dictionaries: autograd state moves with them
    _instance_dict.__set__(t1, _instance_dict.__get__(t2))
    _instance_dict.__set__(t2, dict1)
    for slot in slots:
        if hasattr(t1, slot) and hasattr(t2, slot):
            swap(slot)
        elif hasattr(t1, slot):
            setattr(t2, slot, getattr(t1, slot))
            delattr(t1, slot)
        elif hasattr(t2, slot):
            setattr(t1, slot, getattr(t2, slot))
            delattr(t2, slot)
    for slot in _TENSOR_SLOTS:
        swap(slot)


def _check_use_count(t, name, held):
    """PyTorch's rule on the references its autograd holds to ``t`` (its use count): none, or only the gradient
    accumulator of a leaf, which is then poisoned so that a backward reaching it raises."""
    if not isinstance(t, Tensor):
        raise AttributeError(f"'{type(t).__name__}' object has no attribute '_use_count'")
    nodes, others = held[id(t)]
    use_count = 1 + bool(nodes) + others
    if use_count == 1:
        return
    if use_count == 2 and t.is_leaf:
        if not t.requires_grad:
            raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require "
                               "gradients")
        if nodes:
            for node in nodes:   # PyTorch poisons the leaf's AccumulateGrad, which runs right after these
                node.register_hook(_poisoned)
            return
    raise RuntimeError(f"Expected use_count of {name} to be 1 or 2 with an AccumulateGrad node but got {use_count} "
                       "make sure you are not holding references to the tensor in other places.")


def _poisoned(grad_inputs, grad_outputs):
    raise RuntimeError(
        "Trying to execute AccumulateGrad node that was poisoned by swap_tensors this can happen when you try to run "
        "backward on a tensor that was swapped. For a module m with "
        "`torch.__future__.set_swap_module_params_on_conversion(True)` you should not change the device or dtype of "
        "the module (e.g. `m.cpu()` or `m.half()`) between running forward and backward. To resolve this, please only "
        "change the device/dtype before running forward (or after both forward and backward).")


def _held_by_ember(*tensors):
    """Per tensor id: the graph nodes with an edge into it (a leaf's gradient goes there; PyTorch's AccumulateGrad)
    and how many other references ember's autograd keeps to it (saved for backward, a view's base, another tensor's
    ``.grad``). The Python object is the tensor in ember, so these are found among its referrers."""
    ids = {id(t) for t in tensors}
    others = dict.fromkeys(ids, 0)
    edges, dicts = [], []
    for ref in gc.get_referrers(*tensors):
        kind = type(ref)
        if kind is tuple:
            if len(ref) == 2 and type(ref[1]) is int and id(ref[0]) in ids:
                edges.append(ref)
            elif len(ref) == 3 and type(ref[0]) is str and ref[0] == "tensor" and id(ref[1]) in ids:
                others[id(ref[1])] += 1
        elif isinstance(ref, Tensor):
            for value in _links(ref.__dict__.get, ids):
                others[id(value)] += 1
        elif kind is dict and _links(ref.get, ids):
            dicts.append(ref)
    if dicts:   # a tensor whose attribute dict has been materialised refers to them through it
        for owner in gc.get_referrers(*dicts):
            if isinstance(owner, Tensor) and any(owner.__dict__ is d for d in dicts):
                for value in _links(owner.__dict__.get, ids):
                    others[id(value)] += 1
    nodes = _nodes_with(edges) if edges else []
    return {key: ([n for n in nodes if any(e is not None and id(e[0]) == key for e in n._edges)], count)
            for key, count in others.items()}


def _links(get, ids):
    """The tensors among ``ids`` that a tensor holds as its view base or its gradient (``get`` reads its
    attributes)."""
    return [v for v in (get("_base"), get("grad")) if id(v) in ids and isinstance(v, Tensor)]


def _nodes_with(edges):
    """The graph nodes whose ``_edges`` hold any of ``edges``."""
    containers = {id(c): c for c in gc.get_referrers(*edges) if type(c) in (list, tuple)}
    if not containers:
        return []
    nodes, dicts = [], []
    for owner in gc.get_referrers(*containers.values()):
        if isinstance(owner, Node) and id(getattr(owner, "_edges", None)) in containers:
            nodes.append(owner)
        elif type(owner) is dict and id(owner.get("_edges")) in containers:
            dicts.append(owner)
    if dicts:   # a node whose attribute dict has been materialised is referred to through it
        nodes += [n for n in gc.get_referrers(*dicts) if isinstance(n, Node) and any(n.__dict__ is d for d in dicts)]
    return list({id(n): n for n in nodes}.values())

