"""``scatter``, ``scatter_kwargs`` and ``gather``: PyTorch's functions that split the tensors of nested inputs into
chunks, one per GPU, and bring outputs back onto one device (what ``DataParallel`` does, for code that calls them
itself). The chunks and copies are ordinary ops, so gradients flow back through them."""
import warnings

from ... import cuda
from ..._backend import device as _device
from ..._tensor import Tensor

__all__ = ["scatter", "scatter_kwargs", "gather"]


def _get_device_index(device, optional=False, allow_cpu=False):
    """The index of ``device`` (a device, its name or an int), with PyTorch's errors for CPU devices unless
    ``allow_cpu`` (-1 then); a device without an index is the current CUDA device when ``optional``."""
    if isinstance(device, str):
        device = _device(device)
    index = None
    if isinstance(device, _device):
        if not allow_cpu and device.type == "cpu":
            raise ValueError(f"Expected a non cpu device, but got: {device}")
        index = -1 if device.type == "cpu" else device.index
    if isinstance(device, int):
        index = device
    if index is None:
        if not optional:
            raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
        index = cuda.current_device()
    return index


def _is_namedtuple(obj):
    return isinstance(obj, tuple) and hasattr(obj, "_asdict") and hasattr(obj, "_fields")


def _scatter_tensor(tensor, target_gpus, dim):
    indices = [_get_device_index(d, True) for d in target_gpus]
    chunks = tensor.chunk(len(indices), dim)
    return tuple(chunk.to(_device("cuda", index)).contiguous() for chunk, index in zip(chunks, indices))


def scatter(inputs, target_gpus, dim=0):
    """Slices the tensors of ``inputs`` (nested in tuples, lists, named tuples and dicts) into approximately equal
    chunks along ``dim``, one per device of ``target_gpus``, and returns one structure per device; other objects are
    repeated by reference."""
    def scatter_map(obj):
        if isinstance(obj, Tensor):
            return _scatter_tensor(obj, target_gpus, dim)
        if _is_namedtuple(obj):
            return [type(obj)(*args) for args in zip(*map(scatter_map, obj))]
        if isinstance(obj, tuple) and len(obj) > 0:
            return list(zip(*map(scatter_map, obj)))
        if isinstance(obj, list) and len(obj) > 0:
            return [list(i) for i in zip(*map(scatter_map, obj))]
        if isinstance(obj, dict) and len(obj) > 0:
            return [type(obj)(i) for i in zip(*map(scatter_map, obj.items()))]
        return [obj for _ in target_gpus]
    return scatter_map(inputs)


def scatter_kwargs(inputs, kwargs, target_gpus, dim=0):
    """``scatter`` of the positional and the keyword arguments, padded to the same number of devices."""
    scattered_inputs = scatter(inputs, target_gpus, dim) if inputs else []
    scattered_kwargs = scatter(kwargs, target_gpus, dim) if kwargs else []
    if len(scattered_inputs) < len(scattered_kwargs):
        scattered_inputs.extend(() for _ in range(len(scattered_kwargs) - len(scattered_inputs)))
    elif len(scattered_kwargs) < len(inputs):
        scattered_kwargs.extend({} for _ in range(len(scattered_inputs) - len(scattered_kwargs)))
    return tuple(scattered_inputs), tuple(scattered_kwargs)


def _gather_tensors(target_device, dim, inputs):
    if not all(t.device.type != "cpu" for t in inputs):
        raise AssertionError("Gather function not implemented for CPU tensors")
    target = _device("cpu") if target_device == "cpu" else _device("cuda", _get_device_index(target_device, True))
    if all(t.dim() == 0 for t in inputs) and dim == 0:
        inputs = tuple(t.view(1) for t in inputs)
        warnings.warn("Was asked to gather along dimension 0, but all input tensors were scalars; will instead "
                      "unsqueeze and return a vector.", stacklevel=2)
    from ...ops.rearrange import cat
    return cat([t.to(target) for t in inputs], dim)


def gather(outputs, target_device, dim=0):
    """Joins the per-device ``outputs`` (tensors nested in tuples, lists, named tuples and dicts) along ``dim`` on
    ``target_device`` ('cpu' or a GPU)."""
    def gather_map(outputs):
        out = outputs[0]
        if isinstance(out, Tensor):
            return _gather_tensors(target_device, dim, outputs)
        if out is None:
            return None
        if isinstance(out, dict):
            if not all(len(out) == len(d) for d in outputs):
                raise ValueError("All dicts must have the same number of keys")
            return type(out)((k, gather_map([d[k] for d in outputs])) for k in out)
        if _is_namedtuple(out):
            return type(out)._make(map(gather_map, zip(*outputs, strict=True)))
        return type(out)(map(gather_map, zip(*outputs, strict=True)))
    return gather_map(outputs)
