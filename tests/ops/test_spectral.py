"""ember.fft, stft/istft and the window functions against PyTorch: values, dtypes, shapes, gradients (through
complex intermediates), finite-difference checks in float64 and error types."""
import warnings

import numpy
import pytest
import torch

import ember
from ember.ops import _util
from tests.oracle import check, check_error, gradcheck, noncontiguous, sample

F32, F64, C64, C128, I64 = numpy.float32, numpy.float64, numpy.complex64, numpy.complex128, numpy.int64


def _resolved(out):
    return out.resolve_conj()   # torch marks ifft / ihfft results of real inputs with a lazy conjugate bit


# name, call, input dtypes, input shape
ONE_DIM = [
    ("fft", lambda L, x: L.fft.fft(x), (F32, F64, C64, C128, I64), (3, 8)),
    ("fft_n_pad", lambda L, x: L.fft.fft(x, n=11, dim=0, norm="ortho"), (F64, C128), (5, 4)),
    ("fft_n_trim", lambda L, x: L.fft.fft(x, 3, norm="forward"), (F32, C64), (2, 7)),
    ("ifft", lambda L, x: L.fft.ifft(x, norm="ortho"), (F32, F64, C64, C128), (4, 6)),
    ("ifft_n", lambda L, x: L.fft.ifft(x, n=9, dim=-2), (C128,), (5, 3)),
    ("rfft", lambda L, x: L.fft.rfft(x), (F32, F64, I64), (3, 9)),
    ("rfft_n", lambda L, x: L.fft.rfft(x, n=12, dim=0, norm="forward"), (F64,), (7, 2)),
    ("irfft", lambda L, x: L.fft.irfft(x), (C64, C128, F64), (3, 5)),
    ("irfft_odd_n", lambda L, x: L.fft.irfft(x, n=7, norm="ortho"), (C128,), (2, 5)),
    ("irfft_trim", lambda L, x: L.fft.irfft(x, n=4, dim=0, norm="forward"), (C64,), (6, 2)),
    ("hfft", lambda L, x: L.fft.hfft(x), (C64, C128), (3, 5)),
    ("hfft_n", lambda L, x: L.fft.hfft(x, n=9, norm="ortho"), (C128, F64), (4,)),
    ("ihfft", lambda L, x: L.fft.ihfft(x), (F32, F64), (3, 8)),
    ("ihfft_n", lambda L, x: L.fft.ihfft(x, n=5, dim=0, norm="forward"), (F64,), (7, 3)),
]
N_DIM = [
    ("fft2", lambda L, x: L.fft.fft2(x), (F32, C64, C128), (2, 4, 6)),
    ("fft2_s", lambda L, x: L.fft.fft2(x, s=(3, 8), norm="ortho"), (C128,), (4, 6)),
    ("ifft2", lambda L, x: L.fft.ifft2(x, dim=(0, 2)), (C64, F64), (3, 2, 5)),
    ("fftn", lambda L, x: L.fft.fftn(x), (F64, C128), (3, 4, 2)),
    ("fftn_s_only", lambda L, x: L.fft.fftn(x, s=(5, -1)), (C64,), (2, 3, 4)),
    ("ifftn", lambda L, x: L.fft.ifftn(x, dim=(-1, 0), norm="forward"), (C128,), (3, 4, 2)),
    ("rfft2", lambda L, x: L.fft.rfft2(x), (F32, F64), (2, 5, 6)),
    ("rfftn", lambda L, x: L.fft.rfftn(x, s=(4, 7), dim=(0, 2)), (F64,), (3, 2, 5)),
    ("irfft2", lambda L, x: L.fft.irfft2(x), (C64, C128), (3, 4, 5)),
    ("irfftn", lambda L, x: L.fft.irfftn(x, s=(3, 9), norm="ortho"), (C128,), (2, 4, 5)),
    ("hfft2", lambda L, x: L.fft.hfft2(x), (C128,), (3, 4)),
    ("hfftn", lambda L, x: L.fft.hfftn(x, s=(4, 6), norm="forward"), (C128,), (2, 3, 4)),
    ("ihfft2", lambda L, x: L.fft.ihfft2(x), (F64,), (4, 6)),
    ("ihfftn", lambda L, x: L.fft.ihfftn(x, dim=(0, 1), norm="ortho"), (F32,), (5, 4, 2)),
    ("fftshift", lambda L, x: L.fft.fftshift(x), (F32, C128), (4, 5)),
    ("fftshift_dim", lambda L, x: L.fft.ifftshift(L.fft.fftshift(x, dim=0), dim=(0, 1)), (F64,), (5, 3)),
    ("ifftshift", lambda L, x: L.fft.ifftshift(x), (F64,), (7,)),
]


