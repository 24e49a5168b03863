"""ember.vision.ops' RoI operators against references: explicit per-RoI, per-bin, per-sample loops in NumPy that
follow torchvision's CPU kernels (roi_align, roi_pool, ps_roi_align, ps_roi_pool), torchvision's own Python RoIAlign
(in-image boxes, where it agrees with its kernel) and MultiScaleRoIAlign; gradients by finite differences."""
import math

import numpy
import pytest
import torch

import ember
import ember.vision.ops as E
from tests.vision import tv_oracle

tv = tv_oracle.load()
tv_roi_align = __import__("torchvision.ops.roi_align", fromlist=["_roi_align"])
# torchvision's eager RoIAlign (its fallback without compiled ops), unwrapped from its lazy torch.compile
TV_ROI_ALIGN = getattr(tv_roi_align._roi_align, "__wrapped__", tv_roi_align._roi_align)


@pytest.fixture(params=["dense", "gather"])
def path(request, monkeypatch):
    """Runs a test through both ways of pooling bilinear samples (dense products, gathered pixels)."""
    from ember.vision.ops import _sampling
    monkeypatch.setattr(_sampling, "GATHER_COST", 0 if request.param == "gather" else 10 ** 9)
    return request.param


def bilinear(image, y, x):
    """torchvision's kernel: 0 outside [-1, size], clamped near the border."""
    height, width = image.shape[-2:]
    if not (-1.0 <= y <= height and -1.0 <= x <= width):
        return numpy.zeros(image.shape[:-2])
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= height - 1:
        y0 = y1 = height - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= width - 1:
        x0 = x1 = width - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * image[..., y0, x0] + (1 - ly) * lx * image[..., y0, x1]
            + ly * (1 - lx) * image[..., y1, x0] + ly * lx * image[..., y1, x1])


def align_bins(rois, k, scale, ph, pw, sampling_ratio, aligned):
    """For RoI k: each bin's (ph, pw, sample points, count), as the kernels compute them."""
    offset = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (rois[k, i] * scale - offset for i in (1, 2, 3, 4))
    rw, rh = x2 - x1, y2 - y1
    if not aligned:
        rw, rh = max(rw, 1.0), max(rh, 1.0)
    bh, bw = rh / ph, rw / pw
    gh = sampling_ratio if sampling_ratio > 0 else math.ceil(rh / ph)
    gw = sampling_ratio if sampling_ratio > 0 else math.ceil(rw / pw)
    for i in range(ph):
        for j in range(pw):
            points = [(y1 + i * bh + (iy + 0.5) * bh / gh, x1 + j * bw + (ix + 0.5) * bw / gw)
                      for iy in range(gh) for ix in range(gw)]
            yield i, j, points, gh * gw


def roi_align_ref(x, rois, ph, pw, scale, sampling_ratio, aligned):
    out = numpy.zeros((len(rois), x.shape[1], ph, pw))
    for k in range(len(rois)):
        image = x[int(rois[k, 0])]
        for i, j, points, count in align_bins(rois, k, scale, ph, pw, sampling_ratio, aligned):
            total = sum((bilinear(image, y, xx) for y, xx in points), numpy.zeros(x.shape[1]))
            out[k, :, i, j] = total / max(count, 1)
    return out


def ps_roi_align_ref(x, rois, ph, pw, scale, sampling_ratio):
    c_out = x.shape[1] // (ph * pw)
    out = numpy.zeros((len(rois), c_out, ph, pw))
    for k in range(len(rois)):
        image = x[int(rois[k, 0])]
        for i, j, points, count in align_bins(rois, k, scale, ph, pw, sampling_ratio, True):
            for c in range(c_out):
                channel = image[c * ph * pw + i * pw + j]
                out[k, c, i, j] = sum(bilinear(channel, y, xx) for y, xx in points) / count
    return out


