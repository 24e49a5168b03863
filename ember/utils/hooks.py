"""``torch.utils.hooks``: the handle every ``register_*_hook`` returns, and the marker for hooks not meant to be
saved."""
import warnings

from .._tensor import RemovableHandle


def unserializable_hook(f):
    """Marks ``f`` as a hook that is not saved with its tensor, silencing ``warn_if_has_hooks``; returns ``f``."""
    f.__torch_unserializable__ = True
    return f


def warn_if_has_hooks(tensor):
    """Warns about each gradient hook on ``tensor`` not marked with ``unserializable_hook`` (hooks are not saved)."""
    for hook in (tensor._hooks or {}).values():
        if not hasattr(hook, "__torch_unserializable__"):
            warnings.warn(f"backward hook {hook!r} on tensor will not be serialized.  If this is expected, you can "
                          "decorate the function with @torch.utils.hooks.unserializable_hook to suppress this warning",
                          stacklevel=2)


__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks"]
