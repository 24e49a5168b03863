"""Quantized tensors against torch's: quantize/dequantize/int_repr values (ties at .5 included), qparams, reprs,
per-channel quantization, errors, and checkpoints exchanged with torch in both directions."""
import copy
import io
import pickle

import numpy
import pytest
import torch

import ember

pytestmark = pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning",
                                        "ignore:TypedStorage is deprecated:UserWarning")   # torch's deepcopy

DTYPES = ["qint8", "quint8", "qint32"]
RANGES = {"qint8": (-128, 127), "quint8": (0, 255), "qint32": (-2 ** 31, 2 ** 31 - 1)}


def _values(rng, n, scale):
    """Normal values plus exact ties (k + 0.5) * scale, huge values and both signs."""
    x = (rng.standard_normal(n) * scale * rng.uniform(1, 300)).astype(numpy.float32)
    ties = ((rng.integers(-300, 300, n) + 0.5) * numpy.float32(scale)).astype(numpy.float32)
    x[::3] = ties[::3]
    return x


def _both_per_tensor(x, scale, zero_point, dtype):
    t = torch.quantize_per_tensor(torch.from_numpy(x), scale, zero_point, getattr(torch, dtype))
    e = ember.quantize_per_tensor(ember.tensor(x), scale, zero_point, getattr(ember, dtype))
    return t, e


@pytest.mark.parametrize("dtype", DTYPES)
def test_values_match_torch_for_many_scales_and_zero_points(dtype):
    rng = numpy.random.default_rng(sum(map(ord, dtype)))
    for _ in range(150):
        n = int(rng.integers(1, 300))   # past and short of the kernels' vector widths
        scale = float(rng.choice([0.1, 0.3, 1 / 3, 0.0123456, 2.5, 1e-3, 7.0]) * rng.uniform(0.5, 2))
        low, high = RANGES[dtype]
        zero_point = int(numpy.clip(rng.integers(-20, 260), low, high))
        x = _values(rng, n, scale)
        t, e = _both_per_tensor(x, scale, zero_point, dtype)
        numpy.testing.assert_array_equal(e.int_repr().numpy(), t.int_repr().numpy())
        assert e.int_repr().dtype.name == str(t.int_repr().dtype).split(".")[1]
        numpy.testing.assert_array_equal(e.dequantize().numpy(), t.dequantize().numpy())
        assert e.q_scale() == t.q_scale() and e.q_zero_point() == t.q_zero_point()


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_finite_and_out_of_range_values_clamp_as_torch(dtype):
    x = numpy.array([numpy.nan, numpy.inf, -numpy.inf, 1e20, -1e20, 3.0] * 12, numpy.float32)
    for n in (6, len(x)):
        t, e = _both_per_tensor(x[:n], 0.1, 3, dtype)
        numpy.testing.assert_array_equal(e.int_repr().numpy(), t.int_repr().numpy())


def test_qparams_scheme_dtype_and_properties():
    x = numpy.array([-1.0, 0.0, 1.0, 2.05, 0.25, 0.35], numpy.float32)
    t, e = _both_per_tensor(x, 0.1, 10, "quint8")
    assert e.is_quantized and t.is_quantized and not ember.ones(2).is_quantized
    assert e.qscheme() is ember.per_tensor_affine and repr(e.qscheme()) == "ember.per_tensor_affine"
    assert e.dtype is ember.quint8 and repr(e.dtype) == "ember.quint8"
    assert e.shape == (6,) and e.dim() == 1 and e.numel() == 6 and len(e) == 6
    assert e.element_size() == t.element_size() and e.stride() == t.stride() and e.is_contiguous()
    assert ember.qint32.itemsize == torch.qint32.itemsize and ember.quint4x2.itemsize == torch.quint4x2.itemsize
    assert ember.qint8.is_floating_point is False
    # tensor qparams are read as float32 and int
    t2 = torch.quantize_per_tensor(torch.tensor([1.0, 2.0]), torch.tensor(0.1), torch.tensor(3), torch.qint8)
    e2 = ember.quantize_per_tensor(ember.tensor([1.0, 2.0]), ember.tensor(0.1), ember.tensor(3), ember.qint8)
    assert e2.q_scale() == t2.q_scale() and repr(e2).replace("ember", "torch") == repr(t2)


