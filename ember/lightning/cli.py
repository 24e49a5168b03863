"""LightningCLI (Lightning's ``lightning.pytorch.cli``): a command line and config files for a LightningModule, a
LightningDataModule and the Trainer, parsed by ``jsonargparse`` (an optional extra, ``pip install
"jsonargparse[signatures]"``, imported when this module is) from their ``__init__`` signatures; subcommands ``fit``,
``validate``, ``test`` and ``predict``; ``--config`` YAML files, ``--print_config``; the optimizer and learning-rate
scheduler chosen on the command line; the config saved to the log directory (``SaveConfigCallback``)."""
import inspect
import os
import sys
from contextlib import contextmanager
from functools import partial, update_wrapper
from pathlib import Path
from types import MethodType
from typing import Any, Callable, Optional, Union

import ember
from ember.optim import Optimizer
from ember.optim.lr_scheduler import LRScheduler

from . import __version__ as _PL_VERSION
from .callbacks import Callback
from .datamodule import LightningDataModule
from .module import LightningModule
from .trainer import Trainer
from .utilities.exceptions import MisconfigurationException
from .utilities.rank_zero import rank_zero_warn
from .utilities.seed import seed_everything

_JSONARGPARSE_MISSING = ("Requirement 'jsonargparse[signatures]>=4.27.7' not met. HINT: Try running "
                         "`pip install -U 'jsonargparse[signatures]>=4.27.7'`")
try:
    import docstring_parser
    from jsonargparse import (ActionConfigFile, ArgumentParser, Namespace, class_from_function,
                              register_unresolvable_import_paths)
    _JSONARGPARSE_AVAILABLE = True
    register_unresolvable_import_paths(ember)
    try:
        from jsonargparse import set_parsing_settings
        set_parsing_settings(config_read_mode_fsspec_enabled=True)
    except ImportError:   # an older jsonargparse
        from jsonargparse import set_config_read_mode
        set_config_read_mode(fsspec_enabled=True)
    except ValueError:   # fsspec is not installed: config paths are read as local files
        pass
except ImportError:
    _JSONARGPARSE_AVAILABLE = False
    ArgumentParser = Namespace = object


class ReduceLROnPlateau(ember.optim.lr_scheduler.ReduceLROnPlateau):
    """ReduceLROnPlateau with the ``monitor`` it steps on, so the CLI can configure it."""

    def __init__(self, optimizer, monitor: str, *args, **kwargs):
        super().__init__(optimizer, *args, **kwargs)
        self.monitor = monitor


LRSchedulerTypeTuple = (LRScheduler, ReduceLROnPlateau)
LRSchedulerTypeUnion = Union[LRScheduler, ReduceLROnPlateau]
LRSchedulerType = Union[type[LRScheduler], type[ReduceLROnPlateau]]
ArgsType = Optional[Union[list, dict, "Namespace"]]
OptimizerCallable = Callable[[Any], Optimizer]
LRSchedulerCallable = Callable[[Optimizer], Union[LRScheduler, ReduceLROnPlateau]]


