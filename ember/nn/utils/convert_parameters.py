"""Flattening parameters into one vector and back."""
__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param, old_param_device):
    """The device index of ``param`` (-1 for a host device), checked against the one before, as PyTorch's: CUDA
    parameters must share one GPU, and cannot mix with host ones."""
    device = param.get_device() if param.device.type == "cuda" else -1
    if old_param_device is not None and device != old_param_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return device


def parameters_to_vector(parameters):
    """All ``parameters`` flattened (``view(-1)``, so each must be contiguous) and concatenated into one 1-D
    tensor."""
    from ...ops.rearrange import cat
    device = None
    pieces = []
    for param in parameters:
        device = _check_param_device(param, device)
        pieces.append(param.view(-1))
    return cat(pieces)


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of the 1-D ``vec`` into ``parameters`` (replacing their data)."""
    from ..._tensor import Tensor
    from ...ops.tensor_utilities import typename
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {typename(vec)}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_param_device(param, device)
        count = param.numel()
        param.data = vec[pointer:pointer + count].view_as(param).data
        pointer += count
