"""TorchScript's executor and fuser switches (``optimized_execution``, ``fuser``, ``set_fusion_strategy``, oneDNN
fusion, ``strict_fusion``). ember's IR interpreter has no fuser: the switches are checked and remembered as
PyTorch's are, so programs that set them run unchanged, and change nothing in what runs."""
import contextlib
import warnings

from ._language import _deprecated

__all__ = ["optimized_execution", "fuser", "set_fusion_strategy", "enable_onednn_fusion", "onednn_fusion_enabled",
           "strict_fusion"]

_settings = {"optimize": True, "fuser": "fuser1", "strategy": [("STATIC", 2), ("DYNAMIC", 10)], "onednn": False}
_FUSERS = ("fuser0", "fuser1", "fuser2", "fuser3", "none")


@contextlib.contextmanager
def optimized_execution(should_optimize):
    """Within the block, whether the graph executor optimizes graphs before running them."""
    stored, _settings["optimize"] = _settings["optimize"], should_optimize
    try:
        yield
    finally:
        _settings["optimize"] = stored


@contextlib.contextmanager
def fuser(name):
    """Within the block, the backend fuser chosen by name: ``fuser0`` .. ``fuser3`` or ``none``."""
    if name not in _FUSERS:
        raise Exception(f"unrecognized fuser option (name: {name})")
    stored, _settings["fuser"] = _settings["fuser"], name
    try:
        yield
    finally:
        _settings["fuser"] = stored


def set_fusion_strategy(strategy):
    """Sets the (kind, depth) list of specializations the fuser may compile; returns the previous list."""
    _deprecated("set_fusion_strategy")
    for kind, _ in strategy:
        if kind not in ("STATIC", "DYNAMIC"):
            raise ValueError(f"FusionBehavior only supported 'STATIC' or 'DYNAMIC', got: {kind}")
    previous, _settings["strategy"] = _settings["strategy"], list(strategy)
    return previous


def enable_onednn_fusion(enabled):
    """Turns fusion through oneDNN Graph on or off."""
    _settings["onednn"] = bool(enabled)


def onednn_fusion_enabled():
    """Whether fusion through oneDNN Graph is on."""
    return _settings["onednn"]


class strict_fusion:
    """A block whose nodes must all be fused in scripted code; eager code runs it as it is, with PyTorch's warning."""

    def __init__(self):
        warnings.warn("Only works in script mode", stacklevel=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
