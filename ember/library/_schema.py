"""Operator schemas: PyTorch's schema strings (``ns::name.overload(Tensor(a!) x, *, int k=1) -> Tensor``) parsed
into a ``FunctionSchema`` whose ``str`` is what ``torch._C.parse_schema`` prints."""
import re

# PyTorch's ScalarType and MemoryFormat enums: a parsed default of these types prints as its number
_SCALAR_TYPES = {"uint8": 0, "int8": 1, "int16": 2, "int32": 3, "int64": 4, "float16": 5, "float32": 6,
                 "float64": 7, "complex32": 8, "complex64": 9, "complex128": 10, "bool": 11, "bfloat16": 15,
                 "float8_e5m2": 23, "float8_e4m3fn": 24, "uint16": 27, "uint32": 28, "uint64": 29,
                 "long": 4, "int": 3, "short": 2, "half": 5, "float": 6, "double": 7, "cfloat": 9, "cdouble": 10}
_ENUM_DEFAULTS = {"contiguous_format": 0, "preserve_format": 1, "channels_last": 2, "channels_last_3d": 3,
                  "strided": 0, "sparse_coo": 1, "Mean": 1, "Sum": 2, "None": None}

_TOKEN = re.compile(r"\s*(?:(->)|(\d[\w.+-]*|-\d[\w.+-]*|-?\.\d[\w.+-]*)|(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
                    r"|(::)|([A-Za-z_][\w]*)|(.))")


class AliasInfo:
    """An alias annotation: its set (``a``) and whether the argument is written (``!``)."""

    def __init__(self, name, is_write):
        self.name, self.is_write = name, is_write

    def __str__(self):
        return f"({self.name}{'!' if self.is_write else ''})"


class Argument:
    """One argument or return: type (as written, alias removed), name, default, kwarg-only, alias."""

    def __init__(self, type, name, default, has_default, kwarg_only, alias_info, suffix):
        self.type, self.name, self.default_value, self.has_default = type, name, default, has_default
        self.kwarg_only, self.alias_info, self._suffix = kwarg_only, alias_info, suffix

    @property
    def base(self):
        """The element type without list/optional suffixes (``Tensor`` for ``Tensor?[]``)."""
        return self.type[:len(self.type) - len(self._suffix)]

    @property
    def is_tensor_like(self):
        """Whether the argument holds Tensors (``Tensor``, ``Tensor?``, ``Tensor[]``, ...)."""
        return self.base == "Tensor"

    @property
    def is_list(self):
        """Whether the (non-optional) type is a list (``int[]``, ``Tensor?[]``)."""
        return self._suffix.rstrip("?").endswith("]")

    def type_str(self):
        """The type as PyTorch prints it, with its alias annotation after the element type."""
        alias = str(self.alias_info) if self.alias_info else ""
        return f"{self.base}{alias}{self._suffix}"

    def __str__(self):
        text = self.type_str()
        if self.name:
            text += f" {self.name}"
        if self.has_default:
            text += "=" + _default_str(self.default_value, self.base, self.is_list)
        return text


class FunctionSchema:
    """A parsed schema: ``name`` (with ``ns::`` when written), ``overload_name``, ``arguments``, ``returns``."""

    def __init__(self, name, overload_name, arguments, returns):
        self.name, self.overload_name, self.arguments, self.returns = name, overload_name, arguments, returns

    @property
    def is_mutable(self):
        """Whether any argument is written in place (an alias annotation with ``!``)."""
        return any(a.alias_info is not None and a.alias_info.is_write for a in self.arguments)

    def __str__(self):
        parts, starred = [], False
        for arg in self.arguments:
            if arg.kwarg_only and not starred:
                parts.append("*")
                starred = True
            parts.append(str(arg))
        name = self.name + (f".{self.overload_name}" if self.overload_name else "")
        return f"{name}({', '.join(parts)}) -> {_returns_str(self.returns)}"

    def __repr__(self):
        return str(self)


def _returns_str(returns):
    if len(returns) == 1 and not returns[0].name and not returns[0].type.startswith("("):
        return str(returns[0])
    return "(" + ", ".join(str(r) for r in returns) + ")"


def _float_str(value):
    """A float as PyTorch's C++ printer writes it: 17 significant digits, a trailing dot when integral."""
    text = "%.17g" % value
    if text in ("inf", "-inf", "nan"):
        return text
    return text if any(c in text for c in ".en") else text + "."


