"""stft and istft as a differential sweep against PyTorch 2.13 found them: the checks in PyTorch's order (torch.stft's
Python padding before its kernel's checks) with its messages (the ``stft(torch.FloatTensor[80], n_fft=16, ...) :``
call description), istft's complex-window envelope (the window squared, not its squared modulus), a two-sided input
inverted to a real signal from its first half, the trimmed length read as PyTorch slices it, and the warnings PyTorch
gives once per process."""
import warnings

import numpy
import pytest

import ember
from ember.ops import _util
from tests.oracle import check_error, same_listing, same_outcome


def _signal(L, shape=(64,), dtype="float64"):
    return L.arange(numpy.prod(shape), dtype=getattr(L, dtype)).reshape(shape).mul(0.37).sin()


STFT_CASES = {
    "hop0": lambda L: L.stft(_signal(L), 16, hop_length=0, return_complex=True),
    "n_fft0": lambda L: L.stft(_signal(L), 0, return_complex=True),
    "n_fft_long": lambda L: L.stft(_signal(L), 80, win_length=10, center=False, return_complex=True),
    "win_long": lambda L: L.stft(_signal(L), 16, win_length=20, window=L.ones(3), return_complex=True),
    "window_size": lambda L: L.stft(_signal(L), 16, window=L.ones(1, 16), return_complex=True),
    "3d": lambda L: L.stft(_signal(L, (1, 1, 64)), 16, center=False, return_complex=True),
    "3d_center": lambda L: L.stft(_signal(L, (1, 1, 64)), 16, return_complex=True),
    "0d": lambda L: L.stft(L.tensor(1.0), 16, return_complex=True),
    "long": lambda L: L.stft(L.ones(1, 1, 64, dtype=L.long), 16, center=False, return_complex=True),
    "complex_input": lambda L: L.stft(_signal(L, (2, 50)) * (1 + 1j), 16, 0, window=L.ones(16), return_complex=True),
    "align_center": lambda L: L.stft(_signal(L), 16, align_to_window=True),
    "bad_pad_mode": lambda L: L.stft(_signal(L), 16, pad_mode="bad"),
    "no_return_complex": lambda L: L.stft(_signal(L), 16),
    "onesided_complex": lambda L: L.stft(_signal(L), 16, window=L.ones(16) + 0j, onesided=True, return_complex=True),
    "ok_options": lambda L: L.stft(_signal(L, (2, 64), "float32"), 16, 5, 12, L.hann_window(12), False, "constant",
                                   True, False, True, True),
}


@pytest.mark.parametrize("case", STFT_CASES, ids=list(STFT_CASES))
def test_stft_checks(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_outcome(STFT_CASES[case], rtol=1e-5, atol=1e-5)


def _spectrum(L, onesided=True, center=True):
    w = L.hann_window(16, dtype=L.float64)
    return L.stft(_signal(L), 16, 4, window=w, onesided=onesided, center=center, return_complex=True)


ISTFT_CASES = {
    "center_false": lambda L: L.istft(_spectrum(L, center=False), 16, 4, window=L.hann_window(16), center=False),
    "zero_window": lambda L: L.istft(_spectrum(L), 16, 4, window=L.zeros(16)),
    "hop0": lambda L: L.istft(_spectrum(L), 16, 0, window=L.ones(16)),
    "hop_long": lambda L: L.istft(_spectrum(L), 16, 17, window=L.ones(16)),
    "win_long": lambda L: L.istft(_spectrum(L), 16, 4, win_length=20, window=L.ones(16)),
    "window_shape": lambda L: L.istft(_spectrum(L), 16, 4, window=L.ones(1, 16)),
    "4d": lambda L: L.istft(_spectrum(L)[None, None], 16, 4, window=L.ones(16)),
    "1d": lambda L: L.istft(_spectrum(L)[0], 16, 4, window=L.ones(16)),
    "real": lambda L: L.istft(_spectrum(L).real, 16, 4, window=L.ones(16)),
    "bins": lambda L: L.istft(_spectrum(L), 12, 4, window=L.ones(12)),
    "bins_twosided": lambda L: L.istft(_spectrum(L), 16, 4, window=L.ones(16), onesided=False),
    "onesided_complex": lambda L: L.istft(_spectrum(L), 16, 4, window=L.ones(16), return_complex=True),
    "complex_window_real": lambda L: L.istft(_spectrum(L, False), 16, 4, window=L.ones(16) + 0j, onesided=False),
    "empty": lambda L: L.istft(_spectrum(L)[:, :0], 16, 4, window=L.ones(16)),
    "one_frame": lambda L: L.istft(_spectrum(L)[:, :1], 16, 4, window=L.ones(16)),
    "length0": lambda L: L.istft(_spectrum(L), 16, 4, window=L.ones(16), length=0),
    "float_length": lambda L: L.istft(_spectrum(L), 16, 4, window=L.ones(16), length=60.0),
    "complex_window": lambda L: L.istft(_spectrum(L, False), 16, 4, window=L.hann_window(16, dtype=L.float64) * (1 + 0.5j),
                                        onesided=False, return_complex=True),
    "twosided_real": lambda L: L.istft(_spectrum(L, False) * L.linspace(1, 2, 16)[:, None], 16, 4,
                                       window=L.hann_window(16, dtype=L.float64),
                                       onesided=False),
    "longer": lambda L: L.istft(_spectrum(L), 16, 4, 12, L.hann_window(12, dtype=L.float64), True, True, None, 70),
}


@pytest.mark.parametrize("case", ISTFT_CASES, ids=list(ISTFT_CASES))
def test_istft_checks_and_values(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_outcome(ISTFT_CASES[case], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("site,call", [
    ("stft window", lambda: ember.stft(ember.ones(20), 8, return_complex=True)),
    ("stft real", lambda: ember.stft(ember.ones(20), 8, window=ember.ones(8), return_complex=False)),
    ("istft window", lambda: ember.istft(ember.ones(5, 3, dtype=ember.complex64), 8)),
    ("istft length", lambda: ember.istft(ember.ones(5, 3, dtype=ember.complex64), 8, window=ember.ones(8), length=40)),
])
def test_warnings_come_once_per_process(site, call):
    _util._warned.discard(site)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
        call()
    assert len(caught) == 1


def test_float_lengths_are_type_errors():
    check_error(lambda L: L.stft(_signal(L), 16, 4.0, return_complex=True))
    check_error(lambda L: L.stft(_signal(L), 16.0, return_complex=True))


def test_window_errors_name_the_call():
    same_listing(lambda L: L.stft(_signal(L, dtype="float32"), 16, 0, window=L.ones(16), return_complex=True))
    same_listing(lambda L: L.istft(_spectrum(L), 16, 4, window=L.zeros(16, dtype=L.float64)))