class LightningArgumentParser(ArgumentParser):
    """jsonargparse's ArgumentParser with Lightning's additions: arguments from a Lightning class's signature, and
    optimizer and learning-rate scheduler groups."""

    def __init__(self, *args, description="Lightning Trainer command line tool", env_prefix="PL",
                 default_env=False, **kwargs):
        if not _JSONARGPARSE_AVAILABLE:
            raise ModuleNotFoundError(_JSONARGPARSE_MISSING)
        super().__init__(*args, description=description, env_prefix=env_prefix, default_env=default_env, **kwargs)
        self.callback_keys = []
        self._optimizers = {}
        self._lr_schedulers = {}

    def add_lightning_class_args(self, lightning_class, nested_key, subclass_mode=False, required=True):
        """Adds the arguments of ``lightning_class`` (a Trainer, LightningModule, LightningDataModule or Callback
        class, or a function returning one) under ``nested_key``; returns their names."""
        if callable(lightning_class) and not isinstance(lightning_class, type):
            lightning_class = class_from_function(lightning_class)
        if isinstance(lightning_class, type) and issubclass(
                lightning_class, (Trainer, LightningModule, LightningDataModule, Callback)):
            if issubclass(lightning_class, Callback):
                self.callback_keys.append(nested_key)
            if subclass_mode:
                return self.add_subclass_arguments(lightning_class, nested_key, fail_untyped=False, required=required)
            return self.add_class_arguments(lightning_class, nested_key, fail_untyped=False,
                                            instantiate=not issubclass(lightning_class, Trainer), sub_configs=True)
        raise MisconfigurationException(
            f"Cannot add arguments from: {lightning_class}. You should provide either a callable or a subclass of: "
            "Trainer, LightningModule, LightningDataModule, or Callback.")

    def add_optimizer_args(self, optimizer_class=(Optimizer,), nested_key="optimizer", link_to="AUTOMATIC"):
        """Adds an optimizer's arguments (a class, or a tuple of base classes to choose from) under ``nested_key``;
        ``link_to`` a key to pass it to, or AUTOMATIC (the CLI configures the model's optimizers)."""
        classes = optimizer_class if isinstance(optimizer_class, tuple) else (optimizer_class,)
        assert all(issubclass(o, Optimizer) for o in classes)
        kwargs = {"instantiate": False, "fail_untyped": False, "skip": {"params"}}
        if isinstance(optimizer_class, tuple):
            self.add_subclass_arguments(optimizer_class, nested_key, **kwargs)
        else:
            self.add_class_arguments(optimizer_class, nested_key, sub_configs=True, **kwargs)
        self._optimizers[nested_key] = (optimizer_class, link_to)

    def add_lr_scheduler_args(self, lr_scheduler_class=LRSchedulerTypeTuple, nested_key="lr_scheduler",
                              link_to="AUTOMATIC"):
        """Adds a learning-rate scheduler's arguments (a class, or a tuple of base classes) under ``nested_key``."""
        classes = lr_scheduler_class if isinstance(lr_scheduler_class, tuple) else (lr_scheduler_class,)
        assert all(issubclass(o, LRSchedulerTypeTuple) for o in classes)
        kwargs = {"instantiate": False, "fail_untyped": False, "skip": {"optimizer"}}
        if isinstance(lr_scheduler_class, tuple):
            self.add_subclass_arguments(lr_scheduler_class, nested_key, **kwargs)
        else:
            self.add_class_arguments(lr_scheduler_class, nested_key, sub_configs=True, **kwargs)
        self._lr_schedulers[nested_key] = (lr_scheduler_class, link_to)


class SaveConfigCallback(Callback):
    """Saves the CLI's config as ``config_filename`` in the Trainer's log directory when the run sets up (refusing to
    overwrite one unless ``overwrite``); override ``save_config`` to save it elsewhere too."""

    def __init__(self, parser, config, config_filename="config.yaml", overwrite=False, multifile=False,
                 save_to_log_dir=True):
        self.parser = parser
        self.config = config
        self.config_filename = config_filename
        self.overwrite = overwrite
        self.multifile = multifile
        self.save_to_log_dir = save_to_log_dir
        self.already_saved = False
        if not save_to_log_dir and type(self).save_config is SaveConfigCallback.save_config:
            raise ValueError("`save_to_log_dir=False` only makes sense when subclassing SaveConfigCallback to "
                             "implement `save_config` and it is desired to disable the standard behavior of saving "
                             "to log_dir.")

    def setup(self, trainer, pl_module, stage):
        if self.already_saved:
            return
        if self.save_to_log_dir:
            log_dir = trainer.log_dir
            config_path = os.path.join(log_dir, self.config_filename)
            if not self.overwrite:
                exists = os.path.isfile(config_path) if trainer.is_global_zero else False
                if trainer.strategy.broadcast(exists):
                    raise RuntimeError(
                        f"{self.__class__.__name__} expected {config_path} to NOT exist. Aborting to avoid overwriting"
                        " results of a previous run. You can delete the previous config file,"
                        " set `LightningCLI(save_config_callback=None)` to disable config saving,"
                        ' or set `LightningCLI(save_config_kwargs={"overwrite": True})` to overwrite the config file.')
            if trainer.is_global_zero:
                os.makedirs(log_dir, exist_ok=True)
                self.parser.save(self.config, config_path, skip_none=False, overwrite=self.overwrite,
                                 multifile=self.multifile)
        if trainer.is_global_zero:
            self.save_config(trainer, pl_module, stage)
            self.already_saved = True
        self.already_saved = trainer.strategy.broadcast(self.already_saved)

    def save_config(self, trainer, pl_module, stage):
        """Override to save the config somewhere else as well (runs on rank 0 only)."""


