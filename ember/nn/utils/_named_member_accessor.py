"""``torch.nn.utils._named_member_accessor``'s ``swap_tensor``: puts a tensor in a module's place for a parameter,
buffer or tensor attribute and hands back what was there (tensordict swaps module state with it)."""
from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["swap_tensor"]

_MISSING = object()   # PyTorch's marker: no tensor (to delete the entry), or none was there


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
    for table in (module._parameters, module._buffers):
        if name in table:
            original = table[name]
            if tensor is _MISSING:
                del table[name]
            else:
                table[name] = tensor
            return original
    if hasattr(module, name):
        original = getattr(module, name)
    elif allow_missing:
        original = _MISSING
    else:
        raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
    if original is not _MISSING and original is not None and not isinstance(original, Tensor):
        raise TypeError(f"attribute `{name}`: {original} is not an instance of torch.Tensor")
    if tensor is not _MISSING:
        setattr(module, name, tensor)
    elif hasattr(module, name):
        delattr(module, name)
    return original
