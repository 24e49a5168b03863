"""The ``flags(...)`` context manager PyTorch's backend modules share: set some of a module's switches for a block,
then put the previous values back."""
import contextlib


@contextlib.contextmanager
def switched(module, **values):
    """Sets ``module``'s attributes to ``values`` inside the block and restores them after it."""
    previous = {name: getattr(module, name) for name in values}
    for name, value in values.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in previous.items():
            setattr(module, name, value)
