"""``torch.compiler`` and ``torch.compile``: capture a module's or function's forward and backward once at the
single dispatch point and replay them as flat programs of array kernels, guarded on inputs and module state,
falling back to eager code for anything the capture cannot record (see "Compile" in docs/design.md)."""
import functools

from ._api import compile, is_compiling, reset

__all__ = ["compile", "disable", "is_compiling", "is_dynamo_compiling", "list_backends", "reset"]


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
