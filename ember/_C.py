"""The few names of PyTorch's C extension module ``torch._C`` that third-party libraries call (``ember run`` maps
``torch._C`` here). ember has no C extension: these are the Python-level behaviors of those names."""

__all__ = ["_log_api_usage_once"]


def _log_api_usage_once(event):
    """Notes a use of an API for PyTorch's usage logging (``torch._C._log_api_usage_once``, called by torchmetrics,
    Lightning and others when a class is constructed). PyTorch logs nothing unless a logging handler is set by its
    C++ side; ember has no such logger, so this is a no-op. ``event`` must be a string, as in torch."""
    if not isinstance(event, str):
        raise TypeError("bad argument type for built-in operation")
