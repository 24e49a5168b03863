"""Loss functions, composed from other ops, with PyTorch's ``reduction``, ``weight`` and ``ignore_index`` rules."""
import functools
import inspect
import math

import numpy

from .. import _dtype
from .._warnings import transparent, warn
from .._tensor import Tensor
from ..autograd._saved import keep_versions
from ..autograd.function import Primitive, composite, dispatch_hooks
from ..autograd.grad_mode import state
from ._kernel_dtypes import require_common_dtype, require_dtype
from . import _buffers, _parallel
from ._util import name_node, quiet
from .activation import logsigmoid
from ._log_sigmoid import log_sigmoid_array
from .cross_entropy import fused_cross_entropy
from .ctc import ctc_loss  # noqa: F401  (reached as loss.ctc_loss; ctc.py registers the one op of that name)
from .linalg._common import _CPP_NAMES
from .pointwise.transcendental import sigmoid_of_negated_

__all__ = []   # losses are reached through ember.nn.functional, as in PyTorch


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _node_named(name, inputs=("input", "target"), saved=("self", "target", "reduction")):
    """Shows the final node of the decorated loss under PyTorch's name for it (``NllLossBackward0``, ...): the
    loss is composed from other ops, but its ``grad_fn`` reads as PyTorch's fused loss does, its
    ``next_functions`` listing the arguments named in ``inputs`` (those PyTorch's node takes) and its ``_saved_*``
    attributes the arguments PyTorch's node saves (``saved``: ``self`` is the input, ``reduction`` its enum), whose
    tensors backward then refuses once changed in place, as PyTorch's version check does."""
    def decorate(loss_function):
        signature = inspect.signature(loss_function)

        @transparent
        @functools.wraps(loss_function)
        def named(*args, **kwargs):
            result = loss_function(*args, **kwargs)
            if result.grad_fn is None:
                return result
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = bound.arguments
            shown = {key: _saved_argument(arguments, key) for key in saved}
            name_node(result, name, [arguments[key] for key in inputs], shown)
            return keep_versions(result, *shown.values())   # PyTorch checks what its node saves
        return named
    return decorate


def _saved_argument(arguments, key):
    """A loss node's saved argument ``key`` as PyTorch's shows it."""
    if key == "self":
        return arguments["input"]
    if key == "reduction":   # PyTorch's Reduction enum, legacy flags included
        if arguments.get("reduce") is False:
            return 0
        if arguments.get("size_average") is False:
            return 2
        return {"none": 0, "sum": 2}.get(arguments["reduction"], 1)
    if key == "ignore_index":   # PyTorch shows the int64 as unsigned
        return arguments[key] % 2 ** 64
    return arguments[key]


def _legacy_reduction(size_average, reduce, reduction):
    """``reduction``, or the one the deprecated ``size_average`` / ``reduce`` flags name, with PyTorch's warnings
    for those flags and for the old name 'elementwise_mean' (pointing at the loss function or module that took them)."""
    if size_average is None and reduce is None:
        if reduction == "elementwise_mean":
            warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=2)
            return "mean"
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
         stacklevel=2)
    return reduction


def _promoted(kernel, input, target):
    """``input`` and ``target`` in their promoted dtype, which ``kernel`` must take, as PyTorch's elementwise loss
    kernels compute (a bool input against a float target is a float loss, not a bool subtraction)."""
    require_common_dtype(kernel, input, target)
    if input.dtype is target.dtype:
        return input, target
    common = _dtype.promote_types(input.dtype, target.dtype)
    return input.to(common), target.to(common)


def _refuse_gradient(tensor, argument, function):
    """PyTorch's error for an argument its loss ``function`` has no derivative for, where grad mode would record
    one for it."""
    if tensor is not None and tensor.requires_grad and state.enabled:
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument '{argument}'. "
                           "This input cannot have requires_grad True.")


def _check_same_size(input, target, name):
    if tuple(input.shape) != tuple(target.shape):
        warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
             "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
             "same size.", UserWarning, stacklevel=3)


