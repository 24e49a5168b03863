"""Which input sizes an exported program leaves dynamic, and the guards its module checks on every call.

The dims a spec marks form symbols (dims with one ``Dim`` name share one). The example inputs must satisfy the spec
(PyTorch's ``ConstraintViolationError``/``UserError`` otherwise). ember's trace records sizes, not reasoning about
them, so after tracing each symbol is probed: the graph runs again (on copies of the state, random streams
restored) with that symbol's dims resized. A symbol whose run fails is one the program fixes: it stays static under
``Dim.AUTO`` and is PyTorch's ``Constraints violated`` UserError under a named Dim or ``Dim.DYNAMIC``, unless
resizing it together with another symbol of the same size succeeds, which makes the two one symbol (an error for two
named Dims, as PyTorch's "must always be equal"). Every other dim is static.
"""
from .dynamic_shapes import (ConstraintViolationError, Dim, _DerivedDim, _DimHintType, _user_error, int_oo,
                             linear_name)

_DYNAMIC_HELP = ("If you're using mark_dynamic, either remove it or use maybe_mark_dynamic. If you're using "
                 "Dim.DYNAMIC, replace it with either Dim.STATIC or Dim.AUTO.")


class ValueRanges:
    """A symbol's inclusive range, printed as PyTorch prints it: ``VR[2, int_oo]``."""

    def __init__(self, lower, upper):
        self.lower, self.upper = lower, upper

    def __eq__(self, other):
        return isinstance(other, ValueRanges) and (self.lower, self.upper) == (other.lower, other.upper)

    __hash__ = None

    def __repr__(self):
        return f"VR[{self.lower}, {'int_oo' if self.upper == int_oo else self.upper}]"


class SymbolName(str):
    """A symbol's name, printed bare as PyTorch prints its sympy symbols (``{s0: VR[2, int_oo]}``)."""

    def __repr__(self):
        return str(self)


class Symbol:
    """Dims that share one dynamic size: ``slots`` as (tensor leaf index, dim, scale, offset), each dim being
    ``scale * size + offset`` (1 and 0 but for a derived Dim such as ``2 * n``); ``example`` is the size the examples
    give it; its range and how it was marked (``Dim`` name, or ``AUTO``/``DYNAMIC`` of a hint)."""

    def __init__(self, name, named, kind, lower, upper, slots, example):
        self.name, self.named, self.kind = name, named, kind
        self.lower, self.upper, self.slots, self.example = lower, upper, list(slots), example


def _root(spec):
    """(root Dim, scale, offset) of a named or derived Dim."""
    return (spec.root, spec.scale, spec.offset) if isinstance(spec, _DerivedDim) else (spec, 1, 0)


def _root_values(entries, tensors):
    """Each Dim root's size in the examples: from its first direct use, else solved from its first derived one;
    PyTorch's UserError where a derived size has no integer root."""
    values = {}
    for index, dim, spec in sorted(entries, key=lambda entry: isinstance(entry[2], _DerivedDim)):   # direct first
        root, scale, offset = _root(spec)
        if root.__name__ in values:
            continue
        size = tensors[index].value.shape[dim]
        values[root.__name__], remainder = divmod(size - offset, scale)
        if remainder:
            raise _user_error(f"Expected shape[{dim}] = {size} of input Tensor to be of the form {spec.__name__}, "
                              f"where {root.__name__} is an integer", None)
    return values


