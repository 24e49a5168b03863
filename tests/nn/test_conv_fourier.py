"""Convolutions by discrete Fourier transforms (``ops/_conv_fourier.py``): PyTorch's values and gradients over kernel
sizes, padding, odd and even periods, batch 1, one sample a block and transposed convolutions; the columns' path to
round-off, the same bits on any number of threads, second derivatives, non-finite operands, and which convolutions
take the path."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_fourier, _conv_winograd, conv
from tests.oracle import assert_fast_path_matches, check, check_conv, count_calls, gradcheck, sample

F32, F64 = numpy.float32, numpy.float64

CASES = [   # (function, input shape, weight shape, options): each takes the Fourier path
    ("conv2d", (4, 16, 14, 14), (8, 16, 5, 5), {"padding": 2}),                  # the tutorials' second layer
    ("conv2d", (3, 16, 10, 13), (6, 16, 5, 7), {"padding": (1, 3)}),             # uneven kernel and padding
    ("conv2d", (2, 20, 9, 9), (6, 20, 5, 5), {}),                                # no padding
    ("conv2d", (1, 12, 11, 12), (5, 12, 5, 5), {"padding": (1, 2)}),             # batch 1, odd period (13)
    ("conv2d", (2, 8, 12, 12), (4, 8, 7, 7), {"padding": "same"}),               # 7x7
    ("conv_transpose2d", (3, 10, 9, 9), (10, 16, 5, 5), {"padding": 2}),         # transposed, stride 1
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


@pytest.fixture
def calls(monkeypatch):
    """Counts the calls of the Fourier path's maps."""
    return count_calls(monkeypatch, _conv_fourier, ("forward", "input_grad", "weight_grad", "transformed_grad"))


@pytest.mark.parametrize("block_bytes", [1, _conv_fourier.BLOCK_BYTES], ids=["sample-blocks", "default-blocks"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", CASES, ids=IDS)
def test_matches_torch(name, x_shape, w_shape, options, dtype, block_bytes, calls, monkeypatch):
    monkeypatch.setattr(_conv_fourier, "BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(_conv_fourier, "MIN_BLOCK", 1)
    check_conv(name, x_shape, w_shape, options, dtype, bias_size=w_shape[1 if "transpose" in name else 0])
    assert calls.get("weight_grad") == 1 and calls.get("forward", 0) + calls.get("input_grad", 0) == 2


@pytest.mark.parametrize("threads", [1, 3])
def test_matches_the_columns_path(threads, calls, monkeypatch):
    """One or two samples a block on 1 or 3 threads: the columns' values to float round-off, and the same bits on
    any number of threads."""
    monkeypatch.setattr(_conv_fourier, "BLOCK_BYTES", 2 * 18 * 10 * (16 + 6) * 16)   # two samples a block
    x, w = sample((13, 16, 14, 14), F64, seed=4), sample((6, 16, 5, 5), F64, seed=5)

    def run(fourier):
        monkeypatch.setattr(conv, "_TRANSFORMS", (_conv_winograd, _conv_fourier) if fourier else (_conv_winograd,))
        xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        y = ember.nn.functional.conv2d(xt, wt, padding=2)
        y.backward(ember.tensor(numpy.cos(numpy.arange(y.numel())).reshape(y.shape)))
        return [y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()]
    assert_fast_path_matches(run, threads, calls,
                             {"forward": 1, "input_grad": 1, "weight_grad": 1, "transformed_grad": 1})


def test_second_derivatives(calls, monkeypatch):
    monkeypatch.setattr(_conv_fourier, "MIN_SUMS", 1)
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=(2, 1)), sample((2, 2, 4, 5), F64, seed=6),
              sample((3, 2, 5, 5), F64, seed=7))
    assert calls.get("forward") and calls.get("input_grad") and calls.get("weight_grad")


def test_which_convolutions_take_the_path(calls):
    """3x3 kernels, strides, dilation, groups, a first layer's single channel over a larger map, and integer dtypes
    keep the other paths."""
    x = ember.randn(2, 16, 14, 14)
    ember.nn.functional.conv2d(x, ember.randn(8, 16, 3, 3), padding=1)
    ember.nn.functional.conv2d(x, ember.randn(8, 16, 5, 5), padding=2, stride=2)
    ember.nn.functional.conv2d(x, ember.randn(8, 16, 5, 5), padding=4, dilation=2)
    ember.nn.functional.conv2d(x, ember.randn(8, 8, 5, 5), padding=2, groups=2)
    ember.nn.functional.conv2d(ember.randn(2, 1, 28, 28), ember.randn(16, 1, 5, 5), padding=2)
    assert not calls
    assert not _conv_fourier.applies(numpy, (8, 16, 5, 5), (1, 1), (2, 2), (1, 1), 1, (2, 16, 14, 14), numpy.int64)
    for w_shape, x_shape in [((256, 256, 5, 5), (8, 256, 14, 14)),   # thin blocks beside the channels
                             ((64, 64, 5, 5), (8, 64, 56, 56)),       # a sample's spectra fill a block
                             ((8, 16, 5, 5), (1, 16, 14, 14))]:       # batch 1
        assert not _conv_fourier.applies(numpy, w_shape, (1, 1), (2, 2), (1, 1), 1, x_shape, numpy.float32)
    assert _conv_fourier.applies(numpy, (8, 16, 5, 5), (1, 1), (2, 2), (1, 1), 1, (2, 16, 14, 14), numpy.float32)
    ember.nn.functional.conv2d(x, ember.randn(8, 16, 5, 5), padding=2)
    assert calls == {"forward": 1}


def test_empty_batch_and_strided_views():
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=2), numpy.zeros((0, 16, 14, 14), F32),
          sample((4, 16, 5, 5), F32))   # an empty batch: the columns' path
    x, w = sample((3, 16, 28, 13), F64, seed=8), sample((4, 16, 5, 5), F64, seed=9)
    g = sample((3, 4, 14, 13), F64, seed=10)
    results = []
    for lib in (ember, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt.transpose(2, 3)[:, :, :, ::2], wt, padding=2)
        y.backward(lib.tensor(g).transpose(2, 3))
        results.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()])
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_non_finite_operands_reach_only_their_windows(calls):
    """A transform mixes a whole map: convolutions of a non-finite input, weight or output gradient take the columns'
    path, so an infinity reaches only what its window reaches, as in PyTorch."""
    w = numpy.abs(sample((4, 16, 5, 5), F64, seed=11)) + 0.1
    x = sample((2, 16, 14, 14), F64, seed=12)
    x[0, 3, 6, 6] = numpy.inf
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=2), x, w, grad=False)
    assert not calls
    g = sample((2, 4, 14, 14), F64, seed=13)
    g[1, 2, 3, 3] = numpy.inf
    grads = []
    for lib in (ember, torch):
        xt = lib.tensor(sample((2, 16, 14, 14), F64, seed=12), requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)
        lib.nn.functional.conv2d(xt, wt, padding=2).backward(lib.tensor(g))
        grads.append((xt.grad.numpy(), wt.grad.numpy()))
    for got, want in zip(*grads):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert calls == {"forward": 1}
    w[1, 2, 0, 0] = numpy.inf   # an infinite weight: the forward's columns, then the Fourier weight gradient
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=2), numpy.abs(sample((2, 16, 14, 14), F64)), w)
    assert calls["weight_grad"] == 1