@_node_named("MseLossBackward0")
@composite("mse_loss", trace_inside=True)
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error."""
    _check_same_size(input, target, "mse_loss")
    input, target = _promoted("mse_cpu", input, target)
    diff = input - target
    loss = diff * diff
    return _reduce(loss if weight is None else loss * weight, _legacy_reduction(size_average, reduce, reduction))


@composite("l1_loss", trace_inside=True)
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error."""
    _check_same_size(input, target, "l1_loss")
    loss = (input - target).abs()
    return _reduce(loss if weight is None else loss * weight, _legacy_reduction(size_average, reduce, reduction))


class HuberElements(Primitive):
    """The elementwise smooth L1 (``scaled``: divided by ``beta``) or Huber loss of input against target in a few
    passes over one array, and its gradient as the difference clipped to [-beta, beta] (PyTorch's arithmetic)."""

    @staticmethod
    @quiet
    def forward(ctx, input, target, beta, scaled):
        xp = ctx.xp
        difference = xp.subtract(input, target, out=_buffers.empty(xp, input.shape, input.dtype))
        ctx.save_for_backward(input, target, difference)
        ctx.beta, ctx.scaled = beta, scaled
        size = xp.abs(difference)
        inside = size < beta
        half = xp.multiply(size, 0.5, out=_buffers.empty(xp, input.shape, input.dtype))
        half *= size                                        # 0.5 z z
        linear = xp.subtract(size, 0.5 * beta, out=size)    # z - 0.5 beta
        if scaled:
            half /= beta                                    # smooth L1: 0.5 z z / beta, else z - 0.5 beta
        else:
            linear *= beta                                  # Huber: 0.5 z z, else delta (z - 0.5 delta)
        return _parallel.where(xp, inside, half, linear)

    @staticmethod
    def backward(ctx, grad):
        input, target, _ = ctx.saved_tensors
        clipped = (input - target).clamp(-ctx.beta, ctx.beta)   # in the graph, for the gradient's own gradient
        g = grad * clipped / ctx.beta if ctx.scaled else grad * clipped
        return g, -g, None, None

    @staticmethod
    @quiet
    def array_backward(ctx, grad):
        difference = ctx.saved_arrays[2]
        xp = ctx.xp
        g = xp.clip(difference, -ctx.beta, ctx.beta, out=_buffers.empty(xp, difference.shape, difference.dtype))
        xp.multiply(grad, g, out=g)
        if ctx.scaled:
            g /= ctx.beta
        needs = ctx.needs_input_grad
        return g if needs[0] else None, xp.negative(g) if needs[1] else None, None, None


def _huber_elements(input, target, beta, scaled):
    """The elementwise loss by ``HuberElements`` where input and target are float arrays of one shape, else None."""
    if tuple(input.shape) == tuple(target.shape) and input.ndim and input.numel() and \
            input._data.dtype.char in "fd" and \
            type(input._data) is numpy.ndarray and type(target._data) is numpy.ndarray:
        return HuberElements.apply(input, target, beta, scaled)
    return None


@_node_named("SmoothL1LossBackward0", saved=("self", "target", "reduction", "beta"))
@composite("smooth_l1_loss", trace_inside=True)
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Squared error below ``beta``, absolute error above (scaled so both meet smoothly)."""
    _check_same_size(input, target, "smooth_l1_loss")
    input, target = _promoted("smooth_l1_cpu", input, target)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    loss = _huber_elements(input, target, float(beta), True) if beta > 0 else None
    if loss is None:
        diff = (input - target).abs()
        loss = diff if beta == 0 else (0.5 * diff * diff / beta).where(diff < beta, diff - 0.5 * beta)
    return _reduce(loss, _legacy_reduction(size_average, reduce, reduction))


@_node_named("HuberLossBackward0", saved=("self", "target", "reduction", "delta"))
@composite("huber_loss", trace_inside=True)
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Squared error below ``delta``, ``delta``-scaled absolute error above."""
    _check_same_size(input, target, "huber_loss")
    require_common_dtype("huber_cpu", input, target)
    reduction = _legacy_reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    loss = _huber_elements(input, target, float(delta), False) if delta > 0 else None
    if loss is None:
        diff = (input - target).abs()
        loss = (0.5 * diff * diff).where(diff < delta, delta * (diff - 0.5 * delta))
    return _reduce(loss if weight is None else loss * weight, reduction)


