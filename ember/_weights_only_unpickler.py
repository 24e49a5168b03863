"""The restricted unpickler behind ``ember.load(..., weights_only=True)``: it builds data and nothing else.

It interprets pickle opcodes itself instead of trusting ``pickle.Unpickler``: globals come only from an allow-list;
calls (REDUCE, NEWOBJ) only reach allowed constructors, each checking its arguments (types and sizes, against an
allocation budget) before it allocates; SETITEM/APPEND/ADDITEMS only fill dicts, lists and sets this unpickler built;
BUILD only sets validated instance attributes on objects it constructed itself, never on classes, functions, dtypes
or other allowed globals. Every failure is a ``pickle.UnpicklingError`` naming the opcode, except size and layout
checks, which raise ``RuntimeError`` as torch's own checks do.
"""
import codecs
import pickle
import pickletools
import re
import struct
from collections import Counter, OrderedDict

UNSAFE_MESSAGE = ("In PyTorch 2.6, we changed the default value of the `weights_only` argument in `{0}.load` from "
                  "`False` to `True`. Re-running `{0}.load` with `weights_only` set to `False` will likely succeed, "
                  "but it can result in arbitrary code execution. Do it only if you got the file from a trusted "
                  "source.")
DOCS_MESSAGE = ("\n\nCheck the documentation of torch.load to learn more about types accepted by default with "
                "weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")


class Budget:
    """How many more bytes a load may allocate; every size a file declares is checked here before allocating."""

    def __init__(self, limit, name):
        self.limit, self.left, self.name = limit, limit, name

    def take(self, nbytes, what):
        """Reserves ``nbytes`` for ``what``, or raises naming both sizes when the file asks for too much."""
        if nbytes > self.left:
            raise RuntimeError(f"{self.name}: {what} needs {nbytes} bytes, more than the {self.left} bytes left of "
                               f"this load's limit of {self.limit} bytes (raise it with ember.load(..., max_bytes=N) "
                               f"if you trust the file)")
        self.left -= nbytes


def weights_only_error(message):
    """The UnpicklingError a weights-only load raises, in torch's wording, with ``message`` as the reason: for a
    global that is not allowed, the two ways to load the file; for one of a blocked module, the reason alone; for
    anything else, torch's request for an issue."""
    from ._alias import package
    unsafe = UNSAFE_MESSAGE.format(package())
    if re.search(r"GLOBAL (\S+) was not an allowed global by default.", message):
        text = ("Weights only load failed. This file can still be loaded, to do so you have two options, \033[1mdo "
                f"those steps only if you trust the source of the checkpoint\033[0m. \n\t(1) {unsafe}\n\t(2) "
                "Alternatively, to load with `weights_only=True` please check the recommended steps in the following "
                f"error message.\n\tWeightsUnpickler error: {message}")
    elif re.search(r"whose module (\S+) is blocked", message):
        text = f"Weights only load failed. {unsafe}\n\n\n{message}"
    else:
        text = (f"Weights only load failed. {unsafe}\nPlease file an issue with the following so that we can make "
                f"`weights_only=True` compatible with your use case: WeightsUnpickler error: \n\n{message}")
    return pickle.UnpicklingError(text + DOCS_MESSAGE)


# --- allowed constructors: each checks its arguments, then builds -----------------------------------------------
def _byte_size(args, what, budget):
    """The number of bytes ``bytes(*args)``/``bytearray(*args)`` would allocate, checked against the budget."""
    if not args:
        return
    if len(args) > 2 or (len(args) == 2 and not (isinstance(args[0], str) and isinstance(args[1], str))):
        raise weights_only_error(f"{what} takes one bytes-like, count or (str, encoding) argument, got {_kinds(args)}")
    source = args[0]
    if type(source) is int:
        if source < 0:
            raise weights_only_error(f"{what} of negative size {source}")
        budget.take(source, f"{what}({source})")
    elif isinstance(source, str):
        if len(args) != 2 or codecs.lookup(args[1]).name != "iso8859-1":
            raise weights_only_error(f"{what} of a str takes the latin-1 encoding only, got {args[1:]!r}")
        budget.take(len(source), f"{what} of a {len(source)}-character string")
    elif isinstance(source, (bytes, bytearray)):
        budget.take(len(source), f"{what} of {len(source)} bytes")
    else:
        raise weights_only_error(f"{what} of {type(source).__name__} is not allowed (only bytes, str or a count)")


def _bytes(budget, *args):
    _byte_size(args, "bytes", budget)
    return bytes(*args)


