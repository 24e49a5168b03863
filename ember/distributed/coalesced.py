"""``all_reduce_coalesced`` and ``all_gather_coalesced``, which torch 2.13 keeps but marks for deprecation (a
FutureWarning on every call). The tensors travel flattened into one buffer, in one collective."""
import warnings

from .. import Tensor, cat, no_grad
from ._mpi import ReduceOp
from .collectives import all_gather_single, all_reduce
from .process_group import _resolve
from .queries import supports_complex

__all__ = ["all_gather_coalesced", "all_reduce_coalesced"]

_DOCS = "https://pytorch.org/docs/main/distributed.html#collective-functions"


def _deprecated(name):
    warnings.warn(f"`torch.distributed.{name}` will be deprecated. If you must use it, please revisit our "
                  f"documentation later at {_DOCS}", FutureWarning, stacklevel=3)


def _check_tensor_list(param, name):
    expected = f"Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor]\n             "
    if not isinstance(param, list):
        raise TypeError(f"{expected}but got {type(param)} instead.")
    if not all(isinstance(p, Tensor) for p in param):
        raise TypeError(f"{expected}but got {type(param)} with elements of type {[type(p) for p in param]}.")


def _same_dtype(tensors):
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) > 1:
        first, other = tensors[0].dtype, next(t.dtype for t in tensors if t.dtype != tensors[0].dtype)
        raise ValueError(f"Invalid usage of tensors with different dtypesFound {first} and  {other}")


def _done(value):
    from ..futures import Future
    future = Future()
    future.set_result(value)
    return future


def all_reduce_coalesced(tensors, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces every tensor of ``tensors`` across the group in place, as one ``all_reduce`` of their elements.
    With ``async_op`` the call still completes before it returns, and returns a finished Future."""
    _deprecated("all_reduce_coalesced")
    tensors = [tensors] if isinstance(tensors, Tensor) else tensors
    _check_tensor_list(tensors, "tensor")
    _same_dtype(tensors)
    if _resolve(group) is None:
        return None
    if any(t.is_complex() for t in tensors) and not supports_complex(op):
        raise ValueError(f"all_reduce does not support {op} on complex tensors")
    flat = cat([t.reshape(-1) for t in tensors]) if tensors else None
    if flat is not None:
        all_reduce(flat, op=op, group=group)
        with no_grad():
            offset = 0
            for t in tensors:
                t.copy_(flat[offset:offset + t.numel()].view(t.shape))
                offset += t.numel()
    return _done(tensors) if async_op else None


def all_gather_coalesced(output_tensor_lists, input_tensor_list, group=None, async_op=False):
    """Fills ``output_tensor_lists[r][i]`` with rank r's ``input_tensor_list[i]``, in one gather of all inputs.
    With ``async_op`` the call still completes before it returns, and returns a finished Future."""
    _deprecated("all_gather_coalesced")
    pg = _resolve(group)
    if pg is None:
        return None
    _check_tensor_list(input_tensor_list, "input_tensor_list")
    _same_dtype(input_tensor_list)
    if not isinstance(output_tensor_lists, list):
        raise TypeError("Invalid function argument: output_tensor_lists should be a list")
    for outputs in output_tensor_lists:
        _check_tensor_list(outputs, "output_tensor_lists")
        _same_dtype(outputs)
    if len(output_tensor_lists) != pg.size():
        raise ValueError(f"output_tensor_lists must hold one list per rank of the group ({pg.size()}), got "
                         f"{len(output_tensor_lists)}")
    for outputs in output_tensor_lists:
        if [t.numel() for t in outputs] != [t.numel() for t in input_tensor_list]:
            raise RuntimeError("all_gather_coalesced: each output list must hold tensors of the inputs' sizes")
    flat = cat([t.reshape(-1) for t in input_tensor_list])
    gathered = flat.new_empty((pg.size() * flat.numel(),))
    all_gather_single(gathered, flat, group=group)
    with no_grad():
        for r, outputs in enumerate(output_tensor_lists):
            offset = r * flat.numel()
            for t in outputs:
                t.copy_(gathered[offset:offset + t.numel()].view(t.shape))
                offset += t.numel()
    return _done(output_tensor_lists) if async_op else None
