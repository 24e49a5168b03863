"""What PyTorch's backend modules share: the ``flags(...)`` context manager (set some of a module's switches for a
block, then put the previous values back), the global-flags freeze (``disable_global_flags``: the cuDNN and oneDNN
switches may then change only inside ``flags(...)`` blocks) and the ``verbose`` blocks of libraries ember does not
call."""
import contextlib
import types

_mutation_allowed = True   # PyTorch's torch.backends.__allow_nonbracketed_mutation_flag


def disable_global_flags():
    """From now on the cuDNN and oneDNN switches may be set only inside their ``flags(...)`` blocks."""
    global _mutation_allowed
    _mutation_allowed = False


def flags_frozen():
    """Whether ``disable_global_flags()`` has run (outside an ``allow_nonbracketed_mutation`` block)."""
    return not _mutation_allowed


@contextlib.contextmanager
def allow_nonbracketed_mutation():
    """Lets the switches be set inside the block even after ``disable_global_flags()`` (MONAI's set_determinism)."""
    global _mutation_allowed
    previous, _mutation_allowed = _mutation_allowed, True
    try:
        yield
    finally:
        _mutation_allowed = previous


class FlagModule(types.ModuleType):
    """A backend module whose switches (its ``_FLAGS``) refuse plain assignment while the flags are frozen."""

    def __setattr__(self, name, value):
        if name in vars(self).get("_FLAGS", ()) and flags_frozen():
            raise RuntimeError(f"not allowed to set {self.__name__.replace('ember', 'torch', 1)} flags after "
                               "disable_global_flags; please use flags() context manager instead")
        super().__setattr__(name, value)


@contextlib.contextmanager
def switched(module, **values):
    """Sets ``module``'s attributes to ``values`` inside the block and restores them after it."""
    with allow_nonbracketed_mutation():
        previous = {name: getattr(module, name) for name in values}
        for name, value in values.items():
            setattr(module, name, value)
    try:
        yield
    finally:
        with allow_nonbracketed_mutation():
            for name, value in previous.items():
                setattr(module, name, value)


class Silent:
    """A ``verbose(...)`` block of a library ember does not call: there is nothing to print, so it does nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False