def _bytearray(budget, *args):
    _byte_size(args, "bytearray", budget)
    return bytearray(*args)


def _encode(budget, obj, encoding="utf-8"):
    """``_codecs.encode``, which protocol-2 pickles use for bytes: only str to latin-1 bytes (no codec tricks)."""
    if not isinstance(obj, str) or not isinstance(encoding, str) or codecs.lookup(encoding).name != "iso8859-1":
        raise weights_only_error(f"_codecs.encode is allowed only for a str and the latin-1 encoding, got "
                                 f"{_kinds((obj,))} and {encoding!r}")
    budget.take(len(obj), f"_codecs.encode of a {len(obj)}-character string")
    return codecs.encode(obj, encoding)


def _complex(budget, real=0, imag=0):
    if not all(type(part) in (int, float, bool) for part in (real, imag)):
        raise weights_only_error(f"complex takes two numbers, got {_kinds((real, imag))}")
    return complex(real, imag)


def _collection(kind):
    """A checked constructor for a set, frozenset, OrderedDict or Counter from items already loaded."""
    def construct(budget, *args):
        if len(args) > 1 or (args and not isinstance(args[0], (list, tuple, dict, set, frozenset))):
            raise weights_only_error(f"{kind.__name__} takes at most one list, tuple, dict or set, got {_kinds(args)}")
        if args and kind in (OrderedDict,) and isinstance(args[0], (list, tuple)) and \
                not all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in args[0]):
            raise weights_only_error(f"{kind.__name__} takes (key, value) pairs")
        try:
            return kind(*args)
        except TypeError as error:  # unhashable items
            raise weights_only_error(f"{kind.__name__}: {error}") from None
    construct.__name__ = kind.__name__
    return construct


BUILTIN_CONSTRUCTORS = {bytes: _bytes, bytearray: _bytearray, codecs.encode: _encode, complex: _complex,
                        set: _collection(set), frozenset: _collection(frozenset),
                        OrderedDict: _collection(OrderedDict), Counter: _collection(Counter)}


def _kinds(values):
    return "(" + ", ".join(type(v).__name__ for v in values) + ")"


def set_attributes(obj, state, what):
    """Applies a BUILD or ``_rebuild_*`` state as new instance attributes only: a state may add names of its own,
    never replace a method, property, slot or class default (``backward``, ``_data``, ``requires_grad``, ...)."""
    if isinstance(state, tuple) and len(state) == 2:  # (dict state, slots state)
        parts = [part for part in state if part is not None]
    else:
        parts = [state] if state is not None else []
    for part in parts:
        if not isinstance(part, dict):
            raise weights_only_error(f"the state of {what} must be a dict of attributes, got {type(part).__name__}")
        for name in part:
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("__") \
                    or hasattr(type(obj), name):
                raise weights_only_error(f"the state of {what} may only add new attributes, and {name!r} is not one")
    for part in parts:
        obj.__dict__.update(part)