def symbols_of(tensors, marked):
    """The symbols ``marked`` (``{id(tensor): (path, {dim: spec})}``) makes of the tensor leaves ``tensors``,
    after PyTorch's checks of the example sizes against the spec."""
    symbols, by_name, specialized, named = [], {}, [], []
    for index, leaf in enumerate(tensors):
        if id(leaf.value) not in marked:
            continue
        for dim, spec in sorted(marked[id(leaf.value)][1].items()):
            size, where = leaf.value.shape[dim], f"{leaf.local}.size()[{dim}]"
            if isinstance(spec, int):
                if spec != size:
                    raise ConstraintViolationError(f"Static shape constraint of {spec} does not match input size of "
                                                   f"{size}, for {where}")
            elif isinstance(spec, Dim):
                if not spec.min <= size <= spec.max:
                    top = "int_oo" if spec.max == int_oo else spec.max
                    raise ConstraintViolationError(f"{size} not in range [{spec.min}, {top}]")
                named.append((index, dim, spec))
            elif spec.type is not _DimHintType.AUTO or size >= 2:   # PyTorch specializes AUTO sizes 0 and 1
                symbol = Symbol(f"s{len(symbols)}", False, spec.type.name, 2 if spec.min is None else spec.min,
                                int_oo if spec.max is None else spec.max, [(index, dim, 1, 0)], size)
                if size < 2:
                    specialized.append(_specialized_line(symbol, where, size))
                else:
                    symbols.append(symbol)
    roots = _root_values(named, tensors)
    for index, dim, spec in named:
        root, scale, offset = _root(spec)
        size, where = tensors[index].value.shape[dim], f"{tensors[index].local}.size()[{dim}]"
        symbol = by_name.get(root.__name__)
        if symbol is None:
            symbol = by_name[root.__name__] = Symbol(root.__name__, True, "DYNAMIC", root.min, root.max, [],
                                                     roots[root.__name__])
            symbols.append(symbol)
        if scale * symbol.example + offset != size:
            if isinstance(spec, _DerivedDim) or any((a, b) != (1, 0) for _, _, a, b in symbol.slots):
                raise _user_error(f"Expected input {where} to be equal to {spec.__name__}, where {root.__name__} = "
                                  f"{symbol.example}, but got {size}", None)
            first_index, first_dim = symbol.slots[0][:2]
            raise _user_error(f"{where} = {size} is not equal to {tensors[first_index].local}.size()[{first_dim}] = "
                              f"{symbol.example}", None)
        symbol.slots.append((index, dim, scale, offset))
        if size < 2:
            specialized.append(_specialized_line(symbol, where, size))
    if specialized:
        raise _violated([s for s, _ in specialized], [line for _, line in specialized])
    return symbols


def _specialized_line(symbol, where, size):
    name = symbol.name if symbol.named else where
    fix = (symbol.name, size) if symbol.named else None
    return (name, fix), (f"  - You marked {name} as dynamic but your code specialized it to be a constant ({size}). "
                         + _DYNAMIC_HELP)


def _violated(names_and_fixes, lines):
    names = list(dict.fromkeys(name for name, _ in names_and_fixes))
    fixes = list(dict.fromkeys(f"  {fix[0]} = {fix[1]}" for _, fix in names_and_fixes if fix is not None))
    message = (f"Constraints violated ({', '.join(names)})! For more information, run with TORCH_LOGS=\"+dynamic\".\n"
               + "\n".join(lines) + ("\nSuggested fixes:\n" + "\n".join(fixes) if fixes else ""))
    from .._dynamo.exc import UserError, UserErrorType
    return UserError(UserErrorType.CONSTRAINT_VIOLATION, message)


def _probe_size(symbols):
    """A size other than the example that every symbol's range allows, or None."""
    example = symbols[0].example
    low = max([2] + [s.lower for s in symbols])
    high = min(s.upper for s in symbols)
    for size in (example + 1, example + 2, example - 1):
        if size != example and low <= size <= high:
            return size
    return None


