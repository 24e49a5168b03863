"""Plain pickles of ember's tensors under the alias (``ember run``, ``install_torch_alias()``), in PyTorch's form: the
globals ``torch._utils._rebuild_tensor_v2`` and kin over a storage pickled as ``torch.storage._load_from_bytes`` of
its legacy ``torch.save`` bytes, so a real-PyTorch process loads them as its own tensors. Under the alias those names
are ember's (``ember/_utils.py``, ``storage._load_from_bytes``), so ember loads them back; outside it tensors keep
ember's own, quicker format (``_tensor._rebuild_from_array``)."""
import importlib
import io
import pickle
import struct
import sys
from collections import OrderedDict

import numpy

from . import _backend
from ._tensor import Tensor, _make, subclass_state
from .nn.parameter import Buffer, Parameter
from .serialization import _STORAGE_NAMES, Storage, _Storages
from .utils.hooks import warn_if_has_hooks

_MAGIC_NUMBER, _PROTOCOL_VERSION = 0x1950A86A20F9469CFC6C, 1001
_SYSTEM_INFO = {"protocol_version": _PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": 2, "int": 4, "long": 4}}


def torch_function(module, name):
    """ember's function for PyTorch's ``module.name`` (``torch._utils._rebuild_tensor_v2``) under the alias, its
    ``__module__`` set to torch's: pickle names a function by ``__module__`` and checks that importing it finds the
    same object, which under the alias it does (``torch._utils`` is ``ember._utils``)."""
    function = getattr(importlib.import_module(module), name)   # by torch's name: cloudpickle looks it up there
    if function.__qualname__ != name:
        raise pickle.PicklingError(f"ember's {module}.{name} is {function.__qualname__}: pickle would name it wrongly")
    function.__module__ = module
    return function


class _PickledStorage(Storage):
    """A tensor's storage as PyTorch pickles one: ``torch.storage._load_from_bytes`` of its legacy ``torch.save``.
    Copied (``copy.copy``) rather than pickled, it is the memory itself, so the copy shares it as PyTorch's does."""

    def __init__(self, data, torch_name):
        super().__init__(data)
        self.torch_name = torch_name   # FloatStorage, QInt8Storage, ...

    def __reduce__(self):
        return torch_function("torch.storage", "_load_from_bytes"), (_legacy_bytes(self._data, self.torch_name),)


def _legacy_bytes(data, torch_name):
    """What ``torch.save(storage, _use_new_zipfile_serialization=False)`` writes for one CPU storage of the flat
    array ``data``: pickles of the magic number, protocol version, system info, the storage's persistent id and its
    key list, then its element count and raw bytes."""
    out = io.BytesIO()
    out.write(_HEADERS)
    # the persistent id ("storage", torch.<torch_name>, key "0", "cpu", numel, no view), written as opcodes: pickle
    # itself would import torch to write the global
    out.write(b"\x80\x02(" + _STORAGE + b"ctorch\n" + torch_name.encode() + b"\n" + _KEY + _CPU +
              pickle.dumps(data.size, 2)[2:-1] + b"NtQ.")
    out.write(_KEYS)
    out.write(struct.pack("<q", data.size))
    out.write(memoryview(data.view("uint8")))
    return out.getvalue()


def _unicode(text):
    return b"X" + struct.pack("<I", len(text)) + text.encode()


_HEADERS = b"".join(pickle.dumps(header, 2) for header in (_MAGIC_NUMBER, _PROTOCOL_VERSION, _SYSTEM_INFO))
_STORAGE, _KEY, _CPU, _KEYS = _unicode("storage"), _unicode("0"), _unicode("cpu"), pickle.dumps(["0"], 2)


def _locate(tensor):
    """``(storage, storage_offset, stride)`` of a CPU tensor (or a quantized tensor's integers), in elements: the
    whole memory it views, as PyTorch pickles a view with all of its base's storage. A dtype without a typed storage
    (float8, uint16, ...) gets a ByteStorage of its bytes: PyTorch pickles an UntypedStorage there, which its own
    legacy loader cannot read back (it asks the storage type for a dtype), while its ``_rebuild_tensor_v3`` takes
    either."""
    ref, offset, stride = _Storages().locate(tensor)
    if 0 in tensor._data.shape:   # NumPy gives an empty array zero strides; PyTorch's empty tensors are row-major
        stride = tuple(int(numpy.prod(tensor._data.shape[i + 1:])) for i in range(len(stride)))
    torch_name = _STORAGE_NAMES.get(ref.dtype.name)
    data = ref.data if torch_name is None else ref.data.view(_backend.move(tensor._data, _backend.CPU).dtype)
    return _PickledStorage(data, torch_name or "ByteStorage"), offset, stride


def reduce(obj):
    """``obj.__reduce_ex__`` under the alias for an ember tensor (or layout): PyTorch's rebuild function and
    arguments for its kind (torch/_tensor.py ``_reduce_ex_internal``, nn/parameter.py)."""
    hook = getattr(obj, "_torch_reduce", None)   # sparse tensors and layouts
    if hook is not None:
        (module, name), args = hook()
        return torch_function(module, name), args
    hook = getattr(obj, "_torch_reduce_with_storages", None)   # quantized tensors
    if hook is not None:
        (module, name), args = hook(_locate)
        return torch_function(module, name), args
    hooks = OrderedDict()   # PyTorch never pickles backward hooks: always an empty OrderedDict
    state = subclass_state(obj)
    if isinstance(obj, Parameter):
        data = _make(obj._data)
        if state:
            return torch_function("torch._utils", "_rebuild_parameter_with_state"), (data, obj.requires_grad, hooks,
                                                                                     state)
        return torch_function("torch._utils", "_rebuild_parameter"), (data, obj.requires_grad, hooks)
    warn_if_has_hooks(obj)   # (a Parameter pickles its data, a tensor without them, as in PyTorch)
    if obj.is_meta:
        rebuild = torch_function("torch._utils", "_rebuild_meta_tensor_no_storage")
        args = (obj.dtype, tuple(obj.shape), obj.stride(), obj.requires_grad)
    elif obj.device.type != "cpu":   # PyTorch's form for a device tensor by way of the CPU
        rebuild = torch_function("torch._utils", "_rebuild_device_tensor_from_cpu_tensor")
        args = (_make(_backend.move(obj._data, _backend.CPU)), obj.dtype, str(obj.device), obj.requires_grad)
    else:
        storage, offset, stride = _locate(obj)
        args = (storage, offset, tuple(obj.shape), stride, obj.requires_grad, hooks)
        if obj.dtype.name not in _STORAGE_NAMES:
            rebuild, args = torch_function("torch._utils", "_rebuild_tensor_v3"), args + (obj.dtype,)
        else:
            rebuild = torch_function("torch._utils", "_rebuild_tensor_v2")
    kind = type(obj)   # a subclass, or a tensor with attributes, is rebuilt so and given them, whatever its kind
    if isinstance(obj, Buffer):   # PyTorch's Buffer(...) is a plain tensor marked as one
        kind, state = Tensor, {**state, "_is_buffer": True}
    if kind is Tensor and not state:
        return rebuild, args
    return torch_function("torch._tensor", "_rebuild_from_type_v2"), (rebuild, kind, args, state)
