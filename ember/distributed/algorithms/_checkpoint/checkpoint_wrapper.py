"""Activation checkpointing and offloading as module wrappers (``torch.distributed.algorithms._checkpoint.
checkpoint_wrapper``), as FSDP programs apply them: ``checkpoint_wrapper(module)`` reruns ``module``'s forward in
backward instead of keeping its activations (``torch.utils.checkpoint``); ``offload_wrapper`` keeps them on the CPU;
``apply_activation_checkpointing`` wraps the submodules a check or wrap policy picks. The wrapped module is
``_checkpoint_wrapped_module``; state dicts and ``named_parameters`` leave that name out, so a checkpointed model
saves and loads as the plain one."""
from enum import Enum, auto
from functools import partial

from ....autograd.graph import save_on_cpu
from ....nn.modules.module import Module
from ....utils.checkpoint import checkpoint as torch_utils_checkpoint

__all__ = ["CheckpointImpl", "ActivationWrapper", "CheckpointWrapper", "OffloadWrapper", "offload_wrapper",
           "checkpoint_wrapper", "apply_activation_checkpointing"]

_CHECKPOINT_WRAPPED_MODULE = "_checkpoint_wrapped_module"
_CHECKPOINT_PREFIX = _CHECKPOINT_WRAPPED_MODULE + "."


class CheckpointImpl(Enum):
    """Which ``torch.utils.checkpoint`` scheme a CheckpointWrapper uses."""

    REENTRANT = auto()
    NO_REENTRANT = auto()


def _replace_by_prefix(state_dict, old_prefix, new_prefix):
    """Renames, in place and in order, the keys starting with ``old_prefix`` to start with ``new_prefix``."""
    if old_prefix == new_prefix:
        raise ValueError("old_prefix and new_prefix must be distinct")
    items = list(state_dict.items())
    state_dict.clear()
    for key, value in items:
        state_dict[new_prefix + key[len(old_prefix):] if key.startswith(old_prefix) else key] = value


class ActivationWrapper(Module):
    """Base of the activation wrappers: holds the module, forwards attribute lookups and indexing to it and leaves
    its name out of state-dict keys and parameter names."""

    def __init__(self, mod):
        super().__init__()
        self._checkpoint_wrapped_module = mod
        self._register_state_dict_hook(self._post_state_dict_hook)
        self.register_load_state_dict_pre_hook(self._pre_load_state_dict_hook)

    def forward(self, *args, **kwargs):
        raise ValueError("Subclasses should implement forward().")

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "_checkpoint_wrapped_module":   # not set yet (during __init__, or unpickling)
                raise
            return getattr(self._checkpoint_wrapped_module, name)

    def __getitem__(self, key):
        return self._checkpoint_wrapped_module.__getitem__(key)

    def named_parameters(self, *args, **kwargs):
        """``Module.named_parameters`` without the ``_checkpoint_wrapped_module.`` parts."""
        for param_name, param in super().named_parameters(*args, **kwargs):
            yield param_name.replace(_CHECKPOINT_PREFIX, ""), param

    @staticmethod
    def _post_state_dict_hook(module, state_dict, prefix, *args):
        _replace_by_prefix(state_dict, f"{prefix}{_CHECKPOINT_PREFIX}", prefix)
        return state_dict

    @staticmethod
    def _pre_load_state_dict_hook(module, state_dict, prefix, *args):
        _replace_by_prefix(state_dict, prefix, prefix + _CHECKPOINT_PREFIX)


class OffloadWrapper(ActivationWrapper):
    """Keeps the wrapped module's saved activations on the CPU."""

    def forward(self, *args, **kwargs):
        with save_on_cpu(pin_memory=True):
            return self._checkpoint_wrapped_module(*args, **kwargs)


class CheckpointWrapper(ActivationWrapper):
    """Runs the wrapped module under ``checkpoint_fn`` (``torch.utils.checkpoint.checkpoint`` by default)."""

    def __init__(self, mod, checkpoint_impl=CheckpointImpl.NO_REENTRANT, checkpoint_fn=None,
                 **checkpoint_fn_kwargs):
        super().__init__(mod)
        self.checkpoint_impl = checkpoint_impl
        if checkpoint_fn is None:
            self.checkpoint_fn = partial(torch_utils_checkpoint,
                                         use_reentrant=self.checkpoint_impl == CheckpointImpl.REENTRANT,
                                         **checkpoint_fn_kwargs)
        else:
            self.checkpoint_fn = partial(checkpoint_fn, **checkpoint_fn_kwargs)

    def forward(self, *args, **kwargs):
        if self.checkpoint_impl == CheckpointImpl.REENTRANT and kwargs != {}:
            keys = tuple(kwargs)
            flat = (*args, *kwargs.values())

            def my_function(*inputs):
                positional = inputs[:len(inputs) - len(keys)]
                named = dict(zip(keys, inputs[len(inputs) - len(keys):]))
                return self._checkpoint_wrapped_module(*positional, **named)
            return self.checkpoint_fn(my_function, *flat)
        return self.checkpoint_fn(self._checkpoint_wrapped_module, *args, **kwargs)


def offload_wrapper(module):
    """Wraps ``module`` so that its saved activations live on the CPU."""
    return OffloadWrapper(module)


def checkpoint_wrapper(module, checkpoint_impl=CheckpointImpl.NO_REENTRANT, checkpoint_fn=None,
                       **checkpoint_fn_kwargs):
    """Wraps ``module`` for activation checkpointing: its forward reruns in backward."""
    return CheckpointWrapper(module, checkpoint_impl, checkpoint_fn, **checkpoint_fn_kwargs)


def apply_activation_checkpointing(model, checkpoint_wrapper_fn=checkpoint_wrapper, check_fn=lambda _: True,
                                   auto_wrap_policy=None):
    """Wraps, in place, the submodules of ``model`` (not ``model`` itself) that ``check_fn`` (or
    ``auto_wrap_policy``) picks, with ``checkpoint_wrapper_fn``."""
    from ...fsdp.wrap import _Policy, _recursive_wrap, lambda_auto_wrap_policy
    policy = auto_wrap_policy if auto_wrap_policy is not None else partial(lambda_auto_wrap_policy,
                                                                           lambda_fn=check_fn)
    if not callable(policy) and not isinstance(policy, _Policy):
        raise ValueError(f"Expected {policy} to be callable or be a pre-defined wrap policy")
    _recursive_wrap(model, auto_wrap_policy=policy, wrapper_cls=checkpoint_wrapper_fn, ignored_modules=set(),
                    ignored_params=set(), only_wrap_children=True)
