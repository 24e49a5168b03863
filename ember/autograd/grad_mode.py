"""Switches for gradient recording: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each is a context manager and a decorator (with or without parentheses for those that take no argument); a
decorated generator function runs every step of the generator under the switch, as in PyTorch.
"""
import functools
import inspect

from .._tensor import Tensor, grad_state as state


def is_grad_enabled():
    """True when ops record a graph for autograd."""
    return state.enabled


def is_inference_mode_enabled():
    """True inside ``inference_mode()``."""
    return state.inference


class _DecoratorContextManager:
    """A context manager that also works as a decorator (``torch.utils._contextlib``'s base): each decorated call
    enters a fresh ``clone()``, and a decorated generator function runs every step of the generator inside one."""

    def __call__(self, function):
        if inspect.isgeneratorfunction(function):
            return self._wrap_generator(function)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.clone():
                return function(*args, **kwargs)
        return wrapper

    def _wrap_generator(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            generator = function(*args, **kwargs)
            try:
                with self.clone():
                    response = generator.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            generator.close()
                        raise
                    except BaseException as error:
                        with self.clone():
                            response = generator.throw(error)
                    else:
                        with self.clone():
                            response = generator.send(request)
            except StopIteration as stop:
                return stop.value
        return wrapper

    def clone(self):
        """A fresh context manager with the same setting (each decorated call enters its own)."""
        return type(self)()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """One that takes no argument, so it decorates without parentheses too (``@no_grad``)."""

    def __new__(cls, function=None):
        self = super().__new__(cls)
        return self if function is None else self(function)


class _GradSwitch(_DecoratorContextManager):
    """Base of the grad-mode context managers."""

    mode = True

    def __enter__(self):
        self._previous = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc):
        state.enabled = self._previous
        return False


class no_grad(_NoParamDecoratorContextManager, _GradSwitch):
    """Context manager and decorator that turns off gradient recording."""

    mode = False


class enable_grad(_NoParamDecoratorContextManager, _GradSwitch):
    """Context manager and decorator that turns gradient recording on (inside a ``no_grad`` block, say)."""

    mode = True


class set_grad_enabled(_GradSwitch):
    """Sets gradient recording on or off; works as a function call, a context manager and a decorator."""

    def __init__(self, mode):
        if mode is not True and mode is not False:   # PyTorch's parser takes a bool only
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not "
                            f"{_type_name(mode)}")
        self._previous = state.enabled
        self.mode = mode
        state.enabled = self.mode

    def __enter__(self):
        state.enabled = self.mode

    def __call__(self, function):
        state.enabled = self._previous
        return super().__call__(function)

    def clone(self):
        return set_grad_enabled(self.mode)


def _type_name(value):
    """A value's type as PyTorch's argument parser names it (``Tensor``, ``numpy.bool``, ``str``)."""
    kind = type(value)
    if isinstance(value, Tensor):
        return "Tensor"
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def check_inference_write(tensor):
    """PyTorch's error for changing an inference tensor (made in ``inference_mode``) in place outside it."""
    if not state.inference and (tensor._inference if tensor._base is None else tensor._base._inference):
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
                           "clone to get a normal tensor before doing inplace update.See "
                           "https://github.com/pytorch/rfcs/pull/17 for more details.")


class inference_mode(_GradSwitch):
    """Like ``no_grad``, for code that will never need gradients of what it computes."""

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.__init__()
            return self(mode)
        return self

    def __init__(self, mode=True):
        self.inference = bool(mode)

    def __enter__(self):
        self._previous = state.enabled, state.inference
        state.enabled = not self.inference
        state.inference = self.inference

    def __exit__(self, *exc):
        state.enabled, state.inference = self._previous
        return False

    def clone(self):
        return inference_mode(self.inference)
