"""nn.utils.fusion against PyTorch's: batch norm by running statistics folded into the convolution (1-3-D,
transposed, with and without biases and affine parameters) or linear layer before it, in float32 and float64."""
import numpy
import pytest
import torch

import ember

CONVS = [("Conv1d", "BatchNorm1d", (3, 6, 5), False), ("Conv2d", "BatchNorm2d", (3, 6, 3), False),
         ("Conv3d", "BatchNorm3d", (2, 4, 3), False), ("ConvTranspose2d", "BatchNorm2d", (3, 6, 3), True)]


def _pair(lib, conv, norm, args, bias, affine, dtype):
    """The same conv and batch norm (with running statistics of its own) in ``lib``, in eval mode."""
    rng = numpy.random.default_rng(0)
    c = getattr(lib.nn, conv)(*args, bias=bias).to(dtype)
    b = getattr(lib.nn, norm)(args[1], affine=affine).to(dtype)
    for module in (c, b):
        for name, tensor in list(module.named_parameters()) + list(module.named_buffers()):
            if tensor.dtype.is_floating_point:
                values = rng.standard_normal(tuple(tensor.shape)) * 0.5 + (1.5 if name == "running_var" else 0)
                with lib.no_grad():
                    tensor.copy_(lib.from_numpy(values.astype(str(dtype).split(".")[-1])))
    return c.eval(), b.eval()


@pytest.mark.parametrize("conv,norm,args,transpose", CONVS, ids=[c[0] for c in CONVS])
@pytest.mark.parametrize("bias,affine", [(True, True), (False, True), (True, False)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_bn_eval_matches_torch(conv, norm, args, transpose, bias, affine, dtype):
    ours = _pair(ember, conv, norm, args, bias, affine, getattr(ember, dtype))
    theirs = _pair(torch, conv, norm, args, bias, affine, getattr(torch, dtype))
    fused = ember.nn.utils.fuse_conv_bn_eval(*ours, transpose=transpose)
    expected = torch.nn.utils.fuse_conv_bn_eval(*theirs, transpose=transpose)
    tolerance = 1e-6 if dtype == "float32" else 1e-13
    for name in ("weight", "bias"):
        got, want = getattr(fused, name), getattr(expected, name)
        assert type(got) is ember.nn.Parameter and got.dtype == getattr(ember, dtype)
        assert got.requires_grad == want.requires_grad   # PyTorch's: a bias made from zeros needs no grad
        numpy.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=tolerance, atol=tolerance)
    assert fused is not ours[0] and ours[0].weight is not fused.weight   # a new module; the original kept
    x = ember.randn(2, args[0], *[7] * int(conv[-2]), dtype=getattr(ember, dtype))
    with ember.no_grad():
        numpy.testing.assert_allclose(fused(x).numpy(), ours[1](ours[0](x)).numpy(), rtol=1e-4 if dtype == "float32"
                                      else 1e-10, atol=1e-4 if dtype == "float32" else 1e-10)


@pytest.mark.parametrize("features", [4, 1])
def test_linear_bn_eval_matches_torch(features):
    rng = numpy.random.default_rng(1)
    weight, bias = rng.standard_normal((4, 3)), rng.standard_normal(4)
    statistics = {"running_mean": rng.standard_normal(features), "running_var": rng.uniform(0.5, 2, features),
                  "weight": rng.standard_normal(features), "bias": rng.standard_normal(features)}
    fused = {}
    for lib in (ember, torch):
        linear, norm = lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(features)
        linear.load_state_dict({"weight": lib.tensor(weight, dtype=lib.float32),
                                "bias": lib.tensor(bias, dtype=lib.float32)})
        norm.load_state_dict({**{k: lib.tensor(v, dtype=lib.float32) for k, v in statistics.items()},
                              "num_batches_tracked": lib.tensor(0)})
        fused[lib] = (lib.nn.utils.fuse_linear_bn_eval(linear.eval(), norm.eval()), linear, norm)
    for name in ("weight", "bias"):
        numpy.testing.assert_allclose(getattr(fused[ember][0], name).detach().numpy(),
                                      getattr(fused[torch][0], name).detach().numpy(), rtol=1e-6, atol=1e-7)
    if features == 4:   # a one-feature batch norm is folded by broadcasting, but cannot run on four features
        layer, linear, norm = fused[ember]
        x = ember.randn(5, 3)
        with ember.no_grad():
            numpy.testing.assert_allclose(layer(x).numpy(), norm(linear(x)).numpy(), rtol=1e-5, atol=1e-6)


def test_errors_match_torch():
    for lib in (ember, torch):
        conv, norm = lib.nn.Conv2d(2, 3, 1), lib.nn.BatchNorm2d(3)
        with pytest.raises(AssertionError, match="Fusion only for eval!"):
            lib.nn.utils.fuse_conv_bn_eval(conv, norm.eval())
        untracked = lib.nn.BatchNorm2d(3, track_running_stats=False).eval()
        with pytest.raises(AssertionError, match="running_mean and bn.running_var must not be None"):
            lib.nn.utils.fuse_conv_bn_eval(conv.eval(), untracked)
        with pytest.raises(AssertionError, match="linear.out_features=4 and bn.num_features=3"):
            lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(2, 4).eval(), norm)
    assert ember.nn.utils.fusion.__all__ == torch.nn.utils.fusion.__all__
