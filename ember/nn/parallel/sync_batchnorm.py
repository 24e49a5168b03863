"""SyncBatchNorm: batch normalization whose training statistics are those of the whole batch across the ranks.

Per-channel sums and squared deviations are added across ranks with the differentiable all_reduce, so autograd
carries each rank's gradient through the shared statistics to every rank, as PyTorch's SyncBatchNorm does."""
from ... import distributed as dist, no_grad, tensor
from ...distributed.nn.functional import all_reduce
from ..modules.normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over inputs of any dimension >= 2 with statistics synchronized across ``process_group``'s ranks
    when training (plain BatchNorm in eval mode or in a one-rank group)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        group = self.process_group
        if not (self.training and dist.is_initialized() and dist.get_world_size(group) > 1):
            return super().forward(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked)
        dims = (0,) + tuple(range(2, input.ndim))
        shape = (1, -1) + (1,) * (input.ndim - 2)
        count = tensor([input.numel() // input.shape[1]], dtype=input.dtype, device=input.device)
        dist.all_reduce(count, group=group)
        n = count.item()
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got {int(n)} across the ranks")
        mean = all_reduce(input.sum(dims), group=group) / n
        centered = input - mean.reshape(shape)
        var = all_reduce((centered * centered).sum(dims), group=group) / n
        if self.track_running_stats and self.running_mean is not None:
            with no_grad():
                self.running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
                self.running_var.mul_(1 - momentum).add_(var.detach() * (momentum * n / (n - 1)))
        result = centered * (var.reshape(shape) + self.eps).rsqrt()
        if self.weight is not None:
            result = result * self.weight.reshape(shape)
        if self.bias is not None:
            result = result + self.bias.reshape(shape)
        return result

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm layer replaced by a SyncBatchNorm sharing its parameters and buffers."""
        output = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            output = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                         process_group)
            if module.affine:
                output.weight, output.bias = module.weight, module.bias
            output.running_mean, output.running_var = module.running_mean, module.running_var
            output.num_batches_tracked = module.num_batches_tracked
            output.training = module.training
        for name, child in module.named_children():
            output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return output


from ..modules import batchnorm as _batchnorm  # noqa: E402

_batchnorm.SyncBatchNorm = SyncBatchNorm   # torch.nn.modules.batchnorm.SyncBatchNorm is where pickles name it
SyncBatchNorm.__module__ = _batchnorm.__name__
