"""TorchScript's singleton types (``torch.DeviceObjType`` and kin, which annotations such as pytorch-forecasting's
``device: str | torch.DeviceObjType`` name) answer as PyTorch's: names, kinds, equality, subtyping, errors."""
import pytest
import torch

import ember

NAMES = ["AnyType", "BoolType", "ComplexType", "DeviceObjType", "FloatType", "IntType", "NoneType", "NumberType",
         "StringType", "StreamObjType"]


def _describe(lib, name):
    t = getattr(lib, name).get()
    return (str(t), repr(t), t.str(), t.kind(), t.annotation_str, t.containedTypes(), t.is_interface_type(),
            t is getattr(lib, name).get(), isinstance(t, lib.Type),
            [t.isSubtypeOf(getattr(lib, other).get()) for other in NAMES],
            [t == getattr(lib, other).get() for other in NAMES])


@pytest.mark.parametrize("name", NAMES)
def test_singleton_type_matches_torch(name):
    assert _describe(ember, name) == _describe(torch, name)
    for lib in (ember, torch):
        with pytest.raises(TypeError, match="No constructor defined"):
            getattr(lib, name)()
        with pytest.raises(TypeError, match="incompatible function arguments"):
            getattr(lib, name).get() == 3
        with pytest.raises(TypeError, match="unhashable"):
            hash(getattr(lib, name).get())


def test_types_serve_in_annotations():
    def move(device: str | ember.DeviceObjType):
        return device
    assert move.__annotations__["device"] == (str | ember.DeviceObjType)
