"""``OptimizedModule``: what ``compile(module)`` returns, with ``torch.compile``'s wrapper behaviour."""
from collections.abc import Sized

from ..nn.modules.module import Module
from ._api import _Compiled


class OptimizedModule(Module):
    """Wraps a module as ``torch.compile`` does: ``_orig_mod`` holds it (state_dict keys gain ``_orig_mod.``),
    attributes and ``training`` read and write through to it, and calls run its compiled ``__call__``."""

    _opt_mod_attributes = frozenset({"_orig_mod", "dynamo_ctx", "_torchdynamo_orig_callable", "forward", "_forward",
                           "__dict__", "_super_module_initialized", "_ember_compiled"})

    def __init__(self, mod, settings):
        object.__setattr__(self, "_orig_mod", mod)   # first: attribute access goes through _orig_mod
        self._super_module_initialized = False
        super().__init__()
        self._super_module_initialized = True
        self._orig_mod = mod
        self._ember_compiled = _Compiled(mod.__call__, mod, settings)
        self.forward = self._ember_compiled
        self._torchdynamo_orig_callable = mod.__call__

    def __len__(self):
        if isinstance(self._orig_mod, Sized):
            return len(self._orig_mod)
        raise TypeError(f"{type(self._orig_mod).__name__} does not support len()")

    @property
    def training(self):
        return self._orig_mod.training

    @training.setter
    def training(self, value):
        if self._super_module_initialized:   # Module.__init__'s default is not copied onto _orig_mod
            self._orig_mod.training = value

    def __getattr__(self, name):
        if name == "_orig_mod":
            return self._modules["_orig_mod"]
        return getattr(self._orig_mod, name)

    def __setattr__(self, name, value):
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__setattr__(name, value)
        return setattr(self._orig_mod, name, value)

    def __delattr__(self, name):
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__delattr__(name)
        return delattr(self._orig_mod, name)

    def __reduce__(self):
        return (OptimizedModule, (self._orig_mod, self._ember_compiled.settings))

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("forward", None)
        return state

    def __dir__(self):
        names = self._orig_mod.__dir__()
        return names + [n for n in super().__dir__() if n not in names]
