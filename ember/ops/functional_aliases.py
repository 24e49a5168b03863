"""The neural-network functions PyTorch also exposes at the top level (``torch.conv2d``, ``torch.max_pool2d``,
``torch.dropout``, ``torch.batch_norm``, ``torch.softmax``, ...), with those entry points' own signatures: ATen's
argument order, ``train`` for ``training``, and losses' ``reduction`` as an integer (0 none, 1 mean, 2 sum)."""
from . import activation, conv, dropout as _dropout, embedding as _embedding, loss, normalization, pooling, sampling
from ..autograd._jvp import refuse_duals
from ..autograd.function import composite
from ._kernel_dtypes import FLOATING, cpp_type_name, refuse_complex_autograd, require_dtype
from ._util import int_arg
from .conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from .distance import cosine_similarity, pairwise_distance, pdist
from .pooling import adaptive_avg_pool1d

__all__ = ["adaptive_avg_pool1d", "adaptive_max_pool1d", "alpha_dropout", "avg_pool1d", "batch_norm", "bilinear",
           "binary_cross_entropy_with_logits", "celu", "celu_", "conv1d", "conv2d", "conv3d", "conv_tbc",
           "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "cosine_embedding_loss", "cosine_similarity",
           "ctc_loss", "dropout", "dropout_", "alpha_dropout_", "feature_dropout", "feature_dropout_", "embedding",
           "embedding_bag", "embedding_renorm_", "affine_grid_generator", "grid_sampler", "grid_sampler_2d",
           "grid_sampler_3d", "feature_alpha_dropout", "feature_alpha_dropout_", "norm_except_dim", "group_norm",
           "hardshrink", "hinge_embedding_loss", "instance_norm", "kl_div", "layer_norm", "log_softmax",
           "margin_ranking_loss", "max_pool1d", "max_pool1d_with_indices", "max_pool2d", "max_pool3d",
           "native_channel_shuffle", "channel_shuffle", "pairwise_distance", "pdist", "poisson_nll_loss", "prelu",
           "rms_norm", "rrelu", "rrelu_", "selu", "selu_", "softmax", "threshold", "threshold_", "triplet_margin_loss"]

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(value):
    """ATen's reduction enum as a name: 1 mean, 2 sum, any other integer no reduction (as ATen's kernels do)."""
    return _REDUCTIONS[value] if value in (1, 2) else "none"


def softmax(input, dim, dtype=None):
    """``torch.softmax``: softmax along ``dim``, computed in ``dtype`` when given."""
    return activation.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    """``torch.log_softmax``: log-softmax along ``dim``, computed in ``dtype`` when given."""
    return activation.log_softmax(input, dim, dtype=dtype)


def _checked(input, p, train, feature=False):
    """ATen's checks at its dropout entry points: ``p`` in [0, 1], and for feature dropout while training at least
    2 dims (both RuntimeErrors, where ``F.dropout`` raises a ValueError)."""
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if feature and train and input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")


def dropout(input, p, train):
    """``torch.dropout``: zeroes elements with probability ``p`` when ``train``, scaling the rest by 1/(1-p)."""
    _checked(input, p, train)
    return _dropout.dropout(input, p, train)


def dropout_(input, p, train):
    """In-place ``torch.dropout``."""
    _checked(input, p, train)
    return _dropout.dropout(input, p, train, inplace=True)


def _feature_dropout(input, p, train, inplace):
    _checked(input, p, train, feature=True)
    if not train or p == 0.0:
        return input
    return _dropout._apply(input, tuple(input.shape[:2]) + (1,) * (input.ndim - 2), p, inplace)


def feature_dropout(input, p, train):
    """``torch.feature_dropout``: zeroes whole features (each (dim 0, dim 1) slice) with probability ``p`` when
    ``train``, scaling the rest by 1 / (1 - p)."""
    return _feature_dropout(input, p, train, False)


def feature_dropout_(input, p, train):
    """In-place ``torch.feature_dropout``."""
    return _feature_dropout(input, p, train, True)


def alpha_dropout(input, p, train):
    """``torch.alpha_dropout``: dropout that keeps SELU's mean and variance."""
    _checked(input, p, train)
    return _dropout.alpha_dropout(input, p, train)


def alpha_dropout_(input, p, train):
    """In-place ``torch.alpha_dropout``."""
    _checked(input, p, train)
    return _dropout.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input, p, train):
    """``torch.feature_alpha_dropout``: alpha dropout of whole features (each (dim 0, dim 1) slice)."""
    _checked(input, p, train, feature=True)
    return _dropout.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input, p, train):
    """In-place ``torch.feature_alpha_dropout``."""
    _checked(input, p, train, feature=True)
    return _dropout.feature_alpha_dropout(input, p, train, inplace=True)


embedding_renorm_ = _embedding.embedding_renorm_
affine_grid_generator = sampling.affine_grid_generator

