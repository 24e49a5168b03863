"""Lightning's attribute lookup for tuned values (``lr``, ``batch_size``): the module, its ``hparams``, then the
datamodule."""


def _holders(model, name):
    holders = []
    if hasattr(model, name):
        holders.append(model)
    if getattr(model, "hparams", None) is not None and name in model.hparams:
        holders.append(model.hparams)
    trainer = model._trainer
    if trainer is not None and trainer.datamodule is not None and hasattr(trainer.datamodule, name):
        holders.append(trainer.datamodule)
    return holders


def lightning_hasattr(model, name):
    """Whether ``name`` is on the module, in its hparams or on the datamodule."""
    return bool(_holders(model, name))


def lightning_getattr(model, name):
    """``name`` from the first of the module, its hparams and the datamodule that has it."""
    holders = _holders(model, name)
    if not holders:
        raise AttributeError(f"{name} is neither stored in the model namespace nor the `hparams` namespace/dict, "
                             "nor the datamodule.")
    holder = holders[0]
    return holder[name] if isinstance(holder, dict) else getattr(holder, name)


def lightning_setattr(model, name, value):
    """Sets ``name`` everywhere it is found (module, hparams, datamodule)."""
    holders = _holders(model, name)
    if not holders:
        raise AttributeError(f"{name} is neither stored in the model namespace nor the `hparams` namespace/dict, "
                             "nor the datamodule.")
    for holder in holders:
        if isinstance(holder, dict):
            holder[name] = value
        else:
            setattr(holder, name, value)
