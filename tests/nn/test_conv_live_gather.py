"""The weights of the kernel offsets a convolution's maps meet (``conv._grouped_weight``): one live offset (a 3x3
kernel over 1x1 maps, ResNet's last stage at 32x32) is one strided copy, several are NumPy's take; both the weight's
elements at those offsets exactly (groups, 1-D to 3-D kernels, a non-contiguous weight, in parts on 1 and 3 threads),
and the convolutions PyTorch's values and gradients."""
import numpy
import pytest
import torch

import ember
from ember.ops import conv
from tests.oracle import check_conv, noncontiguous, sample

F32, F64 = numpy.float32, numpy.float64


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("w_shape,groups,taken", [
    ((8, 6, 3, 3), 1, [4]),              # the centre tap alone
    ((8, 3, 3, 3), 2, [4]),
    ((6, 4, 3, 3), 1, [4, 5, 7, 8]),     # a 2x2 map's strided window: several offsets
    ((4, 2, 5), 2, [2]),                 # 1-D
    ((4, 3, 3, 2, 3), 1, [7, 10]),       # 3-D
])
def test_the_gathered_weights_are_the_live_offsets(w_shape, groups, taken, threads, monkeypatch):
    monkeypatch.setattr(ember.ops._parallel, "MIN_ELEMENTS", 4)
    offsets, before = int(numpy.prod(w_shape[2:])), ember.get_num_threads()
    for w in (sample(w_shape, F64, seed=1), noncontiguous(sample(w_shape, F32, seed=2))):
        live = [(k, None) for k in taken]
        try:
            ember.set_num_threads(threads)
            got = conv._grouped_weight(numpy, w, groups, live)
        finally:
            ember.set_num_threads(before)
        want = w.reshape(w.shape[0], w.shape[1], offsets)[:, :, taken]
        assert got.dtype == w.dtype
        numpy.testing.assert_array_equal(got, want.reshape(groups, w.shape[0] // groups, -1))


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_one_by_one_maps_match_torch(dtype):
    check_conv("conv2d", (3, 8, 1, 1), (6, 8, 3, 3), {"padding": 1}, dtype)
    check_conv("conv2d", (2, 6, 1, 1), (4, 3, 3, 3), {"padding": 1, "groups": 2}, dtype)
    check_conv("conv1d", (2, 4, 1), (3, 4, 5), {"padding": 2}, dtype)
    x, w = sample((4, 64, 1, 1), dtype, seed=3), sample((64, 64, 3, 3), dtype, seed=4)
    tolerance = 1e-4 if dtype == F32 else 1e-12
    results = []
    for lib in (ember, torch):
        with lib.no_grad():
            results.append(lib.nn.functional.conv2d(lib.tensor(x), lib.tensor(w), padding=1).numpy())
    numpy.testing.assert_allclose(*results, rtol=tolerance, atol=tolerance)
