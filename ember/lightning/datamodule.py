"""LightningDataModule (the data side: ``prepare_data``, ``setup``, ``*_dataloader``) and the hyperparameter
bookkeeping it shares with LightningModule (``save_hyperparameters``, ``hparams``)."""
import copy
import inspect
from collections.abc import MutableMapping
from contextvars import ContextVar

from .utilities.parsing import AttributeDict

# the hyperparameters LightningCLI instantiates a module or datamodule with: save_hyperparameters stores these
# (with how to rebuild it) instead of reading the caller's arguments
_given_hyperparameters = ContextVar("_given_hyperparameters", default=None)


class HyperparametersMixin:
    """``save_hyperparameters`` and ``hparams``: the arguments the object was built with."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # save_hyperparameters may run before this __init__, as Lightning allows: what it saved stays
        self.__dict__.setdefault("_hparams", AttributeDict())
        self.__dict__.setdefault("_hparams_initial", AttributeDict())

    def save_hyperparameters(self, *args, ignore=None, frame=None, logger=True):
        """Stores the caller's ``__init__`` arguments (all, those named in ``args``, or a dict given as ``args[0]``)
        in ``self.hparams``; they go into checkpoints so ``load_from_checkpoint`` can rebuild the object."""
        self._log_hyperparams = logger
        ignore = [ignore] if isinstance(ignore, str) else list(ignore or ())
        if len(args) == 1 and isinstance(args[0], MutableMapping) and not isinstance(args[0], dict):
            # a mapping of another kind (an OmegaConf DictConfig) becomes hparams itself, as in Lightning
            object.__setattr__(self, "_hparams_name", None)
            object.__setattr__(self, "_hparams", args[0])
            object.__setattr__(self, "_hparams_initial", copy.deepcopy(args[0]))
            return
        if len(args) == 1 and isinstance(args[0], dict):
            values = dict(args[0])
            object.__setattr__(self, "_hparams_name", None)
        elif len(args) == 1 and hasattr(args[0], "__dict__") and not isinstance(args[0], str):
            values = dict(vars(args[0]))
            object.__setattr__(self, "_hparams_name", None)
        else:
            given = _given_hyperparameters.get()
            if given is not None:
                values = dict(given)
            else:
                frame = frame or inspect.currentframe().f_back
                values = _init_arguments(frame, type(self))
            if args:
                values = {name: values[name] for name in args if name in values}
            object.__setattr__(self, "_hparams_name", "kwargs")
        values = {k: v for k, v in values.items() if k not in ignore}
        self.__dict__.setdefault("_hparams", AttributeDict()).update(values)
        object.__setattr__(self, "_hparams_initial", AttributeDict(copy.deepcopy(dict(self._hparams))))

    @property
    def hparams(self):
        """The saved hyperparameters (an AttributeDict)."""
        return self.__dict__.setdefault("_hparams", AttributeDict())

    @property
    def hparams_initial(self):
        """The hyperparameters as first saved, before any later change."""
        return copy.deepcopy(self.__dict__.get("_hparams_initial", AttributeDict()))


def _init_arguments(frame, cls):
    """The arguments of the ``__init__`` call(s) up the stack from ``frame`` that built an instance of ``cls``
    (the outermost subclass's values win), ``**kwargs`` spread out, ``self`` and ``*args`` left out."""
    values = {}
    while frame is not None and frame.f_code.co_name == "__init__" and isinstance(frame.f_locals.get("self"), cls):
        info = inspect.getargvalues(frame)
        local = info.locals
        found = {name: local[name] for name in info.args[1:] if name in local}
        if info.keywords and isinstance(local.get(info.keywords), dict):
            found.update(local[info.keywords])
        values = {**found, **values}
        frame = frame.f_back
    return values


class LightningDataModule(HyperparametersMixin):
    """The data of an experiment: download once (``prepare_data``), split (``setup``), and the loaders."""

    CHECKPOINT_HYPER_PARAMS_KEY = "datamodule_hyper_parameters"
    CHECKPOINT_HYPER_PARAMS_NAME = "datamodule_hparams_name"

    def __init__(self):
        super().__init__()
        self.trainer = None

    def prepare_data(self):
        """Downloads or writes data, once per machine."""

    def setup(self, stage):
        """Builds datasets for ``stage`` ("fit", "validate", "test" or "predict")."""

    def teardown(self, stage):
        """Releases what ``setup`` made."""

    def train_dataloader(self):
        """The training DataLoader."""
        raise RuntimeError("`train_dataloader` must be implemented to be used with the Lightning Trainer")

    def val_dataloader(self):
        """The validation DataLoader(s); none by default."""
        return []

    def test_dataloader(self):
        """The test DataLoader(s)."""
        raise RuntimeError("`test_dataloader` must be implemented to be used with the Lightning Trainer")

    def predict_dataloader(self):
        """The prediction DataLoader(s)."""
        raise RuntimeError("`predict_dataloader` must be implemented to be used with the Lightning Trainer")

    def state_dict(self):
        """State to save in checkpoints."""
        return {}

    def on_exception(self, exception):
        """Called when the trainer execution is interrupted by an exception."""

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path, map_location=None, hparams_file=None, **kwargs):
        """A new datamodule built from the checkpoint's datamodule hyperparameters (``kwargs`` override them), with
        its saved state."""
        import ember
        checkpoint = ember.load(checkpoint_path, map_location=map_location, weights_only=False)
        cls, hparams = _checkpoint_class(cls, checkpoint.get(cls.CHECKPOINT_HYPER_PARAMS_KEY, {}))
        signature = inspect.signature(cls.__init__)
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            hparams = {k: v for k, v in hparams.items() if k in signature.parameters}
        datamodule = cls(**{**hparams, **kwargs})
        if cls.__qualname__ in checkpoint:
            datamodule.load_state_dict(checkpoint[cls.__qualname__])
        return datamodule

    def load_state_dict(self, state_dict):
        """Restores what ``state_dict`` returned."""


def _checkpoint_class(cls, hparams):
    """The class to rebuild from saved hyperparameters and its arguments: LightningCLI saves how it built the object
    (``_instantiator``) and, for a class chosen on the command line, its ``_class_path``, which names the subclass
    when it is already imported (as Lightning allows)."""
    import sys
    hparams = dict(hparams)
    hparams.pop("_instantiator", None)
    class_path = hparams.pop("_class_path", None)
    if isinstance(class_path, str) and "." in class_path:
        module, _, name = class_path.rpartition(".")
        chosen = getattr(sys.modules.get(module), name, None)
        if isinstance(chosen, type) and issubclass(chosen, cls):
            cls = chosen
    return cls, hparams