class LightningCLI:
    """A command line for training: parses the Trainer's, the model's (``model_class``, or any LightningModule
    subclass given by class path) and the datamodule's arguments from the command line and config files,
    instantiates them and runs the subcommand (``fit``, ``validate``, ``test``, ``predict``; none with
    ``run=False``). ``args`` parses a list, dict or Namespace instead of ``sys.argv``."""

    def __init__(self, model_class=None, datamodule_class=None, save_config_callback=SaveConfigCallback,
                 save_config_kwargs=None, trainer_class=Trainer, trainer_defaults=None, seed_everything_default=True,
                 parser_kwargs=None, parser_class=LightningArgumentParser, subclass_mode_model=False,
                 subclass_mode_data=False, args=None, run=True, auto_configure_optimizers=True,
                 load_from_checkpoint_support=True):
        self.save_config_callback = save_config_callback
        self.save_config_kwargs = save_config_kwargs or {}
        self.trainer_class = trainer_class
        self.trainer_defaults = trainer_defaults or {}
        self.seed_everything_default = seed_everything_default
        self.parser_kwargs = parser_kwargs or {}
        self.parser_class = parser_class
        self.auto_configure_optimizers = auto_configure_optimizers
        self.model_class = model_class
        self._model_class = model_class or LightningModule
        self.subclass_mode_model = (model_class is None) or subclass_mode_model
        self.datamodule_class = datamodule_class
        self._datamodule_class = datamodule_class or LightningDataModule
        self.subclass_mode_data = (datamodule_class is None) or subclass_mode_data

        main_kwargs, subparser_kwargs = self._setup_parser_kwargs(self.parser_kwargs)
        self.setup_parser(run, main_kwargs, subparser_kwargs)
        self.parse_arguments(self.parser, args)
        self._parse_ckpt_path()
        self.subcommand = self.config["subcommand"] if run else None
        self._set_seed()
        if load_from_checkpoint_support:
            self._add_instantiators()
        self.before_instantiate_classes()
        self.instantiate_classes()
        self.after_instantiate_classes()
        if self.subcommand is not None:
            self._run_subcommand(self.subcommand)

    def _setup_parser_kwargs(self, parser_kwargs):
        names = self.subcommands().keys()
        return ({k: v for k, v in parser_kwargs.items() if k not in names},
                {k: v for k, v in parser_kwargs.items() if k in names})

    def init_parser(self, **kwargs):
        """Makes the argument parser (with ``-c/--config``)."""
        kwargs.setdefault("dump_header", [f"pytorch_lightning=={_PL_VERSION}"])
        parser = self.parser_class(**kwargs)
        parser.add_argument("-c", "--config", action=ActionConfigFile,
                            help="Path to a configuration file in json or yaml format.")
        return parser

    def setup_parser(self, add_subcommands, main_kwargs, subparser_kwargs):
        """Makes the parser, with a subparser per subcommand when ``add_subcommands``."""
        self.parser = self.init_parser(**main_kwargs)
        if add_subcommands:
            self._subcommand_method_arguments = {}
            self._add_subcommands(self.parser, **subparser_kwargs)
        else:
            self._add_arguments(self.parser)

    def add_default_arguments_to_parser(self, parser):
        """Adds ``--seed_everything``."""
        parser.add_argument("--seed_everything", type=Union[bool, int], default=self.seed_everything_default,
                            help=("Set to an int to run seed_everything with this value before classes instantiation."
                                  "Set to True to use a random seed."))

    def add_core_arguments_to_parser(self, parser):
        """Adds the Trainer's, the model's and the datamodule's arguments."""
        parser.add_lightning_class_args(self.trainer_class, "trainer")
        parser.set_defaults({"trainer." + k: v for k, v in self.trainer_defaults.items() if k != "callbacks"})
        parser.add_lightning_class_args(self._model_class, "model", subclass_mode=self.subclass_mode_model)
        if self.datamodule_class is not None:
            parser.add_lightning_class_args(self._datamodule_class, "data", subclass_mode=self.subclass_mode_data)
        else:   # optional: the module may have its own dataloaders
            parser.add_lightning_class_args(self._datamodule_class, "data", subclass_mode=self.subclass_mode_data,
                                            required=False)

    def _add_arguments(self, parser):
        self.add_default_arguments_to_parser(parser)
        self.add_core_arguments_to_parser(parser)
        self.add_arguments_to_parser(parser)
        if self.auto_configure_optimizers:
            if not parser._optimizers:
                parser.add_optimizer_args((Optimizer,))
            if not parser._lr_schedulers:
                parser.add_lr_scheduler_args(LRSchedulerTypeTuple)
        self.link_optimizers_and_lr_schedulers(parser)

    def add_arguments_to_parser(self, parser):
        """Override to add arguments or links to the parser."""

    @staticmethod
    def subcommands():
        """The subcommands and the arguments of their Trainer methods that the CLI fills itself."""
        return {"fit": {"model", "train_dataloaders", "val_dataloaders", "datamodule"},
                "validate": {"model", "dataloaders", "datamodule"},
                "test": {"model", "dataloaders", "datamodule"},
                "predict": {"model", "dataloaders", "datamodule"}}

    def _add_subcommands(self, parser, **kwargs):
        self._subcommand_parsers = {}
        parser_subcommands = parser.add_subcommands()
        trainer_class = (self.trainer_class if isinstance(self.trainer_class, type)
                         else class_from_function(self.trainer_class))
        for subcommand in self.subcommands():
            description = _get_short_description(getattr(trainer_class, subcommand))
            subparser_kwargs = kwargs.get(subcommand, {})
            subparser_kwargs.setdefault("description", description)
            subcommand_parser = self._prepare_subcommand_parser(trainer_class, subcommand, **subparser_kwargs)
            self._subcommand_parsers[subcommand] = subcommand_parser
            parser_subcommands.add_subcommand(subcommand, subcommand_parser, help=description)

    def _prepare_subcommand_parser(self, klass, subcommand, **kwargs):
        parser = self.init_parser(**kwargs)
        self._add_arguments(parser)
        added = parser.add_method_arguments(klass, subcommand, skip=set(self.subcommands()[subcommand]))
        self._subcommand_method_arguments[subcommand] = added
        return parser

    @staticmethod
    def link_optimizers_and_lr_schedulers(parser):
        """Links the optimizer and scheduler groups that name a ``link_to`` key to it."""
        for key, (class_type, link_to) in {**parser._optimizers, **parser._lr_schedulers}.items():
            if link_to == "AUTOMATIC":
                continue
            if isinstance(class_type, tuple):
                parser.link_arguments(key, link_to)
            else:
                parser.link_arguments(key, link_to, compute_fn=_add_class_path_generator(class_type))

    def parse_arguments(self, parser, args):
        """Parses ``args`` (or the command line) into ``self.config``."""
        if args is not None and len(sys.argv) > 1:
            rank_zero_warn("LightningCLI's args parameter is intended to run from within Python like if it were from "
                           "the command line. To prevent mistakes it is not recommended to provide both args and "
                           f"command line arguments, got: sys.argv[1:]={sys.argv[1:]}, args={args}.")
        if isinstance(args, (dict, Namespace)):
            self.config = parser.parse_object(args)
        else:
            self.config = parser.parse_args(args)

    def _parse_ckpt_path(self):
        """With a ``ckpt_path``, the model's hyperparameters saved in the checkpoint become its config."""
        if not self.config.get("subcommand"):
            return
        ckpt_path = self.config[self.config.subcommand].get("ckpt_path")
        if ckpt_path and Path(ckpt_path).is_file():
            hparams = ember.load(ckpt_path, weights_only=True, map_location="cpu").get("hyper_parameters", {})
            hparams.pop("_instantiator", None)
            if not hparams:
                return
            if "_class_path" in hparams:
                hparams = {"class_path": hparams.pop("_class_path"), "dict_kwargs": hparams}
            try:
                self.config = self.parser.parse_object({self.config.subcommand: {"model": hparams}}, self.config)
            except SystemExit:
                sys.stderr.write("Parsing of ckpt_path hyperparameters failed!\n")
                raise

    def _dump_config(self):
        if hasattr(self, "config_dump"):
            return
        import yaml
        self.config_dump = yaml.safe_load(self.parser.dump(self.config, skip_link_targets=False, skip_none=False,
                                                           format="yaml"))
        if "subcommand" in self.config:
            self.config_dump = self.config_dump[self.config.subcommand]

    def _add_instantiators(self):
        self.parser.add_instantiator(_InstantiatorFn(cli=self, key="model"), _get_module_type(self._model_class),
                                     subclasses=self.subclass_mode_model)
        self.parser.add_instantiator(_InstantiatorFn(cli=self, key="data"),
                                     _get_module_type(self._datamodule_class), subclasses=self.subclass_mode_data)

    def before_instantiate_classes(self):
        """Override to run code before the classes are instantiated."""

    def instantiate_classes(self):
        """Instantiates the model, the datamodule and the Trainer from the config."""
        self.config_init = self.parser.instantiate_classes(self.config)
        self.datamodule = self._get(self.config_init, "data")
        self.model = self._get(self.config_init, "model")
        self._add_configure_optimizers_method_to_model(self.subcommand)
        self.trainer = self.instantiate_trainer()

    def after_instantiate_classes(self):
        """Override to run code after the classes are instantiated."""

    def instantiate_trainer(self, **kwargs):
        """The Trainer from the config (``kwargs`` override it), with the callbacks given as their own arguments
        and the SaveConfigCallback."""
        extra_callbacks = [self._get(self.config_init, c) for c in self._parser(self.subcommand).callback_keys]
        trainer_config = {**self._get(self.config_init, "trainer", default={}), **kwargs}
        return self._instantiate_trainer(trainer_config, extra_callbacks)

    def _instantiate_trainer(self, config, callbacks):
        key = "callbacks"
        if key in config:
            if config[key] is None:
                config[key] = []
            elif not isinstance(config[key], list):
                config[key] = [config[key]]
            config[key].extend(callbacks)
            if key in self.trainer_defaults:
                value = self.trainer_defaults[key]
                config[key] += value if isinstance(value, list) else [value]
            if self.save_config_callback and not config.get("fast_dev_run", False):
                config[key].append(self.save_config_callback(self._parser(self.subcommand),
                                                             self.config.get(str(self.subcommand), self.config),
                                                             **self.save_config_kwargs))
        else:
            rank_zero_warn(f"The `{self.trainer_class.__qualname__}` class does not expose the `{key}` argument so "
                           "they will not be included.")
        return self.trainer_class(**config)

    def _parser(self, subcommand):
        return self.parser if subcommand is None else self._subcommand_parsers[subcommand]

    @staticmethod
    def configure_optimizers(lightning_module, optimizer, lr_scheduler=None):
        """What the model's ``configure_optimizers`` returns when the CLI configures them (override to change)."""
        if lr_scheduler is None:
            return optimizer
        if isinstance(lr_scheduler, ReduceLROnPlateau):
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": lr_scheduler,
                                                             "monitor": lr_scheduler.monitor}}
        return [optimizer], [lr_scheduler]

    def _add_configure_optimizers_method_to_model(self, subcommand):
        """Replaces the model's ``configure_optimizers`` with the optimizer (and scheduler) of the config when one
        AUTOMATIC optimizer group (and at most one scheduler group) is set."""
        if not self.auto_configure_optimizers:
            return
        parser = self._parser(subcommand)

        def automatic(class_type, register):
            return [key for key, (base, link_to) in register.items() if link_to == "AUTOMATIC" and any(
                issubclass(c, class_type) for c in (base if isinstance(base, tuple) else (base,)))]

        optimizers = automatic(Optimizer, parser._optimizers)
        lr_schedulers = automatic(LRSchedulerTypeTuple, parser._lr_schedulers)
        if not optimizers:
            return
        if len(optimizers) > 1 or len(lr_schedulers) > 1:
            raise MisconfigurationException(
                f"`{self.__class__.__name__}.add_configure_optimizers_method_to_model` expects at most one optimizer "
                f"and one lr_scheduler to be 'AUTOMATIC', but found {optimizers + lr_schedulers}. In this case the "
                "user is expected to link the argument groups and implement `configure_optimizers`, see "
                "https://lightning.ai/docs/pytorch/stable/common/lightning_cli.html"
                "#optimizers-and-learning-rate-schedulers")
        optimizer_class = parser._optimizers[optimizers[0]][0]
        optimizer_init = self._get(self.config_init, optimizers[0])
        if not isinstance(optimizer_class, tuple):
            optimizer_init = _global_add_class_path(optimizer_class, optimizer_init)
        if not optimizer_init:   # no optimizer configured: the model's own configure_optimizers
            return
        lr_scheduler_init = None
        if lr_schedulers:
            lr_scheduler_class = parser._lr_schedulers[lr_schedulers[0]][0]
            lr_scheduler_init = self._get(self.config_init, lr_schedulers[0])
            if not isinstance(lr_scheduler_class, tuple):
                lr_scheduler_init = _global_add_class_path(lr_scheduler_class, lr_scheduler_init)
        from ._loop_parts import _is_overridden
        if _is_overridden("configure_optimizers", self.model, LightningModule):
            import warnings
            warnings.warn(f"`{self.model.__class__.__name__}.configure_optimizers` will be overridden by "
                          f"`{self.__class__.__name__}.configure_optimizers`.", stacklevel=2)
        optimizer = instantiate_class(self.model.parameters(), optimizer_init)
        lr_scheduler = instantiate_class(optimizer, lr_scheduler_init) if lr_scheduler_init else None
        fn = partial(self.configure_optimizers, optimizer=optimizer, lr_scheduler=lr_scheduler)
        update_wrapper(fn, self.configure_optimizers)   # so that it counts as overridden
        self.model.configure_optimizers = MethodType(fn, self.model)

    def _get(self, config, key, default=None):
        """A config value, inside the subcommand's section where there is one."""
        return config.get(str(self.subcommand), config).get(key, default)

    def _run_subcommand(self, subcommand):
        """Runs ``before_{subcommand}``, the subcommand (the CLI's method if it has one, else the Trainer's) and
        ``after_{subcommand}``."""
        before = getattr(self, f"before_{subcommand}", None)
        if callable(before):
            before()
        fn = getattr(self, subcommand, getattr(self.trainer, subcommand))
        fn(**self._prepare_subcommand_kwargs(subcommand))
        after = getattr(self, f"after_{subcommand}", None)
        if callable(after):
            after()

    def _prepare_subcommand_kwargs(self, subcommand):
        """The subcommand's keyword arguments: its own from the config, the model and the datamodule."""
        kwargs = {k: v for k, v in self.config_init[subcommand].items()
                  if k in self._subcommand_method_arguments[subcommand]}
        kwargs["model"] = self.model
        if self.datamodule is not None:
            kwargs["datamodule"] = self.datamodule
        return kwargs

    def _set_seed(self):
        """Seeds everything as ``seed_everything`` says (True: a random seed), recording the seed in the config."""
        seed = self._get(self.config, "seed_everything")
        if seed is False:
            return
        seed = seed_everything(workers=True) if seed is True else seed_everything(seed, workers=True)
        if self.subcommand:
            self.config[self.subcommand]["seed_everything"] = seed
        else:
            self.config["seed_everything"] = seed


