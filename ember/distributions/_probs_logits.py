"""The probs-or-logits parameterisation several discrete distributions share."""
from numbers import Number

from .._tensor import Size
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits


def _set_probs_or_logits(dist, probs, logits, is_binary):
    """Stores exactly one of ``probs``/``logits`` on ``dist`` (broadcast) and returns it and whether it was a number."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    if probs is not None:
        is_scalar = isinstance(probs, Number)
        dist.probs, = broadcast_all(probs)
        param = dist.probs
    else:
        is_scalar = isinstance(logits, Number)
        dist.logits, = broadcast_all(logits)
        param = dist.logits
    dist._param = param
    return Size() if is_scalar else param.size()


def _set_count_and_probs_or_logits(dist, total_count, probs, logits):
    """Stores ``total_count`` and exactly one of ``probs``/``logits`` on ``dist``, broadcast together, the count in
    the parameter's dtype; returns the batch shape."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    if probs is not None:
        dist.total_count, dist.probs = broadcast_all(total_count, probs)
        dist._param = dist.probs
    else:
        dist.total_count, dist.logits = broadcast_all(total_count, logits)
        dist._param = dist.logits
    dist.total_count = dist.total_count.type_as(dist._param)
    return dist._param.size()


class BinaryProbsLogits:
    """Mixin: ``probs`` and ``logits`` of a binary event, each derived lazily from the other."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()
