"""Starting the ranks of a distributed run from one process (Lightning's ``ddp_spawn`` launcher): the trainer and its
arguments go to ``world_size`` new MPI ranks through ``ember.multiprocessing.spawn``; rank 0 sends back the trained
weights, metrics, checkpoint paths, logger versions and the stage's result, which this process takes over."""
import os
import pickle
import shutil
import tempfile


def launch(trainer, stage, model, *args):
    """Runs ``trainer.<stage>(model, *args)`` on ``trainer.world_size`` new ranks; returns rank 0's result, with
    rank 0's final weights loaded into ``model`` and its metrics and best checkpoint paths on ``trainer``."""
    from ember import multiprocessing
    model = model if model is not None else trainer.lightning_module
    directory = tempfile.mkdtemp(prefix="ember-lightning-")
    path = os.path.join(directory, "rank0.pkl")
    try:
        multiprocessing.spawn(_run_rank, args=(trainer, stage, model, args, path), nprocs=trainer.world_size)
        with open(path, "rb") as file:
            sent = pickle.load(file)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    model.load_state_dict(sent["state_dict"])
    model.trainer = trainer
    trainer.lightning_module = model
    for name in ("callback_metrics", "logged_metrics", "progress_bar_metrics", "current_epoch", "global_step",
                 "state"):
        setattr(trainer, name, sent[name])
    for callback, state in zip(trainer.checkpoint_callbacks, sent["checkpoints"]):
        vars(callback).update(state)
    for logger, version in zip(trainer.loggers, sent["versions"]):
        if hasattr(logger, "_version"):   # the next run writes where rank 0 wrote this one
            logger._version = version
    return sent["output"]


def _run_rank(index, trainer, stage, model, args, path):
    output = getattr(trainer, stage)(model, *args)
    if trainer.is_global_zero:
        sent = {name: getattr(trainer, name) for name in ("callback_metrics", "logged_metrics",
                                                          "progress_bar_metrics", "current_epoch", "global_step",
                                                          "state")}
        sent["state_dict"] = trainer.lightning_module.state_dict()
        sent["checkpoints"] = [{k: v for k, v in c.state_dict().items() if k != "monitor"}
                               for c in trainer.checkpoint_callbacks]
        sent["output"] = output
        sent["versions"] = [logger.version for logger in trainer.loggers]
        with open(path, "wb") as file:
            pickle.dump(sent, file)