def test_reprs_equal_torch():
    x = numpy.array([-1.0, 0.0, 1.0, 2.05, 0.25, 0.35], numpy.float32)
    for scale, zero_point, dtype in [(0.1, 10, "quint8"), (0.003446834161877632, 0, "qint8"), (1.0, 0, "qint32")]:
        t, e = _both_per_tensor(x, scale, zero_point, dtype)
        assert repr(e).replace("ember", "torch") == repr(t)
    t, e = _both_per_tensor(numpy.linspace(-3, 3, 40).astype(numpy.float32).reshape(5, 8), 0.05, 2, "qint8")
    assert repr(e).replace("ember", "torch") == repr(t)
    t, e = t[1], e[1]
    assert repr(e).replace("ember", "torch") == repr(t)
    t, e = _both_per_tensor(numpy.array(2.5, numpy.float32), 1.0, 0, "qint8")
    assert repr(e).replace("ember", "torch") == repr(t)


def test_per_channel_values_and_repr():
    rng = numpy.random.default_rng(3)
    for dtype in DTYPES:
        for axis in (0, 1):
            x = (rng.standard_normal((3, 4, 5)) * 5).astype(numpy.float32)
            channels = x.shape[axis]
            scales = rng.uniform(0.01, 2, channels)
            zero_points = rng.integers(-10, 10, channels) + (120 if dtype == "quint8" else 0)
            ties = ((rng.integers(-50, 50, x.shape) + 0.5)
                    * numpy.expand_dims(scales.astype(numpy.float32), tuple(d for d in range(3) if d != axis)))
            x[..., ::2] = ties.astype(numpy.float32)[..., ::2]
            t = torch.quantize_per_channel(torch.from_numpy(x), torch.from_numpy(scales),
                                           torch.from_numpy(zero_points), axis, getattr(torch, dtype))
            e = ember.quantize_per_channel(ember.tensor(x), ember.tensor(scales), ember.tensor(zero_points), axis,
                                           getattr(ember, dtype))
            numpy.testing.assert_array_equal(e.int_repr().numpy(), t.int_repr().numpy())
            numpy.testing.assert_array_equal(e.dequantize().numpy(), t.dequantize().numpy())
            numpy.testing.assert_array_equal(e.q_per_channel_scales().numpy(), t.q_per_channel_scales().numpy())
            numpy.testing.assert_array_equal(e.q_per_channel_zero_points().numpy(),
                                             t.q_per_channel_zero_points().numpy())
            assert e.q_per_channel_axis() == axis and e.qscheme() is ember.per_channel_affine
    t = torch.quantize_per_channel(torch.tensor([[-0.7, 0.6, -0.5], [-0.8, -0.4, 0.0]]), torch.tensor([0.1, 0.2]),
                                   torch.tensor([0, 1]), 0, torch.qint8)
    e = ember.quantize_per_channel(ember.tensor([[-0.7, 0.6, -0.5], [-0.8, -0.4, 0.0]]), ember.tensor([0.1, 0.2]),
                                   ember.tensor([0, 1]), 0, ember.qint8)
    assert repr(e).replace("ember", "torch") == repr(t)


def test_quint4x2_packs_two_values_a_byte():
    t = torch.quantize_per_tensor(torch.arange(5.0), 1.0, 0, torch.quint4x2)
    e = ember.quantize_per_tensor(ember.arange(5.0), 1.0, 0, ember.quint4x2)
    numpy.testing.assert_array_equal(e.int_repr().numpy(), t.int_repr().numpy())
    assert repr(e).replace("ember", "torch") == repr(t)
    with pytest.raises(RuntimeError, match="quint4x2 tensor's packed storage cannot be saved"):
        ember.save(e, io.BytesIO())


def test_dequantize_functions():
    x = numpy.array([1.0, 2.0], numpy.float32)
    t, e = _both_per_tensor(x, 0.1, 0, "qint8")
    assert ember.dequantize(e).dtype is ember.float32
    plain = ember.tensor([1.0])
    assert plain.dequantize() is plain and ember.dequantize(plain) is plain
    assert ember.tensor([1.0], dtype=ember.float64).dequantize().dtype is ember.float32
    pair = ember.dequantize([e, e])
    assert isinstance(pair, tuple) and isinstance(torch.dequantize([t, t]), tuple)
    numpy.testing.assert_array_equal(pair[1].numpy(), t.dequantize().numpy())
    made = ember._make_per_tensor_quantized_tensor(ember.tensor([1, 2], dtype=ember.int8), 0.5, 1)
    t_made = torch._make_per_tensor_quantized_tensor(torch.tensor([1, 2], dtype=torch.int8), 0.5, 1)
    assert repr(made).replace("ember", "torch") == repr(t_made)


