"""Top-level names PyTorch programs use beside the ops, against torch: constants, memory formats (channels_last
strides and contiguity, Module.to), set_default_tensor_type, the unsafe_ split forms, to_dlpack and set_warn_always."""
import warnings

import numpy
import pytest
import torch

import ember


def test_constants():
    for name in ("pi", "e", "inf", "newaxis"):
        assert getattr(ember, name) == getattr(torch, name)
    assert ember.nan != ember.nan and isinstance(ember.nan, float)


@pytest.mark.parametrize("shape,fmt", [((2, 3, 4, 5), "channels_last"), ((2, 3, 2, 4, 5), "channels_last_3d"),
                                       ((2, 3, 4, 5), "contiguous_format"), ((3, 4), "contiguous_format")])
def test_memory_formats_match_torch(shape, fmt):
    x = numpy.random.default_rng(0).standard_normal(shape).astype(numpy.float32)
    results = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        laid = t.to(memory_format=getattr(lib, fmt))
        kept = laid.contiguous(memory_format=getattr(lib, fmt))
        doubled = laid * 2
        doubled.sum().backward()
        results.append((laid.stride(), laid.is_contiguous(), laid.is_contiguous(memory_format=getattr(lib, fmt)),
                        kept is laid, doubled.stride(), laid.contiguous().stride(), laid.detach().numpy(),
                        t.grad.numpy(), repr(getattr(lib, fmt)).split(".")[-1]))
    ours, theirs = results
    for a, b in zip(ours, theirs):
        if isinstance(a, numpy.ndarray):
            numpy.testing.assert_array_equal(a, b)
        else:
            assert a == b


def test_memory_format_errors_and_module_to():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
            lib.zeros(2, 3).to(memory_format=lib.channels_last)
        with pytest.raises(RuntimeError, match="preserve memory format is unsupported by the contiguous operator"):
            lib.zeros(3, 2).t().contiguous(memory_format=lib.preserve_format)
        assert lib.zeros(2, 3).contiguous(memory_format=lib.preserve_format).shape == (2, 3)
    strides = []
    for lib in (ember, torch):
        model = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.Linear(2, 2)).to(memory_format=lib.channels_last)
        strides.append((model[0].weight.stride(), model[0].bias.stride(), model[1].weight.stride(),
                        type(model[0].weight).__name__, model[0].weight.requires_grad))
        with pytest.raises(RuntimeError, match="required rank 4 tensor"):   # a 5-D weight: PyTorch's error too
            lib.nn.Conv3d(1, 1, 1).to(memory_format=lib.channels_last)
    assert strides[0] == strides[1]


def test_set_default_tensor_type_matches_torch():
    before = (ember.get_default_dtype(), torch.get_default_dtype())
    try:
        for lib in (ember, torch):
            with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated as of PyTorch 2.1"):
                lib.set_default_tensor_type(lib.DoubleTensor)
            assert lib.get_default_dtype() == lib.float64 and lib.randn(1).dtype == lib.float64
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lib.set_default_tensor_type("torch.FloatTensor")
                assert lib.get_default_dtype() == lib.float32
                with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
                    lib.set_default_tensor_type(lib.LongTensor)
    finally:
        ember.set_default_dtype(before[0])
        torch.set_default_dtype(before[1])


def test_unsafe_splits_dlpack_and_warn_always():
    x = numpy.arange(10.0, dtype=numpy.float32)
    for name, args in (("unsafe_chunk", (3,)), ("unsafe_split", (4,)), ("unsafe_split_with_sizes", ([3, 7],))):
        ours = getattr(ember, name)(ember.tensor(x), *args)
        theirs = getattr(torch, name)(torch.tensor(x), *args)
        assert [o.tolist() for o in ours] == [t.tolist() for t in theirs]
        assert [o.tolist() for o in getattr(ember.tensor(x), name)(*args)] == [t.tolist() for t in theirs]
    t = ember.arange(4.0)
    back = torch.from_dlpack(ember.to_dlpack(t))
    back[0] = 7.0   # the memory is shared
    assert t.tolist() == [7.0, 1.0, 2.0, 3.0]
    assert not ember.is_warn_always_enabled()
    ember.set_warn_always(True)
    try:
        assert ember.is_warn_always_enabled()
    finally:
        ember.set_warn_always(False)


@pytest.mark.parametrize("format_name,shape", [("channels_last", (2, 3, 4, 5)), ("channels_last_3d", (2, 3, 2, 4, 5)),
                                               ("contiguous_format", (2, 3, 4, 5))])
def test_clone_lays_out_in_the_memory_format_asked_for(format_name, shape):
    values = numpy.random.default_rng(0).standard_normal(shape)
    ours = ember.tensor(values).clone(memory_format=getattr(ember, format_name))
    theirs = torch.tensor(values).clone(memory_format=getattr(torch, format_name))
    assert ours.stride() == theirs.stride()
    numpy.testing.assert_array_equal(ours.numpy(), values)


def test_convert_conv_weight_memory_format_matches_torch():
    def model(nn):
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Sequential(nn.ConvTranspose2d(4, 2, 2)),
                             nn.Conv3d(1, 2, 2), nn.Linear(3, 2))
    ours, theirs = model(ember.nn), model(torch.nn)
    assert ember.nn.utils.convert_conv2d_weight_memory_format(ours, ember.channels_last) is ours
    torch.nn.utils.convert_conv2d_weight_memory_format(theirs, torch.channels_last)
    ember.nn.utils.convert_conv3d_weight_memory_format(ours, ember.channels_last_3d)
    torch.nn.utils.convert_conv3d_weight_memory_format(theirs, torch.channels_last_3d)
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert a.stride() == b.stride(), name
        assert isinstance(a, ember.nn.Parameter)


def test_config_show_and_parallel_info():
    """``torch.__config__``: the same functions, strings in PyTorch's layout whose ``USE_MKL`` flag libraries read
    (PyTorch Geometric picks COO over CSR sparse products on ``USE_MKL=OFF``); ember's agrees with ``has_mkl``."""
    for lib in (ember, torch):
        shown = lib.__config__.show()
        assert isinstance(shown, str) and " built with:\n" in shown and "Build settings: " in shown
        assert ("USE_MKL=ON" in shown) == lib.backends.mkl.is_available() != ("USE_MKL=OFF" in shown)
        assert f"TORCH_VERSION={torch.__version__.split('+')[0]}" in shown
        info = lib.__config__.parallel_info()
        assert info.startswith("ATen/Parallel:\n\tat::get_num_threads() : ")
        assert f"at::get_num_interop_threads() : {lib.get_num_interop_threads()}" in info
        assert isinstance(lib.__config__._cxx_flags(), str)
