"""nn ops on the dtypes PyTorch's CPU kernels treat specially (integers, bool, 16-bit floats, complex), each run in
torch and ember: the same exception type and message, or the same result dtype and values."""
import warnings

import numpy
import pytest
import torch

import ember

DTYPES = ["int64", "int32", "uint8", "bool", "float16", "bfloat16", "complex64", "float32"]   # one of each kind


def _cases():
    """name -> f(lib, F, t) on t = arange(24).reshape(2, 3, 4) - 8 in the dtype under test."""
    def target(lib):
        return lib.tensor([0, 1, 2])

    def signs(lib):   # hinge targets -1, 0 and 1 in int64
        return lib.arange(24).reshape(2, 3, 4) % 3 - 1
    return {
        # activations (functional, top-level, Tensor methods, modules)
        "softmax": lambda T, F, t: F.softmax(t, -1),
        "softmax_dim0": lambda T, F, t: F.softmax(t, 0),
        "softmax_to_float": lambda T, F, t: F.softmax(t, 1, dtype=T.float64),
        "log_softmax": lambda T, F, t: F.log_softmax(t, -1),
        "log_softmax_dim0": lambda T, F, t: F.log_softmax(t, 0),
        "softmin": lambda T, F, t: F.softmin(t, -1),
        "gelu": lambda T, F, t: F.gelu(t),
        "gelu_tanh": lambda T, F, t: F.gelu(t, approximate="tanh"),
        "silu": lambda T, F, t: F.silu(t),
        "mish": lambda T, F, t: F.mish(t),
        "elu": lambda T, F, t: F.elu(t),
        "elu_inplace": lambda T, F, t: F.elu(t.clone(), inplace=True),
        "selu": lambda T, F, t: F.selu(t),
        "celu": lambda T, F, t: F.celu(t),
        "leaky_relu": lambda T, F, t: F.leaky_relu(t),
        "prelu": lambda T, F, t: F.prelu(t, t.new_ones(1)),
        "rrelu": lambda T, F, t: F.rrelu(t),
        "rrelu_training": lambda T, F, t: F.rrelu(t, training=True) * 0,   # random slopes: dtype and errors
        "hardtanh": lambda T, F, t: F.hardtanh(t),
        "hardtanh_fractional_limits": lambda T, F, t: F.hardtanh(t, -0.5, 2.5),
        "hardtanh_inplace": lambda T, F, t: F.hardtanh(t.clone(), 0.0, 6.0, inplace=True),
        "relu6": lambda T, F, t: F.relu6(t),
        "relu": lambda T, F, t: F.relu(t),
        "hardsigmoid": lambda T, F, t: F.hardsigmoid(t),
        "hardswish": lambda T, F, t: F.hardswish(t),
        "softplus": lambda T, F, t: F.softplus(t, beta=0.5),   # exp(beta * x) within float16's range
        "softsign": lambda T, F, t: F.softsign(t),
        "glu": lambda T, F, t: F.glu(t),
        "threshold": lambda T, F, t: F.threshold(t, 0.5, 2),
        "logsigmoid": lambda T, F, t: F.logsigmoid(t),
        "tanhshrink": lambda T, F, t: F.tanhshrink(t),
        "softshrink": lambda T, F, t: F.softshrink(t),
        "hardshrink": lambda T, F, t: F.hardshrink(t),
        "clamp": lambda T, F, t: t.clamp(0, 3),
        "relu_": lambda T, F, t: F.relu_(t.clone()),
        "elu_": lambda T, F, t: F.elu_(t.clone()),
        "celu_": lambda T, F, t: F.celu_(t.clone()),
        "selu_": lambda T, F, t: F.selu_(t.clone()),
        "leaky_relu_": lambda T, F, t: F.leaky_relu_(t.clone()),
        "hardtanh_": lambda T, F, t: F.hardtanh_(t.clone(), -2.5, 3.5),
        "rrelu_": lambda T, F, t: F.rrelu_(t.clone()),
        "threshold_": lambda T, F, t: F.threshold_(t.clone(), 0.5, 2),
        "torch.selu": lambda T, F, t: T.selu(t),
        "torch.celu": lambda T, F, t: T.celu(t),
        "torch.relu": lambda T, F, t: T.relu(t),
        "torch.softmax": lambda T, F, t: T.softmax(t, 1),
        "torch.threshold": lambda T, F, t: T.threshold(t, 1, 0),
        "torch.prelu": lambda T, F, t: T.prelu(t, t.new_ones(1)),
        "torch.rrelu": lambda T, F, t: T.rrelu(t),
        "torch.hardshrink": lambda T, F, t: T.hardshrink(t),
        "Tensor.softmax": lambda T, F, t: t.softmax(-1),
        "Tensor.log_softmax": lambda T, F, t: t.log_softmax(0),
        "Tensor.relu": lambda T, F, t: t.relu(),
        "Tensor.hardshrink": lambda T, F, t: t.hardshrink(),
        "nn.GELU": lambda T, F, t: T.nn.GELU()(t),
        "nn.Softmax": lambda T, F, t: T.nn.Softmax(-1)(t),
        "nn.LogSoftmax": lambda T, F, t: T.nn.LogSoftmax(1)(t),
        "nn.Softmax2d": lambda T, F, t: T.nn.Softmax2d()(t),
        "nn.Hardtanh": lambda T, F, t: T.nn.Hardtanh()(t),
        "nn.ReLU6": lambda T, F, t: T.nn.ReLU6()(t),
        # normalization
        "layer_norm": lambda T, F, t: F.layer_norm(t, (4,)),
        "group_norm": lambda T, F, t: F.group_norm(t, 1),
        "batch_norm": lambda T, F, t: F.batch_norm(t, None, None, training=True),
        "instance_norm": lambda T, F, t: F.instance_norm(t),
        "local_response_norm": lambda T, F, t: F.local_response_norm(t, 2),
        "local_response_norm_4d": lambda T, F, t: F.local_response_norm(t.unsqueeze(-1), 3),
        "rms_norm": lambda T, F, t: F.rms_norm(t, (4,)),
        "torch.layer_norm": lambda T, F, t: T.layer_norm(t, (4,)),
        "torch.group_norm": lambda T, F, t: T.group_norm(t, 1),
        "torch.batch_norm": lambda T, F, t: T.batch_norm(t, None, None, None, None, True, 0.1, 1e-5, False),
        "torch.instance_norm": lambda T, F, t: T.instance_norm(t, None, None, None, None, True, 0.1, 1e-5, False),
        "nn.BatchNorm1d": lambda T, F, t: T.nn.BatchNorm1d(3)(t),
        "nn.InstanceNorm1d": lambda T, F, t: T.nn.InstanceNorm1d(3)(t),
        # pooling
        "avg_pool1d": lambda T, F, t: F.avg_pool1d(t, 2),
        "avg_pool1d_padded_ceil": lambda T, F, t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        "avg_pool2d": lambda T, F, t: F.avg_pool2d(t, 2, 1, 1),
        "avg_pool2d_divisor": lambda T, F, t: F.avg_pool2d(t.unsqueeze(0), (2, 3), divisor_override=4),
        "avg_pool3d": lambda T, F, t: F.avg_pool3d(t.unsqueeze(0), 2, 1, 1, ceil_mode=True),
        "max_pool1d": lambda T, F, t: F.max_pool1d(t, 2),
        "max_pool1d_indices": lambda T, F, t: F.max_pool1d(t, 2, return_indices=True)[1],
        "max_pool2d": lambda T, F, t: F.max_pool2d(t, 2),
        "max_pool3d": lambda T, F, t: F.max_pool3d(t.unsqueeze(0), 1),
        "adaptive_avg_pool1d": lambda T, F, t: F.adaptive_avg_pool1d(t, 2),
        "adaptive_avg_pool1d_to_1": lambda T, F, t: F.adaptive_avg_pool1d(t, 1),
        "adaptive_avg_pool2d": lambda T, F, t: F.adaptive_avg_pool2d(t, 2),
        "adaptive_avg_pool3d_to_1": lambda T, F, t: F.adaptive_avg_pool3d(t.unsqueeze(0), 1),
        "adaptive_avg_pool3d": lambda T, F, t: F.adaptive_avg_pool3d(t.unsqueeze(0), 2),
        "adaptive_max_pool1d": lambda T, F, t: F.adaptive_max_pool1d(t, 2),
        "adaptive_max_pool2d": lambda T, F, t: F.adaptive_max_pool2d(t, 2),
        "adaptive_max_pool3d": lambda T, F, t: F.adaptive_max_pool3d(t.unsqueeze(0), 2),
        "lp_pool1d": lambda T, F, t: F.lp_pool1d(t, 2, 2),
        "lp_pool2d": lambda T, F, t: F.lp_pool2d(t, 2, 1),
        "torch.max_pool1d": lambda T, F, t: T.max_pool1d(t, 2),
        "torch.avg_pool1d": lambda T, F, t: T.avg_pool1d(t, 2),
        "torch.adaptive_max_pool1d": lambda T, F, t: T.adaptive_max_pool1d(t, 2)[0],
        "nn.AvgPool1d": lambda T, F, t: T.nn.AvgPool1d(2)(t),
        "nn.MaxPool1d": lambda T, F, t: T.nn.MaxPool1d(2)(t),
        "nn.AdaptiveAvgPool1d": lambda T, F, t: T.nn.AdaptiveAvgPool1d(2)(t),
        # resampling
        "interpolate_nearest1d": lambda T, F, t: F.interpolate(t, scale_factor=2),
        "interpolate_nearest2d": lambda T, F, t: F.interpolate(t.unsqueeze(0), scale_factor=2),
        "interpolate_nearest3d": lambda T, F, t: F.interpolate(t.unsqueeze(0).unsqueeze(0), scale_factor=2),
        "interpolate_nearest_exact": lambda T, F, t: F.interpolate(t, size=7, mode="nearest-exact"),
        "interpolate_linear": lambda T, F, t: F.interpolate(t, scale_factor=2, mode="linear"),
        "interpolate_trilinear": lambda T, F, t: F.interpolate(t.unsqueeze(0).unsqueeze(0), size=3, mode="trilinear"),
        "interpolate_area": lambda T, F, t: F.interpolate(t, size=3, mode="area"),
        "interpolate_area_to_1": lambda T, F, t: F.interpolate(t, size=1, mode="area"),
        "nn.Upsample": lambda T, F, t: T.nn.Upsample(scale_factor=2)(t),
        "unfold": lambda T, F, t: F.unfold(t.unsqueeze(0), 1),
        "fold": lambda T, F, t: F.fold(t, (2, 2), 1),
        "nn.Unfold": lambda T, F, t: T.nn.Unfold(1)(t.unsqueeze(0)),
        "grid_sample": lambda T, F, t: F.grid_sample(t.unsqueeze(0), t[:1, :, :2].unsqueeze(0) * 0,
                                                     align_corners=False),
        "grid_sample_batch_mismatch": lambda T, F, t: F.grid_sample(t.unsqueeze(0), t.unsqueeze(-1).repeat(1, 1, 1, 2),
                                                                    align_corners=False),
        "grid_sample_3d": lambda T, F, t: F.grid_sample(t[None, None], t[None, None, :1, :1, :3] * 0,
                                                        align_corners=False),
        "max_unpool1d": lambda T, F, t: F.max_unpool1d(t, T.arange(4).repeat(2, 3, 1), 2),
        "max_unpool3d": lambda T, F, t: F.max_unpool3d(t[None, None], T.arange(24).reshape(1, 1, 2, 3, 4), 1),
        # distances
        "cosine_similarity": lambda T, F, t: F.cosine_similarity(t, t),
        "cosine_similarity_mixed": lambda T, F, t: F.cosine_similarity(t, t.double()),
        "pairwise_distance": lambda T, F, t: F.pairwise_distance(t, t),
        "pdist": lambda T, F, t: F.pdist(t[0]),
        "normalize": lambda T, F, t: F.normalize(t),
        "norm": lambda T, F, t: t.norm(),
        "torch.pdist": lambda T, F, t: T.pdist(t[0]),
        "torch.cosine_similarity": lambda T, F, t: T.cosine_similarity(t, t),
        "nn.CosineSimilarity": lambda T, F, t: T.nn.CosineSimilarity()(t, t),
        # losses
        "mse_loss": lambda T, F, t: F.mse_loss(t, t),
        "mse_loss_float_target": lambda T, F, t: F.mse_loss(t, t.float()),
        "l1_loss": lambda T, F, t: F.l1_loss(t, t),
        "smooth_l1_loss": lambda T, F, t: F.smooth_l1_loss(t, t),
        "huber_loss": lambda T, F, t: F.huber_loss(t, t),
        "kl_div": lambda T, F, t: F.kl_div(t, t, reduction="batchmean"),
        "kl_div_float_input": lambda T, F, t: F.kl_div(t.float(), t, reduction="sum"),
        "binary_cross_entropy": lambda T, F, t: F.binary_cross_entropy(t, t),
        "binary_cross_entropy_float_target": lambda T, F, t: F.binary_cross_entropy(t, t.float()),
        "binary_cross_entropy_with_logits": lambda T, F, t: F.binary_cross_entropy_with_logits(t, t),
        "nll_loss": lambda T, F, t: F.nll_loss(t[0], target(T)),
        "nll_loss_3d": lambda T, F, t: F.nll_loss(t, T.zeros(2, 4, dtype=T.int64)),
        "cross_entropy": lambda T, F, t: F.cross_entropy(t[0], target(T)),
        "cross_entropy_3d": lambda T, F, t: F.cross_entropy(t, T.zeros(2, 4, dtype=T.int64)),
        "soft_margin_loss": lambda T, F, t: F.soft_margin_loss(t, t),
        "poisson_nll_loss": lambda T, F, t: F.poisson_nll_loss(t, t),
        "gaussian_nll_loss": lambda T, F, t: F.gaussian_nll_loss(t.float(), t.float(), t),
        "hinge_embedding_loss": lambda T, F, t: F.hinge_embedding_loss(t, signs(T), reduction="sum"),
        "hinge_embedding_loss_none": lambda T, F, t: F.hinge_embedding_loss(t, signs(T), 1.5, reduction="none"),
        "hinge_embedding_loss_mean": lambda T, F, t: F.hinge_embedding_loss(t, signs(T)),
        "multilabel_soft_margin_loss": lambda T, F, t: F.multilabel_soft_margin_loss(t, t),
        "torch.kl_div": lambda T, F, t: T.kl_div(t, t),
        "torch.binary_cross_entropy_with_logits": lambda T, F, t: T.binary_cross_entropy_with_logits(
            t, t, None, None, 1),
        "torch.hinge_embedding_loss": lambda T, F, t: T.hinge_embedding_loss(t, signs(T), 1.0, 2),
        # convolutions, linear maps, padding, medians, ordered comparisons
        "conv1d": lambda T, F, t: F.conv1d(t, t[:, :, :2]),
        "conv2d": lambda T, F, t: F.conv2d(t.unsqueeze(0), t[:, :1, :1].unsqueeze(0)),
        "conv3d": lambda T, F, t: F.conv3d(t[None, None], t[:1, :1, :1, None, None]),
        "conv_transpose1d": lambda T, F, t: F.conv_transpose1d(t, t[:1, :, :2].transpose(0, 1)),
        "conv_transpose2d": lambda T, F, t: F.conv_transpose2d(t.unsqueeze(0), t[:, :1, :2].unsqueeze(1)),
        "conv_transpose3d": lambda T, F, t: F.conv_transpose3d(t[None, None], t[:1, :1, :1, None, None]),
        "linear": lambda T, F, t: F.linear(t, t[0]),
        "linear_3d_weight": lambda T, F, t: F.linear(t, t),   # the shape error comes before the dtype's
        "bilinear": lambda T, F, t: F.bilinear(t[0], t[0], t[:, :1].repeat(1, 4, 1)),
        "pad_reflect": lambda T, F, t: F.pad(t, (1, 1), mode="reflect"),
        "pad_reflect2d": lambda T, F, t: F.pad(t.unsqueeze(0), (1, 1, 1, 1), mode="reflect"),
        "pad_replicate3d": lambda T, F, t: F.pad(t[None, None], (1, 1, 1, 1, 1, 1), mode="replicate"),
        "pad_circular": lambda T, F, t: F.pad(t, (1, 1), mode="circular"),
        "median": lambda T, F, t: t.median(),
        "median_dim": lambda T, F, t: t.median(0)[0],
        "nanmedian_dim": lambda T, F, t: t.nanmedian(1)[1],
        "lt": lambda T, F, t: t < 1,
        "ge_tensor": lambda T, F, t: t >= t.flip(0),
        "eq": lambda T, F, t: t == 1,
        # modules with float parameters
        "nn.LayerNorm": lambda T, F, t: T.nn.LayerNorm(4)(t),
        "nn.GroupNorm": lambda T, F, t: T.nn.GroupNorm(1, 3)(t),
        "nn.PReLU": lambda T, F, t: T.nn.PReLU()(t),
        "multi_margin_loss": lambda T, F, t: F.multi_margin_loss(t[0], target(T)),
        "multilabel_margin_loss": lambda T, F, t: F.multilabel_margin_loss(t[0], T.tensor([[0, 1, -1, 0]] * 3)),
        "nn.MSELoss": lambda T, F, t: T.nn.MSELoss()(t, t),
        "nn.CrossEntropyLoss": lambda T, F, t: T.nn.CrossEntropyLoss()(t[0], target(T)),
    }