def _class_weights(weight, target, mask):
    """Per-sample weights (weight[target]), zero where the target is ignored."""
    w = weight.take(target) if weight is not None else None
    if mask is not None:
        w = mask.to(weight.dtype if weight is not None else _dtype.get_default_dtype()) if w is None else w * mask
    return w


def _check_nll_shapes(input, target):
    """PyTorch's shape checks of nll_loss_nd and its 1-D/2-D, 4-D and other kernels, in their order; returns the
    target, a one-element target of a 1-D input taken as its 0-d class index, as PyTorch's forward does."""
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if input.ndim != 1 and input.shape[0] != (target.shape[0] if target.ndim else 0):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.ndim else 0}).")
    if input.ndim <= 2:
        if target.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if input.ndim == 1 and target.ndim == 1:
            if target.shape[0] != 1:
                raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
            return target.reshape(())
        return target
    if input.ndim == 4:
        if target.ndim != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got targets of dimension: "
                               f"{target.ndim}")
        if tuple(target.shape[1:]) != tuple(input.shape[2:]):
            raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: {list(target.shape)}")
        return target
    if tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {[input.shape[0]] + list(input.shape[2:])}, got {list(target.shape)}")
    return target


def _native_numbers(name, input, target, weight, *numbers):
    """PyTorch's ``F.nll_loss`` and ``F.cross_entropy`` hand their arguments to a native op (``nll_loss_nd``,
    ``cross_entropy_loss``) whose parser refuses a target or weight that is no tensor, an index that is no int, a
    smoothing no float."""
    if type(numbers[0]) is not int or len(numbers) > 1 and type(numbers[1]) not in (float, int) or \
            not isinstance(target, Tensor) or weight is not None and not isinstance(weight, Tensor):
        from .. import _arg_parser   # (loaded on errors only)
        _arg_parser.raise_for(name, (input, target, weight, 1) + numbers, {})


@_node_named("NllLossBackward0", ("input",), ("self", "target", "weight", "reduction", "ignore_index"))
@composite("nll_loss", trace_inside=True)   # seen whole by autocast and vmap: it checks targets against data
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of class indices ``target`` under log-probabilities ``input`` (N, C, ...)."""
    _native_numbers("nll_loss_nd", input, target, weight, ignore_index)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _check_nll_shapes(input, target)
    if target.dtype not in (_dtype.int64, _dtype.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_dtype.scalar_type_name(target.dtype)}")
    require_dtype("nll_loss_out_frame" if input.ndim <= 2 else "nll_loss2d_forward_out_frame", input)
    target = target.long()
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or no classes but got "
                           f"weight tensor of shape: {list(weight.shape)}")
    _refuse_gradient(weight, "weight", "nll_loss_forward" if input.ndim <= 2 else "nll_loss2d_forward")
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
                           f"{_dtype.scalar_type_name(weight.dtype)}")
    mask = target != ignore_index
    safe_target = target.where(mask, 0)
    bad = (safe_target < 0) | (safe_target >= classes)
    meta = target.is_meta   # no values to check, as PyTorch's meta kernel
    if not meta and bool(bad.any()):
        raise IndexError(f"Target {int(safe_target[bad].reshape(-1)[0])} is out of bounds.")
    picked = -input.gather(class_dim, safe_target.unsqueeze(class_dim)).squeeze(class_dim)
    has_ignored = not meta and not bool(mask.all())
    if has_ignored:  # selected away, not multiplied by 0: an ignored position's NaN or inf must not leak
        picked = picked.where(mask, 0)
    w = _class_weights(weight, safe_target, mask if has_ignored else None)
    loss = picked if w is None else picked * w
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction != "mean":
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if w is None:
        return loss.mean()
    return loss.sum() / w.sum()


@composite("cross_entropy_loss", trace_inside=True)
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Cross entropy between logits ``input`` (N, C, ...) and class indices or class probabilities ``target``."""
    _native_numbers("cross_entropy_loss", input, target, weight, ignore_index, label_smoothing)
    if tuple(target.shape) == tuple(input.shape) and not target.dtype.is_floating_point:
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                           f"{_dtype.scalar_type_name(target.dtype)}")
    if tuple(target.shape) == tuple(input.shape) and ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    require_dtype("log_softmax_lastdim_kernel_impl" if input.ndim <= 2 else "log_softmax_kernel_impl", input)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if tuple(target.shape) != tuple(input.shape):   # class indices: PyTorch's nll_loss takes the weight
        _refuse_gradient(weight, "weight", "nll_loss_forward" if input.ndim <= 2 else "nll_loss2d_forward")
    fused = fused_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)
    if fused is not None:
        return fused
    class_dim = 0 if input.ndim == 1 else 1
    log_probs = input.log_softmax(class_dim)
    if tuple(target.shape) == tuple(input.shape):  # class probabilities, as PyTorch decides
        classes = input.shape[class_dim]
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        products = log_probs * target
        if weight is not None:
            products = products * weight.reshape((-1,) + (1,) * (input.ndim - class_dim - 1))
        if reduction == "none":
            return -products.sum(class_dim)
        total = -products.sum()   # negated after summing, and divided as a scalar, as PyTorch's kernel does
        if reduction == "sum":
            return total
        if reduction != "mean":
            raise ValueError(f"{reduction} is not a valid value for reduction")
        return name_node(total / (input.numel() / classes if input.ndim > 0 else 1), "DivBackward1", (total,))
    nll = nll_loss(log_probs, target, weight, ignore_index=ignore_index, reduction=reduction)
    if not label_smoothing:
        return nll
    classes = input.shape[class_dim]
    mask = target != ignore_index
    smooth = -log_probs
    if weight is not None:
        smooth = smooth * weight.reshape((-1,) + (1,) * (input.ndim - class_dim - 1))
    smooth = smooth.sum(class_dim).where(mask, 0)
    if reduction == "mean":
        if weight is not None:
            smooth = smooth.sum() / _class_weights(weight, target.where(mask, 0), mask).sum()
        else:
            smooth = smooth.sum() / mask.sum()
    else:
        smooth = _reduce(smooth, reduction)
    return (1 - label_smoothing) * nll + label_smoothing / classes * smooth