def c_round(v):
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def pool_bins(rois, k, scale, ph, pw, height, width, plus_one, limit):
    sw, sh, ew, eh = (c_round(rois[k, i] * scale) for i in (1, 2, 3, 4))
    rw, rh = max(ew - sw + plus_one, 1), max(eh - sh + plus_one, 1)
    bh, bw = rh / ph, rw / pw
    for i in range(ph):
        for j in range(pw):
            hs = min(max(math.floor(i * bh) + sh, 0), height - limit)
            he = min(max(math.ceil((i + 1) * bh) + sh, 0), height - limit)
            ws = min(max(math.floor(j * bw) + sw, 0), width - limit)
            we = min(max(math.ceil((j + 1) * bw) + sw, 0), width - limit)
            yield i, j, hs, he, ws, we


def roi_pool_ref(x, rois, ph, pw, scale):
    out = numpy.zeros((len(rois), x.shape[1], ph, pw))
    for k in range(len(rois)):
        for i, j, hs, he, ws, we in pool_bins(rois, k, scale, ph, pw, *x.shape[2:], plus_one=1, limit=0):
            if he > hs and we > ws:
                for c in range(x.shape[1]):
                    # the kernel's running maximum starts at -FLT_MAX and takes only greater values (never NaN)
                    region = x[int(rois[k, 0]), c, hs:he, ws:we].ravel()
                    region = region[region > -FLT_MAX]
                    out[k, c, i, j] = region.max() if region.size else -FLT_MAX
    return out


FLT_MAX = float(numpy.finfo(numpy.float32).max)


def ps_roi_pool_ref(x, rois, ph, pw, scale):
    c_out = x.shape[1] // (ph * pw)
    out = numpy.zeros((len(rois), c_out, ph, pw))
    for k in range(len(rois)):
        for i, j, hs, he, ws, we in pool_bins(rois, k, scale, ph, pw, *x.shape[2:], plus_one=0, limit=1):
            if he > hs and we > ws:
                for c in range(c_out):
                    out[k, c, i, j] = x[int(rois[k, 0]), c * ph * pw + i * pw + j, hs:he, ws:we].mean()
    return out


def random_rois(k, n_images, height, width, seed=0, spread=2.0):
    """RoIs over (and past, by `spread` pixels) an image, some degenerate."""
    rng = numpy.random.default_rng(seed)
    x1 = rng.uniform(-spread, width, k)
    y1 = rng.uniform(-spread, height, k)
    x2 = x1 + rng.uniform(0, width / 2 + spread, k)
    y2 = y1 + rng.uniform(0, height / 2 + spread, k)
    if k > 3:
        x2[1], y2[2] = x1[1], y1[2]            # zero width / height
        x2[3], y2[3] = x1[3] - 1, y1[3] - 0.5  # inverted
    return numpy.stack([rng.integers(0, n_images, k), x1, y1, x2, y2], 1)


def features(shape, seed=1):
    return numpy.random.default_rng(seed).normal(size=shape)


CASES = [((2, 3, 10, 12), 3, 4, 1.0), ((1, 2, 9, 9), 2, 2, 0.5), ((3, 1, 7, 15), 5, 3, 0.25)]