# --- the opcode interpreter ---------------------------------------------------------------------------------------
class Unpickler:
    """Loads one pickle from ``file`` allowing only data: see the module docstring.

    ``find_global(module, name)`` returns an allowed object or raises; ``constructors`` maps allowed callables to
    checked ones taking ``(budget, *args)``; ``persistent_load`` resolves storage ids; ``build_types`` lists the
    types whose constructed instances BUILD may give new attributes; ``trusted`` holds globals the user allowed
    (``add_safe_globals``): they are called and built as pickle would, since the user vouched for them.
    """

    def __init__(self, file, *, find_global, constructors, persistent_load, budget, build_types=(), trusted=(),
                 encoding="ASCII", errors="strict", end=None):
        self._file, self._find_global, self._persistent_load = file, find_global, persistent_load
        self._constructors = {id(f): (f, checked) for f, checked in constructors.items()}
        self._trusted = {id(t): t for t in trusted}
        self._build_types = tuple(build_types) + (OrderedDict, Counter)
        self._budget, self._encoding, self._errors = budget, encoding, errors
        self._end = end

    # reading
    def _read(self, n):
        if n < 0 or (self._end is not None and n > self._end - self._file.tell()):
            raise weights_only_error(f"an opcode declares {n} bytes of data, more than the pickle holds (truncated "
                                     "or corrupt)")
        data = self._file.read(n)
        if len(data) != n:
            raise weights_only_error("pickle data was truncated")
        return data

    def _readline(self):
        line = self._file.readline()
        if not line.endswith(b"\n"):
            raise weights_only_error("pickle data was truncated")
        return line[:-1]

    def _unpack(self, fmt):
        return struct.unpack(fmt, self._read(struct.calcsize(fmt)))[0]

    # the stack
    def _pop_mark(self):
        items = self._stack
        self._stack = self._metastack.pop()
        return items

    def _own(self, obj):
        self._owned[id(obj)] = obj
        return obj

    def _target(self, kinds, opcode):
        """The container on top of the stack, which this unpickler must have built and be of one of ``kinds``."""
        target = self._stack[-1]
        if type(target) not in kinds or self._owned.get(id(target)) is not target:
            names = ", ".join(k.__name__ for k in kinds)
            raise weights_only_error(f"{opcode} applies only to a {names} built by this pickle, got "
                                     f"{_describe(target)}")
        return target

    def load(self):
        """The object the pickle describes."""
        self._stack, self._metastack, self._memo, self._owned = [], [], {}, {}
        while True:
            position = self._file.tell()
            code = self._file.read(1)
            if not code:
                raise weights_only_error("pickle data was truncated (no STOP opcode)")
            handler = _DISPATCH.get(code[0])
            if handler is None:
                name = _OPCODE_NAMES.get(code[0], f"byte {code[0]:#04x}")
                raise weights_only_error(f"Unsupported operand {code[0]} ({name}) at byte {position}")
            try:
                if handler(self) is _STOP:
                    return self._stack.pop()
            except (pickle.UnpicklingError, RuntimeError):
                raise
            except (IndexError, KeyError, TypeError, ValueError, OverflowError, UnicodeError, struct.error,
                    LookupError, RecursionError, MemoryError, AttributeError) as error:
                name = _OPCODE_NAMES.get(code[0], "")
                raise weights_only_error(f"malformed pickle at byte {position} ({name}): "
                                         f"{type(error).__name__}: {error}") from None

    # opcode handlers: each returns _STOP or None
    def _proto(self):
        if self._read(1)[0] > pickle.HIGHEST_PROTOCOL:
            raise weights_only_error("unsupported pickle protocol")

    def _frame(self):
        length = self._unpack("<Q")  # a framing hint only: the data follows inline
        if self._end is not None and length > self._end - self._file.tell():
            raise weights_only_error(f"a FRAME declares {length} bytes, more than the pickle holds")

    def _global(self):
        module, name = self._readline().decode("utf-8"), self._readline().decode("utf-8")
        self._stack.append(self._find_global(module, name))

    def _stack_global(self):
        name, module = self._stack.pop(), self._stack.pop()
        if type(name) is not str or type(module) is not str:
            raise weights_only_error("STACK_GLOBAL requires str module and name")
        self._stack.append(self._find_global(module, name))

    def _reduce(self):
        args = self._stack.pop()
        func = self._stack.pop()
        if type(args) is not tuple:
            raise weights_only_error(f"REDUCE arguments must be a tuple, got {type(args).__name__}")
        self._stack.append(self._own(self._call(func, args, "REDUCE")))

    def _newobj(self):
        args = self._stack.pop()
        cls = self._stack.pop()
        if type(args) is not tuple:
            raise weights_only_error(f"NEWOBJ arguments must be a tuple, got {type(args).__name__}")
        if id(cls) in self._trusted and isinstance(cls, type):
            self._stack.append(self._own(cls.__new__(cls, *args)))
        else:
            self._stack.append(self._own(self._call(cls, args, "NEWOBJ")))

    def _call(self, func, args, opcode):
        if self._trusted.get(id(func)) is func:
            return func(*args)
        entry = self._constructors.get(id(func))
        if entry is None or entry[0] is not func:
            raise weights_only_error(f"{opcode}: calling {_describe(func)} is not allowed (it is not one of the "
                                     "constructors a checkpoint may use)")
        return entry[1](self._budget, *args)

    def _build(self):
        state = self._stack.pop()
        inst = self._stack[-1]
        if self._owned.get(id(inst)) is not inst:
            raise weights_only_error(f"BUILD applies only to objects this pickle constructed, got {_describe(inst)}")
        if self._trusted.get(id(type(inst))) is type(inst):
            setstate = getattr(inst, "__setstate__", None)
            if setstate is not None:
                setstate(state)
                return
        elif not isinstance(inst, self._build_types):
            raise weights_only_error("Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                                     f"`add_safe_globals`, but got {type(inst)}")
        set_attributes(inst, state, type(inst).__name__)

    def _persid(self):
        self._stack.append(self._persistent_load(self._readline().decode("ascii")))

    def _binpersid(self):
        self._stack.append(self._persistent_load(self._stack.pop()))

    def _mark(self):
        self._metastack.append(self._stack)
        self._stack = []

    def _pop(self):
        if self._stack:
            self._stack.pop()
        else:
            self._pop_mark()

    def _pop_mark_op(self):
        self._pop_mark()

    def _dup(self):
        self._stack.append(self._stack[-1])

    def _stop(self):
        if self._metastack or len(self._stack) != 1:
            raise weights_only_error("STOP with a stack that does not hold exactly one object")
        return _STOP

    # containers
    def _tuple(self):
        items = tuple(self._pop_mark())  # popped first: it replaces self._stack
        self._stack.append(items)

    def _list(self):
        items = self._pop_mark()
        self._stack.append(self._own(items))

    def _dict(self):
        items = self._pop_mark()
        if len(items) % 2:
            raise weights_only_error("DICT needs key/value pairs")
        self._stack.append(self._own(dict(zip(items[::2], items[1::2]))))

    def _frozenset(self):
        items = frozenset(self._pop_mark())
        self._stack.append(items)

    def _append(self):
        item = self._stack.pop()
        self._target((list,), "APPEND").append(item)

    def _appends(self):
        items = self._pop_mark()
        self._target((list,), "APPENDS").extend(items)

    def _setitem(self):
        value, key = self._stack.pop(), self._stack.pop()
        self._target((dict, OrderedDict, Counter), "SETITEM")[key] = value

    def _setitems(self):
        items = self._pop_mark()
        if len(items) % 2:
            raise weights_only_error("SETITEMS needs key/value pairs")
        target = self._target((dict, OrderedDict, Counter), "SETITEMS")
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def _additems(self):
        items = self._pop_mark()
        self._target((set,), "ADDITEMS").update(items)

    # memo
    def _get(self):
        self._stack.append(self._memo_get(int(self._readline())))

    def _binget(self):
        self._stack.append(self._memo_get(self._read(1)[0]))

    def _long_binget(self):
        self._stack.append(self._memo_get(self._unpack("<I")))

    def _memo_get(self, index):
        if index not in self._memo:
            raise weights_only_error(f"memo key {index} was never stored")
        return self._memo[index]

    def _put(self):
        self._memo_put(int(self._readline()))

    def _binput(self):
        self._memo_put(self._read(1)[0])

    def _long_binput(self):
        self._memo_put(self._unpack("<I"))

    def _memoize(self):
        self._memo_put(len(self._memo))

    def _memo_put(self, index):
        if index < 0:
            raise weights_only_error("negative memo key")
        self._memo[index] = self._stack[-1]

    # scalars
    def _int(self):
        line = self._readline()  # protocol 0 writes booleans as INT 00 / 01
        self._stack.append(line == b"01" if line in (b"00", b"01") else int(line))

    def _long(self):
        self._stack.append(int(self._readline().rstrip(b"L")))

    def _float(self):
        self._stack.append(float(self._readline()))

    def _binfloat(self):
        self._stack.append(self._unpack(">d"))

    def _unicode(self):
        self._stack.append(str(self._readline(), "raw-unicode-escape"))

    def _bytearray8(self):
        data = self._read(self._unpack("<Q"))
        self._budget.take(len(data), f"a bytearray of {len(data)} bytes")
        self._stack.append(self._own(bytearray(data)))

    def _string(self):
        data = self._readline()
        if len(data) < 2 or data[0] != data[-1] or data[:1] not in b"\"'":
            raise weights_only_error("the STRING opcode argument must be quoted")
        self._stack.append(self._decode_string(codecs.escape_decode(data[1:-1])[0]))

    def _decode_string(self, value):
        """Python 2 str data: bytes under ``encoding='bytes'``, else decoded as the caller asked."""
        return value if self._encoding == "bytes" else value.decode(self._encoding, self._errors)


# handlers made from a pattern, one per opcode variant
def _empty(kind):
    def handler(self):
        self._stack.append(self._own(kind()))
    return handler


def _tuple_n(n):
    def handler(self):
        if len(self._stack) < n:
            raise weights_only_error(f"TUPLE{n} needs {n} items on the stack")
        items = tuple(self._stack[-n:])
        del self._stack[-n:]
        self._stack.append(items)
    return handler


def _push(value):
    def handler(self):
        self._stack.append(value)
    return handler


def _binint(fmt):
    def handler(self):
        self._stack.append(self._unpack(fmt))
    return handler


def _long_n(fmt):
    def handler(self):
        self._stack.append(int.from_bytes(self._read(self._unpack(fmt)), "little", signed=True))
    return handler


def _binunicode(fmt):
    def handler(self):
        self._stack.append(str(self._read(self._unpack(fmt)), "utf-8", "surrogatepass"))
    return handler


def _binbytes(fmt):
    def handler(self):
        self._stack.append(self._read(self._unpack(fmt)))
    return handler


def _binstring(fmt):
    def handler(self):
        self._stack.append(self._decode_string(self._read(self._unpack(fmt))))
    return handler


_STOP = object()  # what the STOP handler returns
U = Unpickler
_DISPATCH = {
    pickle.PROTO[0]: U._proto, pickle.FRAME[0]: U._frame, pickle.STOP[0]: U._stop,
    pickle.GLOBAL[0]: U._global, pickle.STACK_GLOBAL[0]: U._stack_global,
    pickle.REDUCE[0]: U._reduce, pickle.NEWOBJ[0]: U._newobj, pickle.BUILD[0]: U._build,
    pickle.PERSID[0]: U._persid, pickle.BINPERSID[0]: U._binpersid,
    pickle.MARK[0]: U._mark, pickle.POP[0]: U._pop, pickle.POP_MARK[0]: U._pop_mark_op, pickle.DUP[0]: U._dup,
    pickle.EMPTY_TUPLE[0]: _push(()), pickle.EMPTY_LIST[0]: _empty(list), pickle.EMPTY_DICT[0]: _empty(dict),
    pickle.EMPTY_SET[0]: _empty(set), pickle.TUPLE[0]: U._tuple, pickle.TUPLE1[0]: _tuple_n(1),
    pickle.TUPLE2[0]: _tuple_n(2), pickle.TUPLE3[0]: _tuple_n(3), pickle.LIST[0]: U._list,
    pickle.DICT[0]: U._dict, pickle.FROZENSET[0]: U._frozenset,
    pickle.APPEND[0]: U._append, pickle.APPENDS[0]: U._appends, pickle.SETITEM[0]: U._setitem,
    pickle.SETITEMS[0]: U._setitems, pickle.ADDITEMS[0]: U._additems,
    pickle.GET[0]: U._get, pickle.BINGET[0]: U._binget, pickle.LONG_BINGET[0]: U._long_binget,
    pickle.PUT[0]: U._put, pickle.BINPUT[0]: U._binput, pickle.LONG_BINPUT[0]: U._long_binput,
    pickle.MEMOIZE[0]: U._memoize,
    pickle.NONE[0]: _push(None), pickle.NEWTRUE[0]: _push(True), pickle.NEWFALSE[0]: _push(False),
    pickle.INT[0]: U._int, pickle.LONG[0]: U._long, pickle.BININT[0]: _binint("<i"),
    pickle.BININT1[0]: _binint("<B"), pickle.BININT2[0]: _binint("<H"), pickle.LONG1[0]: _long_n("<B"),
    pickle.LONG4[0]: _long_n("<i"), pickle.FLOAT[0]: U._float, pickle.BINFLOAT[0]: U._binfloat,
    pickle.UNICODE[0]: U._unicode, pickle.SHORT_BINUNICODE[0]: _binunicode("<B"),
    pickle.BINUNICODE[0]: _binunicode("<I"), pickle.BINUNICODE8[0]: _binunicode("<Q"),
    pickle.SHORT_BINBYTES[0]: _binbytes("<B"), pickle.BINBYTES[0]: _binbytes("<I"),
    pickle.BINBYTES8[0]: _binbytes("<Q"), pickle.BYTEARRAY8[0]: U._bytearray8,
    pickle.STRING[0]: U._string, pickle.SHORT_BINSTRING[0]: _binstring("<B"),
    pickle.BINSTRING[0]: _binstring("<i"),
}
del U
_OPCODE_NAMES = {op.code.encode("latin-1")[0]: op.name for op in pickletools.opcodes}


def _describe(obj):
    """``obj`` named for an error message without calling its (possibly hostile) ``__repr__``."""
    if isinstance(obj, type) or callable(obj) and hasattr(obj, "__qualname__"):
        kind = "the class" if isinstance(obj, type) else "the function"
        return f"{kind} {getattr(obj, '__module__', '?')}.{obj.__qualname__}"
    return f"a {type(obj).__module__}.{type(obj).__qualname__}"
