"""The globals a user marks safe for ``load(weights_only=True)`` (``serialization.add_safe_globals``), and the
environment variables that force ``weights_only`` one way, as PyTorch reads them."""
import os
import warnings

_marked = set()


def add_safe_globals(safe_globals):
    """Marks classes/functions (or ``(object, "module.name")`` pairs) as safe for ``weights_only`` loads."""
    global _marked
    _marked = _marked | set(safe_globals)


def get_safe_globals():
    """The list of globals marked safe by the user."""
    return list(_marked)


def clear_safe_globals():
    """Forgets every global marked safe by the user."""
    global _marked
    _marked = set()


class safe_globals:
    """Context manager marking ``safe_globals`` safe for ``weights_only`` loads inside the ``with`` block only."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc_info):
        global _marked
        _marked = _marked - set(self.safe_globals)


def find_marked(module, name):
    """The user-marked global a pickle names ``module.name`` (PyTorch's name of an ember class included); None."""
    from ._alias import ember_name
    wanted = {f"{module}.{name}", f"{ember_name(module) or module}.{name}"}
    for entry in _marked:
        obj, qualified = entry if isinstance(entry, tuple) else (entry, f"{entry.__module__}.{entry.__qualname__}")
        if qualified in wanted:
            return obj
    return None


def resolve_weights_only(weights_only, default=True):
    """``weights_only`` after TORCH_FORCE_WEIGHTS_ONLY_LOAD / TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD (the latter only
    when the caller left it unset); None means ``default``."""
    true_values = ("1", "y", "yes", "true")
    force = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in true_values
    force_not = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in true_values
    if force and force_not:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should "
                           "be set, but both were set.")
    if force:
        return True
    if force_not and weights_only is None:
        warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since the`weights_only` "
                      "argument was not explicitly passed to `ember.load`, forcing weights_only=False.", UserWarning,
                      stacklevel=3)
        return False
    return default if weights_only is None else weights_only
