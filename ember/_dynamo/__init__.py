"""``torch._dynamo``'s user-facing basics: ``reset``, ``config`` (the recompile limit), ``exc``, ``list_backends``,
``is_compiling``, ``graph_break``, the dimension marks (``mark_dynamic``, ``maybe_mark_dynamic``, ``mark_static``,
``mark_static_address``) and the function marks (``allow_in_graph``, ``assume_constant_result``).
ember's ``compile`` guards on every input shape and keeps one program per shape seen, so the marks are recorded on the
tensor, where PyTorch keeps them, and change no result."""
from . import config, exc

__all__ = ["allow_in_graph", "assume_constant_result", "config", "disable", "exc", "graph_break", "is_compiling",
           "list_backends", "mark_dynamic", "mark_static", "mark_static_address", "maybe_mark_dynamic", "reset",
           "OptimizedModule"]

BACKENDS = ("cudagraphs", "inductor", "openxla", "tvm")
DEBUG_BACKENDS = ("aot_eager", "aot_eager_decomp_partition", "aot_eager_default_partitioner", "eager",
                  "eager_debug", "pre_dispatch_eager")


def list_backends(exclude_tags=("debug", "experimental")):
    """The backend names ``compile`` accepts (all run ember's capture and replay); debug ones only when asked."""
    return sorted(BACKENDS if exclude_tags else BACKENDS + DEBUG_BACKENDS)


def reset():
    """Forgets every compiled program, so the next call of each compiled function captures afresh."""
    from ..compiler import _api
    _api.reset()


def disable(fn=None, recursive=True, *, reason=None):
    """Runs ``fn`` (or the decorated function) eagerly even inside a compiled region."""
    from ..compiler import disable as _disable
    return _disable(fn, recursive, reason=reason)


def is_compiling():
    """True while ``compile`` captures a program."""
    from ..compiler import is_compiling as compiling
    return compiling()


def graph_break(msg=""):
    """Ends the capture here: the call that reaches it runs eagerly (with fullgraph=True, raises Unsupported)."""
    from ..compiler._capture import active_recorder
    recorder = active_recorder()
    if recorder is not None:
        recorder.graph_break("a call of torch._dynamo.graph_break()" + (f": {msg}" if msg else ""))


def _dims(index):
    return list(index) if isinstance(index, (list, tuple)) else [index]


def mark_dynamic(t, index, *, hint_override=None, min=None, max=None, specialize_on=None):
    """Marks dimension ``index`` (or each of a list) of ``t`` as dynamic: recorded in ``t._dynamo_dynamic_indices``."""
    indices = t.__dict__.setdefault("_dynamo_dynamic_indices", set())
    indices.update(_dims(index))
    t._has_dynamo_dim_marking = True


def maybe_mark_dynamic(t, index):
    """Marks dimension ``index`` (or each of a list) of ``t`` as possibly dynamic (``_dynamo_weak_dynamic_indices``)."""
    t.__dict__.setdefault("_dynamo_weak_dynamic_indices", set()).update(_dims(index))
    t._has_dynamo_dim_marking = True


def mark_static(t, index=None):
    """Marks dimension ``index`` (every one when None) of ``t`` as static: ``t._dynamo_static_indices``."""
    dims = range(t.dim()) if index is None else _dims(index)
    t.__dict__.setdefault("_dynamo_static_indices", set()).update(dims)
    t._has_dynamo_dim_marking = True


def mark_static_address(t, guard=False):
    """Marks ``t``'s memory as fixed across calls of a compiled function (for CUDA graphs): recorded in
    ``t._dynamo_static_input_type`` ("guarded" or "unguarded"), where PyTorch keeps it."""
    from .._tensor import Tensor
    if not isinstance(t, Tensor):
        raise TypeError(f"mark_static_address expects a tensor but received {type(t)}")
    t._dynamo_static_input_type = "guarded" if guard else "unguarded"


def allow_in_graph(fn):
    """Lets a capture record ``fn``'s ops as they run: ``fn`` comes back unchanged (as ``compiler.allow_in_graph``)."""
    from ..compiler import allow_in_graph as allow
    return allow(fn)


def assume_constant_result(fn):
    """Marks ``fn``'s result as a constant of the capture (``fn._dynamo_marked_constant``); ``fn`` comes back."""
    fn._dynamo_marked_constant = True
    return fn


def __getattr__(name):
    if name == "OptimizedModule":
        from ..compiler._module import OptimizedModule
        return OptimizedModule
    if name == "eval_frame":   # torch._dynamo imports it with the package; here on first use
        import importlib
        return importlib.import_module(".eval_frame", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