def _cases(rows):
    for name, call, dtypes, shape in rows:
        for dtype in dtypes:
            array = sample(shape, dtype, seed=len(name))
            yield pytest.param(call, array, id=f"{name}-{numpy.dtype(dtype).name}")
            if len(shape) == 2 and dtype in (F64, C128):
                yield pytest.param(call, noncontiguous(array), id=f"{name}-{numpy.dtype(dtype).name}-noncontiguous")


@pytest.mark.parametrize("call,array", list(_cases(ONE_DIM + N_DIM)))
def test_fft_matches_torch(call, array):
    check(lambda L, x: _resolved(call(L, x)), array, grad=array.dtype.kind in "fc", rtol=1e-4, atol=1e-4)


def test_output_dtypes_and_node_names_match_torch():
    def describe(lib):
        x = lib.ones(4, requires_grad=True)
        z = lib.ones(4, dtype=lib.complex128, requires_grad=True)
        names = [lib.fft.fft(x).grad_fn.name(), lib.fft.rfft(x).grad_fn.name(), lib.fft.fft(z).grad_fn.name(),
                 lib.fft.irfft(z).grad_fn.name()]
        dtypes = [lib.fft.rfft(x.double()).dtype, lib.fft.irfft(z).dtype, lib.fft.fft(x).dtype]
        return names, [str(d).split(".")[-1] for d in dtypes]
    assert describe(ember) == describe(torch)
    assert describe(ember)[0] == ["FftR2CBackward0", "FftR2CBackward0", "FftC2CBackward0", "FftC2RBackward0"]


@pytest.mark.parametrize("fn,shape", [
    (lambda L, x: L.fft.fft(x, n=7).abs(), (5,)),
    (lambda L, x: L.fft.irfft(L.fft.rfft(x) * (1 + 2j), n=6), (2, 6)),
    (lambda L, x: L.fft.ihfft(x, norm="ortho").angle(), (6,)),
    (lambda L, x: L.fft.hfft(L.fft.ifft(x), n=9), (5,)),
    (lambda L, x: L.fft.irfftn(L.fft.fftn(x)[..., :3], s=(3, 5)).sin(), (3, 4)),
    (lambda L, x: L.view_as_real(L.fft.rfft2(x, norm="forward")), (4, 6)),
], ids=["fft_abs", "rfft_irfft", "ihfft_angle", "ifft_hfft", "fftn_irfftn", "rfft2"])
def test_gradcheck_through_complex_intermediates(fn, shape):
    gradcheck(fn, sample(shape, F64))


def test_gradcheck_of_complex_inputs():
    z = ember.tensor(sample((3, 5), C128), requires_grad=True)
    for fn in (lambda z: ember.fft.fft(z, n=7), lambda z: ember.fft.irfft(z, n=7, norm="ortho"),
               lambda z: ember.fft.hfft(z), lambda z: ember.fft.ifft2(z, s=(2, 6))):
        assert ember.autograd.gradcheck(fn, (z,))
        assert ember.autograd.gradgradcheck(fn, (z,))


def test_frequencies_match_torch():
    for n, d in ((1, 1.0), (8, 0.5), (9, 2.0)):
        check(lambda L: L.fft.fftfreq(n, d), grad=False)
        check(lambda L: L.fft.rfftfreq(n, d, dtype=L.float64), grad=False)
    assert ember.fft.fftfreq(4, requires_grad=True).requires_grad
    out = ember.empty(3)
    assert ember.fft.rfftfreq(4, out=out) is out and out.tolist() == [0.0, 0.25, 0.5]


def test_out_argument_matches_torch():
    for lib in (ember, torch):
        out = lib.empty(0, dtype=lib.complex64)
        result = lib.fft.fft(lib.arange(4.0), out=out)
        assert result is out and out.shape == (4,)
    numpy.testing.assert_allclose(out.numpy(), ember.fft.fft(ember.arange(4.0)).numpy())