@pytest.mark.parametrize("shape,ph,pw,scale", CASES)
@pytest.mark.parametrize("sampling_ratio", [-1, 1, 2])
@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_matches_the_kernel_loops(shape, ph, pw, scale, sampling_ratio, aligned, path):
    x = features(shape)
    rois = random_rois(9, shape[0], shape[2] / scale, shape[3] / scale)
    out = E.roi_align(ember.tensor(x), ember.tensor(rois), (ph, pw), scale, sampling_ratio, aligned)
    assert out.shape == (9, shape[1], ph, pw) and out.dtype == ember.float64
    numpy.testing.assert_allclose(out.numpy(), roi_align_ref(x, rois, ph, pw, scale, sampling_ratio, aligned),
                                  rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sampling_ratio", [-1, 2])
@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_matches_torchvision_inside_the_image(sampling_ratio, aligned, path):
    # torchvision's Python RoIAlign skips its kernel's out-of-image test, so the boxes stay well inside
    x = features((2, 4, 16, 20)).astype(numpy.float32)
    rng = numpy.random.default_rng(3)
    xy = rng.uniform(0, 8, (12, 2))
    rois = numpy.concatenate([rng.integers(0, 2, (12, 1)), xy, xy + rng.uniform(0.2, 7, (12, 2))], 1)
    rois = rois.astype(numpy.float32)
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    boxes = ember.tensor(rois, requires_grad=True)  # RoIs get no gradient, as from torchvision's kernel
    ours = E.roi_align(ex, boxes, 3, 0.8, sampling_ratio, aligned)
    theirs = TV_ROI_ALIGN(tx, torch.tensor(rois), 0.8, 3, 3, sampling_ratio, aligned)
    assert ours.dtype == ember.float32
    numpy.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    weight = features(tuple(ours.shape), seed=4).astype(numpy.float32)
    (ours * ember.tensor(weight)).sum().backward()
    (theirs * torch.tensor(weight)).sum().backward()
    numpy.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert boxes.grad is None


def test_roi_align_takes_a_list_of_boxes_per_image(path):
    x = features((3, 2, 8, 8))
    per_image = [random_rois(n, 1, 8, 8, seed=n)[:, 1:] for n in (2, 0, 3)]
    ours = E.roi_align(ember.tensor(x), [ember.tensor(b) for b in per_image], 2, sampling_ratio=2)
    rois = numpy.concatenate([numpy.concatenate([numpy.full((len(b), 1), i), b], 1)
                              for i, b in enumerate(per_image)])
    numpy.testing.assert_allclose(ours.numpy(), roi_align_ref(x, rois, 2, 2, 1.0, 2, False), rtol=1e-10)
    module = E.RoIAlign((2, 2), 1.0, 2)
    numpy.testing.assert_allclose(module(ember.tensor(x), ember.tensor(rois)).numpy(), ours.numpy())
    assert repr(module) == "RoIAlign(output_size=(2, 2), spatial_scale=1.0, sampling_ratio=2, aligned=False)"


@pytest.mark.parametrize("shape,ph,pw,scale", CASES)
def test_roi_pool_matches_the_kernel_loops(shape, ph, pw, scale):
    x = features(shape)
    rois = random_rois(9, shape[0], shape[2] / scale, shape[3] / scale)
    out = E.roi_pool(ember.tensor(x), ember.tensor(rois), (ph, pw), scale)
    numpy.testing.assert_array_equal(out.numpy(), roi_pool_ref(x, rois, ph, pw, scale))
    module = E.RoIPool((ph, pw), scale)
    numpy.testing.assert_array_equal(module(ember.tensor(x), ember.tensor(rois)).numpy(), out.numpy())
    assert repr(module) == f"RoIPool(output_size={(ph, pw)}, spatial_scale={scale})"


def test_roi_pool_skips_nan_and_starts_below_every_float():
    x = features((1, 2, 6, 6))
    x[0, 0, :3, :3] = numpy.nan
    x[0, 0, 1, 1] = -1.0
    x[0, 1, :3, :3] = -numpy.inf
    rois = numpy.array([[0.0, 0, 0, 2, 2], [0, 0, 0, 5, 5]])
    out = E.roi_pool(ember.tensor(x), ember.tensor(rois), 1).numpy()
    numpy.testing.assert_array_equal(out, roi_pool_ref(x, rois, 1, 1, 1.0))
    assert out[0, 0, 0, 0] == -1.0 and out[0, 1, 0, 0] == -FLT_MAX


def test_roi_pool_gradient_goes_to_each_bins_first_maximum():
    x = numpy.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = 5.0  # a tie: the first in row-major order takes the gradient
    ex = ember.tensor(x, requires_grad=True)
    E.roi_pool(ex, ember.tensor([[0.0, 0, 0, 3, 3]], dtype=ember.float64), 1).sum().backward()
    expected = numpy.zeros_like(x)
    expected[0, 0, 1, 1] = 1.0
    numpy.testing.assert_array_equal(ex.grad.numpy(), expected)


@pytest.mark.parametrize("sampling_ratio", [-1, 2])
def test_ps_roi_align_matches_the_kernel_loops(sampling_ratio, path):
    x = features((2, 12, 9, 11))
    rois = random_rois(7, 2, 9, 11, seed=5)
    # every RoI at least a sample wide: the kernel divides an empty one's zero sum by zero samples
    rois[:, 3:] = numpy.maximum(rois[:, 3:], rois[:, 1:3] + 0.5)
    out = E.ps_roi_align(ember.tensor(x), ember.tensor(rois), (2, 3), 1.0, sampling_ratio)
    assert out.shape == (7, 2, 2, 3)
    numpy.testing.assert_allclose(out.numpy(), ps_roi_align_ref(x, rois, 2, 3, 1.0, sampling_ratio), rtol=1e-10,
                                  atol=1e-12)


def test_ps_roi_pool_matches_the_kernel_loops():
    x = features((2, 8, 9, 11))
    rois = random_rois(7, 2, 18, 22, seed=6)
    out = E.ps_roi_pool(ember.tensor(x), ember.tensor(rois), 2, 0.5)
    assert out.shape == (7, 2, 2, 2)
    numpy.testing.assert_allclose(out.numpy(), ps_roi_pool_ref(x, rois, 2, 2, 0.5), rtol=1e-12)
    assert repr(E.PSRoIPool(2, 0.5)) == "PSRoIPool(output_size=2, spatial_scale=0.5)"
    assert repr(E.PSRoIAlign(2, 0.5, -1)) == "PSRoIAlign(output_size=2, spatial_scale=0.5, sampling_ratio=-1)"


ALIGN_OPS = [
    ("roi_align", lambda x, r: E.roi_align(x, r, (2, 3), 0.7, -1, False)),
    ("roi_align_aligned", lambda x, r: E.roi_align(x, r, 2, 0.7, 2, True)),
    ("ps_roi_align", lambda x, r: E.ps_roi_align(x, r, 2, 0.7, 2)),
]
POOL_OPS = [
    ("roi_pool", lambda x, r: E.roi_pool(x, r, (2, 3), 0.7)),
    ("ps_roi_pool", lambda x, r: E.ps_roi_pool(x, r, 2, 0.7)),
]


def check_gradients(op):
    x = ember.tensor(features((2, 4, 4, 5)), requires_grad=True)
    rois = ember.tensor(random_rois(4, 2, 6, 7, seed=7))
    assert ember.autograd.gradcheck(lambda t: op(t, rois), (x,))
    assert ember.autograd.gradgradcheck(lambda t: op(t, rois), (x,))


def check_empty_and_float32(op):
    x = ember.tensor(features((2, 4, 6, 7)).astype(numpy.float32), requires_grad=True)
    empty = op(x, ember.zeros(0, 5))
    assert empty.shape[0] == 0 and empty.dtype == ember.float32
    empty.sum().backward()
    assert x.grad.shape == x.shape and float(x.grad.abs().sum()) == 0.0
    out = op(x, ember.tensor(random_rois(4, 2, 6, 7).astype(numpy.float32)))
    assert out.dtype == ember.float32


@pytest.mark.parametrize("name,op", ALIGN_OPS, ids=[n for n, _ in ALIGN_OPS])
def test_align_gradients_by_finite_differences(name, op, path):
    check_gradients(op)


@pytest.mark.parametrize("name,op", POOL_OPS, ids=[n for n, _ in POOL_OPS])
def test_pool_gradients_by_finite_differences(name, op):
    check_gradients(op)


@pytest.mark.parametrize("name,op", ALIGN_OPS + POOL_OPS, ids=[n for n, _ in ALIGN_OPS + POOL_OPS])
def test_no_rois_and_float32(name, op):
    check_empty_and_float32(op)


def test_align_no_rois_through_the_gather(path):
    for _, op in ALIGN_OPS:
        check_empty_and_float32(op)


@pytest.mark.parametrize("op", [E.roi_align, E.roi_pool, E.ps_roi_align, E.ps_roi_pool])
def test_misuse_errors(op):
    x = ember.zeros(1, 4, 5, 5)
    with pytest.raises(AssertionError, match=r"Tensor\[K, 5\]"):
        op(x, ember.zeros(3, 4), 2)
    with pytest.raises(AssertionError, match=r"List\[Tensor\[L, 4\]\]"):
        op(x, [ember.zeros(3, 5)], 2)
    with pytest.raises(AssertionError, match="boxes is expected to be"):
        op(x, numpy.zeros((3, 5)), 2)
    with pytest.raises(RuntimeError, match="same dtype"):
        op(x, ember.zeros(3, 5, dtype=ember.float64), 2)


def test_dtypes_the_cpu_kernels_take():
    x, rois = ember.randn(1, 4, 6, 6), ember.tensor([[0, 0.5, 0.5, 4, 5]])
    for op in (E.roi_align, E.ps_roi_align):  # these kernels also run float16
        half = op(x.half(), rois.half(), 2)
        assert half.dtype == ember.float16
        numpy.testing.assert_allclose(half.float().numpy(), op(x, rois, 2).numpy(), atol=2e-3)
        with pytest.raises(RuntimeError, match="_forward_kernel\" not implemented for 'Long'"):
            op(x.long(), rois.long(), 2)
    for op in (E.roi_pool, E.ps_roi_pool):
        with pytest.raises(RuntimeError, match="only supports float and double types"):
            op(x.half(), rois.half(), 2)


@pytest.mark.parametrize("op", [E.ps_roi_align, E.ps_roi_pool])
def test_position_sensitive_channels_must_divide(op):
    with pytest.raises(RuntimeError, match="input channels must be a multiple of pooling height \\* pooling width"):
        op(ember.zeros(1, 5, 5, 5), ember.zeros(1, 5), 2)


def test_multi_scale_roi_align_matches_torchvision(monkeypatch):
    monkeypatch.setattr(tv_roi_align, "_roi_align", TV_ROI_ALIGN)
    rng = numpy.random.default_rng(8)
    sizes = {"p2": 32, "p3": 16, "p4": 8, "p5": 4}
    feats = {k: rng.normal(size=(2, 3, s, s)).astype(numpy.float32) for k, s in sizes.items()}
    boxes = []
    for n in (5, 4):
        xy = rng.uniform(0, 60, (n, 2))
        boxes.append(numpy.concatenate([xy, xy + rng.uniform(4, 64, (n, 2))], 1).astype(numpy.float32))
    image_shapes = [(128, 128), (120, 100)]
    ours = E.MultiScaleRoIAlign(["p2", "p4", "p5"], 3, 2)
    theirs = tv.ops.MultiScaleRoIAlign(["p2", "p4", "p5"], 3, 2)
    ours_in = {k: ember.tensor(v, requires_grad=True) for k, v in feats.items()}
    theirs_in = {k: torch.tensor(v, requires_grad=True) for k, v in feats.items()}
    out = ours(ours_in, [ember.tensor(b) for b in boxes], image_shapes)
    ref = theirs(theirs_in, [torch.tensor(b) for b in boxes], image_shapes)
    numpy.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    weight = rng.normal(size=tuple(ref.shape)).astype(numpy.float32)
    (out * ember.tensor(weight)).sum().backward()
    (ref * torch.tensor(weight)).sum().backward()
    for key in ("p2", "p4", "p5"):
        numpy.testing.assert_allclose(ours_in[key].grad.numpy(), theirs_in[key].grad.numpy(), rtol=1e-4, atol=1e-5)
    assert ours_in["p3"].grad is None
    assert ours.scales == theirs.scales
    assert (ours.map_levels.k_min, ours.map_levels.k_max) == (theirs.map_levels.k_min, theirs.map_levels.k_max)
    assert repr(ours) == repr(theirs)
    single = E.MultiScaleRoIAlign(["p3"], (2, 2), -1)
    ref_single = tv.ops.MultiScaleRoIAlign(["p3"], (2, 2), -1)
    numpy.testing.assert_allclose(
        single({"p3": ember.tensor(feats["p3"])}, [ember.tensor(b) for b in boxes], image_shapes).numpy(),
        ref_single({"p3": torch.tensor(feats["p3"])}, [torch.tensor(b) for b in boxes], image_shapes).numpy(),
        rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="images list should not be empty"):
        E.MultiScaleRoIAlign(["p3"], 2, 2)({"p3": ember.tensor(feats["p3"])}, [ember.tensor(boxes[0])], [])