def decide(symbols, tensors, runs):
    """The symbols the program leaves dynamic (merging those it ties together); ``runs(sizes)`` says whether the
    graph runs with the dims in ``sizes`` ({(leaf index, dim): size}) resized."""
    def resized(group):
        size = _probe_size(group)
        return size is not None and runs({(index, dim): scale * size + offset for s in group
                                          for index, dim, scale, offset in s.slots})
    kept, done, problems = [], set(), []
    for symbol in symbols:
        if id(symbol) in done:
            continue
        done.add(id(symbol))
        if resized([symbol]):
            kept.append(symbol)
            continue
        partner = next((other for other in symbols if id(other) not in done and other.example == symbol.example
                        and resized([symbol, other])), None)
        if partner is None:
            if symbol.kind != "AUTO":
                index, dim = symbol.slots[0][:2]
                problems.append(_specialized_line(symbol, f"{tensors[index].local}.size()[{dim}]", symbol.example))
            continue
        done.add(id(partner))
        if symbol.named and partner.named:
            first, second = (symbol, partner)
            (i, d), (j, e) = first.slots[0][:2], second.slots[0][:2]
            problems.append(((second.name, (second.name, first.name)),
                             f"  - The values of {second.name} = {tensors[j].local}.size()[{e}] and {first.name} = "
                             f"{tensors[i].local}.size()[{d}] must always be equal."))
            continue
        kept_symbol, other = (partner, symbol) if partner.named and not symbol.named else (symbol, partner)
        kept_symbol.slots = sorted(kept_symbol.slots + other.slots)
        kept_symbol.lower = max(kept_symbol.lower, other.lower)
        kept_symbol.upper = min(kept_symbol.upper, other.upper)
        kept.append(kept_symbol)
    if problems:
        raise _violated([p for p, _ in problems], [line for _, line in problems])
    return kept


def guards(leaves, tensor_indices, symbols):
    """The checks the exported module makes on the leaves of each call, as JSON-ready lists: ``["size", leaf, dim,
    op, size]`` (op ``==``, ``>=`` or ``<=``), ``["same", leaf, dim, scale, offset, first leaf, first dim, its
    scale, its offset]`` (a dim of a symbol agrees with the symbol's first dim), ``["value", leaf, value]``."""
    checks, dynamic = [], {}
    for symbol in symbols:
        for index, dim, scale, offset in symbol.slots:
            dynamic[index, dim] = (symbol, scale, offset)
    for position, leaf in enumerate(leaves):
        if position not in tensor_indices:
            checks.append(["value", position, leaf.value])
            continue
        index = tensor_indices[position]
        for dim, size in enumerate(leaf.value.shape):
            if (index, dim) not in dynamic:
                checks.append(["size", position, dim, "==", size])
                continue
            symbol, scale, offset = dynamic[index, dim]
            first_index, first_dim, first_scale, first_offset = symbol.slots[0]
            if (first_index, first_dim) != (index, dim):
                checks.append(["same", position, dim, scale, offset, _position(tensor_indices, first_index),
                               first_dim, first_scale, first_offset])
                continue
            if scale * symbol.lower + offset > 2:
                checks.append(["size", position, dim, ">=", scale * symbol.lower + offset])
            if symbol.upper != int_oo:
                checks.append(["size", position, dim, "<=", scale * symbol.upper + offset])
    return checks


def _position(tensor_indices, index):
    return next(position for position, i in tensor_indices.items() if i == index)


def _solved(text, scale, offset):
    """The symbol in terms of a dim ``text`` that is ``scale * symbol + offset``, as sympy prints it."""
    if scale != 1:
        return f"({text} - {offset})/{scale}" if offset else f"{text}/{scale}"
    return f"{-offset} + {text}" if offset else text


def check(checks, sources, values):
    """Runs ``checks`` (from ``guards``) on a call's leaves ``values``; AssertionError naming the failed guard."""
    for entry in checks:
        if entry[0] == "value":
            _, position, expected = entry
            if values[position] != expected or type(values[position]) is not type(expected):
                raise AssertionError(f"Guard failed: {sources[position]} == {expected!r}")
            continue
        size = values[entry[1]].size()[entry[2]]
        text = f"{sources[entry[1]]}.size()[{entry[2]}]"
        if entry[0] == "same":
            _, _, _, scale, offset, first, first_dim, first_scale, first_offset = entry
            first_text = f"{sources[first]}.size()[{first_dim}]"
            root = (values[first].size()[first_dim] - first_offset) / first_scale
            if size != scale * root + offset:
                solved = _solved(first_text, first_scale, first_offset)
                expected = text if (scale, offset) == (1, 0) else linear_name(f"({solved})", scale, offset)
                raise AssertionError(f"Guard failed: {text} == {first_text}" if solved == first_text and
                                     expected == text else f"Guard failed: {solved} == {expected}")
            continue
        op, bound = entry[3], entry[4]
        if not (size == bound if op == "==" else size >= bound if op == ">=" else size <= bound):
            raise AssertionError(f"Guard failed: {text} {op} {bound}")
