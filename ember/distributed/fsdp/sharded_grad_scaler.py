"""``ShardedGradScaler``: GradScaler for models whose gradients are split across ranks (FSDP): an inf/NaN found in
any rank's shard skips the step on every rank (the found-inf flags are summed over the process group), float16
gradients may be unscaled (FSDP's mixed precision keeps them), and scaled outputs keep their dtype."""
from ...amp.grad_scaler import GradScaler, OptState
from ..._tensor import Tensor
from .. import all_reduce

__all__ = ["ShardedGradScaler"]


class ShardedGradScaler(GradScaler):
    """GradScaler whose skip-the-step decision is shared by the ranks of ``process_group`` (the default group when
    None)."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, backoff_factor=0.5, growth_factor=2.0,
                 growth_interval=2000, enabled=True, process_group=None):
        super().__init__(device, init_scale=init_scale, backoff_factor=backoff_factor, growth_factor=growth_factor,
                         growth_interval=growth_interval, enabled=enabled)
        if self._enabled:
            self.process_group = process_group

    def scale(self, outputs):
        """``outputs`` multiplied by the scale factor, each in its own dtype."""
        if not self._enabled:
            return outputs

        def keep_dtype(scaled, original):
            if isinstance(original, Tensor):
                return scaled.type(original.dtype)
            if isinstance(original, (list, tuple)):
                return type(original)(keep_dtype(s, o) for s, o in zip(scaled, original))
            return scaled
        if isinstance(outputs, (Tensor, list, tuple)):
            return keep_dtype(super().scale(outputs), outputs)
        return super().scale(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16=True):
        found = super()._unscale_grads_(optimizer, inv_scale, found_inf, True)
        if not found:   # a rank without gradients still joins the all-reduce of the flags
            found[self._scale.device] = found_inf.clone()
        return found

    def unscale_(self, optimizer):
        """Divides the optimizer's gradients by the scale, then sums the found-inf flags over the ranks."""
        if not self._enabled:
            return
        super().unscale_(optimizer)
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.UNSCALED:
            for found_inf in optimizer_state["found_inf_per_device"].values():
                all_reduce(found_inf, group=self.process_group)
