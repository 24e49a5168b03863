"""PyTorch's argument-parser errors (``add(): argument 'other' (position 1) must be Tensor, not str``, ``sum()
received an invalid combination of arguments - got (...)``), computed on the error path only.

ember's ops check no argument types up front. Where an op's code fails on an argument of the wrong type, the
failing site (a dim that is not an int, a scalar that is not a number, a size that is not a tuple of ints, a
wrapper that saw the op raise) calls ``check``: it finds the op's frame, rebuilds the call from the frame's
arguments and the caller's call instruction (how many arguments went by position, which by keyword, whether the
op was called as a Tensor method), matches the call against PyTorch's signatures of the op (``_signatures``) as
torch's ``python_arg_parser`` does, and raises torch's TypeError where no signature accepts it. A call that some
signature accepts raises nothing here: the op's own error stands. Correct calls never come here.
"""
import dis
import inspect
import os
import sys

from . import _dtype

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_CALLS = {"CALL", "CALL_FUNCTION", "CALL_METHOD", "PRECALL"}
_parsed = {}


def _parts(text):
    """A signature's parameters: ``text`` split at each ", " outside brackets (``dims = (0, 1)`` is one part)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0 and text.startswith(", ", index):
            parts.append(text[start:index])
            start = index + 2
    return parts + [text[start:]] if text else parts


class _Parameter:
    __slots__ = ("type", "name", "optional", "none", "keyword_only", "sized")

    def __init__(self, text, keyword_only):
        text, _, default = text.partition(" = ")
        self.type, _, self.name = text.rpartition(" ")
        self.sized = self.type.endswith("*")   # an int list of a fixed size (int[1] dim): a single int is one too
        self.none = default == "None" or self.type.endswith("?")
        self.type = self.type.rstrip("*?")
        self.optional = bool(default)
        self.keyword_only = keyword_only


class _Signature:
    def __init__(self, text):
        self.text = text.replace("*,", "\0").replace("*", "").replace("\0", "*,").replace("Tensor? ", "Tensor ")
        self.parameters, keyword_only = [], False
        for part in _parts(text):
            if part == "*":
                keyword_only = True
            else:
                self.parameters.append(_Parameter(part, keyword_only))
        self.max_positional = sum(not p.keyword_only for p in self.parameters)
        self.min_args = sum(not p.optional for p in self.parameters)
        self.max_args = len(self.parameters)


def _signatures(name, method):
    """(torch's name, [_Signature], overloaded, numbers pass as tensors) of the op ``name`` called as a function or
    a Tensor method, or None. ``overloaded``: PyTorch parses against several signatures and reports a mismatch
    against all of them; otherwise its one signature names the argument that does not fit."""
    key = (name, method)
    if key not in _parsed:
        from . import _signatures as table
        torch_name, as_function = table.RENAMED.get(name, (name.removeprefix("_VF."), False))
        method = method and not as_function
        texts = table.METHODS.get(name) if method else None
        if texts is None:
            texts = table.FUNCTIONS.get(name, table.VF_CALLS.get(name))
            if texts is not None and method:
                texts = _as_method(texts) if isinstance(texts, str) else [_as_method(t) for t in texts]
        if texts is None:
            _parsed[key] = None
        else:
            overloaded = not isinstance(texts, str)
            signatures = [_Signature(t) for t in (texts if overloaded else [texts])]
            _parsed[key] = (torch_name, signatures, overloaded, name.rstrip("_") in table.NUMBERS_AS_TENSORS)
    return _parsed[key]


def _known(name):
    from . import _signatures as table
    return name in table.FUNCTIONS or name in table.METHODS or name in table.RENAMED


def _as_method(text):
    """A function signature's Tensor-method form: no ``input`` (the tensor itself) and no ``out``."""
    parts = [p for p in _parts(text) if not p.endswith(" out = None")]
    if parts and parts[0].startswith("Tensor "):
        parts = parts[1:]
    if parts and parts[-1] == "*":
        parts = parts[:-1]
    return ", ".join(parts)


# ember's classes that are C types in PyTorch, whose errors name them by their full name
_C_TYPE_NAMES = {"dtype": "torch.dtype", "device": "torch.device", "layout": "torch.layout",
                 "memory_format": "torch.memory_format", "Size": "torch.Size", "finfo": "torch.finfo",
                 "iinfo": "torch.iinfo", "qscheme": "torch.qscheme", "Generator": "torch._C.Generator"}


def _type_name(value):
    kind = type(value)
    module = kind.__module__
    if module is not None and module.startswith("ember"):
        return _C_TYPE_NAMES.get(kind.__name__, kind.__name__)
    if module in ("builtins", None) or module.startswith("torch"):
        return kind.__name__
    return f"{module}.{kind.__name__}"


def _listed_type_name(value):
    """A type name as PyTorch's marked argument lists show it: a list's or tuple's with its elements' (``list of
    [float, int]``, ``torch.Size of (int,)``)."""
    name = _type_name(value)
    if isinstance(value, list):
        return f"{name} of [{', '.join(_type_name(item) for item in value)}]"
    if isinstance(value, tuple):
        return f"{name} of ({', '.join(_type_name(item) for item in value)}{',' if len(value) == 1 else ''})"
    return name


def _tensor_class():
    return sys.modules["ember._tensor"].Tensor


def _is_int(value, tensor):
    if isinstance(value, bool):
        return False
    if isinstance(value, int) or type(value).__module__ == "numpy" and type(value).__name__.startswith(("int", "uint")):
        return True
    return isinstance(value, tensor) and value.ndim == 0 and value.dtype._category == _dtype._INT and \
        not value.requires_grad


def _is_float(value, tensor):
    import numbers
    if isinstance(value, (int, float)) or isinstance(value, numbers.Real) and type(value).__module__ == "numpy":
        return True
    return isinstance(value, tensor) and value.ndim == 0 and not value.requires_grad


def _accepts(parameter, value, numbers_as_tensors):
    """PyTorch's FunctionParameter::check: (accepted, index of the first list element that is not an int)."""
    tensor = _tensor_class()
    kind = parameter.type
    if parameter.name == "out":   # a tensor or, for ops of several results, a tuple of them: the op checks it
        return True, -1
    if kind == "Tensor":
        if isinstance(value, tensor):
            return True, -1
        return numbers_as_tensors and _is_number(value, tensor), -1
    if kind == "Number":
        return _is_number(value, tensor), -1
    if kind == "int":
        return _is_int(value, tensor), -1
    if kind == "float":
        return _is_float(value, tensor), -1
    if kind == "bool":
        return isinstance(value, bool) or type(value).__name__ == "bool_", -1
    if kind == "str":
        return isinstance(value, str), -1
    if kind == "tuple of ints":
        if parameter.sized and _is_int(value, tensor):
            return True, -1
        if not isinstance(value, (tuple, list)):
            return False, -1
        if not value or _is_int(value[0], tensor):
            return True, -1
        return False, 0
    if kind in ("tuple of Tensors", "tuple of floats"):
        return isinstance(value, (tuple, list)), -1
    if kind == "torch.dtype":
        return isinstance(value, _dtype.dtype) or value in (float, int, bool, complex), -1
    if kind == "torch.device":
        return type(value).__name__ == "device" or isinstance(value, str) or _is_int(value, tensor), -1
    if kind == "torch.Generator":
        return type(value).__name__ == "Generator", -1
    if kind == "torch.layout":
        return type(value).__name__ == "layout", -1
    if kind == "torch.memory_format":
        return type(value).__name__ == "memory_format", -1
    return True, -1


def _is_number(value, tensor):
    import numbers
    if isinstance(value, (bool, int, float, complex)) or isinstance(value, numbers.Number) and \
            type(value).__module__ == "numpy":
        return True
    return isinstance(value, tensor) and value.ndim == 0 and not value.requires_grad


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _extra_args(name, signature, nargs):
    """PyTorch's error for more positional arguments than ``signature`` takes."""
    given = f"{nargs} {'was' if nargs == 1 else 'were'} given"
    if signature.min_args != signature.max_positional:   # (PyTorch's plural here whatever the count)
        return TypeError(f"{name}() takes from {signature.min_args} to {signature.max_positional} positional "
                         f"arguments but {nargs} were given")
    return TypeError(f"{name}() takes {_plural(signature.max_positional, 'positional argument')} but {given}")


def _parse(name, signature, args, kwargs, numbers_as_tensors, raise_error):
    """PyTorch's FunctionSignature::parse: True where ``signature`` takes the call; with ``raise_error`` a mismatch
    raises its TypeError."""
    nargs = len(args)
    # f(2, 3) for f((2, 3)): the positional arguments are the int list where the first is an int
    varargs = signature.max_positional == 1 and signature.parameters[0].type == "tuple of ints" and nargs > 0 and \
        _is_int(args[0], _tensor_class())
    if nargs > signature.max_positional and not varargs:
        if raise_error:
            raise _extra_args(name, signature, nargs)
        return False
    remaining = len(kwargs)
    position = 0
    for index, parameter in enumerate(signature.parameters):
        keyword = False
        value = missing = object()
        if position < nargs:
            if parameter.keyword_only:
                if raise_error:
                    raise _extra_args(name, signature, nargs)
                return False
            value = args[position]
        else:
            value = kwargs.get(parameter.name, missing)
            keyword = True
        if value is missing:
            if parameter.optional:
                continue
            if raise_error:
                absent = [p.name for p in signature.parameters[index:] if not p.optional]   # given ones too
                raise TypeError(f"{name}() missing {len(absent)} required positional "   # PyTorch's plural, inverted
                                f"argument{'s' if len(absent) == 1 else ''}: " + ", ".join(f'"{a}"' for a in absent))
            return False
        accepted, failed = (True, -1) if value is None and parameter.none else \
            _accepts(parameter, value, numbers_as_tensors)
        if not accepted and varargs and position == 0 and not keyword:
            position = nargs   # the sizes, their elements checked by _unpack
            continue
        if not accepted:
            if not raise_error:
                return False
            if keyword:
                raise TypeError(f"{name}(): argument '{parameter.name}' must be {parameter.type}, not "
                                f"{_type_name(value)}")
            if failed != -1:
                raise TypeError(f"{name}(): argument '{parameter.name}' (position {position + 1}) must be "
                                f"{parameter.type}, but found element of type {_type_name(value[failed])} at pos "
                                f"{failed}")
            raise TypeError(f"{name}(): argument '{parameter.name}' (position {position + 1}) must be "
                            f"{parameter.type}, not {_type_name(value)}")
        if keyword:
            remaining -= 1
        else:
            position += 1
    if remaining > 0:
        if raise_error:
            names = {p.name for p in signature.parameters}
            for key in kwargs:
                if key not in names:
                    raise TypeError(f"{name}() got an unexpected keyword argument '{key}'")
            raise TypeError(f"{name}() got multiple values for argument '{next(iter(kwargs))}'")
        return False
    return True


def _unpack(name, signature, args, kwargs):
    """The errors PyTorch raises converting the arguments of the signature that took the call: int lists and
    tensor lists are checked element by element only then."""
    tensor = _tensor_class()
    varargs = signature.max_positional == 1 and signature.parameters[0].type == "tuple of ints"
    if varargs and len(args) > 1 or varargs and len(args) == 1 and _is_int(args[0], tensor):
        args = (tuple(args),)
    for index, parameter in enumerate(signature.parameters):
        value = args[index] if index < len(args) and not parameter.keyword_only else kwargs.get(parameter.name)
        if parameter.type == "tuple of ints" and isinstance(value, (tuple, list)):
            for i, element in enumerate(value):
                if not _is_int(element, tensor) and not isinstance(element, bool):
                    raise TypeError(f"{name}(): argument '{parameter.name}' failed to unpack the object at pos "
                                    f"{i + 1} with error \"type must be tuple of ints,but got "
                                    f"{_type_name(element)}\"")
        elif parameter.type == "tuple of Tensors" and isinstance(value, (tuple, list)):
            for i, element in enumerate(value):
                if not isinstance(element, tensor):
                    raise TypeError(f"expected Tensor as element {i} in argument {index}, but got "
                                    f"{_type_name(element)}")


def _describe(args, kwargs):
    """PyTorch's _argDesc: the types of a call's arguments (its trailing ", " kept after keywords alone)."""
    text = "".join(f"{_type_name(a)}, " for a in args) + "".join(f"{k}={_type_name(v)}, " for k, v in kwargs.items())
    return "(" + (text[:-2] if args else text) + ")"


def _formatted(signature, args, kwargs, parts=None):
    """PyTorch's _formattedArgDesc: the call's types, those not matching the signature's part at their index (split
    at ", " as PyTorch does, so ``*`` and ``Number alpha = 1`` never match) marked ``!type!``; None where a keyword
    is not the part at its index (PyTorch's lookup fails there)."""
    parts = _parts(signature.text) if parts is None else parts
    described = []
    for index, value in enumerate(tuple(args) + tuple(kwargs.values())):
        part = parts[index]
        if index >= len(args):
            name = part.rpartition(" ")[2]
            if name not in kwargs:
                return None
            value = kwargs[name]
        wanted = part.rpartition(" ")[0] if " " in part else part
        kind = _listed_type_name(value)
        matching = kind in {"float": ("float", "int"), "int": ("int",)}.get(wanted, (wanted,))
        text = (f"{name}=" if index >= len(args) else "") + kind
        described.append(text if matching else f"!{text}!")
    return "(" + ", ".join(described) + (")" if args or not kwargs else ", )")   # PyTorch trims after positionals


def _mismatch(signature, args, kwargs):
    """PyTorch's note under an overload of ``signature`` in its "invalid combination" error: why the call did not
    match, where the overload's parts (split at every ", ", as PyTorch does: "()" has one) are as many as the call's
    arguments. A keyword is matched against the words after the last space of the trailing parts (so ``bool
    keepdim = False`` is named "False": PyTorch's parse)."""
    parts = signature.text.split(", ")
    if len(parts) != len(args) + len(kwargs):
        return ""
    names = [part.rpartition(" ")[2] for part in parts[len(parts) - len(kwargs):]]
    unmatched = [key for key in kwargs if key not in names]
    if unmatched:
        return f"      didn't match because some of the keywords were incorrect: {', '.join(unmatched)}\n"
    return ("      didn't match because some of the arguments have invalid types: "
            f"{_formatted(signature, args, kwargs, parts)}\n")


def error(name, args, kwargs, method=False, varargs=True, keywords=None):
    """The TypeError PyTorch raises for calling the op ``name`` (as a Tensor method: ``args`` without the tensor)
    with ``args`` and ``kwargs``, or None where one of its signatures takes them (or ember has none for it).

    A keyword none of PyTorch's signatures has but ember's function takes (among ``keywords``, its parameter names;
    None: it takes any), or more positional arguments than they take where ember's function takes them (no
    ``*args``, ``varargs`` false), is one of ember's own extensions of the op (PyTorch's Python function around it
    takes it too): None, the op's own error stands."""
    found = _signatures(name, method)
    if found is None:
        return None
    torch_name, signatures, overloaded, numbers_as_tensors = found
    if method and not overloaded and not signatures[0].parameters and (args or kwargs):
        # a Tensor method of no arguments is a METH_NOARGS C method in PyTorch: CPython's own error
        if kwargs:
            return TypeError(f"TensorBase.{torch_name}() takes no keyword arguments")
        return TypeError(f"TensorBase.{torch_name}() takes no arguments ({len(args)} given)")
    if any(all(k not in {p.name for p in s.parameters} for s in signatures) and (keywords is None or k in keywords)
           for k in kwargs) or not varargs and all(len(args) > s.max_positional for s in signatures):
        return None
    try:
        if not overloaded:
            _parse(torch_name, signatures[0], args, kwargs, numbers_as_tensors, True)
            _unpack(torch_name, signatures[0], args, kwargs)
            return None
        for signature in signatures:
            if _parse(torch_name, signature, args, kwargs, numbers_as_tensors, False):
                _unpack(torch_name, signature, args, kwargs)
                return None
        nargs = len(args) + len(kwargs)
        plausible = [s for s in signatures if s.min_args <= nargs <= s.max_args]
        if len(plausible) == 1:
            _parse(torch_name, plausible[0], args, kwargs, numbers_as_tensors, True)
    except TypeError as raised:
        return raised
    if len(signatures) == 1:
        names = {p.name for p in signatures[0].parameters}
        unknown = [k for k in kwargs if k not in names]
        if unknown:
            return TypeError(f"{torch_name}() received an invalid combination of arguments - got unrecognized "
                             f"keyword arguments: {', '.join(unknown)}")
        parts = _parts(signatures[0].text)
        given = len(args) + len(kwargs) == len(parts) and _formatted(signatures[0], args, kwargs)
        return TypeError(f"{torch_name}() received an invalid combination of arguments - got "
                         f"{given or _describe(args, kwargs)}, but expected ({signatures[0].text})")
    options = "".join(f" * ({s.text})\n" + _mismatch(s, args, kwargs) for s in signatures)
    return TypeError(f"{torch_name}() received an invalid combination of arguments - got {_describe(args, kwargs)}, "
                     f"but expected one of:\n{options}")


def raise_for(name, args, kwargs, method=False, varargs=True, keywords=None):
    """Raises PyTorch's TypeError for the call (see ``error``) where it has one; returns otherwise."""
    found = error(name, args, kwargs, method, varargs, keywords)
    if found is not None:
        raise found.with_traceback(None) from None


# --- rebuilding a call from the frames -----------------------------------------------------------------------------
_op_codes = None


def _ops():
    """``{code: name}`` of the functions behind ember's public ops that ``_signatures`` describes: ``ember.<name>``,
    ``Tensor.<name>``, ``ember.linalg.<name>`` (as ``linalg_<name>``) and ``nn.functional.<name>`` unless that is a
    Python form of its own (``PYTHON_FORMS``). Frames are matched by code, so a helper or a Python form that shares
    an op's name is not taken for it. Built on the first error, and again on the first after nn.functional loads
    (it loads on first use: an error before then must not leave its functions out)."""
    global _op_codes
    functional = sys.modules.get("ember.nn.functional")
    if _op_codes is None or functional is not None and _op_codes[1] is None:
        from . import _signatures as table
        ember = sys.modules["ember"]
        namespaces = [(ember, ""), (_tensor_class(), ""), (sys.modules.get("ember.linalg"), "linalg_"),
                      (sys.modules.get("ember.fft"), "fft_")]
        if functional is not None:
            namespaces.append((functional, "F"))
        codes = {}
        for name in list(table.FUNCTIONS) + list(table.METHODS):
            for namespace, prefix in namespaces:
                if prefix == "F" and name in table.PYTHON_FORMS or prefix in ("linalg_", "fft_") and \
                        not name.startswith(prefix):
                    continue
                attribute = name[len(prefix):] if prefix in ("linalg_", "fft_") else name
                function = inspect.unwrap(getattr(namespace, attribute, None) or _nothing)
                code = getattr(function, "__code__", None)
                if code is not None and code is not _nothing.__code__:
                    codes.setdefault(code, set()).add(name)
        _op_codes = codes, functional
    return _op_codes[0]


def _nothing():
    pass


def _op_name(frame, called=None):
    """The op ``frame`` runs, or None: ``called`` (the name the caller used) where that is one of the op's names
    (aliases share a function, ``transpose`` and ``swapaxes``), else the function's own name or its factory's."""
    code = frame.f_code
    names = _ops().get(code)
    if not names:
        return None
    if called in names:
        return called
    closure = frame.f_locals.get("name") if "name" in code.co_freevars else None
    if isinstance(closure, str) and _known(closure):   # a factory's function: its closure's ``name`` says which
        return closure
    if code.co_name in names or len(names) == 1:
        return code.co_name if code.co_name in names else next(iter(names))
    return None   # a function several ops share, called by a name that does not say which


def _call_shape(frame):
    """(number of positional arguments, keyword names, the attribute or global name the called function was loaded
    by or None) of the call ``frame`` is executing, or None."""
    code, last = frame.f_code, frame.f_lasti
    # f_lasti may point into the call instruction's inline cache (3.11): the call is the last instruction before it
    instructions = [i for i in dis.get_instructions(code) if i.offset <= last]
    if not instructions:
        return None
    index = len(instructions) - 1
    instruction = instructions[index]
    names = ()
    if instruction.opname in _CALLS:
        before = index - 1
        while before >= 0 and instructions[before].opname in ("PRECALL", "CACHE"):
            before -= 1
        if before >= 0 and instructions[before].opname == "KW_NAMES":
            names = code.co_consts[instructions[before].arg]
    elif instruction.opname in ("CALL_KW", "CALL_FUNCTION_KW"):
        names = instructions[index - 1].argval
    else:
        return None
    if not isinstance(names, tuple):
        return None
    return instruction.arg - len(names), names, _callee_name(instructions, index, instruction.arg)


def _callee_name(instructions, index, count):
    """The name the called function was loaded by (``t.add_``, ``torch.swapaxes``): the load whose stack entries
    the ``count`` arguments after it sit on."""
    depth = 0
    for instruction in reversed(instructions[:index]):
        if instruction.opname in ("PRECALL", "KW_NAMES", "CACHE", "PUSH_NULL", "NOP"):
            continue
        if depth == count and instruction.opname in ("LOAD_METHOD", "LOAD_ATTR", "LOAD_GLOBAL", "LOAD_NAME"):
            return instruction.argval
        try:
            depth += dis.stack_effect(instruction.opcode, instruction.arg)
        except ValueError:
            return None
        if depth > count or instruction.is_jump_target:
            return None
    return None


def _rebuild(frame, site):
    """(args, kwargs, method) of the call that made ``frame``; ``site`` is the calling frame. ``method`` is None
    where a wrapper received the arguments of a call with *args: a Tensor method's or the function's, not known."""
    from ._warnings import _wrapper_codes
    shape = _call_shape(site)
    wrapper = frame.f_back
    if wrapper is not site and wrapper.f_code in _wrapper_codes:   # the arguments as the wrapper received them
        while wrapper.f_back is not site:
            wrapper = wrapper.f_back
        if wrapper.f_code.co_argcount:   # named parameters before *args (keeps_layout's run(input, *args)):
            frame = wrapper              # read them as an op's own
        else:
            values = wrapper.f_locals
            args, kwargs = values.get("args"), values.get("kwargs")
            if isinstance(args, tuple) and isinstance(kwargs, dict):
                if shape is None:   # called with *args or **kwargs: a Tensor method or the function, not known
                    return args, kwargs, None
                method = shape is not None and len(args) == shape[0] + 1 and isinstance(args[0], _tensor_class())
                return args, kwargs, method
    code, values = frame.f_code, frame.f_locals
    count = code.co_argcount
    parameters = code.co_varnames[:count]
    keyword_only = code.co_varnames[count:count + code.co_kwonlyargcount]
    star = code.co_varnames[count + len(keyword_only)] if code.co_flags & inspect.CO_VARARGS else None
    received = [values[p] for p in parameters] + list(values.get(star, ()) if star else ())
    if shape is None:   # called with *args or **kwargs: what went by position is not known
        return None
    npos, names = shape[:2]
    if star:
        method = len(received) == npos + 1
    elif npos < count and parameters[npos] not in names:
        method = npos == 0 or values[parameters[npos]] is not _default(frame, npos)
    else:
        method = False
    method = method and isinstance(received[0], _tensor_class()) if received else False
    used = npos + method if not star else len(received)
    if code.co_flags & inspect.CO_VARKEYWORDS:
        kwargs = dict(values[code.co_varnames[count + len(keyword_only) + bool(star)]])
    else:
        kwargs = {name: values[name] for name in names if name in values}
    return tuple(received[:used]), kwargs, method


_NO_DEFAULT = object()


def _default(frame, index):
    """The default of the frame's positional parameter ``index`` (found through the functions sharing its code)."""
    import gc
    code = frame.f_code
    for referrer in gc.get_referrers(code):
        if inspect.isfunction(referrer) and referrer.__code__ is code:
            defaults = referrer.__defaults__ or ()
            first = code.co_argcount - len(defaults)
            return defaults[index - first] if index >= first else _NO_DEFAULT
    return _NO_DEFAULT


def _outer_op(frame):
    """The outermost frame of a known op among the ember frames from ``frame`` out to the caller's code: the op
    the caller called (ops called by other ops get their arguments from ember, not from the caller)."""
    op = None
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        if _op_name(frame, _called_name(frame)) is not None:
            op = frame
        frame = frame.f_back
    return op


def _caller(frame):
    """The frame that called ``frame``, past ember's transparent wrappers."""
    from ._warnings import _wrapper_codes
    site = frame.f_back
    while site is not None and site.f_code in _wrapper_codes:
        site = site.f_back
    return site


def _called_name(frame):
    """The name ``frame``'s function was called by, where its code is shared by several ops (else None: unneeded)."""
    names = _ops().get(frame.f_code)
    if not names or len(names) == 1:
        return None
    site = _caller(frame)
    shape = _call_shape(site) if site is not None else None
    return shape[2] if shape else None


def _check_frame(op):
    site = _caller(op)
    if site is None:
        return
    call = _rebuild(op, site)
    if call is None:
        return
    args, kwargs, method = call
    shape = _call_shape(site)
    name = _op_name(op, shape[2] if shape else None)
    if method is None:   # (``_rebuild``): where the Tensor method takes the arguments, the op's own error stands
        method = False
        if args and isinstance(args[0], _tensor_class()) and _signatures(name, True) is not None:
            try:
                _raise_for_call(name, args, kwargs, True, op.f_code)
                return
            except TypeError:
                pass
    _raise_for_call(name, args, kwargs, method, op.f_code)


def _raise_for_call(name, args, kwargs, method, code, takes=None):
    """``raise_for`` the op ``name`` called with ``args`` (self first for a method) by a function of ``code``, whose
    keywords are those of ``takes`` (a code; default ``code``)."""
    takes = takes or code
    from . import _signatures as table
    if method and table.RENAMED.get(name, (name, False))[1]:   # PyTorch's method calls the function form
        method = False
    elif method and _signatures(name, True) is None:
        return
    # more positional arguments than ember's function takes are no extension of ember's: PyTorch's error names them
    # (the Tensor methods of F's forms in F_CALLS_METHOD take fewer: no _stacklevel)
    raise_for(name, args[1:] if method else args, kwargs, method,
              bool(code.co_flags & inspect.CO_VARARGS) or len(args) > code.co_argcount
              or method and name in table.F_CALLS_METHOD,
              None if takes.co_flags & inspect.CO_VARKEYWORDS else takes.co_varnames[:takes.co_argcount +
                                                                                  takes.co_kwonlyargcount])


def check(depth=1):
    """Raises PyTorch's TypeError where the op being run (the outermost ember op frame above the caller) was called
    with arguments none of its signatures takes; returns otherwise. Called on error paths only."""
    op = _outer_op(sys._getframe(depth))
    if op is not None:
        _check_frame(op)


def check_call(function, args, kwargs, inner=None):
    """``check`` for a wrapper that ran the op ``name`` on ``args`` and ``kwargs`` and saw it raise (the op's own
    frame is gone by then): whether the op was a Tensor method is read from the wrapper caller's call. Where an
    op called this one, that op's call is checked instead. ``inner``: the function the wrapper hands the call to,
    where that is not ``function``'s ``__wrapped__`` (its parameters are the keywords ember takes)."""
    outer = _outer_op(sys._getframe(2))
    if outer is not None:
        _check_frame(outer)
        return
    code = inspect.unwrap(function).__code__
    names = _ops().get(code)
    if not names:
        return
    site = _caller(sys._getframe(1))   # the wrapper's caller, past transparent wrappers
    shape = _call_shape(site) if site is not None else None
    if shape is None:
        return
    name = shape[2] if shape[2] in names else function.__name__ if function.__name__ in names else \
        next(iter(names)) if len(names) == 1 else None
    if name is None:
        return
    method = len(args) == shape[0] + 1
    functional = sys.modules.get("ember.nn.functional")
    called_f = not method and inspect.unwrap(function) is inspect.unwrap(getattr(functional, name, _nothing))
    if called_f and name in _table().F_PYTHON:
        try:
            inspect.signature(function).bind(*args, **kwargs)
        except TypeError:
            return   # PyTorch's F form is Python: CPython's binding error stands
    if called_f and name in _table().F_CALLS_METHOD:   # F.softmax(x, d, dtype=t) calls x.softmax(d, dtype=t)
        bound = inspect.signature(function).bind(*args, **kwargs).arguments
        args, kwargs = (bound.get("input"), bound.get("dim")), {"dtype": bound["dtype"]} if "dtype" in bound else {}
        method = True
    _raise_for_call(name, args, kwargs, method and isinstance(args[0], _tensor_class()), code,
                    inner and inspect.unwrap(inner).__code__)


def _table():
    from . import _signatures
    return _signatures