_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")   # ATen's GridSamplerInterpolation
_PADDINGS = ("zeros", "border", "reflection")   # ATen's GridSamplerPadding


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """``torch.grid_sampler``: ``F.grid_sample`` with ATen's enums (mode 0 bilinear, 1 nearest, 2 bicubic; padding
    0 zeros, 1 border, 2 reflection)."""
    modes = []
    for value, names, what in ((interpolation_mode, _INTERPOLATIONS, "interpolation"),
                               (padding_mode, _PADDINGS, "padding")):
        if not 0 <= int_arg(value) < len(names):
            raise RuntimeError(f"grid_sampler(): expected {what} mode in 0..{len(names) - 1}, but got {value}")
        modes.append(names[value])
    return sampling.grid_sample(input, grid, modes[0], modes[1], bool(align_corners))


def _grid_sampler_nd(name, ndim):
    def function(input, grid, interpolation_mode, padding_mode, align_corners):
        if input.ndim != ndim or grid.ndim != ndim:
            raise RuntimeError(f"grid_sampler(): expected {ndim}D input and grid with same number of dimensions, but "
                               f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
        return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``torch.{name}``: ``grid_sampler`` of {ndim}-D input and grid."
    return function


grid_sampler_2d = _grid_sampler_nd("grid_sampler_2d", 4)
grid_sampler_3d = _grid_sampler_nd("grid_sampler_3d", 5)


def norm_except_dim(v, pow=2, dim=0):
    """``torch.norm_except_dim`` (weight normalization's): the ``pow``-norm of each slice of ``v`` along ``dim``,
    shaped as ``v`` with every other dim 1; over all of ``v`` (0-d) for ``dim=-1``."""
    pow, dim = int_arg(pow), int_arg(dim)
    if dim == -1:
        return v.norm(pow)
    shape = [1] * v.ndim
    shape[dim] = v.shape[dim]
    return v.movedim(dim, 0).reshape(v.shape[dim], -1).norm(pow, 1).reshape(shape)


def celu(input, alpha=1.0):
    """``torch.celu``: max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return activation.celu(input, alpha)


def celu_(input, alpha=1.0):
    """In-place ``torch.celu``."""
    return activation.celu(input, alpha, inplace=True)


def selu(input):
    """``torch.selu``: scaled ELU with the self-normalising constants."""
    return activation.selu(input)


def selu_(input):
    """In-place ``torch.selu``."""
    return activation.selu(input, inplace=True)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """``torch.rrelu``: leaky ReLU with a random slope in [lower, upper] when training, their mean otherwise."""
    return activation.rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """In-place ``torch.rrelu``."""
    return activation.rrelu(input, lower, upper, training, inplace=True)


def threshold(input, threshold, value):
    """``torch.threshold``: ``value`` where input <= threshold, input elsewhere."""
    return activation.threshold(input, threshold, value)


def threshold_(input, threshold, value):
    """In-place ``torch.threshold``."""
    return activation.threshold(input, threshold, value, inplace=True)


def hardshrink(input, lambd=0.5):
    """``torch.hardshrink``: input where |input| > lambd, 0 elsewhere."""
    return activation.hardshrink(input, lambd)


def prelu(input, weight):
    """``torch.prelu``: max(0, x) + weight * min(0, x), weight per channel."""
    return activation.prelu(input, weight)


def native_channel_shuffle(input, groups):
    """``torch.native_channel_shuffle``: regroups channels as (groups, C/groups) -> (C/groups, groups)."""
    return sampling.channel_shuffle(input, groups)


channel_shuffle = sampling.channel_shuffle   # torch.channel_shuffle is F.channel_shuffle; the native form is its own


@composite("bilinear", trace_inside=True)   # seen whole by autocast: PyTorch's runs _trilinear, not einsum
def bilinear(input1, input2, weight, bias=None):
    """``torch.bilinear``: x1^T W x2 + b for every output feature (weight: out x in1 x in2)."""
    tensors = (("input1", input1), ("input2", input2), ("weight", weight)) + ((("bias", bias),) if bias is not None
                                                                              else ())
    if any(t.dtype is not input1.dtype for _, t in tensors):   # PyTorch checks this first
        raise RuntimeError("All tensors must have the same dtype, got " +
                           ", ".join(f"{name}: {cpp_type_name(t.dtype)}" for name, t in tensors))
    require_dtype("bmm", input1, FLOATING + "liuc")
    refuse_complex_autograd("_trilinear", input1, input2, weight)
    _check_bilinear(input1, input2, weight, bias)
    from .linalg import einsum
    output = einsum("...i,oij,...j->...o", input1, weight, input2)
    return output if bias is None else output + bias


def _check_bilinear(input1, input2, weight, bias):
    """PyTorch's shape checks of bilinear, in its order."""
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    for i in range(input1.ndim - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got {input1.shape[i]} "
                               f"and {input2.shape[i]}")
    for name, x, expected in (("input1", input1, weight.shape[1]), ("input2", input2, weight.shape[2])):
        if x.shape[-1] != expected:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got {x.shape[-1]} but expected "
                               f"{expected}")
    if bias is not None and bias.shape[0] != weight.shape[0]:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[0]} but expected "
                           f"{weight.shape[0]}")


