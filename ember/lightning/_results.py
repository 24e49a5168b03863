"""What ``self.log`` records: per-step values and per-epoch reductions (batch-size-weighted means by default), and
where each one goes (progress bar, loggers, callback metrics), as Lightning 2.x computes them."""
import math
import numbers
import sys

import ember

# Where each hook logs by default: (on_step, on_epoch).
_STEP_HOOKS = ("training_step", "on_train_batch_start", "on_train_batch_end", "on_before_backward",
               "on_after_backward", "on_before_optimizer_step", "on_before_zero_grad")
_EPOCH_ONLY_HOOKS = ("on_train_epoch_start", "on_train_epoch_end", "on_validation_epoch_start",
                     "on_validation_epoch_end", "on_test_epoch_start", "on_test_epoch_end", "on_train_start",
                     "on_validation_start", "on_test_start", "on_fit_start")
_REDUCTIONS = ("mean", "sum", "max", "min")


def _as_tensor(name, value):
    if isinstance(value, ember.Tensor):
        if value.numel() != 1:
            raise ValueError(f"`self.log({name}, {value})` was called, but the tensor must have a single element. "
                             f"You can try doing `self.log({name}, {value}.mean())`")
        return value.detach().reshape(()).to(ember.float32 if not value.dtype.is_floating_point else value.dtype)
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return ember.tensor(float(value))
    raise ValueError(f"`self.log({name}, {value})` was called, but `{type(value).__name__}` values cannot be logged")


def is_torchmetric(value):
    """Whether ``value`` is a ``torchmetrics.Metric`` object (known only once the program imported torchmetrics;
    ember never imports it)."""
    module = sys.modules.get("torchmetrics.metric")
    return module is not None and isinstance(value, module.Metric)


def extract_batch_size(batch):
    """The size of the first dimension of the first tensor in ``batch`` (1 for a 0-d tensor), Lightning's rule."""
    if isinstance(batch, ember.Tensor):
        return 1 if batch.ndim == 0 else batch.shape[0]
    if isinstance(batch, str):
        return None
    if isinstance(batch, dict):
        batch = list(batch.values())
    if isinstance(batch, (list, tuple)):
        for item in batch:
            size = extract_batch_size(item)
            if size is not None:
                return size
    return None


class _Metric:
    """One logged name in one hook: its last step value and its running epoch reduction."""

    def __init__(self, fx, name, on_step, on_epoch, reduce_fx, prog_bar, logger, dataloader_idx, sync=None):
        self.fx, self.name, self.on_step, self.on_epoch = fx, name, on_step, on_epoch
        self.sync = sync   # the strategy's reduce, for sync_dist across processes
        self.reduce_fx, self.prog_bar, self.logger, self.dataloader_idx = reduce_fx, prog_bar, logger, dataloader_idx
        self.reset()

    def reset(self):
        self.total, self.weight, self.value, self.updated = None, 0, None, False

    def update(self, value, batch_size):
        if self.sync is not None and self.on_step:
            self.value = self.sync(value, reduce_op=self.reduce_fx)
        else:
            self.value = value
        self.updated = True
        value64 = value.to(ember.float64)
        if self.reduce_fx == "mean":
            contribution = value64 * batch_size
            self.total = contribution if self.total is None else self.total + contribution
            self.weight += batch_size
        elif self.reduce_fx == "sum":
            self.total = value64 if self.total is None else self.total + value64
        elif self.reduce_fx == "max":
            self.total = value64 if self.total is None else ember.maximum(self.total, value64)
        else:
            self.total = value64 if self.total is None else ember.minimum(self.total, value64)

    def epoch_value(self):
        total, weight = self.total, self.weight
        if self.sync is not None:   # Lightning's sync_dist: the mean over every process's samples
            total = self.sync(total, reduce_op="sum" if self.reduce_fx == "mean" else self.reduce_fx)
            if self.reduce_fx == "mean":
                weight = self.sync(ember.tensor(float(weight), dtype=ember.float64), reduce_op="sum")
        result = total / weight if self.reduce_fx == "mean" else total
        return result.to(self.value.dtype)

    def names(self):
        """(step name, epoch name): forked with ``_step``/``_epoch`` when logged both ways."""
        name = self.name
        if self.dataloader_idx is not None:
            name = f"{name}/dataloader_idx_{self.dataloader_idx}"
        if self.on_step and self.on_epoch:
            return f"{name}_step", f"{name}_epoch", name
        return name, name, name


