"""``Tensor.view(dtype)`` against PyTorch: the same bytes read as another dtype (safetensors' loader reads a file's
bytes as uint8 and views them as the tensor's dtype), shapes, strides, memory sharing, autograd and errors."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check_same_error

DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16", "int32", "int64", "bool",
          "complex64", "uint16"]


def _bytes(lib, dtype_name):
    raw = numpy.random.default_rng(0).integers(0, 256, 48, dtype=numpy.uint8)
    if dtype_name == "bool":
        raw = raw % 2
    return lib.tensor(raw.tolist(), dtype=lib.uint8).view(getattr(lib, dtype_name))


@pytest.mark.parametrize("source", DTYPES)
@pytest.mark.parametrize("target", DTYPES)
def test_view_dtype_reads_the_same_bytes(source, target):
    e, t = _bytes(ember, source).reshape(2, -1), _bytes(torch, source).reshape(2, -1)
    ev, tv = e.view(getattr(ember, target)), t.view(dtype=getattr(torch, target))
    assert (tuple(ev.shape), ev.stride(), str(ev.dtype).split(".")[1]) == (tuple(tv.shape), tv.stride(), target)
    assert ev.view(ember.uint8).tolist() == tv.view(torch.uint8).tolist()
    if target not in ("bool",):
        assert numpy.array_equal(ev.float().numpy() if target == "bfloat16" else ev.numpy(),
                                 tv.float().numpy() if target == "bfloat16" else tv.numpy(), equal_nan=True)


@pytest.mark.parametrize("make", [lambda L: L.arange(24.0).reshape(4, 6)[:, 2:],
                                  lambda L: L.arange(24.0).reshape(4, 6).t(), lambda L: L.arange(24.0)[1:],
                                  lambda L: L.tensor(1.0), lambda L: L.zeros(0, 4), lambda L: L.zeros(2, 0),
                                  lambda L: L.arange(24.0).reshape(2, 3, 4)[:, 1:]])
@pytest.mark.parametrize("target", ["float64", "int16", "int32", "uint8"])
def test_view_dtype_layouts_and_errors(make, target):
    e, t = make(ember), make(torch)
    try:
        tv = t.view(getattr(torch, target))
    except RuntimeError:
        check_same_error(lambda L: make(L).view(getattr(L, target)))
        return
    ev = e.view(getattr(ember, target))
    assert (tuple(ev.shape), ev.storage_offset()) == (tuple(tv.shape), tv.storage_offset())
    assert ev.numel() == 0 or ev.stride() == tv.stride()   # an empty tensor's strides differ (NumPy's are zeros)
    assert ev.tolist() == tv.tolist()


def test_view_dtype_shares_memory_and_version_outside_the_graph():
    for lib in (ember, torch):
        x = lib.zeros(4, requires_grad=True)
        bits = x.view(lib.int32)
        same = x.view(lib.float32)
        assert not bits.requires_grad and bits.grad_fn is None and bits._base is None and not same.requires_grad
        plain = x.detach()
        ints = plain.view(lib.int32)
        ints[0] = 1
        assert plain[0].item() == pytest.approx(1.401298464324817e-45) and plain._version == ints._version == 1


def test_view_dtype_on_meta_and_bad_arguments():
    meta = ember.empty(2, 6, device="meta").view(ember.float16)
    assert meta.device.type == "meta" and tuple(meta.shape) == (2, 12) and meta.dtype is ember.float16
    check_same_error(lambda L: L.ones(2, 3).view(L.float64))
    with pytest.raises(TypeError):
        ember.ones(4).view(2, dtype=ember.int32)