def conv_tbc(input, weight, bias, pad=0):
    """``torch.conv_tbc``: 1-d convolution of a (time, batch, channels) input with a (kernel, in, out) weight."""
    refuse_duals("conv_tbc", input, weight, bias)   # PyTorch has no forward derivative for it
    # PyTorch's kernel copies the bias into the output: it takes the input's dtype (a convolution's must match)
    bias = bias.to(input.dtype) if bias.dtype is not input.dtype else bias
    return conv.conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad).permute(2, 0, 1)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``torch.embedding``: rows of ``weight`` at ``indices`` (weight first; ``padding_idx`` -1 means none)."""
    return _embedding.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                                scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """``torch.embedding_bag``: (bags reduced by ``mode`` 0 sum / 1 mean / 2 max, offset2bag, bag_size,
    max_indices), the last three as PyTorch's CPU kernel reports them."""
    from . import creation, ranges, rearrange, sorting
    output = _embedding.embedding_bag(indices, weight, offsets, scale_grad_by_freq=scale_grad_by_freq,
                                      mode=("sum", "mean", "max")[mode], sparse=sparse,
                                      per_sample_weights=per_sample_weights, include_last_offset=include_last_offset,
                                      padding_idx=padding_idx)
    starts = offsets[:-1] if include_last_offset else offsets
    ends = rearrange.cat([starts[1:], creation.tensor([indices.numel()], dtype=offsets.dtype,
                                                       device=offsets.device)])
    bag_size = ends - starts
    if mode == 0:
        return output, creation.empty(0, dtype=indices.dtype, device=indices.device), creation.zeros_like(bag_size), \
            creation.zeros_like(bag_size)
    offset2bag = sorting.bucketize(ranges.arange(indices.numel(), device=indices.device), starts, right=True) - 1
    if mode == 1:
        return output, offset2bag, bag_size, bag_size.clone()
    rows = weight.detach()[indices]
    winners = rearrange.stack([indices[int(s) + rows[int(s):int(e)].argmax(0)] if e > s else
                              creation.zeros(weight.shape[1], dtype=indices.dtype, device=indices.device)
                              for s, e in zip(starts.tolist(), ends.tolist())])
    return output, offset2bag, bag_size, winners


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``torch.max_pool1d``: 1-d max pooling (values only; an empty ``stride`` means the kernel size)."""
    return pooling.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``torch.max_pool1d_with_indices``: 1-d max pooling's values and the flat indices they came from."""
    return pooling.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode, return_indices=True)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``torch.max_pool2d``: 2-d max pooling (values only)."""
    return pooling.max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``torch.max_pool3d``: 3-d max pooling (values only)."""
    return pooling.max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    """``torch.avg_pool1d``: 1-d average pooling."""
    return pooling.avg_pool1d(input, kernel_size, stride or None, padding, ceil_mode, count_include_pad)


def adaptive_max_pool1d(input, output_size):
    """``torch.adaptive_max_pool1d``: adaptive 1-d max pooling's values and indices (always both)."""
    return pooling.adaptive_max_pool1d(input, output_size, return_indices=True)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    """``torch.batch_norm``: batch normalisation with ATen's argument order (weight and bias first)."""
    return normalization.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    """``torch.instance_norm``: instance normalisation with ATen's argument order."""
    return normalization.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """``torch.layer_norm``: normalisation over the trailing ``normalized_shape`` dimensions."""
    return normalization.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """``torch.group_norm``: normalisation over groups of channels."""
    return normalization.group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``torch.rms_norm``: division by the root mean square over the trailing ``normalized_shape`` dimensions."""
    return normalization.rms_norm(input, normalized_shape, weight, eps)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """``torch.binary_cross_entropy_with_logits``: BCE on logits, ``reduction`` 0/1/2 = none (the default)/mean/sum."""
    return loss.binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                                 pos_weight=pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """``torch.cosine_embedding_loss`` with an integer ``reduction``, none (0) by default as there."""
    return loss.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    """``torch.hinge_embedding_loss`` with an integer ``reduction``, none (0) by default as there."""
    return loss.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    """``torch.margin_ranking_loss`` with an integer ``reduction``, none (0) by default as there."""
    return loss.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def kl_div(input, target, reduction=0, *, log_target=False):
    """``torch.kl_div`` with an integer ``reduction`` (0, the default, none; 1 mean over every element; 2 sum)."""
    return loss.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """``torch.poisson_nll_loss``: every argument required, ``reduction`` an integer."""
    return loss.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=0):
    """``torch.triplet_margin_loss`` with an integer ``reduction``, none (0) by default as there."""
    return loss._reduce(loss.triplet_margins(anchor, positive, negative, margin, p, eps, swap), _reduction(reduction))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    """``torch.ctc_loss`` with an integer ``reduction``, none (0) by default as there."""
    return loss.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _reduction(reduction), zero_infinity)