class BinaryCrossEntropy(Primitive):
    """Elementwise BCE with PyTorch's numerics: logs clamped at -100, and the input gradient's denominator
    p(1 - p) clamped at 1e-12, so a saturated probability (0 or 1) gives a finite gradient, not 0/0 (the target's
    gradient, log(1 - p) - log(p), is not clamped, as in PyTorch)."""

    @staticmethod
    def forward(ctx, p, t):
        xp = ctx.xp
        with numpy.errstate(divide="ignore"):
            log_p, log_q = xp.maximum(xp.log(p), -100), xp.maximum(xp.log1p(-p), -100)
        ctx.save_for_backward(p, t)
        return -(t * log_p + (1 - t) * log_q)

    @staticmethod
    def backward(ctx, grad):
        p, t = ctx.saved_tensors
        grad_p = grad * (p - t) / ((1 - p) * p).clamp(min=1e-12) if ctx.needs_input_grad[0] else None
        grad_t = grad * ((-p).log1p() - p.log()) if ctx.needs_input_grad[1] else None
        return grad_p, grad_t


@_node_named("BinaryCrossEntropyBackward0", saved=("self", "target", "weight", "reduction"))
@composite("binary_cross_entropy", trace_inside=True)
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(t log p + (1 - t) log(1 - p)) for probabilities ``input``; logs clamped at -100 as in PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.".replace(
                             "ember.Size", "torch.Size"))
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {_dtype.scalar_type_name(target.dtype)} but expected "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    require_dtype("binary_cross_entropy", input)
    _refuse_gradient(weight, "weight", "binary_cross_entropy")
    for name, values in (("input", input._all_data), ("target", target._all_data)):   # every example's, inside vmap
        if not ((values >= 0) & (values <= 1)).all():   # NaN too, as PyTorch's kernel
            raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class BinaryCrossEntropyWithLogits(Primitive):
    """PyTorch's elementwise BCE on logits x of float32 or float64 arrays (target, weight and pos_weight of that
    dtype, the last two broadcasting to x or None): (1 - t) x - w log_sigmoid(x), w = 1 + (pos_weight - 1) t, with
    log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|)), times ``weight``; its formulas and gradients, in passes over
    whole arrays (the composed form took ~3x PyTorch's time)."""

    @staticmethod
    @quiet
    def forward(ctx, x, t, weight, pos_weight):
        xp = ctx.xp
        ctx.save_for_backward(x, t, weight, pos_weight)

        def run(out, x, t, weight, pos_weight):
            log_sigmoid = log_sigmoid_array(xp, x)
            if pos_weight is not None:
                xp.multiply(pos_weight - 1, t, out=out)
                out += 1
                log_sigmoid *= out
            xp.subtract(1, t, out=out)
            out *= x
            out -= log_sigmoid
            if weight is not None:
                out *= weight
        return _parallel.map_chunks(run, _buffers.empty(xp, x.shape, x.dtype), x, t, weight, pos_weight)

    @staticmethod
    def backward(ctx, grad):
        x, t, weight, pos_weight = ctx.saved_tensors
        if weight is not None:
            grad = grad * weight
        sigmoid = x.sigmoid()
        if pos_weight is None:
            grad_x, grad_t = sigmoid - t, -x
        else:
            positive = pos_weight * t
            grad_x = (positive + 1 - t) * sigmoid - positive
            grad_t = logsigmoid(-x) - pos_weight * logsigmoid(x)
        return (grad_x * grad if ctx.needs_input_grad[0] else None,
                grad_t * grad if ctx.needs_input_grad[1] else None, None, None)

    @staticmethod
    @quiet
    def array_backward(ctx, grad):
        x, t, weight, pos_weight = ctx.saved_arrays
        xp = ctx.xp
        if weight is not None:
            grad = grad * weight
        sigmoid = xp.negative(x, out=_buffers.empty(xp, x.shape, x.dtype))
        sigmoid_of_negated_(xp, sigmoid)
        grad_t = None
        if ctx.needs_input_grad[1]:
            grad_t = -x if pos_weight is None else log_sigmoid_array(xp, -x) - pos_weight * log_sigmoid_array(xp, x)
            grad_t *= grad
        if not ctx.needs_input_grad[0]:
            return None, grad_t, None, None
        if pos_weight is None:
            sigmoid -= t
        else:
            positive = pos_weight * t
            sigmoid *= positive + 1 - t
            sigmoid -= positive
        sigmoid *= grad
        return sigmoid, grad_t, None, None