@pytest.mark.parametrize("fn,array", [
    (lambda L, x: L.fft.fft(x, n=0), sample((4,), F32)),
    (lambda L, x: L.fft.fft(x, norm="bad"), sample((4,), F32)),
    (lambda L, x: L.fft.fft(x), numpy.ones(4, numpy.float16)),
    (lambda L, x: L.fft.rfft(x), sample((4,), C64)),
    (lambda L, x: L.fft.irfft(x), sample((1,), C64)),
    (lambda L, x: L.fft.fft2(x, s=(2, 2), dim=(0,)), sample((4, 4), F32)),
    (lambda L, x: L.fft.fftn(x, dim=(0, 0)), sample((4, 4), F32)),
    (lambda L, x: L.fft.fft(x, dim=2), sample((4, 4), F32)),
], ids=["n0", "norm", "half", "rfft_complex", "irfft_1", "s_dim_length", "repeated_dim", "bad_dim"])
def test_errors_match_torch(fn, array):
    check_error(fn, array)


# --- windows ---------------------------------------------------------------------------------------------------

WINDOWS = [("hann_window", {}), ("hamming_window", {}), ("hamming_window", {"alpha": 0.5, "beta": 0.3}),
           ("blackman_window", {}), ("bartlett_window", {}), ("kaiser_window", {}), ("kaiser_window", {"beta": 5.0})]
SIGNAL_WINDOWS = [("bartlett", {}), ("blackman", {}), ("cosine", {}), ("exponential", {"tau": 2.5}),
                  ("gaussian", {"std": 1.7}), ("general_cosine", {"a": [0.5, 0.3, 0.2]}),
                  ("general_hamming", {"alpha": 0.6}), ("hamming", {}), ("hann", {}), ("kaiser", {"beta": 4.0}),
                  ("nuttall", {})]


@pytest.mark.parametrize("name,kwargs", WINDOWS, ids=[f"{n}-{k}" for n, k in WINDOWS])
def test_windows_match_torch(name, kwargs):
    for length in (0, 1, 2, 7, 16):
        for periodic in (True, False):
            check(lambda L: getattr(L, name)(length, periodic, **kwargs), grad=False)
            check(lambda L: getattr(L, name)(length, periodic, dtype=L.float64, **kwargs), grad=False)
    assert ember.hann_window(4, requires_grad=True).requires_grad


@pytest.mark.parametrize("name,kwargs", SIGNAL_WINDOWS, ids=[n for n, _ in SIGNAL_WINDOWS])
def test_signal_windows_match_torch(name, kwargs):
    for length in (0, 1, 2, 7, 16):
        for sym in (True, False):
            check(lambda L: getattr(L.signal.windows, name)(length, sym=sym, dtype=L.float64, **kwargs), grad=False)


def test_window_errors_match_torch():
    check_error(lambda L: L.hann_window(-1), match="non-negative")
    check_error(lambda L: L.hann_window(4, dtype=L.int64), match="floating point")
    check_error(lambda L: L.signal.windows.hann(-1), match="non-negative")
    check_error(lambda L: L.signal.windows.exponential(5, center=1.0), match="Center must be None")
    check_error(lambda L: L.signal.windows.gaussian(5, std=0.0))


# --- stft / istft --------------------------------------------------------------------------------------------

STFT_CASES = [
    ({"n_fft": 16}, (100,)),
    ({"n_fft": 16, "hop_length": 3, "win_length": 10, "center": False}, (2, 90)),
    ({"n_fft": 15, "normalized": True, "pad_mode": "constant"}, (2, 60)),
    ({"n_fft": 8, "pad_mode": "replicate", "onesided": False}, (40,)),
    ({"n_fft": 16, "win_length": 8, "center": False, "align_to_window": True}, (1, 70)),
    ({"n_fft": 12, "hop_length": 5, "pad_mode": "circular"}, (3, 50)),
]


@pytest.mark.parametrize("kwargs,shape", STFT_CASES, ids=[str(i) for i in range(len(STFT_CASES))])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_stft_matches_torch(kwargs, shape, dtype):
    window = sample((kwargs.get("win_length", kwargs["n_fft"]),), dtype, 0.1, 1.0, seed=3)
    check(lambda L, x, w: L.stft(x, window=w, return_complex=True, **kwargs), sample(shape, dtype), window,
          rtol=1e-4, atol=1e-4)
    check(lambda L, x, w: x.stft(window=w, return_complex=True, **kwargs).abs(), sample(shape, dtype), window,
          rtol=1e-4, atol=1e-4)


