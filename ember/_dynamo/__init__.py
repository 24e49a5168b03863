"""``torch._dynamo``'s user-facing basics: ``reset``, ``config`` (the recompile limit), ``exc``, ``list_backends``."""
from . import config, exc

__all__ = ["config", "disable", "exc", "list_backends", "reset"]

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