class _MetricObject(_Metric):
    """A ``torchmetrics.Metric`` logged as an object, as Lightning treats one: its step value is what its last
    ``forward`` returned (none after a bare ``update``), its epoch value its ``compute()``, and the metric itself is
    reset once the epoch's values are taken (``reset_metric_objects``). It syncs its own states across processes."""

    def update(self, value, batch_size):
        self.total = value
        cache = value._forward_cache
        self.value = None if cache is None else cache.detach()
        self.updated = cache is not None

    def epoch_value(self):
        computed = self.total.compute()
        if not isinstance(computed, ember.Tensor):
            raise ValueError(f"The `.compute()` return of the metric logged as {self.name!r} must be a tensor. "
                             f"Found {computed}")
        return computed.detach()


class ResultCollection:
    """Every metric logged in one stage (train, validate, test), with the trainer's three views of them."""

    def __init__(self, sync=None):
        self.sync = sync
        self.metrics = {}
        self.batch_size = None
        self.dataloader_idx = None
        self.multiple_dataloaders = False

    def log(self, fx, name, value, prog_bar, logger, on_step, on_epoch, reduce_fx, sync_dist,
            add_dataloader_idx, batch_size):
        """Records ``value`` under ``name`` for hook ``fx``, with Lightning's defaults and checks."""
        step_hook = fx in _STEP_HOOKS
        if on_step is None:
            on_step = step_hook
        if on_epoch is None:
            on_epoch = not step_hook
        if on_step and fx in _EPOCH_ONLY_HOOKS:
            raise RuntimeError(f"You can't `self.log({name}, ..., on_step=True)` in `LightningModule.{fx}`: "
                               "it runs once per epoch")
        if not on_step and not on_epoch:
            raise RuntimeError("`self.log()` called with `on_step=False, on_epoch=False`: nothing would be logged")
        if reduce_fx in (ember.mean, "avg"):
            reduce_fx = "mean"
        for fn, label in ((ember.sum, "sum"), (ember.max, "max"), (ember.min, "min")):
            if reduce_fx is fn:
                reduce_fx = label
        if reduce_fx not in _REDUCTIONS:
            raise ValueError(f"Only `self.log(..., reduce_fx={{min,max,mean,sum}})` are supported, got {reduce_fx!r}")
        kind = _MetricObject if is_torchmetric(value) else _Metric
        if kind is _Metric:
            value = _as_tensor(name, value)
        if batch_size is None:
            batch_size = self.batch_size if self.batch_size is not None else 1
        idx = self.dataloader_idx if (add_dataloader_idx and self.multiple_dataloaders) else None
        key = (fx, name, idx)
        metric = self.metrics.get(key)
        if metric is None:
            for other in self.metrics.values():
                if other.name == name and other.dataloader_idx == idx and other.fx != fx:
                    raise RuntimeError(f"You called `self.log({name}, ...)` twice in `{fx}` and `{other.fx}` with "
                                       "the same name: each logged key must be unique")
            metric = self.metrics[key] = kind(fx, name, on_step, on_epoch, reduce_fx, prog_bar,
                                                 True if logger is None else logger, idx,
                                                 self.sync if sync_dist else None)
        metric.update(value, batch_size)

    # --- the views ------------------------------------------------------------------------------------------
    def step_metrics(self):
        """{name: value} of what was logged with on_step at the latest step, and whether it goes to the bar/logger."""
        out = []
        for metric in self.metrics.values():
            if metric.on_step and metric.updated:
                step_name, _, plain = metric.names()
                out.append((step_name, plain, metric.value, metric.prog_bar, metric.logger))
        return out

    def epoch_metrics(self):
        """The epoch reductions of everything logged with on_epoch."""
        out = []
        for metric in self.metrics.values():
            if metric.on_epoch and metric.total is not None:
                _, epoch_name, plain = metric.names()
                out.append((epoch_name, plain, metric.epoch_value(), metric.prog_bar, metric.logger))
        return out

    def end_step(self):
        for metric in self.metrics.values():
            metric.updated = False

    def reset(self):
        self.metrics = {}

    def reset_metric_objects(self):
        """Resets every ``torchmetrics.Metric`` logged as an object, at the end of its epoch (Lightning's rule)."""
        for metric in self.metrics.values():
            if isinstance(metric, _MetricObject):
                metric.total.reset()


def is_finite(value):
    """Whether a logged scalar is finite."""
    return math.isfinite(float(value))