def _broadcasts_to(shape, target):
    """Whether ``shape`` broadcasts to ``target`` itself."""
    return len(shape) <= len(target) and all(s in (1, t) for s, t in zip(shape[::-1], target[::-1]))


def _fused_logits_loss(input, target, weight, pos_weight):
    """``BinaryCrossEntropyWithLogits`` of the tensors when it applies: no dispatch hook active, float32 or float64
    tensors of one dtype, weights that broadcast to the input and need no gradient; None otherwise."""
    if dispatch_hooks or input._data.dtype.char not in "fd":
        return None
    for extra in (weight, pos_weight):
        if extra is not None and (extra.dtype is not input.dtype or extra.requires_grad and state.enabled or
                                  not _broadcasts_to(extra.shape, input.shape)):
            return None
    if target.dtype is not input.dtype:
        return None
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight)


@_node_named("BinaryCrossEntropyWithLogitsBackward0",
              saved=("self", "target", "weight", "pos_weight", "reduction"))
@composite("binary_cross_entropy_with_logits", trace_inside=True)
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross entropy on logits, computed stably; ``pos_weight`` scales the positive term."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({list(target.shape)}) must be the same as input size ({list(input.shape)})"
                         .replace("[", "torch.Size([").replace("]", "])"))
    require_dtype("log_sigmoid_cpu", input)
    _refuse_gradient(weight, "weight", "binary_cross_entropy_with_logits")
    _refuse_gradient(pos_weight, "pos_weight", "binary_cross_entropy_with_logits")
    if target.dtype is _dtype.bool_:   # PyTorch's kernel starts with 1 - target, which bool tensors refuse
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    if not (target.dtype.is_floating_point or target.dtype.is_complex):   # PyTorch's kernel writes into its dtype
        raise RuntimeError(f"result type {_dtype.scalar_type_name(_dtype.promote_types(input.dtype, target.dtype))} "
                           f"can't be cast to the desired output type {_dtype.scalar_type_name(target.dtype)}")
    loss = _fused_logits_loss(input, target, weight, pos_weight)
    if loss is not None:
        return _reduce(loss, reduction)
    softplus_neg = -logsigmoid(input)   # log(1 + exp(-x)), smooth at 0 (see logsigmoid)
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@composite("kl_div", trace_inside=True)
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence of ``target`` from log-probabilities ``input``."""
    if input.dtype.is_complex or target.dtype.is_complex:
        raise RuntimeError("kl_div: Complex inputs not supported.")
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if reduction == "mean" and size_average is None and reduce is None:
        warn("reduction: 'mean' divides the total loss by both the batch size and the support size.'batchmean' "
             "divides only by the batch size, and aligns with the KL div math definition.'mean' will be changed to "
             "behave the same as 'batchmean' in the next major release.", stacklevel=2)
    if reduction != "batchmean" or size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)


@composite("poisson_nll_loss", trace_inside=True)
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log likelihood of ``target`` under a Poisson distribution with rate ``input`` (or exp(input))."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.where(target > 1, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log likelihood of ``target`` under N(input, var), as PyTorch 2.13's: ``var`` a number or a tensor of
    the input's size, one dim short of it, or differing from it in one dim of size 1; clamped at ``eps`` without
    recording the clamp (the gradient reaches var unclamped)."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        from .creation import ones_like
        var = var * ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    if not (var.dtype.is_floating_point or var.dtype.is_complex):   # PyTorch clamps var in place
        raise RuntimeError(f"result type {_dtype.scalar_type_name(_dtype.get_default_dtype())} can't be cast to the "
                           f"desired output type {_CPP_NAMES[var.dtype.name]}")
    var = var.clone()
    from ..autograd.grad_mode import no_grad
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


@composite("cosine_embedding_loss", trace_inside=True)
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if not input1.ndim == input2.ndim == target.ndim + 1:
        raise RuntimeError(f"{target.ndim}D target tensor expects {target.ndim + 1}D input tensors, but found inputs "
                           f"with sizes {list(input1.shape)} and {list(input2.shape)}.")
    eps = 1e-12
    dot = (input1 * input2).sum(-1)
    norms = ((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps)
    cos = dot / norms.sqrt()
    loss = (1 - cos).where(target == 1, 0.0) + (cos - margin).clamp_min(0).where(target == -1, 0.0)
    return _reduce(loss, reduction)


@composite("margin_ranking_loss", trace_inside=True)
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (x1 - x2) + margin)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


@composite("hinge_embedding_loss", trace_inside=True)
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x for target 1, max(0, margin - x) for target -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    zero = input.new_zeros(())
    # margin in the input's dtype, as PyTorch's kernel computes (an integer input keeps its dtype)
    margin_terms = (input.new_full((), margin) - input).clamp_min(0).where(target != 1, zero)
    loss = margin_terms + input.where(target != -1, zero)
    return _reduce(loss, reduction)


@_node_named("SoftMarginLossBackward0", ("input",))
@composite("soft_margin_loss", trace_inside=True)
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * x))."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex or input.dtype is _dtype.bool_):
        # PyTorch's kernel writes exp() into a tensor of the input's dtype
        raise RuntimeError(f"result type {_dtype.scalar_type_name(_dtype.get_default_dtype())} can't be cast to the "
                           f"desired output type {_dtype.scalar_type_name(input.dtype)}")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _refuse_gradient(target, "target", "soft_margin_loss")
    return _reduce((-target * input).exp().log1p(), reduction)


def triplet_margins(anchor, positive, negative, margin, p, eps, swap):
    """The unreduced triplet loss max(0, d(a, p) - d(a, n) + margin), any margin (torch.triplet_margin_loss's)."""
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
                           f"{negative.ndim}D inputs")
    from .distance import pairwise_distance
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return (d_pos - d_neg + margin).clamp_min(0)