def test_stft_of_complex_input_and_real_view_output_match_torch():
    window = sample((16,), F64, 0.1, 1.0)
    check(lambda L, x, w: L.stft(x, 16, 4, window=w, return_complex=True), sample((2, 64), C128), window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(lambda L, x: L.stft(x, 8, return_complex=False), sample((30,), F32))
    _util._warned.discard("stft window")   # (PyTorch warns once per process)
    with pytest.warns(UserWarning, match="window was not provided"):
        ember.stft(ember.zeros(20), 8, return_complex=True)


ISTFT_CASES = [
    ({"n_fft": 16}, (2, 100), "hann"),
    ({"n_fft": 15, "hop_length": 4, "normalized": True}, (99,), "hann"),
    ({"n_fft": 16, "win_length": 12, "hop_length": 3}, (2, 80), "hamming"),
    ({"n_fft": 8, "onesided": False}, (40,), "hann"),
    ({"n_fft": 16, "hop_length": 4, "center": False}, (2, 64), "ones"),
]


@pytest.mark.parametrize("kwargs,shape,window", ISTFT_CASES, ids=[str(i) for i in range(len(ISTFT_CASES))])
def test_istft_inverts_stft_and_matches_torch(kwargs, shape, window):
    length = kwargs.get("win_length", kwargs["n_fft"])
    signal = sample(shape, F64)

    def roundtrip(L, x, length_arg):
        w = {"hann": L.hann_window, "hamming": L.hamming_window, "ones": L.ones}[window](length, dtype=L.float64)
        spectrum = L.stft(x, window=w, return_complex=True, **kwargs)
        return L.istft(spectrum * 1.5, window=w, length=length_arg, **kwargs)
    for length_arg in (shape[-1], shape[-1] - 7, shape[-1] + 5, None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # the result is zero-padded to a longer length
            try:
                roundtrip(torch, torch.tensor(signal), length_arg)
            except RuntimeError:   # the window envelope vanishes inside the requested length
                check_error(roundtrip, signal, length_arg, match="window overlap add min")
            else:
                check(roundtrip, signal, length_arg)
    numpy.testing.assert_allclose(roundtrip(ember, ember.tensor(signal), shape[-1]).numpy(), 1.5 * signal,
                                  rtol=1e-10, atol=1e-10)


def test_istft_gradcheck_and_complex_return():
    window = ember.hann_window(8, dtype=ember.float64)
    gradcheck(lambda L, x: L.istft(L.stft(x, 8, 2, window=window, return_complex=True).mul(1 - 0.5j), 8, 2,
                                   window=window, length=20), sample((20,), F64), gradgrad=False)
    check(lambda L, z: L.istft(z, 8, 2, window=L.hann_window(8, dtype=L.float64), onesided=False,
                               return_complex=True), sample((8, 9), C128))


def test_stft_errors_match_torch():
    x = sample((50,), F32)
    check_error(lambda L, x: L.stft(x, 16), x, match="return_complex")
    check_error(lambda L, x: L.stft(x, 16, hop_length=0, return_complex=True), x)
    check_error(lambda L, x: L.stft(x, 16, win_length=20, return_complex=True), x)
    check_error(lambda L, x: L.stft(x, 80, center=False, return_complex=True), x)
    check_error(lambda L, x: L.stft(x, 16, window=L.ones(5), return_complex=True), x)
    check_error(lambda L, x: L.stft(x.reshape(1, 1, 50), 16, center=False, return_complex=True), x)
    check_error(lambda L, x: L.stft(x, 16, align_to_window=True, return_complex=True), x)
    z = sample((9, 5), C64)
    check_error(lambda L, z: L.istft(z, 16, hop_length=4, window=L.hann_window(16), center=False), z)
    check_error(lambda L, z: L.istft(z, 12, window=L.ones(12)), z)
    check_error(lambda L, x: L.istft(x, 16, window=L.ones(16)), sample((9, 5, 2), F32), match="complex-valued")
    _util._warned.discard("istft window")
    with pytest.warns(UserWarning, match="window was not provided"):
        ember.istft(ember.ones(9, 5, dtype=ember.complex64), 16)


def test_numpy_fft_path_matches_torch(monkeypatch):
    """Without SciPy the primitives run on numpy.fft; the results are the same."""
    from ember.ops import spectral
    monkeypatch.setattr(spectral, "_fft_modules", {numpy: numpy.fft})
    for call, array in [(lambda L, x: L.fft.rfft(x, n=10), sample((3, 8), F32)),
                        (lambda L, z: L.fft.ifft2(z, norm="ortho"), sample((4, 5), C128)),
                        (lambda L, z: L.fft.irfftn(z, s=(3, 6)), sample((3, 4), C64))]:
        check(call, array, rtol=1e-4, atol=1e-4)
