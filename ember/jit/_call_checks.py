"""The argument checks of a call into a scripted function or method: each argument against its parameter's type
(its annotation, or Tensor for an unannotated parameter without a default, as TorchScript infers), with
TorchScript's error."""
import inspect
import typing

from .._tensor import Tensor

__all__ = []

_ACCEPTS = {   # the types of the values TorchScript takes for each parameter type
    "Tensor": (Tensor,),
    "float": (float, int),   # ints and bools widen, as TorchScript's
    "int": (int,),
    "bool": (int,),   # TorchScript takes an int for a bool too
    "str": (str,),
}
_NAMES = {float: "float", int: "int", bool: "bool", str: "str"}


def _type_name(annotation):
    """TorchScript's name of a simple annotation ("float", "Optional[int]"), or None for one not checked."""
    if isinstance(annotation, str):
        text = annotation.replace("typing.", "").replace("torch.", "").replace("ember.", "").strip()
        return text if text in _ACCEPTS else None
    if isinstance(annotation, type) and issubclass(annotation, Tensor) or getattr(annotation, "__name__", "") == \
            "Tensor":
        return "Tensor"
    if annotation in _NAMES:
        return _NAMES[annotation]
    arguments = typing.get_args(annotation)
    if len(arguments) == 2 and type(None) in arguments:
        inner = _type_name(next(a for a in arguments if a is not type(None)))
        return f"Optional[{inner}]" if inner else None
    return None


def _found(value):
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


class CallChecks:
    """Checks the arguments of calls of ``name`` with ``parameters`` (an ``inspect`` list, ``self`` left out: a
    method's ``first`` position is 1)."""

    def __init__(self, name, parameters, first=0):
        self.name, self.checks = name, {}
        for position, parameter in enumerate(parameters, first):
            inferred = parameter.annotation is inspect.Parameter.empty
            expected = "Tensor" if inferred and parameter.default is inspect.Parameter.empty else \
                None if inferred else _type_name(parameter.annotation)
            if expected is not None:
                optional = expected.startswith("Optional[")
                accepted = _ACCEPTS[expected[9:-1] if optional else expected] + ((type(None),) if optional else ())
                self.checks[parameter.name] = (accepted, position, expected, inferred)
        self.positional = [self.checks.get(p.name) for p in parameters]

    def __call__(self, args, kwargs):
        for check, value in zip(self.positional, args):
            if check is not None and not isinstance(value, check[0]):
                self._fail(check, value)
        for name, value in kwargs.items():
            check = self.checks.get(name)
            if check is not None and not isinstance(value, check[0]):
                self._fail(check, value)

    def _fail(self, check, value):
        _, position, expected, inferred = check
        name = [n for n, c in self.checks.items() if c is check][0]
        shown = "Tensor (inferred)" if inferred else expected
        because = (f"Inferred '{name}' to be of type 'Tensor' because it was not annotated with an explicit "
                   "type.\n") if inferred else ""
        raise RuntimeError(f"{self.name}() Expected a value of type '{shown}' for argument '{name}' but instead "
                           f"found type '{_found(value)}'.\n{because}Position: {position}\nValue: {value!r}")
