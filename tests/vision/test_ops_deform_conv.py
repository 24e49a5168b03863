"""ember.vision.ops.deform_conv2d against a loop that follows torchvision's CPU kernel (bilinear taps, zero outside
(-1, size), offset and mask layouts, weight and offset groups), against conv2d at zero offsets, and gradients for
every input by finite differences; DeformConv2d's parameters, initialisation, repr and errors as torchvision's."""
import math

import numpy
import pytest
import torch

import ember
import ember.vision.ops as E
from tests.vision import tv_oracle

tv = tv_oracle.load()


def tap(image, y, x):
    height, width = image.shape
    if y <= -1 or y >= height or x <= -1 or x >= width:
        return 0.0
    y0, x0 = math.floor(y), math.floor(x)
    ly, lx = y - y0, x - x0
    total = 0.0
    for yy, wy in ((y0, 1 - ly), (y0 + 1, ly)):
        for xx, wx in ((x0, 1 - lx), (x0 + 1, lx)):
            if 0 <= yy < height and 0 <= xx < width:
                total += wy * wx * image[yy, xx]
    return total


def deform_conv2d_ref(x, offset, weight, bias, stride, padding, dilation, mask):
    b, c, height, width = x.shape
    c_out, c_in_group, kh, kw = weight.shape
    n_weight_grps, n_offset_grps = c // c_in_group, offset.shape[1] // (2 * kh * kw)
    out_h, out_w = offset.shape[2:]
    columns = numpy.zeros((b, c, kh, kw, out_h, out_w))
    for n in range(b):
        for ch in range(c):
            g = ch // (c // n_offset_grps)
            for i in range(kh):
                for j in range(kw):
                    k = i * kw + j
                    for oy in range(out_h):
                        for ox in range(out_w):
                            dy = offset[n, g * 2 * kh * kw + 2 * k, oy, ox]
                            dx = offset[n, g * 2 * kh * kw + 2 * k + 1, oy, ox]
                            m = 1.0 if mask is None else mask[n, g * kh * kw + k, oy, ox]
                            y = oy * stride[0] - padding[0] + i * dilation[0] + dy
                            xx = ox * stride[1] - padding[1] + j * dilation[1] + dx
                            columns[n, ch, i, j, oy, ox] = m * tap(x[n, ch], y, xx)
    out = numpy.zeros((b, c_out, out_h, out_w))
    per_group = c_out // n_weight_grps
    for o in range(c_out):
        g = o // per_group
        cols = columns[:, g * c_in_group:(g + 1) * c_in_group]
        out[:, o] = numpy.einsum("bcijhw,cij->bhw", cols, weight[o])
    return out + (0 if bias is None else bias[None, :, None, None])


CASES = [
    dict(x=(2, 4, 7, 8), weight=(6, 2, 3, 3), stride=(2, 1), padding=(1, 1), dilation=(1, 2), offset_groups=2),
    dict(x=(1, 3, 6, 6), weight=(2, 3, 2, 3), stride=(1, 1), padding=(0, 2), dilation=(1, 1), offset_groups=1),
    dict(x=(2, 2, 5, 5), weight=(4, 1, 1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1), offset_groups=2),
]


