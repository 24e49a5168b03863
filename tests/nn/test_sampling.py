"""interpolate, grid_sample, affine_grid, unfold/fold and the shuffles against torch, with float64 gradchecks."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check, check_error, gradcheck, noncontiguous, sample

F32, F64 = numpy.float32, numpy.float64
X3, X4, X5 = sample((2, 3, 6)), sample((2, 3, 5, 7)), sample((1, 2, 3, 4, 5))
SIZES = [dict(size=(8, 4)), dict(scale_factor=1.7), dict(scale_factor=(0.6, 2.3)),
         dict(scale_factor=(0.6, 2.3), recompute_scale_factor=True)]

INTERPOLATE_CASES = [(mode, sizes, corners) for mode in ("nearest", "nearest-exact", "area", "bilinear", "bicubic")
                     for sizes in SIZES for corners in ((None,) if "ea" in mode else (False, True))]


@pytest.mark.parametrize("mode,sizes,corners", INTERPOLATE_CASES,
                         ids=[f"{m}-{i}-{c}" for i, (m, _, c) in enumerate(INTERPOLATE_CASES)])
def test_interpolate_2d_matches_torch(mode, sizes, corners):
    check(lambda lib, x: lib.nn.functional.interpolate(x, mode=mode, align_corners=corners, **sizes), X4, rtol=1e-4,
          atol=1e-5)


def test_interpolate_1d_3d_dtypes_and_modules():
    check(lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2.5, mode="linear"), X3)
    check(lambda lib, x: lib.nn.functional.interpolate(x, size=4, mode="nearest-exact"), noncontiguous(X3))
    check(lambda lib, x: lib.nn.functional.interpolate(x, size=(5, 3, 7), mode="trilinear", align_corners=True), X5)
    check(lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=(2, 1, 0.5)), X5)
    check(lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2), sample((1, 2, 3, 3), numpy.uint8, 0, 9))
    check(lambda lib, x: lib.nn.functional.interpolate(x, size=(3, 9), mode="bilinear"), X4.astype(F64))
    for name, args in (("Upsample", (None, 2, "bilinear")), ("UpsamplingNearest2d", (None, 3)),
                       ("UpsamplingBilinear2d", ((4, 9),))):
        t_module, e_module = getattr(torch.nn, name)(*args), getattr(ember.nn, name)(*args)
        assert repr(e_module) == repr(t_module)
        check(lambda lib, x: (t_module if lib is torch else e_module.to(x.device))(x), X4)


def test_linear_interpolation_source_positions_are_torchs_fused_multiply_add():
    # PyTorch computes scale * (i + 0.5) - 0.5 with one rounding; two float32 roundings moved some rows' weights
    # (96 -> 80 rows: row 53's source 63.700005 instead of 63.7)
    rng = numpy.random.default_rng(0)
    for mode, shape, scale in (("bilinear", (1, 2, 96, 128), 80 / 96), ("linear", (1, 2, 101), 0.41),
                               ("trilinear", (1, 1, 26, 35, 9), 1 / 3)):
        x = rng.random(shape, dtype=F32)
        for recompute in (True, None):
            ours = ember.nn.functional.interpolate(ember.tensor(x), scale_factor=scale, mode=mode,
                                                   recompute_scale_factor=recompute)
            theirs = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=scale, mode=mode,
                                                     recompute_scale_factor=recompute)
            numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=0, atol=3e-7)


def test_interpolate_gradcheck():
    x = sample((1, 2, 3, 4), F64, seed=3)
    gradcheck(lambda lib, x: lib.nn.functional.interpolate(x, size=(5, 3), mode="bilinear"), x)
    gradcheck(lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=1.5, mode="bicubic", align_corners=True), x,
              gradgrad=False)
    gradcheck(lambda lib, x: lib.nn.functional.interpolate(x, size=(6, 2)), x, gradgrad=False)


def test_interpolate_errors_match_torch():
    for options, match in ((dict(size=3, scale_factor=2), "only one of size or scale_factor"), ({}, "either size"),
                           (dict(size=(2, 3, 4)), "same number of spatial dimensions"),
                           (dict(size=3, align_corners=True), "align_corners option can only be set"),
                           (dict(size=3, mode="linear"), "linear mode needs 3D input"),
                           (dict(size=3, mode="trilinear"), "trilinear mode needs 5D input")):
        check_error(lambda lib, x: lib.nn.functional.interpolate(x, **options), X4, match=match)
    check_error(lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, mode="linear", antialias=True), X3,
                match="Anti-alias option is restricted")


ANTIALIAS_SIZES = [dict(size=(2, 3)), dict(scale_factor=0.45), dict(scale_factor=(0.3, 0.8), recompute_scale_factor=True),
                   dict(size=(9, 4)), dict(size=(3, 2), align_corners=True), dict(size=(1, 1))]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("sizes", ANTIALIAS_SIZES, ids=[str(i) for i in range(len(ANTIALIAS_SIZES))])
def test_antialiased_interpolate_matches_torch(mode, sizes):
    def resize(lib, x):
        return lib.nn.functional.interpolate(x, mode=mode, antialias=True, **sizes)
    check(resize, X4, rtol=1e-4, atol=1e-5)
    check(resize, noncontiguous(X4[:1].astype(F64)))


def test_antialiased_interpolate_gradcheck_and_errors():
    gradcheck(lambda lib, x: lib.nn.functional.interpolate(x, size=(2, 3), mode="bicubic", antialias=True),
              sample((1, 2, 5, 7), F64, seed=6))
    check_error(lambda lib, x: lib.nn.functional.interpolate(x, size=(3, 0), mode="bilinear", antialias=True), X4,
                match=r"Input and output sizes should be greater than 0, but got input \(H: 5, W: 7\) output "
                      r"\(H: 3, W: 0\)")


GRID = sample((2, 4, 6, 2), low=-1.2, high=1.2, seed=3)
GRID_CASES = [(mode, padding, corners) for mode in ("bilinear", "nearest", "bicubic")
              for padding in ("zeros", "border", "reflection") for corners in (False, True)]


@pytest.mark.parametrize("mode,padding,corners", GRID_CASES, ids=["-".join(map(str, c)) for c in GRID_CASES])
def test_grid_sample_matches_torch(mode, padding, corners):
    if mode == "nearest":   # the grid gets no gradient (torch returns zeros, ember none): compare the input's
        check(lambda lib, x: lib.nn.functional.grid_sample(x, lib.tensor(GRID), mode=mode, padding_mode=padding,
                                                           align_corners=corners), X4)
        return
    check(lambda lib, x, g: lib.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding,
                                                          align_corners=corners), X4, GRID, rtol=1e-4, atol=1e-4)


def test_grid_sample_3d_gradcheck_and_errors():
    grid5 = sample((1, 2, 3, 4, 3), low=-1.2, high=1.2, seed=4)
    check(lambda lib, x, g: lib.nn.functional.grid_sample(x, g, padding_mode="reflection", align_corners=False), X5,
          grid5, rtol=1e-4, atol=1e-4)
    gradcheck(lambda lib, x, g: lib.nn.functional.grid_sample(x, g, align_corners=False), sample((1, 2, 3, 4), F64),
              sample((1, 2, 3, 2), F64, low=-1.1, high=1.1, seed=5), gradgrad=False)
    gradcheck(lambda lib, x, g: lib.nn.functional.grid_sample(x, g, padding_mode="border", align_corners=True),
              sample((1, 1, 3, 3), F64), sample((1, 2, 2, 2), F64, low=-0.9, high=0.9, seed=6), gradgrad=False)
    check_error(lambda lib, x, g: lib.nn.functional.grid_sample(x, g, mode="area", align_corners=False), X4, GRID,
                match="expected mode")
    check_error(lambda lib, x, g: lib.nn.functional.grid_sample(x, g, align_corners=False), X4, GRID[:1],
                match="same batch size")
    # a grid of another float dtype: the CPU kernel's scalar-type error (RAFT run in float64 meets it)
    for x, g in ((X4.astype(F64), GRID), (X4, GRID.astype(F64)), (X5, sample((1, 2, 3, 4, 3), F64))):
        check_error(lambda lib, x, g: lib.nn.functional.grid_sample(x, g, align_corners=True), x, g,
                    match="expected scalar type")
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        ember.nn.functional.grid_sample(ember.tensor(X4), ember.tensor(GRID))


def test_affine_grid_matches_torch():
    for corners in (False, True):
        check(lambda lib, t: lib.nn.functional.affine_grid(t, (2, 3, 4, 5), align_corners=corners),
              sample((2, 2, 3), seed=7))
        check(lambda lib, t: lib.nn.functional.affine_grid(t, (2, 3, 4, 5, 2), align_corners=corners),
              sample((2, 3, 4), seed=8))
    check_error(lambda lib, t: lib.nn.functional.affine_grid(t, (2, 3, 4, 5), align_corners=False),
                sample((2, 3, 4)), match="Nx2x3")
    check_error(lambda lib, t: lib.nn.functional.affine_grid(t, (2, 3, 4), align_corners=False), sample((2, 2, 3)))


@pytest.mark.parametrize("size", [(2, 1, 28, 28), (1, 3, 7, 5), (2, 1, 5, 6, 7), (1, 1, 33, 17)])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_affine_grid_is_bitwise_torchs(size, dtype):
    # Bilinear sampling's gradient jumps where a grid point crosses a pixel, so the grid must be torch's to the bit:
    # an identity theta puts points exactly on pixel centres (a spatial transformer's first step).
    rows = len(size) - 2
    for theta in (numpy.tile(numpy.eye(rows, rows + 1), (size[0], 1, 1)), sample((size[0], rows, rows + 1))):
        for corners in (False, True):
            ours = ember.nn.functional.affine_grid(ember.tensor(theta.astype(dtype)), size, align_corners=corners)
            theirs = torch.nn.functional.affine_grid(torch.tensor(theta.astype(dtype)), size, align_corners=corners)
            numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_grid_sample_of_affine_grid_gradient_matches_torch():
    x, grad = sample((2, 1, 28, 28), seed=3), sample((2, 1, 28, 28), seed=4)
    theta = numpy.tile(numpy.eye(2, 3, dtype=F32), (2, 1, 1))

    def theta_grad(lib):
        t = lib.tensor(theta, requires_grad=True)
        grid = lib.nn.functional.affine_grid(t, (2, 1, 28, 28), align_corners=False)
        lib.nn.functional.grid_sample(lib.tensor(x), grid, align_corners=False).backward(lib.tensor(grad))
        return t.grad.numpy()
    numpy.testing.assert_allclose(theta_grad(ember), theta_grad(torch), rtol=1e-4, atol=1e-3)
    check_error(lambda lib, t: lib.nn.functional.affine_grid(t, (2, 1, 4, 4), align_corners=False),
                sample((1, 2, 3)), match="batch2")


def test_unfold_fold_match_torch():
    check(lambda lib, x: lib.nn.functional.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), X4)
    check(lambda lib, x: lib.nn.functional.unfold(x, 2), noncontiguous(X4[0]))
    check(lambda lib, x: lib.nn.functional.fold(x, (5, 6), (2, 2), padding=1, stride=2), sample((2, 12, 12)))
    check(lambda lib, x: lib.nn.functional.fold(x, 4, 3, dilation=1), sample((18, 4)))
    t_fold, e_fold = torch.nn.Fold((4, 5), 2), ember.nn.Fold((4, 5), 2)
    t_unfold, e_unfold = torch.nn.Unfold(2, stride=2), ember.nn.Unfold(2, stride=2)
    assert repr(e_fold) == repr(t_fold) and repr(e_unfold) == repr(t_unfold)
    check(lambda lib, x: (t_fold if lib is torch else e_fold.to(x.device))(x), sample((1, 8, 12)))
    check(lambda lib, x: (t_unfold if lib is torch else e_unfold.to(x.device))(x), X4)
    gradcheck(lambda lib, x: lib.nn.functional.fold(x, (3, 4), 2, padding=1), sample((1, 8, 20), F64))
    gradcheck(lambda lib, x: lib.nn.functional.unfold(x, 2, stride=(1, 2)), sample((1, 2, 3, 4), F64))
    check_error(lambda lib, x: lib.nn.functional.fold(x, (5, 6), 2), sample((2, 12, 12)), match="sliding blocks")
    check_error(lambda lib, x: lib.nn.functional.fold(x, (5, 6), 2), sample((2, 13, 20)), match="divisible")
    check_error(lambda lib, x: lib.nn.functional.unfold(x, 9), X4, match="at least one")


def test_shuffles_match_torch():
    check(lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), sample((2, 3, 8, 2, 3)))
    check(lambda lib, x: lib.pixel_shuffle(x, 3), sample((9, 2, 2)))
    check(lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 2), noncontiguous(sample((3, 2, 4, 6))))
    check(lambda lib, x: lib.nn.functional.channel_shuffle(x, 2), sample((3, 4, 4, 6)))
    for name, arg in (("PixelShuffle", 2), ("PixelUnshuffle", 2), ("ChannelShuffle", 4)):
        t_module, e_module = getattr(torch.nn, name)(arg), getattr(ember.nn, name)(arg)
        assert repr(e_module) == repr(t_module)
        check(lambda lib, x: (t_module if lib is torch else e_module.to(x.device))(x), sample((1, 8, 4, 6)))
    check_error(lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), sample((3, 4, 4)), match="divisible")
    check_error(lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 3), sample((3, 4, 4)), match="divisible")
    check_error(lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), sample((4, 4)), match="at least 3")


PAD_MODULES = [("ZeroPad1d", (2,)), ("ZeroPad2d", ((1, 2, 0, 3),)), ("ZeroPad3d", (1,)), ("ConstantPad1d", (2, 1.5)),
               ("ConstantPad2d", ((1, 0, 2, 1), -1.0)), ("ConstantPad3d", (1, 2.0)), ("ReflectionPad1d", (2,)),
               ("ReflectionPad2d", ((1, 2, 2, 1),)), ("ReflectionPad3d", (1,)), ("ReplicationPad1d", ((3, 1),)),
               ("ReplicationPad2d", (2,)), ("ReplicationPad3d", (1,)), ("CircularPad1d", (2,)),
               ("CircularPad2d", ((1, 2, 2, 1),)), ("CircularPad3d", (1,))]


@pytest.mark.parametrize("name,args", PAD_MODULES, ids=[p[0] for p in PAD_MODULES])
def test_padding_modules_match_torch(name, args):
    t_module, e_module = getattr(torch.nn, name)(*args), getattr(ember.nn, name)(*args)
    assert repr(e_module) == repr(t_module)
    dims = int(name[-2])
    check(lambda lib, x: (t_module if lib is torch else e_module.to(x.device))(x), sample((2, 3, 4, 5, 4)[-dims - 2:]))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_interpolation_computes_in_float32(dtype):
    # source positions in half precision drifted by whole pixels (a quarter of kornia's bf16 resize was off by 25 %);
    # PyTorch's kernels compute in float32 and round at the end (its weight buffers differ at most by an ulp or two)
    x = numpy.random.default_rng(0).random((2, 3, 37, 53)).astype(numpy.float32)
    cases = [dict(scale_factor=1.5, mode="bilinear"), dict(size=(20, 30), mode="bilinear", align_corners=True),
             dict(scale_factor=0.37, mode="bicubic"), dict(scale_factor=1.7, mode="nearest")]
    for kwargs in cases:
        ours = ember.nn.functional.interpolate(ember.tensor(x).to(getattr(ember, dtype)), **kwargs)
        theirs = torch.nn.functional.interpolate(torch.tensor(x).to(getattr(torch, dtype)), **kwargs)
        assert ours.dtype == getattr(ember, dtype)
        ulp = 2.0 ** -7 if dtype == "bfloat16" else 2.0 ** -10
        numpy.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=2 * ulp, atol=2 * ulp)
    check_error(lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 8, 8, dtype=getattr(lib, dtype)),
                                                          scale_factor=0.5, mode="bilinear", antialias=True))
