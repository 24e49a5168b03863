"""``skip_init``: a module made without initialising its parameters and buffers."""
import inspect

import ember

from ..modules.module import Module

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with parameters and buffers left as ``empty`` memory and no random numbers
    drawn; the module must take ``device``. (ember has no meta device: the constructor runs on the final device.)"""
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs["device"] = kwargs.pop("device", "cpu")
    with ember.random.fork_rng():   # the initialisation's draws do not advance the generators, as on "meta"
        module = module_cls(*args, **kwargs)
    for tensor in list(module.parameters()) + list(module.buffers()):
        tensor.data = ember.empty_like(tensor)   # what to_empty leaves: right shape, dtype and device, no values
    return module
