"""``torch.distributed.GradBucket``: what a DistributedDataParallel communication hook receives: one bucket's
gradients, flattened into one buffer, with the parameters they belong to."""

import enum

__all__ = ["GradBucket", "BuiltinCommHookType"]


class GradBucket:
    """One bucket of gradients handed to a communication hook: ``buffer()`` (all of them in one flat tensor, not yet
    averaged), ``gradients()`` (views of it shaped as the parameters), ``parameters()``, and its place among the
    buckets (``index()``, ``is_last()``). ``set_buffer`` replaces the buffer (the compression wrappers do)."""

    def __init__(self, index, buffer, offsets, parameters, last):
        self._index, self._buffer, self._offsets = index, buffer, offsets
        self._parameters, self._last = parameters, last

    def index(self):
        """The bucket's index; bucket 0 holds the gradients computed last in the backward pass, as in PyTorch."""
        return self._index

    def buffer(self):
        """The bucket's gradients in one flat tensor."""
        return self._buffer

    def set_buffer(self, buffer):
        """Replaces the flat tensor ``buffer()`` returns."""
        self._buffer = buffer

    def gradients(self):
        """Each parameter's gradient, a view of the buffer in the parameter's shape."""
        return [self._buffer[start:end].view(p.shape) for p, start, end in
                zip(self._parameters, self._offsets[:-1], self._offsets[1:])]

    def parameters(self):
        """The parameters whose gradients the bucket holds."""
        return list(self._parameters)

    def is_last(self):
        """True for the last bucket to be reduced in the iteration."""
        return self._last


class BuiltinCommHookType(enum.Enum):
    """The communication hooks DistributedDataParallel has built in (``_register_builtin_comm_hook``)."""

    ALLREDUCE = 1
    FP16_COMPRESS = 2