def _default_str(value, base, is_list):
    if value is None:
        return "None"
    if is_list and isinstance(value, list):
        return "[" + ", ".join(_default_str(v, base, False) for v in value) + "]"
    if isinstance(value, bool):
        return str(value)
    if base == "float" or (isinstance(value, float) and base != "Scalar"):
        return _float_str(float(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value if base == "Device" else f'"{value}"'
    return str(value)


class _Tokens:
    def __init__(self, text):
        self.text, self.items = text, []
        for match in _TOKEN.finditer(text):
            kinds = ("arrow", "number", "string", "colons", "ident", "punct")
            for kind, value in zip(kinds, match.groups()):
                if value is not None:
                    self.items.append((kind, value, match.start(match.lastindex)))
        self.i = 0

    def peek(self, offset=0):
        i = self.i + offset
        return self.items[i] if i < len(self.items) else ("eof", "", len(self.text))

    def take(self):
        token = self.peek()
        self.i += 1
        return token

    def accept(self, value):
        if self.peek()[1] == value:
            self.i += 1
            return True
        return False

    def expect(self, value):
        if not self.accept(value):
            self.fail(f"expected {value}")

    def fail(self, what):
        """Raises PyTorch's parse error: what was expected, the kind of token found, and where."""
        kind, value, at = self.peek()
        found = {"punct": value, "arrow": "->", "colons": "::"}.get(kind, kind)
        message = f"{what} but found '{found}' here:\n{self.text}"
        if kind != "eof":
            message += f"\n{' ' * at}{'~' * len(value)} <--- HERE\n"
        raise RuntimeError(message)


def parse_schema(text):
    """Parses a full schema string (the name is required), raising RuntimeError as PyTorch's parser does."""
    tokens = _Tokens(text)
    kind, name, _ = tokens.take()
    if kind != "ident":
        tokens.i -= 1
        tokens.fail("expected ident")
    if tokens.accept("::"):
        name += "::" + _ident(tokens)
    overload = ""
    if tokens.accept("."):
        overload = _ident(tokens)
    if tokens.peek()[1] != "(":
        tokens.fail("expected eof")
    schema = _parse_signature(tokens, name, overload)
    if tokens.peek()[0] != "eof":
        tokens.fail("expected eof")
    return schema


def _ident(tokens):
    kind, value, _ = tokens.peek()
    if kind != "ident":
        tokens.fail("expected ident")
    tokens.take()
    return value


def _parse_signature(tokens, name, overload):
    tokens.expect("(")
    arguments, kwarg_only = [], False
    if not tokens.accept(")"):
        while True:
            if tokens.accept("*"):
                kwarg_only = True
            else:
                arguments.append(_argument(tokens, kwarg_only, True))
            if not tokens.accept(","):
                tokens.expect(")")
                break
    if tokens.peek()[0] != "arrow":
        tokens.fail("expected arrow")
    tokens.take()
    returns = []
    if tokens.peek()[1] == "(":
        tokens.take()
        if not tokens.accept(")"):
            while True:
                returns.append(_argument(tokens, False, False))
                if not tokens.accept(","):
                    tokens.expect(")")
                    break
    else:
        returns.append(_argument(tokens, False, False))
    return FunctionSchema(name, overload, arguments, returns)


def _argument(tokens, kwarg_only, named):
    if tokens.peek()[1] == "(":   # a tuple type, as in ``-> ((Tensor))``
        depth, start = 0, tokens.peek()[2]
        while True:
            value = tokens.take()[1]
            depth += {"(": 1, ")": -1}.get(value, 0)
            if depth == 0:
                break
        base, alias = tokens.text[start:tokens.peek(-1)[2] + 1], None
    else:
        base = _ident(tokens)
        alias = _alias(tokens)
    suffix = ""
    while True:
        if tokens.accept("?"):
            suffix += "?"
        elif tokens.accept("["):
            size = tokens.take()[1] if tokens.peek()[0] == "number" else ""
            tokens.expect("]")
            suffix += f"[{size}]"
        else:
            break
        if alias is None:
            alias = _alias(tokens)
    name = ""
    if tokens.peek()[0] == "ident":
        name = tokens.take()[1]
    elif named:
        tokens.fail("expected ident")
    default, has_default = None, False
    if named and tokens.accept("="):
        default, has_default = _default(tokens, base), True
    return Argument(base + suffix, name, default, has_default, kwarg_only, alias, suffix)


def _alias(tokens):
    if tokens.peek()[1] != "(" or tokens.peek(1)[0] != "ident":
        return None
    tokens.take()
    name = tokens.take()[1]
    is_write = tokens.accept("!")
    tokens.expect(")")
    return AliasInfo(name, is_write)


def _default(tokens, base):
    kind, value, _ = tokens.peek()
    if value == "[":
        tokens.take()
        items = []
        if not tokens.accept("]"):
            while True:
                items.append(_default(tokens, base))
                if tokens.accept("]"):
                    break
                tokens.expect(",")
        return items
    tokens.take()
    if kind == "number":
        return float(value) if any(c in value for c in ".eE") or base == "float" else int(value)
    if kind == "string":
        return value[1:-1]
    if value == "-" and tokens.peek()[0] == "number":
        return -_default(tokens, base)
    if value in ("True", "False"):
        return value == "True"
    if base == "ScalarType" and value in _SCALAR_TYPES:
        return _SCALAR_TYPES[value]
    if value in _ENUM_DEFAULTS:
        return _ENUM_DEFAULTS[value]
    if value in ("inf", "nan"):
        return float(value)
    tokens.i -= 1
    tokens.fail("expected a default value")
