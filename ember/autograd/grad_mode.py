"""Switches for gradient recording: no_grad, enable_grad, set_grad_enabled, inference_mode."""
import functools


class _State:
    enabled = True
    inference = False


state = _State()


def is_grad_enabled():
    """True when ops record a graph for autograd."""
    return state.enabled


def is_inference_mode_enabled():
    """True inside ``inference_mode()``."""
    return state.inference


class _GradSwitch:
    """Base of the grad-mode context managers; each also works as a decorator."""

    mode = True

    def __enter__(self):
        self._previous = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc):
        state.enabled = self._previous
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with type(self)() if type(self) in (no_grad, enable_grad) else self.clone():
                return function(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)(self.mode)


class no_grad(_GradSwitch):
    """Context manager and decorator that turns off gradient recording."""

    mode = False

    def __init__(self):
        pass


class enable_grad(_GradSwitch):
    """Context manager and decorator that turns gradient recording on (inside a ``no_grad`` block, say)."""

    mode = True

    def __init__(self):
        pass


class set_grad_enabled(_GradSwitch):
    """Sets gradient recording on or off; works as a function call, a context manager and a decorator."""

    def __init__(self, mode):
        self._previous = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __enter__(self):
        state.enabled = self.mode

    def __exit__(self, *exc):
        state.enabled = self._previous
        return False


class inference_mode(_GradSwitch):
    """Like ``no_grad``, for code that will never need gradients of what it computes."""

    def __init__(self, mode=True):
        self.mode = not mode

    def __enter__(self):
        self._previous = state.enabled, state.inference
        state.enabled = self.mode
        state.inference = not self.mode

    def __exit__(self, *exc):
        state.enabled, state.inference = self._previous
        return False

    def clone(self):
        return inference_mode(not self.mode)
