"""DataParallel: splits a batch over devices and gathers the outputs (PyTorch's wrapper contract: ``.module`` and
``module.``-prefixed state_dict keys). Without a GPU it simply calls the wrapped module."""
from itertools import chain

from ... import cuda
from ..._backend import device as _device
from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["DataParallel"]


def _device_index(value):
    if isinstance(value, int):
        return value
    value = _device(value)
    if value.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {value}")
    return value.index if value.index is not None else cuda.current_device()


class DataParallel(Module):
    """Runs ``module`` on chunks of the input split along ``dim`` (one per device id) and concatenates the outputs
    on ``output_device``. The chunks run one after another on ``device_ids[0]``, with the module's own parameters."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not cuda.is_available():
            self.module = module
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        if not device_ids:
            raise RuntimeError("no available devices were found")
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = [_device_index(d) for d in device_ids]
        self.output_device = _device_index(output_device)
        self.src_device_obj = _device("cuda", self.device_ids[0])
        if len(self.device_ids) == 1:
            self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in chain(self.module.parameters(), self.module.buffers()):
            if t.device != self.src_device_obj:
                raise RuntimeError(f"module must have its parameters and buffers on device {self.src_device_obj} "
                                   f"(device_ids[0]) but found one of them on device: {t.device}")
        inputs, kwargs = _to_device((inputs, kwargs), self.src_device_obj)
        if len(self.device_ids) == 1:
            return self.module(*inputs, **kwargs)
        chunks = _scatter((inputs, kwargs), len(self.device_ids), self.dim)
        outputs = [self.module(*chunk_inputs, **chunk_kwargs) for chunk_inputs, chunk_kwargs in chunks]
        return _gather(outputs, _device("cuda", self.output_device), self.dim)


def _to_device(value, device):
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    return value


def _scatter(value, count, dim):
    """``count`` copies of the nested structure ``value`` with each tensor replaced by one of its chunks along dim;
    fewer when the batch has fewer than ``count`` entries."""
    tensors = [t for t in _leaves(value) if isinstance(t, Tensor)]
    if tensors:
        count = min(count, len(tensors[0].chunk(count, dim)))
    return [_pick(value, i, count, dim) for i in range(count)]


def _leaves(value):
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


def _pick(value, i, count, dim):
    if isinstance(value, Tensor):
        return value.chunk(count, dim)[i]
    if isinstance(value, (list, tuple)):
        return type(value)(_pick(v, i, count, dim) for v in value)
    if isinstance(value, dict):
        return {k: _pick(v, i, count, dim) for k, v in value.items()}
    return value


def _gather(outputs, device, dim):
    from ...ops.rearrange import cat
    first = outputs[0]
    if isinstance(first, Tensor):
        if first.ndim == 0:   # scalars (a loss per chunk) become a vector, as in PyTorch
            return cat([o.to(device).reshape(1) for o in outputs])
        return cat([o.to(device) for o in outputs], dim)
    if isinstance(first, dict):
        return type(first)((k, _gather([o[k] for o in outputs], device, dim)) for k in first)
    if isinstance(first, (list, tuple)):
        return type(first)(_gather(list(parts), device, dim) for parts in zip(*outputs))
    return first
