"""Connectionist temporal classification loss: the forward-backward recursion in log space.

Each recursion runs over time only; every step updates all batch entries and all positions of the extended label
sequence (targets interleaved with blanks) at once. The gradient is PyTorch's: with respect to ``log_probs``,
``exp(log_probs) - occupancy``, which is the gradient with respect to the logits when ``log_probs`` came from
``log_softmax`` (the usual case, and what PyTorch's kernels compute).
"""
import numpy

from .. import _dtype
from .._warnings import warn
from .._tensor import Tensor
from ..autograd.function import Primitive, composite
from . import creation

__all__ = []   # reached through ember.nn.functional.ctc_loss, as in PyTorch

_CHECKING = " (while checking arguments for ctc_loss_allocate_outputs)"


def _extended_labels(xp, targets, blank):
    """Targets interleaved with blanks, (N, 2L+1), and the additive mask (0 or -inf) of positions that may be
    reached by skipping the blank before them (a label differing from the label two positions back)."""
    batch, length = targets.shape
    ext = xp.full((batch, 2 * length + 1), blank, dtype=xp.int64)
    ext[:, 1::2] = targets
    skip = xp.full(ext.shape, -xp.inf)
    skip[:, 3::2] = xp.where(ext[:, 3::2] != ext[:, 1:-2:2], 0.0, -xp.inf)
    return ext, skip


def _label_log_probs(xp, log_probs, ext):
    """log_probs at each extended label: (T, N, S)."""
    return log_probs[:, xp.arange(ext.shape[0])[:, None], ext]


class CTCLoss(Primitive):
    """Per-sample negative log likelihood of the targets; ``alpha`` is kept for the backward recursion."""

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        xp = ctx.xp
        targets, input_lengths, target_lengths = (xp.asarray(a) for a in (targets, input_lengths, target_lengths))
        steps, batch, _ = log_probs.shape
        ext, skip = _extended_labels(xp, targets, blank)
        skip = skip.astype(log_probs.dtype)
        label_lp = _label_log_probs(xp, log_probs, ext)
        width = ext.shape[1]
        # two always -inf columns in front, so "one back" and "two back" are plain slices
        alpha = xp.full((steps, batch, width + 2), -xp.inf, dtype=log_probs.dtype)
        alpha[0, :, 2] = label_lp[0, :, 0]
        if width > 1:
            alpha[0, :, 3] = xp.where(target_lengths > 0, label_lp[0, :, 1], -xp.inf)
        for t in range(1, steps):
            prev = alpha[t - 1]
            alpha[t, :, 2:] = xp.logaddexp(xp.logaddexp(prev[:, 2:], prev[:, 1:-1]), prev[:, :-2] + skip) + label_lp[t]
        rows = xp.arange(batch)
        last = xp.maximum(input_lengths - 1, 0)
        end = 2 + 2 * target_lengths   # the final blank; the column before it is the last label (-inf padding if none)
        nll = -xp.logaddexp(alpha[last, rows, end], alpha[last, rows, end - 1])
        nll = xp.where(input_lengths == 0, xp.where(target_lengths == 0, 0.0, xp.inf), nll).astype(log_probs.dtype)
        ctx.save_for_backward(log_probs, alpha, nll)
        ctx.ext, ctx.skip = ext, skip
        ctx.input_lengths, ctx.target_lengths, ctx.zero_infinity = input_lengths, target_lengths, zero_infinity
        return xp.where(xp.isposinf(nll), 0.0, nll).astype(nll.dtype) if zero_infinity else nll

    @staticmethod
    def backward(ctx, grad):
        log_probs, alpha, nll = ctx.saved_tensors
        return CTCLossBackward.apply(grad, log_probs, alpha, nll, ctx.ext, ctx.skip, ctx.input_lengths,
                                     ctx.target_lengths, ctx.zero_infinity), None, None, None, None, None


class CTCLossBackward(Primitive):
    """Gradient of the per-sample CTC loss with respect to ``log_probs``, scaled by ``grad`` per sample."""

    @staticmethod
    def forward(ctx, grad, log_probs, alpha, nll, ext, skip, input_lengths, target_lengths, zero_infinity):
        xp = ctx.xp
        steps, batch, classes = log_probs.shape
        width = ext.shape[1]
        label_lp = _label_log_probs(xp, log_probs, ext)
        positions = xp.arange(width)
        final = (positions == 2 * target_lengths[:, None]) | (positions == 2 * target_lengths[:, None] - 1)
        skip_ahead = xp.full((batch, width), -xp.inf, dtype=log_probs.dtype)   # may s jump to s + 2
        skip_ahead[:, :max(width - 2, 0)] = skip[:, 2:]
        # two always -inf columns at the end, so "one ahead" and "two ahead" are plain slices
        beta = xp.full((steps + 1, batch, width + 2), -xp.inf, dtype=log_probs.dtype)
        last = (input_lengths - 1)[:, None]
        for t in range(steps - 1, -1, -1):
            after = beta[t + 1]
            recursion = xp.logaddexp(xp.logaddexp(after[:, :-2], after[:, 1:-1]), after[:, 2:] + skip_ahead)
            start = xp.where(final, 0.0, -xp.inf)
            beta[t, :, :width] = xp.where(t == last, start, xp.where(t < last, recursion, -xp.inf)) + label_lp[t]
        finite = xp.isfinite(nll)
        log_occupancy = alpha[:, :, 2:] + beta[:steps, :, :width] + xp.where(finite, nll, 0.0)[:, None] - label_lp
        index = (xp.arange(steps * batch).reshape(steps, batch, 1) * classes + ext[None]).reshape(-1)
        occupancy = xp.bincount(index, weights=xp.exp(log_occupancy).reshape(-1), minlength=steps * batch * classes)
        result = xp.exp(log_probs) - occupancy.reshape(steps, batch, classes).astype(log_probs.dtype)
        running = (xp.arange(steps)[:, None] < input_lengths[None, :])[:, :, None]
        unreachable = ~finite if not zero_infinity else xp.zeros_like(finite)
        result = xp.where(running & unreachable[:, None], xp.nan, result)
        scale = xp.where(finite, grad, 0.0) if zero_infinity else grad
        return xp.where(running, result * scale[:, None], 0.0).astype(log_probs.dtype)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")