CASES = _cases()


def _outcome(lib, case, dtype):
    t = (lib.arange(24).reshape(2, 3, 4) - 8).to(getattr(lib, dtype))
    functional = lib.nn.functional
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return CASES[case](lib, functional, t), None
    except Exception as error:   # the outcome under comparison
        return None, error


def _values(result):
    if isinstance(result, torch.Tensor):
        result = result.detach()
        return (result.float() if result.dtype is torch.bfloat16 else result).numpy()
    return numpy.asarray(result.detach().float() if result.dtype is ember.bfloat16 else result.detach())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_outcome_as_torch(case, dtype):
    expected, expected_error = _outcome(torch, case, dtype)
    result, error = _outcome(ember, case, dtype)
    if expected_error is not None:
        assert error is not None, f"torch raises {expected_error!r}, ember returns {result}"
        assert (type(error).__name__, str(error)) == (type(expected_error).__name__, str(expected_error))
        return
    assert error is None, f"torch returns {expected.dtype}, ember raises {error!r}"
    assert str(result.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    wide = "16" in dtype or expected.dtype in (torch.float16, torch.bfloat16)
    numpy.testing.assert_allclose(_values(result), _values(expected), rtol=1e-2 if wide else 1e-5,
                                  atol=1e-2 if wide else 1e-6, equal_nan=True)
