"""What PyTorch's backend modules share: the ``flags(...)`` context manager (set some of a module's switches for a
block, then put the previous values back) and the ``verbose`` blocks of libraries ember does not call."""
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


class Silent:
    """A ``verbose(...)`` block of a library ember does not call: there is nothing to print, so it does nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False