def _class_path_from_class(class_type):
    return class_type.__module__ + "." + class_type.__name__


def _global_add_class_path(class_type, init_args=None):
    if isinstance(init_args, Namespace):
        init_args = init_args.as_dict()
    return {"class_path": _class_path_from_class(class_type), "init_args": init_args or {}}


def _add_class_path_generator(class_type):
    def add_class_path(init_args):
        return _global_add_class_path(class_type, init_args)
    return add_class_path


def instantiate_class(args, init):
    """Instantiates ``init["class_path"]`` with positional ``args`` (one or a tuple) and ``init["init_args"]``."""
    kwargs = init.get("init_args", {})
    if not isinstance(args, tuple):
        args = (args,)
    class_module, class_name = init["class_path"].rsplit(".", 1)
    module = __import__(class_module, fromlist=[class_name])
    return getattr(module, class_name)(*args, **kwargs)


def _get_short_description(component):
    if component.__doc__ is None:
        return None
    try:
        return docstring_parser.parse(component.__doc__).short_description
    except (ValueError, docstring_parser.ParseError) as error:
        rank_zero_warn(f"Failed parsing docstring for {component}: {error}")
        return None


def _get_module_type(value):
    if callable(value) and not isinstance(value, type):
        return inspect.signature(value).return_annotation
    return value