def test_views_and_copies_keep_the_quantization():
    x = numpy.arange(6, dtype=numpy.float32).reshape(2, 3)
    t, e = _both_per_tensor(x, 0.5, 1, "quint8")
    for op in (lambda q: q.clone(), lambda q: q.detach(), lambda q: q.contiguous(), lambda q: q.reshape(3, 2),
               lambda q: q.view(6), lambda q: q[1], lambda q: copy.deepcopy(q)):
        assert repr(op(e)).replace("ember", "torch") == repr(op(t))
    restored = pickle.loads(pickle.dumps(e))
    assert repr(restored) == repr(e)


def _error(fn_torch, fn_ember):
    with pytest.raises(Exception) as expected:
        fn_torch()
    with pytest.raises(type(expected.value)) as got:
        fn_ember()
    return str(expected.value), str(got.value)


def test_creation_errors_match_torch():
    for lib_args in [
        lambda lib: (lib.tensor([1, 2]), 0.1, 0, lib.qint8),
        lambda lib: (lib.tensor([1.0, 2.0], dtype=lib.float64), 0.1, 0, lib.qint8),
        lambda lib: (lib.tensor([1.0, 2.0]), 0.1, 0, lib.float32),
        lambda lib: (lib.tensor([1.0, 2.0]), 0.1, 300, lib.qint8),
        lambda lib: (lib.tensor([1.0, 2.0]), 0.1, -1, lib.quint8),
    ]:
        expected, got = _error(lambda: torch.quantize_per_tensor(*lib_args(torch)),
                               lambda: ember.quantize_per_tensor(*lib_args(ember)))
        assert got == expected
    for lib_args in [
        lambda lib: (lib.ones(2, 3), lib.tensor([0.1, 0.2]), lib.tensor([0, 1]), 2, lib.qint8),
        lambda lib: (lib.ones(2, 3), lib.tensor([0.1, 0.2, 0.3]), lib.tensor([0, 1]), 0, lib.qint8),
        lambda lib: (lib.ones(2, 3), lib.tensor([0.1, 0.2]), lib.tensor([0, 1]), 1, lib.qint8),
    ]:
        expected, got = _error(lambda: torch.quantize_per_channel(*lib_args(torch)),
                               lambda: ember.quantize_per_channel(*lib_args(ember)))
        assert got == expected


def test_misuse_raises_torch_error_types():
    t, e = _both_per_tensor(numpy.array([1.0, 2.0], numpy.float32), 0.1, 0, "qint8")
    for op in (lambda q: q + q, lambda q: q.sum(), lambda q: q @ q, lambda q: q.abs()):
        with pytest.raises(NotImplementedError):
            op(t)
        with pytest.raises(NotImplementedError, match="QuantizedCPU"):
            op(e)
    for op in (lambda q: q.q_per_channel_scales(), lambda q: q.numpy(), lambda q: q.tolist(),
               lambda q: q.requires_grad_(), lambda q: q.to(torch.float32 if q is t else ember.float32)):
        expected, got = _error(lambda: op(t), lambda: op(e))
        assert got == expected
    for name in ("int_repr", "q_scale", "q_zero_point"):
        with pytest.raises(NotImplementedError, match=f"aten::{name}"):
            getattr(ember.tensor([1.0]), name)()
    with pytest.raises(RuntimeError, match="isSignedType not supported for quantized types"):
        ember.qint8.is_signed


