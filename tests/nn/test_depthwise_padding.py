"""The depthwise forward reading its input unpadded (the band leaves out the taps on padding columns and cuts the
rows of blocks that reach into padding rows) against PyTorch, under each algorithm, with PyTorch's padding."""
import numpy
import pytest
import torch

from ember.ops import _conv_depthwise
from tests.oracle import check, sample

F32, F64 = numpy.float32, numpy.float64

CASES = [   # (input shape, weight shape, stride, padding, dilation)
    ((3, 6, 7, 5), (6, 1, 3, 3), (1, 1), (1, 1), (1, 1)),
    ((2, 4, 9, 8), (4, 1, 3, 3), (2, 2), (1, 1), (1, 1)),
    ((2, 4, 10, 11), (4, 1, 3, 3), (2, 3), (0, 2), (1, 1)),
    ((2, 3, 9, 9), (6, 1, 3, 2), (1, 1), (1, 0), (2, 3)),      # multiplier 2, dilated
    ((1, 5, 6, 7), (5, 1, 5, 5), (1, 1), (2, 2), (1, 1)),      # batch 1
    ((2, 2, 1, 1), (2, 1, 3, 3), (1, 1), (1, 1), (1, 1)),      # only the centre meets the map
    ((2, 3, 2, 3), (3, 1, 3, 3), (1, 1), (4, 3), (1, 1)),      # whole blocks of rows in the padding
    ((2, 3, 5, 4), (3, 1, 3, 3), (2, 1), (3, 1), (1, 1)),      # padding beyond the kernel's reach
    ((0, 3, 5, 5), (3, 1, 3, 3), (1, 1), (1, 1), (1, 1)),      # empty batch
    ((2, 3, 4, 60), (3, 1, 3, 3), (1, 1), (1, 1), (1, 1)),     # wide: per kernel offset
    ((2, 4, 9), (4, 1, 3), (1,), (2,), (1,)),                  # 1-D
    ((3, 2, 13), (6, 1, 4), (3,), (1,), (2,)),
]
ALGORITHMS = {"band-rows": (_conv_depthwise.BAND_WIDTH, 0), "band-blocks": (_conv_depthwise.BAND_WIDTH, 1 << 50),
              "offsets": (0, 0)}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation", CASES, ids=[str(c[0]) for c in CASES])
def test_unpadded_forward_matches_torch(x_shape, w_shape, stride, padding, dilation, dtype, algorithm, monkeypatch):
    monkeypatch.setattr(_conv_depthwise, "BAND_WIDTH", ALGORITHMS[algorithm][0])
    monkeypatch.setattr(_conv_depthwise, "CALL_COST", ALGORITHMS[algorithm][1])
    x, w = sample(x_shape, dtype, seed=1), sample(w_shape, dtype, seed=2)
    conv = getattr(torch.nn.functional, f"conv{len(x_shape) - 2}d")
    expected = conv(torch.tensor(x), torch.tensor(w), None, stride, padding, dilation, x_shape[1]).numpy()
    result = _conv_depthwise.forward(numpy, x, w, stride, dilation, expected.shape[2:], padding)
    assert result.dtype == dtype and result.shape == expected.shape
    tolerance = 1e-5 if dtype is F32 else 1e-12
    numpy.testing.assert_allclose(result, expected, rtol=tolerance, atol=tolerance)
    # and the same values as the padded input with no padding, the form the weight gradient keeps
    padded = _conv_depthwise.forward(numpy, _conv_depthwise.padded(numpy, x, padding), w, stride, dilation,
                                     expected.shape[2:])
    numpy.testing.assert_allclose(result, padded, rtol=tolerance, atol=tolerance)


def test_unpadded_forward_reads_a_strided_input():
    x, w = sample((2, 6, 8, 7), F32, seed=3), sample((3, 1, 3, 3), F32, seed=4)
    strided = x[:, ::2, :, ::-1]
    expected = torch.nn.functional.conv2d(torch.tensor(strided.copy()), torch.tensor(w), padding=1, groups=3).numpy()
    result = _conv_depthwise.forward(numpy, strided, w, (1, 1), (1, 1), expected.shape[2:], (1, 1))
    numpy.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)


def test_blocks_alike_in_their_padding_cuts_run_as_one_product():
    """The banded forward's blocks are grouped into runs with the same rows cut off at the top and bottom, each run
    one matmul call: a 3-row kernel over 8 rows padded by 1 is a top block, six middle ones and a bottom one."""
    _conv_depthwise._spans.cache_clear()
    assert _conv_depthwise._spans(8, 1, 3, 8, 1) == ((0, 1, 1, 0), (1, 7, 0, 0), (7, 8, 0, 1))
    assert _conv_depthwise._spans(4, 2, 3, 8, 0) == ((0, 3, 0, 0), (3, 4, 0, 1))


@pytest.mark.parametrize("options", [{"padding": 1}, {"padding": 2, "dilation": 2}, {"padding": 1, "stride": 2},
                                     {}], ids=["pad1", "dilated", "strided", "unpadded"])
def test_non_finite_values_reach_only_their_windows_as_torch(options):
    """A NaN or infinity in the input, weight or output gradient reaches only the outputs (input and weight
    gradient elements) whose windows meet it, as PyTorch's: the banded products, which multiply the band's zeros by
    whole rows, would spread it over the channel (36 NaN outputs where PyTorch has 4), so such operands take the
    per-offset form."""
    x = numpy.random.default_rng(0).standard_normal((2, 3, 7, 8)).astype(numpy.float32)
    x[0, 0, 0, 0], x[1, 2, 3, 4], x[1, 1, 6, 7] = numpy.nan, numpy.inf, -numpy.inf
    w = numpy.random.default_rng(1).standard_normal((3, 1, 3, 3)).astype(numpy.float32)
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, groups=3, **options), x, w, rtol=1e-5, atol=1e-5)
    w_nan = w.copy()
    w_nan[1, 0, 1, 1] = numpy.nan
    finite = numpy.nan_to_num(x, posinf=1.0, neginf=-1.0, nan=0.5)
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, groups=3, **options), finite, w_nan, rtol=1e-5,
          atol=1e-5)

    def gradient(lib, x, w):   # a NaN in the output gradient, through both adjoints
        y = lib.nn.functional.conv2d(x, w, groups=3, **options)
        g = lib.ones_like(y)
        g[0, 1, 1, 1] = float("nan")
        return lib.autograd.grad(y, (x, w), g)
    check(gradient, finite, w, grad=True, rtol=1e-5, atol=1e-5)