def test_every_pooled_element_read_is_written(monkeypatch):
    """Spectra and scratch come from the pool uninitialised: filled with NaN, the results are the same."""
    def results():
        x = ember.tensor(sample((5, 16, 11, 14), F64, seed=14), requires_grad=True)
        w = ember.tensor(sample((6, 16, 5, 5), F64, seed=15), requires_grad=True)
        y = ember.nn.functional.conv2d(x, w, padding=(2, 1))
        y.backward(ember.tensor(numpy.sin(numpy.arange(y.numel())).reshape(y.shape)))
        return y.detach().numpy(), x.grad.numpy(), w.grad.numpy()
    monkeypatch.setattr(_conv_fourier, "BLOCK_BYTES", 2 * 15 * 9 * 22 * 16)   # two samples a block
    clean = results()
    empty = _conv_fourier._buffers.empty

    def poisoned(*args):
        array = empty(*args)
        array.view(numpy.uint8)[...] = 255   # NaN in every float dtype
        return array
    monkeypatch.setattr(_conv_fourier._buffers, "empty", poisoned)
    for want, got in zip(clean, results()):
        numpy.testing.assert_array_equal(got, want)


def test_the_transforms_are_the_discrete_fourier_transform():
    """The cached matrices against NumPy's FFT: a signal's half spectrum and back, at offsets, conjugated."""
    n, signal = 9, sample((4,), F64, seed=16)
    padded = numpy.zeros(n)
    padded[3:7] = signal
    spectrum = numpy.fft.rfft(padded)
    half = signal @ _conv_fourier._half_spectrum(n, 3, 4, False, "d")
    numpy.testing.assert_allclose(half.view(complex), spectrum, atol=1e-12)
    numpy.testing.assert_allclose((signal @ _conv_fourier._half_spectrum(n, 3, 4, True, "d")).view(complex),
                                  spectrum.conj(), atol=1e-12)
    numpy.testing.assert_allclose(_conv_fourier._spectrum_matrix(n, 3, 4, False, "d") @ signal, numpy.fft.fft(padded),
                                  atol=1e-12)
    back = spectrum.view(float) @ _conv_fourier._real_inverse(n, 2, 6, False, "d")
    numpy.testing.assert_allclose(back, padded[2:8], atol=1e-12)
    numpy.testing.assert_allclose(spectrum.conj().view(float) @ _conv_fourier._real_inverse(n, 2, 6, True, "d"),
                                  padded[2:8], atol=1e-12)
    full = numpy.fft.fft(padded)
    numpy.testing.assert_allclose(_conv_fourier._inverse_matrix(n, 1, 5, False, "d") @ full, padded[1:6], atol=1e-12)
