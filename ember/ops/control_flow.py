"""``torch.cond`` and ``torch.while_loop`` as eager code: PyTorch checks their arguments, then compiles them into
graphs that keep the branches; run eagerly they call the branch taken (or the body until the condition fails), which
is what those graphs compute, with autograd recording the ops that ran."""
from .._tensor import Tensor

__all__ = ["cond", "while_loop"]


def _leaves(value):
    """The leaves of a nest of tuples, lists and dicts."""
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return [value]


def _truth(value, name):
    """A predicate's truth: a Python bool or number, or a tensor of one element."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"Expected {name} to be bool or single-element tensor, but got {value}.")
        return bool(value.item())
    return bool(value)


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` (a bool, or a tensor of one element) holds, else ``false_fn(*operands)``."""
    if isinstance(pred, (bool, int, float)):
        return true_fn(*operands) if pred else false_fn(*operands)
    if not isinstance(pred, Tensor):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    truth = _truth(pred, "pred")
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError("Expect both branches to be callable.")
    if not isinstance(operands, (tuple, list)) or not all(isinstance(t, Tensor) for t in _leaves(operands)):
        raise RuntimeError("Expect operands to be a tuple of possibly nested dict/list/tuple that only consists of "
                           f"tensor leaves, but got {operands}.")
    return true_fn(*operands) if truth else false_fn(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Replaces ``carried_inputs`` by ``body_fn(*carried)`` while ``cond_fn(*carried)`` holds; returns the last
    values (``carried_inputs`` itself when the condition fails at once)."""
    if not callable(cond_fn) or not callable(body_fn):
        raise RuntimeError("Expect cond_fn and body_fn to be callable.")
    leaves = _leaves(carried_inputs)
    if not all(isinstance(t, (Tensor, int)) for t in leaves):   # PyTorch's own check asserts
        raise AssertionError(f"{leaves} can only be of (Tensor, int) but got {tuple(type(t) for t in leaves)}")
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError("Expect carried_inputs to be a tuple of possibly nested dict/list/tuple that only"
                           f"consists of tensor or int leaves, but got {carried_inputs}.")
    carried = result = tuple(carried_inputs)
    while _truth(cond_fn(*carried), "cond_fn's result"):
        result = body_fn(*carried)
        carried = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        if len(carried) != len(carried_inputs):
            raise RuntimeError(f"body_fn should return the same number of elements as carried_inputs "
                               f"({len(carried_inputs)}), but returned {len(carried)}")
    return result
