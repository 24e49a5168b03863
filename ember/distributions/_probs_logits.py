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
