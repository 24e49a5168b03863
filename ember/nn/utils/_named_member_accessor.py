"""``torch.nn.utils._named_member_accessor``'s ``swap_tensor``: puts a tensor in a module's place for a parameter,
buffer or tensor attribute and hands back what was there (tensordict swaps module state with it)."""
from ..._tensor import Tensor
from ...func._functional_call import _MISSING, _swap   # _MISSING: PyTorch's marker, no tensor (delete the entry)
from ..modules.module import Module

__all__ = ["swap_tensor"]


def swap_tensor(module, name, tensor, allow_missing=False):
    """Sets ``module``'s parameter, buffer or attribute ``name`` to ``tensor`` (``_MISSING`` deletes it) and returns
    the one it replaces (``_MISSING`` when there was none and ``allow_missing``)."""
    if not isinstance(module, Module):
        raise TypeError(f"{module} is not an instance of torch.nn.Module")
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"{tensor} is not an instance of torch.Tensor")
    if "." in name:
        raise KeyError('tensor name can\'t contain "."')
    if name == "":
        raise KeyError('tensor name can\'t be empty string ""')
    if not (allow_missing or name in module._parameters or name in module._buffers or hasattr(module, name)):
        raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
    return _swap(module, name, tensor)
