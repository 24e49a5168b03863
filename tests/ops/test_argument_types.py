"""A keepdim that is not a bool is refused as PyTorch's argument parser refuses it; creation wraps and refuses
out-of-range integers as c10's overflow check does."""
import numpy
import pytest
import torch

import ember


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "max", "min"])
@pytest.mark.parametrize("keepdim", [1, 0, numpy.True_, None])
def test_keepdim_must_be_bool(name, keepdim):
    with pytest.raises(TypeError) as expected:
        getattr(torch.ones(2, 3), name)(0, keepdim)
    with pytest.raises(TypeError) as got:
        getattr(ember.ones(2, 3), name)(0, keepdim)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("values,dtype", [([0, -1], "uint8"), ([-255], "uint8"), ([-256], "uint8"), ([255.5], "uint8"),
                                          ([-0.5], "uint8"), ([127.9], "int8"), ([-128.5], "int8"), ([-1], "uint16"),
                                          ([float("inf")], "int32"), ([-1], "uint64"), ([2 ** 64], "uint64"),
                                          ([2 ** 64 - 1], "uint64"), ([[2 ** 63], [-5]], "uint64")])
def test_tensor_from_python_integers_wraps_or_refuses_like_torch(values, dtype):
    try:
        expected = torch.tensor(values, dtype=getattr(torch, dtype))
    except Exception as error:
        with pytest.raises(type(error), match=str(error)):
            ember.tensor(values, dtype=getattr(ember, dtype))
        return
    got = ember.tensor(values, dtype=getattr(ember, dtype))
    assert got.tolist() == expected.tolist()
