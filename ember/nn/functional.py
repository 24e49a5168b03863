"""``ember.nn.functional``: the layer functions. Thin: each name is an op from ``ember.ops``."""
from ..ops.activation import (celu, elu, gelu, glu, hardshrink, hardsigmoid, hardswish, hardtanh,  # noqa: F401
                              leaky_relu, log_softmax, logsigmoid, mish, prelu, relu6, rrelu, selu, silu, softmax,
                              softmin, softplus, softshrink, softsign, tanhshrink, threshold)
from ..ops.activation import gumbel_softmax  # noqa: F401
from ..ops.activation import threshold as _threshold
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401
from ..ops.attention import _check_mask, _none_or_dtype  # noqa: F401 (PyTorch's F._none_or_dtype)
from ..ops.conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: F401
                        conv_transpose3d)
from ..ops.distance import cosine_similarity, pairwise_distance, pdist  # noqa: F401
from .._warnings import warn as _warn   # stacklevel past the __torch_function__ dispatch wrappers
from ..ops.loss import _reduce
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss,  # noqa: F401
                        cross_entropy, ctc_loss, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div,
                        l1_loss, margin_ranking_loss, mse_loss, multi_margin_loss, multilabel_margin_loss,
                        multilabel_soft_margin_loss, nll_loss, poisson_nll_loss, smooth_l1_loss, soft_margin_loss,
                        triplet_margin_loss)
from ..ops.dropout import (alpha_dropout, dropout, dropout1d, dropout2d, dropout3d,  # noqa: F401
                           feature_alpha_dropout)
from ..ops.linear import linear  # noqa: F401
from ..ops.linear_cross_entropy import linear_cross_entropy  # noqa: F401
from ..ops.functional_aliases import bilinear, conv_tbc, native_channel_shuffle  # noqa: F401
from ..ops.embedding import embedding, embedding_bag, one_hot  # noqa: F401
from ..ops.normalization import (batch_norm, group_norm, instance_norm, layer_norm,  # noqa: F401
                                 local_response_norm, rms_norm)
from ..ops.padding import pad  # noqa: F401
from ..ops.sampling import (affine_grid, channel_shuffle, fold, grid_sample, interpolate,  # noqa: F401
                             pixel_shuffle, pixel_unshuffle, unfold)
from ..ops.fractional_pooling import fractional_max_pool2d, fractional_max_pool3d  # noqa: F401
from ..ops.pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,  # noqa: F401
                           adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d, avg_pool1d, avg_pool2d,
                           avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d, max_pool1d, max_pool2d, max_pool3d,
                           max_unpool1d, max_unpool2d, max_unpool3d)


def relu(input, inplace=False):
    """max(x, 0)."""
    try:
        return input.relu_() if inplace else input.relu()
    except AttributeError:
        _refuse_non_tensor("relu_" if inplace else "relu", input)
        raise


def _refuse_non_tensor(name, input):
    """PyTorch's functional form calls torch.<name>(input), whose parser refuses what is not a tensor."""
    from .._tensor import Tensor
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}") \
            from None


def sigmoid(input):
    """1 / (1 + exp(-x))."""
    return input.sigmoid()


def tanh(input):
    """Hyperbolic tangent."""
    return input.tanh()


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input divided by its p-norm along ``dim`` (clamped at ``eps``), into ``out`` when given."""
    denominator = input.norm(p, dim=dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denominator if out is None else input.div(denominator, out=out)


def relu_(input):
    """In-place ``relu``."""
    try:
        return input.relu_()
    except AttributeError:
        _refuse_non_tensor("relu_", input)
        raise


def elu_(input, alpha=1.0):
    """In-place ``elu``."""
    return elu(input, alpha, inplace=True)


def celu_(input, alpha=1.0):
    """In-place ``celu``."""
    return celu(input, alpha, inplace=True)


def selu_(input):
    """In-place ``selu``."""
    return selu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    """In-place ``leaky_relu``."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place ``hardtanh``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place ``rrelu``."""
    return rrelu(input, lower, upper, training, inplace=True)


def threshold_(input, threshold, value):
    """In-place ``threshold``."""
    return _threshold(input, threshold, value, inplace=True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool1d`` and the indices of its maxima, always both."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool2d`` and the indices of its maxima, always both."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool3d`` and the indices of its maxima, always both."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d`` and the indices of its maxima, always both."""
    return adaptive_max_pool1d(input, output_size, return_indices=True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d`` and the indices of its maxima, always both."""
    return adaptive_max_pool2d(input, output_size, return_indices=True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d`` and the indices of its maxima, always both."""
    return adaptive_max_pool3d(input, output_size, return_indices=True)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """``fractional_max_pool2d`` and the indices of its maxima, always both."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """``fractional_max_pool3d`` and the indices of its maxima, always both."""
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True, _random_samples)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated form of ``interpolate`` (warns, as PyTorch's)."""
    _warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated form of ``interpolate(..., mode="nearest")`` (warns, as PyTorch's)."""
    _warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated form of ``interpolate(..., mode="bilinear", align_corners=True)`` (warns, as PyTorch's)."""
    _warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with any distance function ``d`` (default the
    pairwise Euclidean distance); ``swap`` takes d(positive, negative) where it is smaller."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
                           f"{negative.ndim}D inputs")
    distance = pairwise_distance if distance_function is None else distance_function
    positive_distance, negative_distance = distance(anchor, positive), distance(anchor, negative)
    if swap:
        negative_distance = negative_distance.minimum(distance(positive, negative))
    return _reduce((margin + positive_distance - negative_distance).clamp_min(0), reduction)


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """PyTorch's ``F._canonical_mask``: a bool mask (True = masked out) as an additive float mask of ``target_type``
    by the public ``zeros_like`` and ``Tensor.masked_fill_``, as torch's, so a ``__torch_function__`` subclass
    (DTensor) or mode sees those calls; float masks pass through."""
    if mask is None:
        return None
    _check_mask(mask, mask_name, other_type, other_name, check_other)
    if mask.dtype.is_floating_point:
        return mask
    import ember   # the public zeros_like, a dispatching wrapper once __torch_function__ is in play
    return ember.zeros_like(mask, dtype=target_type).masked_fill_(mask, float("-inf"))


# PyTorch's functions here that its argument parser binds (torch.conv1d, torch._C._nn.gelu...) take NumPy's keywords;
# its Python-written ones (softmax, normalize, hardtanh...) do not.
_PARSED = ("adaptive_avg_pool1d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "celu_", "channel_shuffle", "conv1d",
           "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "conv_tbc",
           "cosine_similarity", "elu_", "gelu", "hardshrink", "hardtanh_", "leaky_relu_", "linear", "logsigmoid",
           "native_channel_shuffle", "one_hot", "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle",
           "prelu", "relu_", "rrelu_", "scaled_dot_product_attention", "selu_", "softplus", "softshrink", "threshold_")
from ..ops import numpy_keywords as _numpy_keywords  # noqa: E402
_numpy_keywords.install(globals(), names=_PARSED)