@pytest.mark.parametrize("dtype", DTYPES)
def test_checkpoints_move_between_ember_and_torch(dtype):
    rng = numpy.random.default_rng(1)
    x = (rng.standard_normal((4, 5)) * 3).astype(numpy.float32)
    t, e = _both_per_tensor(x, 0.07, 2, dtype)
    scales, zero_points = rng.uniform(0.01, 1, 4), rng.integers(0, 5, 4)
    tc = torch.quantize_per_channel(torch.from_numpy(x), torch.from_numpy(scales), torch.from_numpy(zero_points), 0,
                                    getattr(torch, dtype))
    ec = ember.quantize_per_channel(ember.tensor(x), ember.tensor(scales), ember.tensor(zero_points), 0,
                                    getattr(ember, dtype))
    buffer = io.BytesIO()
    ember.save({"q": e, "c": ec, "s": ember.per_tensor_affine}, buffer)
    loaded = torch.load(io.BytesIO(buffer.getvalue()))
    assert repr(loaded["q"]) == repr(t) and repr(loaded["c"]) == repr(tc) and loaded["s"] is torch.per_tensor_affine
    buffer = io.BytesIO()
    torch.save({"q": t, "c": tc, "s": torch.per_channel_affine}, buffer)
    loaded = ember.load(io.BytesIO(buffer.getvalue()))
    assert repr(loaded["q"]) == repr(e) and repr(loaded["c"]) == repr(ec)
    assert loaded["s"] is ember.per_channel_affine


def test_quantize_per_tensor_dynamic_matches_torch():
    rng = numpy.random.default_rng(9)
    for _ in range(100):
        x = (rng.standard_normal(int(rng.integers(1, 80))) * rng.uniform(1e-7, 10)
             + rng.uniform(-1, 1) * rng.random()).astype(numpy.float32)
        for dtype in ("quint8", "qint8"):
            for reduce_range in (True, False):
                t = torch.quantize_per_tensor_dynamic(torch.from_numpy(x), getattr(torch, dtype), reduce_range)
                e = ember.quantize_per_tensor_dynamic(ember.tensor(x), getattr(ember, dtype), reduce_range)
                assert repr(e).replace("ember", "torch") == repr(t)
                numpy.testing.assert_array_equal(e.int_repr().numpy(), t.int_repr().numpy())
    half = ember.quantize_per_tensor_dynamic(ember.tensor([1.0, 2.0]), ember.float16, False)
    assert half.dtype is ember.float16
    for lib_args in [lambda lib: (lib.ones(3), lib.qint32, False),
                     lambda lib: (lib.ones(3).double(), lib.qint8, False)]:
        expected, got = _error(lambda: torch.quantize_per_tensor_dynamic(*lib_args(torch)),
                               lambda: ember.quantize_per_tensor_dynamic(*lib_args(ember)))
        assert got == expected


def test_dtype_and_qscheme_objects_pickle_as_themselves():
    for value in (ember.qint8, ember.quint8, ember.qint32, ember.quint4x2, ember.per_tensor_affine,
                  ember.per_channel_affine_float_qparams):
        assert pickle.loads(pickle.dumps(value)) is value
    assert isinstance(ember.per_tensor_symmetric, ember.qscheme)
    assert ember.qint8 not in ember._dtype.ALL and ember._dtype.from_numpy(numpy.dtype(numpy.int8)) is ember.int8


def test_plain_tensors_of_quantized_dtypes_are_refused():
    for make in (lambda lib: lib.ones(2).to(lib.qint8), lambda lib: lib.tensor([1.0], dtype=lib.quint8)):
        with pytest.raises(RuntimeError):
            make(torch)
        with pytest.raises(RuntimeError, match="not supported on quantized tensors"):
            make(ember)


def test_saved_quantized_tensors_pickle_as_torch_writes_them():
    import zipfile
    values = numpy.linspace(-3, 3, 24, dtype=numpy.float32).reshape(4, 6)

    def pickled(lib):
        q = lib.quantize_per_tensor(lib.tensor(values), 0.05, 10, lib.quint8)
        w = lib.quantize_per_channel(lib.tensor(values), lib.tensor([0.1, 0.2, 0.3, 0.4], dtype=lib.float64),
                                     lib.tensor([0, 1, 2, 3]), 0, lib.qint8)
        buffer = io.BytesIO()
        lib.save({"q": q, "w": w}, buffer)
        archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
        return archive.read(next(n for n in archive.namelist() if n.endswith("data.pkl")))
    assert pickled(ember) == pickled(torch)   # backward hooks as an OrderedDict, as torch's _rebuild_qtensor gets
