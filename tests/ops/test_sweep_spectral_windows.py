"""Window functions as a differential sweep against PyTorch 2.13 found them: torch.*_window take pin_memory, refuse a
float or bool length and a non-bool periodic with the parser's TypeError and a complex dtype with arange's error, and
compute in the window's dtype with its constants rounded to it (16-bit windows bit for bit; a float32 Kaiser
window of a large beta overflows to nan as PyTorch's); the
torch.signal.windows functions are PyTorch's composition (linspace in the dtype, then exp / sin / cos / i0): float32
and float64 only (ValueError), strided only, each checked under its own name, and a window that requires grad is the
result of its ops, not a leaf."""
import pytest
import torch

import ember
from tests.oracle import check_error, same_listing, same_outcome

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
def test_window_arguments(name):
    same_outcome(lambda L: getattr(L, name)(9, False, dtype=L.float64, pin_memory=False), rtol=1e-12)
    for length in (5.0, True):
        check_error(lambda L, length=length: getattr(L, name)(length))
    check_error(lambda L: getattr(L, name)(5, 1))
    same_outcome(lambda L: getattr(L, name)(5, dtype=L.complex64))
    for dtype in ("float64", "float32"):
        same_outcome(lambda L, dtype=dtype: getattr(L, name)(64, dtype=getattr(L, dtype)),
                     rtol=1e-12 if dtype == "float64" else 1e-6, atol=1e-12 if dtype == "float64" else 1e-6)
    for dtype in ("float16", "bfloat16"):   # every constant rounded to the dtype, as PyTorch's kernels: exact
        for length in (7, 64, 65):
            if (name, dtype) != ("kaiser_window", "float16"):   # (its I0 in float32 differs by an ulp before rounding)
                same_outcome(lambda L, dtype=dtype, length=length: getattr(L, name)(length, dtype=getattr(L, dtype)),
                             rtol=0)


OPTIONS = {"long": lambda L: {"dtype": L.long}, "strided": lambda L: {"dtype": L.int32, "layout": L.strided},
           "pinned": lambda L: {"dtype": L.uint8, "pin_memory": True}, "sparse": lambda L: {"layout": L.sparse_coo},
           "requires_grad": lambda L: {"dtype": L.bool, "requires_grad": True}}


@pytest.mark.parametrize("name", ["hann_window", "kaiser_window"])
@pytest.mark.parametrize("options", OPTIONS)
def test_window_option_errors_print_the_options(name, options):
    same_listing(lambda L: getattr(L, name)(4, **OPTIONS[options](L)))


def test_kaiser_window_of_a_large_beta():
    same_outcome(lambda L: L.kaiser_window(6, True, 800.0))
    same_outcome(lambda L: L.kaiser_window(6, False, 800.0, dtype=L.float64))


SIGNAL_WINDOWS = {"bartlett": {}, "blackman": {}, "cosine": {}, "exponential": {"tau": 2.5},
                  "gaussian": {"std": 1.7}, "general_cosine": {"a": [0.5, 0.3, 0.2]},
                  "general_hamming": {"alpha": 0.6}, "hamming": {}, "hann": {}, "kaiser": {"beta": 4.0}, "nuttall": {}}


@pytest.mark.parametrize("name", SIGNAL_WINDOWS)
def test_signal_window_checks(name):
    kwargs = SIGNAL_WINDOWS[name]
    call = getattr(ember.signal.windows, name)
    for dtype in ("float16", "bfloat16", "int64", "complex64"):
        check_error(lambda L, dtype=dtype: getattr(L.signal.windows, name)(7, dtype=getattr(L, dtype), **kwargs),
                    match="expects float32 or float64 dtypes")
    check_error(lambda L: getattr(L.signal.windows, name)(7, layout=L.sparse_coo, **kwargs),
                match="is implemented for strided tensors only")
    same_outcome(lambda L: str(_message(getattr(L.signal.windows, name), -1, kwargs)))
    check_error(lambda L: getattr(L.signal.windows, name)(7.0, **kwargs))
    for M in (0, 1, 2, 9):
        for sym in (True, False):
            same_outcome(lambda L, M=M, sym=sym: getattr(L.signal.windows, name)(M, sym=sym, **kwargs), rtol=1e-6,
                         atol=1e-7)
    window, reference = call(6, requires_grad=True, **kwargs), getattr(torch.signal.windows, name)(
        6, requires_grad=True, **kwargs)
    assert (window.requires_grad, window.is_leaf) == (reference.requires_grad, reference.is_leaf)


def _message(function, M, kwargs):
    try:
        function(M, **kwargs)
    except ValueError as error:
        return error
    return None


def test_signal_window_argument_errors():
    same_outcome(lambda L: L.signal.windows.general_cosine(7, a=L.tensor([0.5, 0.5])))
    same_outcome(lambda L: L.signal.windows.general_cosine(1, a=5))
    same_outcome(lambda L: L.signal.windows.exponential(7, center=1.5, sym=False), rtol=1e-6)
    same_outcome(lambda L: L.signal.windows.kaiser(7, beta=0.0))
