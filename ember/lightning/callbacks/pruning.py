"""ModelPruning: prunes the module's weights with ``ember.nn.utils.prune`` as training goes (optionally resetting the
survivors to their first values: the lottery ticket hypothesis)."""
import inspect
import logging
from copy import deepcopy
from functools import partial

import ember
from ember import nn
from ember.nn.utils import prune as _prune

from ..utilities.exceptions import MisconfigurationException
from ..utilities.rank_zero import rank_zero_debug, rank_zero_only
from .callback import Callback

log = logging.getLogger(__name__)

_FUNCTIONS = {"ln_structured": _prune.ln_structured, "l1_unstructured": _prune.l1_unstructured,
              "random_structured": _prune.random_structured, "random_unstructured": _prune.random_unstructured}
_METHODS = {"ln_structured": _prune.LnStructured, "l1_unstructured": _prune.L1Unstructured,
            "random_structured": _prune.RandomStructured, "random_unstructured": _prune.RandomUnstructured}


def _containers():
    from ..module import LightningModule
    return LightningModule, nn.Sequential, nn.ModuleList, nn.ModuleDict


class ModelPruning(Callback):
    """Prunes ``parameters_to_prune`` ((module, name) pairs; by default every ``parameter_names`` parameter of the
    module's leaves) by ``amount`` (a fraction, a count, or a function of the epoch) at each training epoch's end (or
    validation's, with ``prune_on_train_epoch_end=False``), globally or layer by layer; the masks are applied for good
    when training ends and in saved checkpoints (``make_pruning_permanent``)."""

    PARAMETER_NAMES = ("weight", "bias")

    def __init__(self, pruning_fn, parameters_to_prune=(), parameter_names=None, use_global_unstructured=True,
                 amount=0.5, apply_pruning=True, make_pruning_permanent=True, use_lottery_ticket_hypothesis=True,
                 resample_parameters=False, pruning_dim=None, pruning_norm=None, verbose=0,
                 prune_on_train_epoch_end=True):
        self._use_global_unstructured = use_global_unstructured
        self._parameters_to_prune = parameters_to_prune
        self._use_lottery_ticket_hypothesis = use_lottery_ticket_hypothesis
        self._resample_parameters = resample_parameters
        self._prune_on_train_epoch_end = prune_on_train_epoch_end
        self._parameter_names = parameter_names or self.PARAMETER_NAMES
        self._global_kwargs = {}
        self._original_layers = None
        self._pruning_method_name = None
        for name in self._parameter_names:
            if name not in self.PARAMETER_NAMES:
                raise MisconfigurationException(
                    f"The provided `parameter_names` name: {name} isn't in {self.PARAMETER_NAMES}")
        if isinstance(pruning_fn, str):
            kwargs = {}
            pruning_fn = pruning_fn.lower()
            if pruning_fn not in _FUNCTIONS:
                raise MisconfigurationException(f"The provided `pruning_fn` {pruning_fn} isn't available in PyTorch's"
                                                f" built-in functions: {list(_FUNCTIONS.keys())} ")
            if pruning_fn.endswith("_structured"):
                if pruning_dim is None:
                    raise MisconfigurationException(
                        "When requesting `structured` pruning, the `pruning_dim` should be provided.")
                if pruning_fn == "ln_structured":
                    if pruning_norm is None:
                        raise MisconfigurationException(
                            "When requesting `ln_structured` pruning, the `pruning_norm` should be provided.")
                    kwargs["n"] = pruning_norm
                kwargs["dim"] = pruning_dim
            pruning_fn = self._create_pruning_fn(pruning_fn, **kwargs)
        elif self._is_pruning_method(pruning_fn):
            if not use_global_unstructured:
                raise MisconfigurationException(
                    "PyTorch `BasePruningMethod` is currently only supported with `use_global_unstructured=True`.")
        else:
            raise MisconfigurationException(
                f"`pruning_fn` is expected to be a str in {list(_FUNCTIONS.keys())} or a PyTorch `BasePruningMethod`."
                f" Found: {pruning_fn}. HINT: if passing a `BasePruningMethod`, pass the class, not an instance")
        if use_global_unstructured and pruning_fn.PRUNING_TYPE != "unstructured":
            raise MisconfigurationException(
                'Only the "unstructured" PRUNING_TYPE is supported with `use_global_unstructured=True`.'
                f" Found method {pruning_fn} of type {pruning_fn.PRUNING_TYPE}. ")
        self.pruning_fn = pruning_fn
        self._apply_pruning = apply_pruning
        self._make_pruning_permanent = make_pruning_permanent
        if not (isinstance(amount, (int, float)) or callable(amount)):
            raise MisconfigurationException(
                "`amount` should be provided and be either an int, a float or Callable function.")
        self.amount = amount
        if verbose not in (0, 1, 2):
            raise MisconfigurationException("`verbose` must be any of (0, 1, 2)")
        self._verbose = verbose

    def filter_parameters_to_prune(self, parameters_to_prune=()):
        """Override to choose which of the (module, name) pairs get pruned."""
        return parameters_to_prune

    def _create_pruning_fn(self, pruning_fn, **kwargs):
        """The pruning method class (global pruning) or function (layer by layer, with ``kwargs`` bound)."""
        method = _METHODS[pruning_fn] if self._use_global_unstructured else _FUNCTIONS[pruning_fn]
        self._pruning_method_name = method.__name__
        if self._use_global_unstructured:
            self._global_kwargs = kwargs
            return method
        return ModelPruning._wrap_pruning_fn(method, **kwargs)

    @staticmethod
    def _wrap_pruning_fn(pruning_fn, **kwargs):
        return partial(pruning_fn, **kwargs)

    def make_pruning_permanent(self, module):
        """Applies every pruning mask for good and removes the pruning hooks and buffers."""
        for _, submodule in module.named_modules():
            for key in list(submodule._forward_pre_hooks):
                hook = submodule._forward_pre_hooks[key]
                if isinstance(hook, _prune.BasePruningMethod):
                    hook.remove(submodule)
                    del submodule._forward_pre_hooks[key]

    @staticmethod
    def _copy_param(new, old, name):
        dst = getattr(new, name + "_orig") if hasattr(new, name + "_orig") else getattr(new, name)
        src = getattr(old, name)
        if dst is None or src is None or not isinstance(dst, ember.Tensor) or not isinstance(src, ember.Tensor):
            return
        dst.data = src.data.to(dst.device)

    def apply_lottery_ticket_hypothesis(self):
        """Resets the pruned parameters to their values before training (or to a fresh initialisation with
        ``resample_parameters``), keeping the masks."""
        for layer in self._original_layers.values():
            copy = layer["data"]
            if self._resample_parameters and callable(getattr(copy, "reset_parameters", None)):
                copy = deepcopy(copy)
                copy.reset_parameters()
            for i, name in layer["names"]:
                new, _ = self._parameters_to_prune[i]
                self._copy_param(new, copy, name)

    def _apply_local_pruning(self, amount):
        for module, name in self._parameters_to_prune:
            self.pruning_fn(module, name=name, amount=amount)

    def _resolve_global_kwargs(self, amount):
        self._global_kwargs["amount"] = amount
        params = set(inspect.signature(self.pruning_fn).parameters)
        params.discard("self")
        return {k: v for k, v in self._global_kwargs.items() if k in params}

    def _apply_global_pruning(self, amount):
        _prune.global_unstructured(self._parameters_to_prune, pruning_method=self.pruning_fn,
                                   **self._resolve_global_kwargs(amount))

    @staticmethod
    def _get_pruned_stats(module, name):
        mask = getattr(module, f"{name}_mask", None)
        if mask is None:
            return 0, 1
        return (mask == 0).sum().item(), mask.numel()

    def apply_pruning(self, amount):
        """Prunes ``parameters_to_prune`` by ``amount``."""
        if self._verbose:
            before = [self._get_pruned_stats(m, n) for m, n in self._parameters_to_prune]
        if self._use_global_unstructured:
            self._apply_global_pruning(amount)
        else:
            self._apply_local_pruning(amount)
        if self._verbose:
            after = [self._get_pruned_stats(m, n) for m, n in self._parameters_to_prune]
            self._log_sparsity_stats(before, after, amount=amount)

    @rank_zero_only
    def _log_sparsity_stats(self, prev, curr, amount=0):
        total = sum(size for _, size in curr)
        before, after = sum(zeros for zeros, _ in prev), sum(zeros for zeros, _ in curr)
        log.info(f"Applied `{self._pruning_method_name}`. Pruned: {before}/{total} ({before / total:.2%}) ->"
                 f" {after}/{total} ({after / total:.2%})")
        if self._verbose == 2:
            for i, (module, name) in enumerate(self._parameters_to_prune):
                (zeros_before, size_before), (zeros_after, size_after) = prev[i], curr[i]
                log.info(f"Applied `{self._pruning_method_name}` to `{module!r}.{name}` with amount={amount}. Pruned:"
                         f" {zeros_before} ({zeros_before / size_before:.2%}) ->"
                         f" {zeros_after} ({zeros_after / size_after:.2%})")

    def setup(self, trainer, pl_module, stage):
        parameters = self.sanitize_parameters_to_prune(pl_module, self._parameters_to_prune,
                                                       parameter_names=self._parameter_names)
        self._parameters_to_prune = self.filter_parameters_to_prune(parameters)
        if self._use_lottery_ticket_hypothesis:   # the layers as they start, to reset the survivors to
            self._original_layers = {}
            for i, (module, name) in enumerate(self._parameters_to_prune):
                layer = self._original_layers.setdefault(id(module), {"data": deepcopy(module), "names": []})
                layer["names"].append((i, name))

    def _run_pruning(self, current_epoch):
        prune = self._apply_pruning(current_epoch) if callable(self._apply_pruning) else self._apply_pruning
        amount = self.amount(current_epoch) if callable(self.amount) else self.amount
        if not prune or not amount:
            return
        self.apply_pruning(amount)
        lottery = self._use_lottery_ticket_hypothesis
        if lottery(current_epoch) if callable(lottery) else lottery:
            self.apply_lottery_ticket_hypothesis()

    def on_train_epoch_end(self, trainer, pl_module):
        if self._prune_on_train_epoch_end:
            rank_zero_debug("`ModelPruning.on_train_epoch_end`. Applying pruning")
            self._run_pruning(pl_module.current_epoch)

    def on_validation_epoch_end(self, trainer, pl_module):
        if not trainer.sanity_checking and not self._prune_on_train_epoch_end:
            rank_zero_debug("`ModelPruning.on_validation_epoch_end`. Applying pruning")
            self._run_pruning(pl_module.current_epoch)

    def on_train_end(self, trainer, pl_module):
        if self._make_pruning_permanent:
            rank_zero_debug("`ModelPruning.on_train_end`. Pruning is made permanent for this checkpoint")
            self.make_pruning_permanent(pl_module)

    def _make_pruning_permanent_on_state_dict(self, pl_module):
        state_dict = pl_module.state_dict()
        for name in {k.replace("_mask", "") for k in state_dict if k.endswith("_mask")}:
            orig, mask = state_dict.pop(name + "_orig"), state_dict.pop(name + "_mask")
            state_dict[name] = mask.to(dtype=orig.dtype) * orig
        return {k: v.cpu() if isinstance(v, ember.Tensor) else v for k, v in state_dict.items()}

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        if self._make_pruning_permanent:   # the checkpoint gets pruned weights; training keeps its masks
            rank_zero_debug("`ModelPruning.on_save_checkpoint`. Pruning is made permanent for this checkpoint")
            checkpoint["state_dict"] = self._make_pruning_permanent_on_state_dict(pl_module)

    @staticmethod
    def sanitize_parameters_to_prune(pl_module, parameters_to_prune=(), parameter_names=()):
        """``parameters_to_prune`` checked against the module, or every ``parameter_names`` parameter of its leaves
        when empty."""
        parameters = parameter_names or ModelPruning.PARAMETER_NAMES
        current_modules = [m for m in pl_module.modules() if not isinstance(m, _containers())]
        if not parameters_to_prune:
            return [(m, p) for p in parameters for m in current_modules
                    if isinstance(getattr(m, p, None), nn.Parameter)]
        if (isinstance(parameters_to_prune, (list, tuple)) and all(len(p) == 2 for p in parameters_to_prune)
                and all(isinstance(a, nn.Module) and isinstance(b, str) for a, b in parameters_to_prune)):
            missing_modules, missing_parameters = [], []
            for module, name in parameters_to_prune:
                if module not in current_modules:
                    missing_modules.append(module)
                    continue
                if not hasattr(module, name):
                    missing_parameters.append(name)
            if missing_modules or missing_parameters:
                raise MisconfigurationException(
                    "Some provided `parameters_to_prune` don't exist in the model."
                    f" Found missing modules: {missing_modules} and missing parameters: {missing_parameters}")
            return parameters_to_prune
        raise MisconfigurationException("The provided `parameters_to_prune` should either be list of tuple"
                                        " with 2 elements: (nn.Module, parameter_name_to_prune) or None")

    @staticmethod
    def _is_pruning_method(method):
        return inspect.isclass(method) and issubclass(method, _prune.BasePruningMethod)
