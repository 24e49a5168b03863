"""The batch-size search (Lightning's ``scale_batch_size``): run a few training steps at growing batch sizes until one
runs out of memory (``MemoryError`` on the CPU, CuPy's OutOfMemoryError on a GPU), doubling ("power") or then
bisecting ("binsearch"), and put the model back as it was."""
import logging
import warnings

from ._attributes import lightning_getattr, lightning_setattr
from ._session import trial_session

log = logging.getLogger(__name__)
_OOM_MESSAGES = ("CUDA out of memory.", "CUDA error: out of memory", "cuDNN error: CUDNN_STATUS_NOT_SUPPORTED.",
                 "DefaultCPUAllocator: can't allocate memory")


def is_oom_error(error):
    """Whether ``error`` says memory ran out."""
    return isinstance(error, MemoryError) or (
        isinstance(error, RuntimeError) and any(text in str(error) for text in _OOM_MESSAGES))


def scale_batch_size(trainer, mode="power", steps_per_trial=3, init_val=2, max_trials=25,
                     batch_arg_name="batch_size", margin=0.05, max_val=8192):
    """Runs the search inside a fit; returns the batch size found (also left in the model's ``batch_arg_name``)."""
    if not 0.0 <= margin < 1.0:
        raise ValueError(f"`margin` should be between 0 and 1. Found margin={margin}")
    if trainer.fast_dev_run:
        warnings.warn("Skipping batch size scaler since `fast_dev_run` is enabled.")
        return None
    with trial_session(trainer, "scale_batch_size", isolate_rng=False):
        start = trainer._batches_that_stepped
        trainer.limit_train_batches, trainer.limit_val_batches, trainer.max_steps = 1.0, steps_per_trial, \
            steps_per_trial
        new_size, _ = _adjust(trainer, batch_arg_name, value=init_val)
        if mode == "power":
            new_size = _power(trainer, new_size, batch_arg_name, max_trials, max_val, start)
        else:
            new_size = _binsearch(trainer, new_size, batch_arg_name, max_trials, max_val, start, margin)
        log.info(f"Finished batch size finder, will continue with full run using batch size {new_size}")
    return new_size


def _trial(trainer, start):
    """One trial: the fit loop from epoch 0, step 0, for ``max_steps`` steps."""
    trainer.current_epoch, trainer.global_step, trainer._batches_that_stepped = 0, 0, start
    trainer.should_stop = False
    trainer._run_training()


def _power(trainer, new_size, name, max_trials, max_val, start):
    any_success = False
    for i in range(max_trials):
        if new_size >= max_val:
            log.info(f"Reached the maximum batch size limit of {max_val}. Stopping search.")
            break
        try:
            _trial(trainer, start)
            last_successful = new_size
            if i + 1 >= max_trials:
                new_size = last_successful
                break
            new_size, changed = _adjust(trainer, name, factor=2.0, desc="succeeded")
            if not changed:
                break
            trainer._load_fit_data()
            any_success = True
        except (RuntimeError, MemoryError) as error:
            if not is_oom_error(error):
                raise
            new_size, _ = _adjust(trainer, name, factor=0.5, desc="failed")
            trainer._load_fit_data()
            if any_success:
                break
    return new_size


def _binsearch(trainer, new_size, name, max_trials, max_val, start, margin):
    low, high, count = 1, None, 0
    while True:
        if new_size >= max_val:
            log.info(f"Reached the maximum batch size limit of {max_val}. Stopping search.")
            break
        try:
            _trial(trainer, start)
            last_successful = new_size
            count += 1
            if count >= max_trials:
                new_size = last_successful
                break
            low = new_size
            if high:
                if high - low <= 1:
                    break
                new_size, changed = _adjust(trainer, name, value=(high + low) // 2, desc="succeeded",
                                            max_val=max_val)
            else:
                new_size, changed = _adjust(trainer, name, factor=2.0, desc="succeeded", max_val=max_val)
            if not changed:
                break
            trainer._load_fit_data()
        except (RuntimeError, MemoryError) as error:
            if not is_oom_error(error):
                raise
            high = new_size
            new_size, _ = _adjust(trainer, name, value=(high + low) // 2, desc="failed")
            trainer._load_fit_data()
            if high - low <= 1:
                break
    if margin > 0:
        reduced = max(1, int(new_size * (1 - margin)))
        if reduced != new_size:
            log.info(f"Applying margin of {margin:.1%}, reducing batch size from {new_size} to {reduced}")
            new_size = reduced
            lightning_setattr(trainer.lightning_module, name, new_size)
    return new_size


def _adjust(trainer, name, factor=1.0, value=None, desc=None, max_val=8192):
    """Sets the batch size to ``value`` (or the current one times ``factor``, capped at ``max_val``); returns it and
    whether it changed (never beyond the training dataset's length)."""
    model = trainer.lightning_module
    batch_size = lightning_getattr(model, name)
    trainer._load_fit_data()
    try:
        length = len(trainer.train_dataloader.dataset)
    except (TypeError, AttributeError):
        length = None
    if length is not None and batch_size >= length:
        log.info(f"The batch size {batch_size} is greater or equal than the length of your dataset: {length}.")
        return batch_size, False
    new_size = value if value is not None else int(batch_size * factor)
    new_size = min(new_size, max_val)
    if desc:
        log.info(f"Batch size {batch_size} {desc}, trying batch size {new_size}")
    lightning_setattr(model, name, new_size)
    return new_size, new_size != batch_size
