"""``torch.nn.utils.stateless``: the deprecated ``functional_call``, now ``ember.func.functional_call``."""
import warnings

__all__ = ["functional_call"]

_DEPRECATED = ("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed in a "
               "future version of PyTorch. Please use `torch.func.functional_call` instead which is a drop-in "
               "replacement.")


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """Deprecated (FutureWarning): ``module(*args, **kwargs)`` with the named parameters and buffers replaced for
    this call, as ``ember.func.functional_call``."""
    warnings.warn(_DEPRECATED, FutureWarning, stacklevel=2)
    from ..parallel import DataParallel
    if isinstance(module, DataParallel):
        raise RuntimeError("The stateless API can't be used with nn.DataParallel module")
    from ...func import functional_call as _functional_call
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)


functional_call.__deprecated__ = _DEPRECATED
