"""Anomaly detection: remembers where each op was called and names the op whose backward produced NaN."""
import traceback
import warnings

from . import function
from ._saved import anomaly_enabled as _enabled   # (read there too: the modified-saved-tensor error's hint)

_check_nan = [True]


def is_anomaly_enabled():
    """True while anomaly detection is on."""
    return _enabled[0]


def is_anomaly_check_nan_enabled():
    """True while anomaly detection also raises on NaN gradients (the default when it is on)."""
    return _check_nan[0]


def set_anomaly_enabled(enabled, check_nan=True):
    """Turns anomaly detection on or off (``torch.set_anomaly_enabled``)."""
    _set(bool(enabled), check_nan)


def _record_trace(cls, args, kwargs, proceed):
    """Dispatch hook: stores the forward call stack on the node the op creates."""
    result = proceed(args, kwargs)
    outputs = result if isinstance(result, tuple) else (result,)
    stack = None
    for out in outputs:
        node = getattr(out, "grad_fn", None)
        if node is not None and node._trace is None:
            stack = stack or "".join(traceback.format_stack()[:-3])
            node._trace = stack
    return result


def _set(mode, check_nan):
    if mode and not _enabled[0]:
        function.dispatch_hooks.append(_record_trace)
    elif not mode and _enabled[0]:
        function.dispatch_hooks.remove(_record_trace)
    _enabled[0] = mode
    _check_nan[0] = check_nan


def report(node):
    """Warns with the forward stack trace of ``node``."""
    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{node._trace}",
                  UserWarning, stacklevel=3)


def check(node, index, grad):
    """Raises when a backward produced NaN, naming the op and showing where its forward ran."""
    if not _check_nan[0]:
        return
    data = grad._data
    if data.dtype.kind in "fc" and bool((data != data).any()):
        if node._trace:
            report(node)
        raise RuntimeError(f"Function '{node.name()}' returned nan values in its {index}th output.")


class detect_anomaly:
    """Context manager that turns anomaly detection on: NaN gradients raise, naming the forward op."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._previous = _enabled[0], _check_nan[0]
        _set(True, self.check_nan)
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", UserWarning, stacklevel=2)

    def __exit__(self, *exc):
        _set(*self._previous)
        return False


class set_detect_anomaly:
    """Turns anomaly detection on or off; usable as a call or a context manager."""

    def __init__(self, mode, check_nan=True):
        self._previous = _enabled[0], _check_nan[0]
        _set(bool(mode), check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(*self._previous)
        return False
