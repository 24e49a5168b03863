"""Differentiable collectives (``torch.distributed.nn.functional``): the backward of a sum across ranks is the sum
of the gradients across ranks, so every rank must run backward through the same collectives."""
from ...autograd import Function
from .. import collectives
from .._mpi import ReduceOp

__all__ = ["all_reduce"]


class _AllReduceSum(Function):
    @staticmethod
    def forward(ctx, group, tensor):
        ctx.group = group
        result = tensor.clone()
        collectives.all_reduce(result, group=group)
        return result

    @staticmethod
    def backward(ctx, grad):
        total = grad.clone()
        collectives.all_reduce(total, group=ctx.group)
        return None, total


def all_reduce(tensor, op=ReduceOp.SUM, group=None):
    """The sum of ``tensor`` across ranks, as a new tensor whose gradient is the sum of the ranks' gradients."""
    if op is not ReduceOp.SUM:
        raise RuntimeError(f"ember.distributed.nn.functional.all_reduce differentiates ReduceOp.SUM only, got {op}")
    return _AllReduceSum.apply(group, tensor)
