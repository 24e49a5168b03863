"""torch.fft's argument handling, as a differential sweep against PyTorch 2.13 found it: the checks run in
PyTorch's order (dims and sizes before a complex input's refusal in ihfftn, the out= tensor's dtype with PyTorch's
message), a 0-d input's dims, an empty ``dim``/``s``, a single int as ``s``/``dim`` and None refused as the 2-D
forms' ``dim``; fftfreq/rfftfreq's dtypes, sizes and float16 rounding; fftshift of 0-d inputs. Each case runs on
both libraries: the same values and dtype, or the same exception type and message."""
import math
import warnings

import pytest

from tests.oracle import same_listing, same_outcome

ONE_DIM = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
N_DIM = ["fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"]


def _input(L, complex_=False, shape=(3, 4, 5)):
    x = L.arange(60, dtype=L.float64).reshape(shape).sin()
    return x * (1 - 0.5j) if complex_ else x


@pytest.mark.parametrize("name", ONE_DIM + N_DIM)
def test_zero_dim_input(name):
    same_listing(lambda L: getattr(L.fft, name)(L.tensor(1.5)))
    if name in ONE_DIM:
        same_listing(lambda L: getattr(L.fft, name)(L.tensor(1.5), n=4, dim=0))


N_DIM_ARGS = [
    {"dim": ()}, {"s": ()}, {"dim": 0}, {"s": 4}, {"s": 4, "dim": 1}, {"dim": None}, {"s": (3, 4), "dim": None},
    {"dim": (0, 0)}, {"dim": (0, -3)}, {"dim": (3,)}, {"s": (3,), "dim": (0, 1)}, {"s": (2, 3, 4, 5)},
    {"s": (0, 4)}, {"s": (-2, 4)}, {"s": (4, -1), "dim": (2, 0)}, {"norm": "bad"}, {"s": (2, 2), "norm": "bad"},
]


@pytest.mark.parametrize("name", N_DIM)
@pytest.mark.parametrize("kwargs", N_DIM_ARGS, ids=[str(k) for k in N_DIM_ARGS])
@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_dims_and_sizes_in_pytorch_order(name, kwargs, complex_):
    same_outcome(lambda L: getattr(L.fft, name)(_input(L, complex_), **kwargs).resolve_conj(), rtol=1e-12, atol=1e-12)


OUT_DTYPES = ["float32", "float64", "complex64", "complex128", "int64"]


@pytest.mark.parametrize("name", ONE_DIM + N_DIM)
@pytest.mark.parametrize("source", ["float32", "complex128"])
def test_out_dtype_checks(name, source):
    for out_dtype in OUT_DTYPES:
        def fn(L, out_dtype=out_dtype):
            out = L.empty(0, dtype=getattr(L, out_dtype))
            result = getattr(L.fft, name)(_input(L, shape=(4, 6)).to(getattr(L, source)), out=out)
            assert result is out
            return out
        same_outcome(fn, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "hfft", "fft2", "ifft2", "rfft2", "irfft2", "hfft2",
                                  "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"])
def test_out_refuses_autograd_with_the_kernels_name(name):
    def fn(L):
        x = _input(L, name in ("irfft", "hfft", "irfft2", "hfft2", "irfftn", "hfftn"), (4, 6)).requires_grad_()
        complex_out = name not in ("irfft", "hfft", "irfft2", "hfft2", "irfftn", "hfftn")
        return getattr(L.fft, name)(x, out=L.empty(0, dtype=L.complex128 if complex_out else L.float64))
    same_listing(fn)


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
@pytest.mark.parametrize("n", [0, 1, 6, 7, -1, -4, 3.0, True])
@pytest.mark.parametrize("d", [1.0, 0.3, 2, -0.5, 0.0])
def test_frequencies(name, n, d):
    same_outcome(lambda L: getattr(L.fft, name)(n, d), rtol=0)   # (0 points or d = 0: nan and inf)


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64", "int64", "int32", "bool", "complex64"])
def test_frequency_dtypes(name, dtype):
    same_listing(lambda L: getattr(L.fft, name)(7, 0.3, dtype=getattr(L, dtype)))
    same_listing(lambda L: getattr(L.fft, name)(9, out=L.empty(0, dtype=getattr(L, dtype))))
    same_listing(lambda L: getattr(L.fft, name)(9, out=L.empty(0, dtype=L.float64), dtype=getattr(L, dtype)))
    same_listing(lambda L: getattr(L.fft, name)(5, "a"))


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("dim", [None, (), 0, -1, (0, 0), [1], 5])
@pytest.mark.parametrize("shape", [(), (0,), (5,), (4, 5)])
def test_shifts(name, dim, shape):
    same_listing(lambda L: getattr(L.fft, name)(L.arange(math.prod(shape)).reshape(shape), dim=dim))


def test_shift_of_a_list_is_a_type_error():
    same_listing(lambda L: L.fft.fftshift([1, 2, 3]))


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "irfft2", "fftn", "ihfftn"])
def test_vmap_batches_the_transforms(name):
    from ember.func import _vmap
    before = dict(_vmap.fallback_calls)
    for in_dims in (0, 1):
        with warnings.catch_warnings():   # (PyTorch has no batching rule for ihfftn: it warns)
            warnings.simplefilter("ignore")
            same_outcome(lambda L, in_dims=in_dims: L.func.vmap(getattr(L.fft, name), in_dims=in_dims)(
                _input(L, name in ("ifft", "irfft", "hfft", "irfft2"))).resolve_conj(), rtol=1e-12, atol=1e-12)
    assert _vmap.fallback_calls == before   # the primitives' batching rules ran, not the per-example loop
