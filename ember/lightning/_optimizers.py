"""Reading what ``configure_optimizers`` returns (an optimizer, lists, a tuple of lists, dicts) into optimizers and
scheduler configs, with Lightning's errors."""
import dataclasses

from ember import optim


@dataclasses.dataclass
class LRSchedulerConfig:
    """A learning-rate scheduler and when to step it (Lightning's ``lr_scheduler`` dict)."""
    scheduler: object
    name: str = None
    interval: str = "epoch"
    frequency: int = 1
    reduce_on_plateau: bool = False
    monitor: str = None
    strict: bool = True


def _is_optimizer(value):
    return isinstance(value, optim.Optimizer)


def _scheduler_config(value, monitor=None):
    if isinstance(value, dict):
        if "scheduler" not in value:
            raise ValueError('The lr scheduler dict must have the key "scheduler" with its item being an lr scheduler')
        extra = set(value) - {f.name for f in dataclasses.fields(LRSchedulerConfig)}
        if extra:
            raise ValueError(f"Found unsupported keys in the lr scheduler dict: {sorted(extra)}")
        if value.get("interval", "epoch") not in ("epoch", "step"):
            raise ValueError(f'The "interval" key in lr scheduler dict must be "step" or "epoch" but is '
                             f'"{value["interval"]}"')
        config = LRSchedulerConfig(**{"monitor": monitor, **value})
    else:
        config = LRSchedulerConfig(value, monitor=monitor)
    config.reduce_on_plateau = isinstance(config.scheduler, optim.lr_scheduler.ReduceLROnPlateau)
    if config.reduce_on_plateau and config.monitor is None:
        raise ValueError("`configure_optimizers` must include a monitor when a `ReduceLROnPlateau` scheduler is used."
                         ' For example: {"optimizer": optimizer, "lr_scheduler": scheduler, "monitor": "metric_to_track"}')
    return config


def configure_optimizers(conf):
    """(optimizers, scheduler configs) from ``configure_optimizers``'s return value."""
    if conf is None:
        return [], []
    if _is_optimizer(conf):
        return [conf], []
    if isinstance(conf, dict):
        conf = [conf]
    if isinstance(conf, (list, tuple)) and len(conf) == 2 and isinstance(conf[0], (list, tuple)):
        optimizers, schedulers = list(conf[0]), conf[1]
        schedulers = schedulers if isinstance(schedulers, (list, tuple)) else [schedulers]
        return optimizers, [_scheduler_config(s) for s in schedulers]
    if isinstance(conf, (list, tuple)) and conf and all(isinstance(c, dict) for c in conf):
        optimizers, schedulers = [], []
        for entry in conf:
            if "optimizer" not in entry:
                raise ValueError(f"Unknown configuration for model optimizers: {entry!r}")
            optimizers.append(entry["optimizer"])
            if entry.get("lr_scheduler") is not None:
                schedulers.append(_scheduler_config(entry["lr_scheduler"], entry.get("monitor")))
        return optimizers, schedulers
    if isinstance(conf, (list, tuple)) and all(_is_optimizer(c) for c in conf):
        return list(conf), []
    raise ValueError("Unknown configuration for model optimizers. Output from `model.configure_optimizers()` should be "
                     "one of:\n * `Optimizer`\n * [`Optimizer`]\n * ([`Optimizer`], [`LRScheduler`])\n"
                     ' * {"optimizer": `Optimizer`, (optional) "lr_scheduler": `LRScheduler`}')
