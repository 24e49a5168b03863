"""Whether a function transform is running (``torch._C._are_functorch_transforms_active``): a vmap level is active,
or a grad, vjp, jvp or functionalize call is running its function (jacrev, jacfwd and hessian run through these)."""
import contextlib

from . import _vmap

_depth = [0]   # grad / vjp / jvp / functionalize calls now running their function


@contextlib.contextmanager
def running():
    """The region in which a transform runs the function it transforms."""
    _depth[0] += 1
    try:
        yield
    finally:
        _depth[0] -= 1


def transforms_active():
    """True inside any function transform, as PyTorch's functorch levels answer."""
    return bool(_depth[0] or _vmap._levels)
