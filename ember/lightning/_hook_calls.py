"""How the Trainer calls hooks (callbacks', the module's, the datamodule's, the strategy's), each profiled under
Lightning's action names; a mixin the Trainer inherits."""
import contextlib

import ember

from ._loop_parts import _nothing, _takes_batch_idx


class _HookCalls:
    """Calls of callback, LightningModule, datamodule and strategy hooks, with ``self.log`` attributed to the hook
    running and the steps' anomaly detection and autocast contexts."""

    def _call_hook(self, name, *args, monitoring=None):
        """Calls a hook on the callbacks (monitoring ones after the others when ``monitoring`` is None) and then on
        the module, with ``self.log`` attributed to that hook."""
        for callback in self.callbacks:
            if monitoring is None or callback._monitors == monitoring:
                self._call_callback(callback, name, *args)
        if monitoring is not True:
            return self._call_module(name, *args)

    def _call_callback(self, callback, name, *args):
        """Calls one callback's hook, profiled as Lightning's ``[Callback]{state_key}.{name}``."""
        with self.profiler.profile(f"[Callback]{callback.state_key}.{name}"):
            return getattr(callback, name, _nothing)(self, self.lightning_module, *args)

    def _call_module(self, name, *args, **kwargs):
        """Calls a module hook, profiled as Lightning's ``[LightningModule]{class}.{name}``."""
        with self.profiler.profile(f"[LightningModule]{type(self.lightning_module).__name__}.{name}"):
            return self._run_module_hook(name, *args, **kwargs)

    def _run_module_hook(self, name, *args, **kwargs):
        """Calls a module hook with ``self.log`` attributed to it (unprofiled: steps and backward are profiled as
        the strategy's)."""
        model = self.lightning_module
        previous, model._current_fx = model._current_fx, name
        try:
            return getattr(model, name)(*args, **kwargs)
        finally:
            model._current_fx = previous

    def _strategy_hook(self, name):
        """Where Lightning calls a strategy hook that ember's strategies have nothing to do in, the profiler records it
        as Lightning's ``[Strategy]{class}.{name}``."""
        with self._profile_strategy(name):
            pass

    def _profile_strategy(self, name):
        return self.profiler.profile(f"[Strategy]{type(self.strategy).__name__}.{name}")

    def _call_datamodule(self, name, *args):
        """Calls a datamodule hook, profiled as Lightning's ``[LightningDataModule]{class}.{name}``."""
        with self.profiler.profile(f"[LightningDataModule]{type(self.datamodule).__name__}.{name}"):
            return getattr(self.datamodule, name)(*args)

    def _step(self, model, name, batch, batch_idx, extra=()):
        """Runs a step hook, with ``batch_idx`` only where its signature takes it (as Lightning decides); in fit
        under DDP, through the DDP wrapper so that its backward averages gradients."""
        args = (batch, batch_idx, *extra) if _takes_batch_idx(getattr(model, name)) else (batch, *extra)
        with self._profile_strategy(name):
            if self._runner is not None and self._runner is not self.lightning_module:
                return self._runner(name, *args)
            return self._run_module_hook(name, *args)

    def _transfer(self, batch, dataloader_idx):
        """The module's batch-transfer hooks, as Lightning runs them on every batch before its batch-start hooks."""
        batch = self._call_module("on_before_batch_transfer", batch, dataloader_idx)
        with self._profile_strategy("batch_to_device"):
            batch = self._call_module("transfer_batch_to_device", batch, self.strategy.root_device, dataloader_idx)
            return self._call_module("on_after_batch_transfer", batch, dataloader_idx)

    @contextlib.contextmanager
    def _anomaly(self):
        if self.detect_anomaly:
            with ember.autograd.detect_anomaly():
                yield
        else:
            yield

    def _autocast(self):
        if self.precision in ("16-mixed", "bf16-mixed"):
            dtype = ember.float16 if self.precision == "16-mixed" else ember.bfloat16
            return ember.autocast(self.lightning_module.device.type, dtype=dtype)
        return contextlib.nullcontext()
