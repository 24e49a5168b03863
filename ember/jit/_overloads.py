"""``torch.jit._overload`` and ``_overload_method``: typed declarations of an overloaded function or method for
TorchScript, kept by qualified name. In eager code the implementation defined after the declarations is what runs;
the declarations are only checked (their body must be ``pass`` or ``...``) and recorded, as in PyTorch."""
import ast
import inspect
import textwrap
import warnings

_OVERLOAD_EXAMPLE = """
Example usage of overload function:
@torch.jit._overload
def my_function(x: type0) -> type0: # decl 1
    pass

@torch.jit._overload
def my_function(x: type1) -> type1: # decl 2
    pass

def my_function(x):                 # implementation
    if isinstance(x, type0):
        return x
    elif isinstance(x, type1):
        return x
"""

_overloaded_fns = {}
"""qualified name -> the overload declarations of a function, in order."""
_overloaded_methods = {}
"""qualified name -> class name -> the overload declarations of a method, in order."""
_overloaded_method_class_fileno = {}


def _qualified_name(obj):
    name = "_lambda" if obj.__name__ == "<lambda>" else obj.__name__
    module = "__torch__" if obj.__module__ == "__main__" else "__torch__." + obj.__module__
    return f"{module}.{name}"


def _check_overload_body(func):
    try:
        lines, _ = inspect.getsourcelines(func)
    except OSError:   # no source: PyTorch only warns
        warnings.warn(f"Unable to retrieve source for @torch.jit._overload function: {func}.", stacklevel=3)
        return
    source = textwrap.dedent("".join(lines))
    body = ast.parse(source).body[0].body

    def is_pass_or_ellipsis(statement):
        return isinstance(statement, ast.Pass) or (isinstance(statement, ast.Expr)
                                                   and isinstance(statement.value, ast.Constant)
                                                   and statement.value.value is Ellipsis)

    if len(body) != 1 or not is_pass_or_ellipsis(body[0]):
        message = "Only `pass` statement or `...` can be the body of overload declaration:\n"
        message += "\n".join(source.split("\n")[:3])
        message += " <- Expecting `pass` or `...` here!\n" + _OVERLOAD_EXAMPLE
        raise RuntimeError(message)


def _overload(func):
    """Declares one typed overload of a function for TorchScript (the body must be ``pass`` or ``...``); returns
    ``func``, which the implementation defined next under the same name replaces."""
    _check_overload_body(func)
    _overloaded_fns.setdefault(_qualified_name(func), []).append(func)
    return func


def _get_fn_overloads(qual_name):
    """The overload declarations recorded for the function ``qual_name``, or None."""
    return _overloaded_fns.get(qual_name)


def _clear_fn_overloads(qual_name):
    del _overloaded_fns[qual_name]


def _overload_method(func):
    """Declares one typed overload of a method for TorchScript (the body must be ``pass`` or ``...``)."""
    _check_overload_body(func)
    qual_name = _qualified_name(func)
    frame = inspect.currentframe().f_back   # the class body being executed
    class_name, line_no = frame.f_code.co_name, frame.f_code.co_firstlineno
    class_map = _overloaded_methods.setdefault(qual_name, {})
    if class_name not in class_map:
        class_map[class_name] = []
        _overloaded_method_class_fileno[(qual_name, class_name)] = line_no
    elif _overloaded_method_class_fileno[(qual_name, class_name)] != line_no:
        raise RuntimeError("Cannot currently overload the same method name in two different"
                           " classes with the same name in the same module")
    class_map[class_name].append(func)
    return func


def _get_overloaded_methods(item, mod_class):
    """The overload declarations of method ``item`` recorded in class ``mod_class``, or None."""
    if not hasattr(item, "__name__"):
        raise AttributeError("Could not get name of python class object")
    class_map = _overloaded_methods.get(_qualified_name(item))
    if class_map is None:
        return None
    return class_map.get(mod_class.__name__)