@composite("ctc_loss")
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification loss of ``log_probs`` ((T, N, C) or unbatched (T, C)) against
    ``targets`` (padded (N, S) or concatenated 1-D), as ``torch.nn.functional.ctc_loss``; one op to tracing (the
    targets and lengths are its inputs) and to autocast (float32)."""
    if reduction == "elementwise_mean":
        warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=2)
        reduction = "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_probs.dtype not in (_dtype.float32, _dtype.float64):
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for '{_dtype.scalar_type_name(log_probs.dtype)}'")
    batched = log_probs.ndim == 3
    if not batched:
        log_probs, targets = log_probs.unsqueeze(1), targets.unsqueeze(0)
    steps, batch, classes = log_probs.shape
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError("ctc_loss(): input_lengths and target_lengths must both be Tensors or both tuples of ints")
    input_lengths = _lengths(input_lengths, "input_lengths", batch)
    target_lengths = _lengths(target_lengths, "target_lengths", batch)
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    _check_range(input_lengths, "input_lengths", steps)
    _check_range(target_lengths, "target_lengths", None)
    padded = _padded_targets(targets, target_lengths, batch)
    nll = CTCLoss.apply(log_probs, padded, input_lengths, target_lengths, blank, zero_infinity)
    if not batched:
        nll = nll.squeeze(0)
    if reduction == "none":
        return nll
    if reduction == "sum":
        return nll.sum()
    divisor = creation.tensor(numpy.maximum(target_lengths, 1), dtype=nll.dtype, device=nll.device)
    return (nll / (divisor if batched else divisor.squeeze(0))).mean()


def _lengths(lengths, name, batch):
    """Lengths (a tensor, or a sequence of ints) as an int64 NumPy array of ``batch`` entries."""
    if isinstance(lengths, Tensor):
        if lengths.dtype.is_floating_point or lengths.dtype.is_complex:
            raise RuntimeError(f"{name} must be integral")
        values = numpy.asarray(lengths.detach().cpu().numpy(), dtype=numpy.int64).reshape(-1)
    elif isinstance(lengths, (list, tuple)):
        values = numpy.asarray([int(n) for n in lengths], dtype=numpy.int64)
    else:
        raise TypeError(f"ctc_loss(): argument '{name}' must be a tuple of ints or a Tensor, not "
                        f"{type(lengths).__name__}")
    if values.size != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    return values


def _check_range(values, name, most):
    if values.size and values.min() < 0:
        raise RuntimeError(f"Expected {name} to have value at least 0, but got value {values.min()}{_CHECKING}")
    if most is not None and values.size and values.max() > most:
        raise RuntimeError(f"Expected {name} to have value at most {most}, but got value {values.max()}{_CHECKING}")


def _padded_targets(targets, target_lengths, batch):
    """The targets as an (N, max target length) int64 NumPy array, from the padded or concatenated layout."""
    labels = numpy.asarray(targets.detach().cpu().numpy()).astype(numpy.int64)
    longest = int(target_lengths.max()) if target_lengths.size else 0
    if labels.ndim == 1:
        total = int(target_lengths.sum())
        if labels.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got size {labels.shape[0]} "
                               f"for argument #2 'targets'{_CHECKING}")
        starts = numpy.cumsum(target_lengths) - target_lengths
        columns = numpy.arange(longest)
        index = numpy.minimum(starts[:, None] + columns, max(total - 1, 0))
        return labels[index] if total else numpy.zeros((batch, longest), dtype=numpy.int64)
    if labels.shape[0] != batch:
        raise RuntimeError(f"Expected tensor to have size {batch} at dimension 0, but got size {labels.shape[0]} for "
                           f"argument #2 'targets'{_CHECKING}")
    if labels.shape[1] < longest:
        raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                           f"{labels.shape[1]} for argument #2 'targets'{_CHECKING}")
    return labels[:, :longest]
