"""What a finder does around its trial runs, as Lightning does: save a checkpoint, swap the trainer's settings for the
trial's, and afterwards put back the settings, the checkpointed state (weights, optimizers, counters, callbacks) and
the random generators."""
import contextlib
import os
import random
import uuid

import numpy

import ember

_SETTINGS = ("callbacks", "loggers", "max_steps", "limit_train_batches", "limit_val_batches", "optimizers",
             "lr_scheduler_configs")


@contextlib.contextmanager
def trial_session(trainer, prefix, isolate_rng):
    """Yields while the trainer's settings and state may be changed for trials; restores them on exit (and the
    random generators' states with ``isolate_rng``, as Lightning's learning-rate finder does)."""
    path = trainer.strategy.broadcast(os.path.join(trainer.default_root_dir, f".{prefix}_{uuid.uuid4()}.ckpt"))
    os.makedirs(trainer.default_root_dir, exist_ok=True)
    trainer.save_checkpoint(path)
    settings = {name: getattr(trainer, name) for name in _SETTINGS}
    counters = trainer.current_epoch, trainer.global_step, trainer._batches_that_stepped
    generators = random.getstate(), numpy.random.get_state(), ember.get_rng_state()
    trainer.loggers, trainer.callbacks = [], []
    try:
        yield
    finally:
        for name, value in settings.items():
            setattr(trainer, name, value)
        trainer._ckpt_path = path   # as Lightning's restore leaves it
        trainer._restore_state(trainer.strategy.load_checkpoint(path))
        trainer.current_epoch, trainer.global_step, trainer._batches_that_stepped = counters
        trainer.should_stop = False
        trainer.strategy.remove_checkpoint(path)
        trainer._load_fit_data()
        if isolate_rng:
            random.setstate(generators[0])
            numpy.random.set_state(generators[1])
            ember.set_rng_state(generators[2])
