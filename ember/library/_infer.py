"""``infer_schema``: an operator schema from a function's type hints, with PyTorch's rules and messages."""
import collections.abc
import inspect
import typing
from types import GenericAlias

from .._backend import device
from .._dtype import dtype
from .._tensor import Tensor

Number = int | float | bool
"""``torch.types.Number``: the Python numbers a ``Scalar`` argument takes."""


def _derived(base, schema_type, list_base, optional_base_list, optional_list_base):
    """A Python annotation -> schema type table for one element type and the containers PyTorch accepts of it."""
    def sequences(element):
        return (typing.Sequence[element], typing.List[element],  # noqa: UP006
                GenericAlias(collections.abc.Sequence, (element,)), GenericAlias(list, (element,)))
    table = [(base, schema_type), (typing.Optional[base], f"{schema_type}?")]
    if list_base:
        table += [(sequence, f"{schema_type}[]") for sequence in sequences(base)]
    if optional_base_list:
        table += [(sequence, f"{schema_type}?[]") for sequence in sequences(typing.Optional[base])]
    if optional_list_base:
        table += [(typing.Optional[sequence], f"{schema_type}[]?") for sequence in sequences(base)]
    return table


SUPPORTED_PARAM_TYPES = dict(
    _derived(Tensor, "Tensor", True, True, False) + _derived(int, "SymInt", True, False, True)
    + _derived(float, "float", True, False, True) + _derived(bool, "bool", True, False, True)
    + _derived(str, "str", False, False, False) + _derived(Number, "Scalar", True, False, False)
    + _derived(dtype, "ScalarType", False, False, False) + _derived(device, "Device", False, False, False))

SUPPORTED_RETURN_TYPES = {Tensor: "Tensor", typing.List[Tensor]: "Tensor[]", list[Tensor]: "Tensor[]",  # noqa: UP006
                          int: "SymInt", float: "float", bool: "bool", Number: "Scalar"}

def infer_schema(prototype_function, /, *, mutates_args, op_name=None):
    """The schema of ``prototype_function`` from its type hints, such as ``(Tensor x, SymInt n) -> Tensor``;
    ``mutates_args`` names the Tensor arguments it writes (or is "unknown": all of them)."""
    sig = inspect.signature(prototype_function)
    namespace = prototype_function.__globals__
    if type(mutates_args) is not str:
        mutates_args = tuple(mutates_args)

    def error(what):
        raise ValueError(f"infer_schema(func): {what} Got func with signature {sig})")

    def resolve(annotation):
        if isinstance(annotation, str):
            try:
                return eval(annotation, namespace)
            except NameError as e:
                error(f"Unsupported type annotation {annotation}. It is not a type. ({e}). If you are using 'from "
                      f"__future__ import annotations', note that annotations are evaluated lazily as strings; make "
                      f"sure all types referenced in annotations are importable at module scope, not only inside a "
                      f"local function.")
            except Exception as e:
                error(f"Unsupported type annotation {annotation}. It is not a type. ({type(e).__name__}: {e})")
        origin = typing.get_origin(annotation)
        if origin is not None and origin is not typing.Union and any(isinstance(a, str)
                                                                      for a in typing.get_args(annotation)):
            return GenericAlias(origin, tuple(resolve(a) for a in typing.get_args(annotation)))
        return annotation

    params, seen, starred = [], set(), False
    for idx, (name, param) in enumerate(sig.parameters.items()):
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            error("We do not support positional-only args, varargs, or varkwargs.")
        if param.kind == param.KEYWORD_ONLY and not starred:
            params.append("*")
            starred = True
        if param.annotation is inspect.Parameter.empty:
            error(f"Parameter {name} must have a type annotation.")
        annotation = resolve(param.annotation)
        schema_type = SUPPORTED_PARAM_TYPES.get(annotation)
        if schema_type is None:
            if typing.get_origin(annotation) is tuple:
                error(f"Parameter {name} has unsupported type {param.annotation}. We do not support Tuple inputs in "
                      f"schema. As a workaround, please try to use List instead. {_list_hint(annotation)}"
                      f"The valid types are: {SUPPORTED_PARAM_TYPES.keys()}.")
            error(f"Parameter {name} has unsupported type {param.annotation}. "
                  f"The valid types are: {SUPPORTED_PARAM_TYPES.keys()}.")
        if type(mutates_args) is str:
            if mutates_args != "unknown":
                raise ValueError("mutates_args must either be a sequence of the names of the arguments that are "
                                 "mutated or the string 'unknown'. ")
            if schema_type.startswith("Tensor"):
                schema_type = f"Tensor(a{idx}!){schema_type[len('Tensor'):]}"
        elif name in mutates_args:
            if not schema_type.startswith("Tensor"):
                error(f"Parameter {name} is in mutable_args but only Tensors or collections of Tensors can be "
                      f"mutated")
            schema_type = f"Tensor(a{idx}!){schema_type[len('Tensor'):]}"
        seen.add(name)
        if param.default is inspect.Parameter.empty:
            params.append(f"{schema_type} {name}")
        else:
            params.append(f"{schema_type} {name}={_default_repr(param.default, name, error)}")
    if mutates_args != "unknown":
        unseen = set(mutates_args) - seen
        if unseen:
            error(f"{unseen} in mutates_args were not found in the custom op's signature. mutates_args should "
                  f"contain the names of all args that the custom op mutates, or just the string 'unknown' if you "
                  f"don't know.")
    returns = _parse_return(resolve(sig.return_annotation), error)
    return f"{op_name or ''}({', '.join(params)}) -> {returns}"


def _default_repr(value, name, error):
    if value is None or isinstance(value, (int, float, bool)):
        return str(value)
    if isinstance(value, (str, device)):
        return f'"{value}"'
    if isinstance(value, dtype):
        return str(value).split(".", 1)[1]
    error(f"Parameter {name} has an unsupported default value type {type(value)}. "
          f"Please file an issue on GitHub so we can prioritize this.")


def _list_hint(annotation):
    """PyTorch's suggestion of the list type to use instead of a tuple type, when that list type is supported."""
    args = typing.get_args(annotation)
    if not args:
        suggestion = list
    elif len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis):
        suggestion = list[args[0]]
    else:
        suggestion = list[typing.Union[args]]
    return f"For example, {suggestion}.\n\n" if suggestion in SUPPORTED_PARAM_TYPES else "\n\n"


def _parse_return(annotation, error):
    if annotation is None:
        return "()"
    if annotation is inspect.Parameter.empty:
        error("No return type annotation was provided. Please add one.")
    if typing.get_origin(annotation) is not tuple:
        if annotation not in SUPPORTED_RETURN_TYPES:
            error(f"Return has unsupported type {annotation}. The valid types are: {SUPPORTED_RETURN_TYPES}.")
        return SUPPORTED_RETURN_TYPES[annotation]
    args = typing.get_args(annotation)
    for arg in args:
        if arg not in SUPPORTED_RETURN_TYPES:
            error(f"Return has unsupported type {annotation}. The valid types are: {SUPPORTED_RETURN_TYPES}.")
    types = ", ".join(SUPPORTED_RETURN_TYPES[arg] for arg in args)
    return f"(({types}))" if len(args) == 1 else f"({types})"