def _set_dict_nested(data, key, value):
    keys = key.split(".")
    for k in keys[:-1]:
        assert k in data, f"Expected key {key} to be in data"
        data = data[k]
    data[keys[-1]] = value


class _InstantiatorFn:
    """Instantiates the model or datamodule with the config's values as its saved hyperparameters (and how to
    rebuild it), so ``load_from_checkpoint`` works for a class chosen on the command line."""

    def __init__(self, cli, key):
        self.cli = cli
        self.key = key

    def __call__(self, class_type, *args, applied_instantiation_links, **kwargs):
        self.cli._dump_config()
        hparams = self.cli.config_dump.get(self.key, {})
        if "class_path" in hparams:
            hparams = {"_class_path": hparams["class_path"], **hparams.get("init_args", {}),
                       **hparams.get("dict_kwargs", {})}
        for key, value in applied_instantiation_links.items():
            if not key.startswith(f"{self.key}."):
                continue
            key = key[len(f"{self.key}."):]
            if key.startswith("init_args."):
                key = key[len("init_args."):]
            _set_dict_nested(hparams, key, value)
        with _given_hyperparameters_context(hparams, "pytorch_lightning.cli.instantiate_module"):
            return class_type(*args, **kwargs)


@contextmanager
def _given_hyperparameters_context(hparams, instantiator):
    from .datamodule import _given_hyperparameters
    hparams = {**hparams, "_instantiator": instantiator}
    token = _given_hyperparameters.set(hparams)
    try:
        yield
    finally:
        _given_hyperparameters.reset(token)


def instantiate_module(class_type, config):
    """Rebuilds a module from hyperparameters the CLI saved (``load_from_checkpoint`` calls it)."""
    parser = ArgumentParser(exit_on_error=False)
    if "_class_path" in config:
        parser.add_subclass_arguments(class_type, "module", fail_untyped=False)
        config = {"class_path": config["_class_path"],
                  "dict_kwargs": {k: v for k, v in config.items() if k != "_class_path"}}
    else:
        parser.add_class_arguments(class_type, "module", fail_untyped=False)
    cfg = parser.parse_object({"module": config})
    return parser.instantiate_classes(cfg).module