def make(case, seed=0, scale=2.0):
    rng = numpy.random.default_rng(seed)
    x = rng.normal(size=case["x"])
    weight = rng.normal(size=case["weight"])
    kh, kw = case["weight"][2:]
    out_h = (x.shape[2] + 2 * case["padding"][0] - (case["dilation"][0] * (kh - 1) + 1)) // case["stride"][0] + 1
    out_w = (x.shape[3] + 2 * case["padding"][1] - (case["dilation"][1] * (kw - 1) + 1)) // case["stride"][1] + 1
    g = case["offset_groups"]
    offset = rng.normal(size=(x.shape[0], 2 * g * kh * kw, out_h, out_w)) * scale
    mask = rng.uniform(size=(x.shape[0], g * kh * kw, out_h, out_w))
    bias = rng.normal(size=case["weight"][0])
    return x, offset, weight, bias, mask


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("masked", [False, True])
def test_deform_conv2d_matches_the_kernel_loop(case, masked):
    x, offset, weight, bias, mask = make(case)
    mask = mask if masked else None
    args = case["stride"], case["padding"], case["dilation"]
    ours = E.deform_conv2d(ember.tensor(x), ember.tensor(offset), ember.tensor(weight), ember.tensor(bias), *args,
                           mask=None if mask is None else ember.tensor(mask))
    numpy.testing.assert_allclose(ours.numpy(), deform_conv2d_ref(x, offset, weight, bias, *args, mask),
                                  rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_zero_offsets_are_a_convolution(case):
    x, offset, weight, bias, _ = make(case)
    args = case["stride"], case["padding"], case["dilation"]
    ours = E.deform_conv2d(ember.tensor(x), ember.zeros_like(ember.tensor(offset)), ember.tensor(weight), None, *args)
    theirs = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(weight), None, *args,
                                        groups=x.shape[1] // weight.shape[1])
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_gradients_by_finite_differences():
    case = dict(x=(1, 2, 4, 5), weight=(2, 1, 2, 2), stride=(1, 1), padding=(1, 0), dilation=(1, 1), offset_groups=2)
    x, offset, weight, bias, mask = make(case, seed=3, scale=0.7)
    tensors = [ember.tensor(a, requires_grad=True) for a in (x, offset, weight, bias, mask)]
    fn = lambda x, o, w, b, m: E.deform_conv2d(x, o, w, b, (1, 1), (1, 0), (1, 1), mask=m)  # noqa: E731
    assert ember.autograd.gradcheck(fn, tensors)


def test_empty_batch_and_float32():
    case = CASES[0]
    x, offset, weight, bias, _ = make(case)
    out = E.deform_conv2d(ember.tensor(x[:0]).float(), ember.tensor(offset[:0]).float(), ember.tensor(weight).float(),
                          stride=case["stride"], padding=case["padding"], dilation=case["dilation"])
    assert out.shape == (0, 6, 4, 6) and out.dtype == ember.float32


def test_errors_of_misuse():
    x, w = ember.zeros(1, 4, 6, 6), ember.zeros(2, 4, 3, 3)
    with pytest.raises(RuntimeError, match="the shape of the offset tensor at dimension 1 is not valid"):
        E.deform_conv2d(x, ember.zeros(1, 10, 4, 4), w)
    with pytest.raises(RuntimeError, match=r"offset.shape\[1\] is not valid: got: 20 expected: 18"):
        E.deform_conv2d(x, ember.zeros(1, 20, 4, 4), w)
    with pytest.raises(RuntimeError, match=r"mask.shape\[1\] is not valid: got: 3 expected: 9"):
        E.deform_conv2d(x, ember.zeros(1, 18, 4, 4), w, mask=ember.zeros(1, 3, 4, 4))
    with pytest.raises(RuntimeError, match=r"offset output dims: \(5, 5\) - computed output dims: \(4, 4\)"):
        E.deform_conv2d(x, ember.zeros(1, 18, 5, 5), w)
    with pytest.raises(RuntimeError, match="invalid batch size of offset"):
        E.deform_conv2d(x, ember.zeros(2, 18, 4, 4), w)
    with pytest.raises(RuntimeError, match="Calculated output size too small"):
        E.deform_conv2d(ember.zeros(1, 4, 2, 2), ember.zeros(1, 18, 0, 0), w)


def test_module_matches_torchvision():
    ours = E.DeformConv2d(4, 6, 3, stride=2, padding=1, groups=2)
    theirs = tv.ops.DeformConv2d(4, 6, 3, stride=2, padding=1, groups=2)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert repr(ours) == repr(theirs)
    assert repr(E.DeformConv2d(2, 2, (1, 3), dilation=2, bias=False)) == \
           repr(tv.ops.DeformConv2d(2, 2, (1, 3), dilation=2, bias=False))
    bound = 1 / math.sqrt(2 * 9)
    assert float(ours.bias.abs().max()) <= bound and float(ours.weight.abs().max()) <= bound
    x, offset, _, _, mask = make(dict(x=(1, 4, 7, 7), weight=(6, 2, 3, 3), stride=(2, 2), padding=(1, 1),
                                      dilation=(1, 1), offset_groups=1))
    out = ours(ember.tensor(x).float(), ember.tensor(offset).float(), ember.tensor(mask).float())
    ref = deform_conv2d_ref(x, offset, ours.weight.detach().numpy().astype(numpy.float64),
                            ours.bias.detach().numpy().astype(numpy.float64), (2, 2), (1, 1), (1, 1), mask)
    numpy.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        E.DeformConv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        E.DeformConv2d(4, 3, 3, groups=2)
