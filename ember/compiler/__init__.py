"""``torch.compiler`` and ``torch.compile``: capture a module's or function's forward and backward once at the
single dispatch point and replay them as flat programs of array kernels, guarded on inputs and module state,
falling back to eager code for anything the capture cannot record (see "Compile" in docs/design_programs.md)."""
import functools

from ._api import compile, is_compiling, is_exporting, reset
from ._stance import set_stance

__all__ = ["compile", "disable", "is_compiling", "is_dynamo_compiling", "list_backends", "reset", "set_stance",
           "allow_in_graph", "assume_constant_result", "nested_compile_region", "is_exporting",
           "cudagraph_mark_step_begin"]


def is_dynamo_compiling():
    """True while ``compile`` captures a program (ember has one capture mechanism, so as ``is_compiling``)."""
    return is_compiling()


def list_backends(exclude_tags=("debug", "experimental")):
    """The backend names ``compile`` accepts."""
    from .._dynamo import list_backends as names
    return names(exclude_tags)


def disable(fn=None, recursive=True, *, reason=None):
    """Decorator: ``fn`` runs eagerly; a capture that reaches it runs the whole call eagerly (as a graph break)."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)

    @functools.wraps(fn)
    def eager(*args, **kwargs):
        from ._capture import active_recorder
        recorder = active_recorder()
        if recorder is not None:
            recorder.graph_break(f"a call of {getattr(fn, '__qualname__', fn)}, marked by compiler.disable"
                                 + (f" ({reason})" if reason else ""))
        return fn(*args, **kwargs)
    eager._torchdynamo_disable = True
    return eager


def allow_in_graph(fn):
    """Lets a capture record ``fn``'s ops as they run (ember records every op at the dispatch point, so ``fn``, or
    each of a list of functions, comes back unchanged)."""
    return fn


def assume_constant_result(fn):
    """Marks ``fn``'s result as a constant of the capture (ember records ops, not Python values, so a Python value
    ``fn`` returns is a constant already): ``fn`` comes back unchanged."""
    return fn


def nested_compile_region(fn=None, options=None):
    """Marks ``fn`` as a region compiled once and reused (ember captures whole calls; ``fn`` comes back unchanged).
    Works with or without arguments."""
    return (lambda f: f) if fn is None else fn


def cudagraph_mark_step_begin():
    """Marks the start of a CUDA-graph step; ember replays no CUDA graphs, so there is nothing to mark."""