@composite("triplet_margin_loss", trace_inside=True)
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin) with pairwise p-norm distances, for a positive margin."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _reduce(triplet_margins(anchor, positive, negative, margin, p, eps, swap), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Mean over classes of the binary cross entropy of sigmoid(input) against ``target``."""
    require_dtype("log_sigmoid_cpu", input)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    softplus_neg = -logsigmoid(input)   # log(1 + exp(-x)), smooth at 0 (see logsigmoid)
    loss = target * softplus_neg + (1 - target) * (input + softplus_neg)
    if weight is not None:
        loss = loss * weight
    if input.ndim == 0:   # PyTorch sums over the last dim
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    loss = loss.sum(-1) / input.shape[-1]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    return _reduce(loss, reduction)


def _check_margin_shapes(input):
    """The input check of PyTorch's multi-class margin losses: a 0-d, 1-d or 2-d input, non-empty but its batch."""
    if not (input.ndim == 2 and input.shape[1] or input.ndim == 1 and input.shape[0] or input.ndim == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")


@_node_named("MultiMarginLossBackward0", ("input",), ("self", "target", "p", "margin", "weight", "reduction"))
@composite("multi_margin_loss", trace_inside=True)
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Multi-class hinge loss: sum over wrong classes of max(0, margin - x[y] + x[i])^p / C."""
    require_dtype("multi_margin_loss_cpu_kernel", input, "f")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    _check_margin_shapes(input)
    frames = input.shape[0] if input.ndim == 2 else 1
    if target.ndim > 1 or target.numel() != frames:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{frames}], but got {list(target.shape)}. "
                           f"Input has shape {list(input.shape)}.")
    classes = input.shape[-1] if input.ndim else 1
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"inconsistent weight size, expected {classes} but got {list(weight.shape)}")
    _refuse_gradient(weight, "weight", "multi_margin_loss")
    if target.numel() and bool(((target < 0) | (target >= classes)).any()):
        raise RuntimeError("target out of range")
    squeeze = input.ndim < 2
    if squeeze:   # the loss takes the target's shape, () or (1,)
        shape = target.shape
        input, target = input.reshape(1, classes), target.reshape(1)
    classes = input.shape[1]
    correct = input.gather(1, target.unsqueeze(1))
    margins = (margin - correct + input).relu()   # PyTorch's kernel: no gradient at a margin of exactly 0
    if p == 2:
        margins = margins * margins
    if weight is not None:
        margins = margins * weight.take(target).unsqueeze(1)
    from .ranges import arange
    not_target = arange(classes, device=input.device).unsqueeze(0) != target.unsqueeze(1)
    loss = (margins * not_target).sum(1) / classes
    if squeeze:
        loss = loss.reshape(shape)
    return _reduce(loss, reduction)


@_node_named("MultilabelMarginLossBackward0", ("input",))
@composite("multilabel_margin_loss", trace_inside=True)
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss; ``target`` lists class indices, ended by the first -1."""
    require_dtype("multilabel_margin_loss_forward_out_frame", input, "f")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_margin_shapes(input)
    expected = tuple(input.shape) if input.ndim == 2 else None
    if (tuple(target.shape) != expected) if expected else (target.ndim > 1 or target.numel() != input.numel()):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    if target.numel() and bool(((target < -1) | (target >= (input.shape[-1] if input.ndim else 1))).any()):
        raise RuntimeError("argument #2 'target' is out of range")
    squeeze = input.ndim < 2
    if squeeze:
        input, target = input.reshape(1, -1), target.reshape(1, -1)
    classes = input.shape[1]
    valid = (target >= 0).to(_dtype.int64).cumprod(1).bool()
    from .creation import zeros
    hits = zeros(input.shape, dtype=_dtype.int64, device=input.device)
    is_target = hits.scatter_add(1, target.where(valid, 0), valid.to(_dtype.int64)) > 0
    picked = input.gather(1, target.where(valid, 0))
    hinge = (1 - picked.unsqueeze(2) + input.unsqueeze(1)).relu()   # as multi_margin_loss: none at exactly 0
    mask = valid.unsqueeze(2) & (~is_target).unsqueeze(1)
    loss = (hinge * mask).sum((1, 2)) / classes
    if squeeze:
        loss = loss.reshape(())
    return _reduce(loss, reduction)
