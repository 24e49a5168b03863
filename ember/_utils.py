"""``torch._utils``: the functions PyTorch's pickles of tensors name. ``torch.save`` files map them through
``serialization``'s restricted unpickler; a plain ``pickle`` of a tensor or Parameter made by PyTorch
(``torch._utils._rebuild_tensor_v2(torch.storage._load_from_bytes(...), ...)``) finds them here under the alias."""
import ember as torch   # noqa: F401  PyTorch pickles a memory format as torch._utils' "torch.channels_last"

from .serialization import (_rebuild_meta_tensor_no_storage, _rebuild_parameter, _rebuild_parameter_with_state,  # noqa: F401
                            _rebuild_qtensor, _rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3)


def _rebuild_sparse_tensor(layout, data):
    """torch._utils._rebuild_sparse_tensor: a sparse COO or CSR tensor from its layout and index/value tensors."""
    from .sparse._layout import rebuild_sparse_tensor
    return rebuild_sparse_tensor(layout, data)


def _rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    """torch._utils._rebuild_device_tensor_from_cpu_tensor: a CPU tensor moved to ``device`` as ``dtype``."""
    tensor = data.to(dtype=dtype, device=device)
    tensor.requires_grad = requires_grad
    return tensor


def _flatten_dense_tensors(tensors):
    """torch._utils._flatten_dense_tensors: the tensors flattened into one contiguous 1-D tensor (a view of a lone
    contiguous tensor, else a new one)."""
    if len(tensors) == 1:
        return tensors[0].contiguous().view(-1)
    return torch.cat([tensor.contiguous().view(-1) for tensor in tensors])


def _unflatten_dense_tensors(flat, tensors):
    """torch._utils._unflatten_dense_tensors: views of ``flat`` shaped as ``tensors`` in turn (an empty tensor gets
    a new empty tensor of its shape, sharing nothing)."""
    outputs, offset = [], 0
    for tensor in tensors:
        numel = tensor.numel()
        if numel == 0:
            outputs.append(torch.empty(tensor.shape, dtype=flat.dtype, device=flat.device))
        else:
            outputs.append(flat.narrow(0, offset, numel).view(tensor.shape))
            offset += numel
    return outputs


def _get_available_device_type():
    """torch._utils._get_available_device_type: the accelerator's device type (``"cuda"``) when one is available,
    else None."""
    return "cuda" if torch.cuda.is_available() else None
