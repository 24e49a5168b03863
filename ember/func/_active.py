"""Whether a function transform is running (``torch._C._are_functorch_transforms_active``): a vmap level is active,
or a grad, vjp, jvp or functionalize call is running its function (jacrev, jacfwd and hessian run through these).
While one runs, a dispatch hook checks the user ``autograd.Function``s it applies, as PyTorch's transforms do."""
import contextlib

from ..autograd import _jvp, function as _function
from . import _vmap

_depth = [0]   # grad / vjp / jvp / functionalize calls now running their function
_forward = [0]   # of them, jvp calls (forward mode)
_vmapped = [0]   # of them, jacfwd calls (PyTorch vmaps its jvp)

_EXTENDING = "For more details, please see https://pytorch.org/docs/main/notes/extending.func.html"


@contextlib.contextmanager
def running(forward=False, vmapped=False):
    """The region in which a transform runs the function it transforms (``forward``: a forward-mode one;
    ``vmapped``: one PyTorch computes under vmap, jacfwd)."""
    if not _depth[0]:
        _function.dispatch_hooks.append(_check_functions)
    _depth[0] += 1
    _forward[0] += forward
    _jvp.forward_transforms[0] += forward
    _vmapped[0] += vmapped
    try:
        yield
    finally:
        _depth[0] -= 1
        _forward[0] -= forward
        _jvp.forward_transforms[0] -= forward
        _vmapped[0] -= vmapped
        if not _depth[0]:
            _function.dispatch_hooks.remove(_check_functions)


def transforms_active():
    """True inside any function transform, as PyTorch's functorch levels answer."""
    return bool(_depth[0] or _vmap._levels)


def user_function(cls):
    """Whether ``cls`` is an ``autograd.Function`` of user code (not one of ember's own ops)."""
    return (isinstance(cls, type) and issubclass(cls, _function.Function)
            and not issubclass(cls, _function.Primitive) and not cls.__module__.startswith("ember."))


def check_setup_context(cls):
    """PyTorch's error for a Function without ``setup_context`` (forward taking ctx) inside a transform."""
    if cls.setup_context is _function.Function.setup_context:
        raise RuntimeError("In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, jacrev, "
                           f"...), it must override the setup_context staticmethod. {_EXTENDING}")


def check_vmap_support(cls):
    """PyTorch's error for a Function without a vmap rule under vmap."""
    if not (defines(cls, "vmap") or getattr(cls, "generate_vmap_rule", False)):
        raise RuntimeError(f"You tried to vmap over {cls.__name__}, but it does not have vmap support. Please override "
                           "and implement the vmap staticmethod or set generate_vmap_rule=True. " + _EXTENDING)


def defines(cls, name):
    """Whether a user Function class defines the staticmethod ``name`` itself (not inherited from Function)."""
    for klass in cls.__mro__:
        if klass is _function.Function:
            return False
        if name in vars(klass):
            return True
    return False


def _check_functions(cls, args, kwargs, proceed):
    """The dispatch hook while a transform runs: user Functions need ``setup_context`` (and ``jvp`` under jvp);
    under jvp, ops PyTorch has no forward derivative for raise its error."""
    if _forward[0]:
        _jvp.refuse_in_transform(cls, args, kwargs)
    if user_function(cls):
        check_setup_context(cls)
        if _vmapped[0]:
            check_vmap_support(cls)
        if _forward[0] and not defines(cls, "jvp"):
            raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                      "with forward mode AD.")
    return proceed(args, kwargs)
