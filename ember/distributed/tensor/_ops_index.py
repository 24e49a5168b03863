"""Sharding rules of indexing, as PyTorch 2.13's strategies. ``x[key]`` runs as PyTorch decomposes it: integers
and slices (``select``, ``slice``: a shard of a dim they cut gathered, a full slice keeps it, partial values
kept), ``None`` (a new dim), then the tensor indices (``index``: the values sharded on a dim no index addresses,
or the indices sharded alike on a broadcast dim, or partial sums passed through; a boolean mask is refused, its
``nonzero`` having a data-dependent shape). ``index_select``, ``gather`` (also a lookup in a shard of the gathered
dim, masked: PyTorch's _MaskPartial), ``take_along_dim`` (a ``gather`` of the broadcast operands), ``scatter``,
``scatter_add``, ``index_put``, ``index_fill``, ``index_add`` and ``index_copy`` keep shards of dims the op does
not address; the cheapest strategy wins. Their in-place forms run only where that keeps the input's placements,
as PyTorch's."""
import operator

from ... import overrides
from ..._tensor import Size, Tensor
from ._dtensor import DTensor, DTensorSpec, contiguous_stride
from ._local import check_operands, in_place_local, local_part, mixed, no_rule, require_dtensors, run, wrap
from ._ops_matrix import cheapest
from ._redistribute import local_shape_and_offset
from ._strategies import by_strategy, laid_out, sharded_shape, single_dim
from .placement_types import Partial, Replicate, Shard, _MaskPartial

_PASSED_PARTIALS = ("sum", "avg", "max", "min")
_LINEAR = ("sum", "avg")
R = Replicate()


def _named(args, kwargs, names):
    """The arguments called ``names`` (positional first, then by keyword; None where not given)."""
    given = dict(zip(names, args))
    given.update((k, v) for k, v in kwargs.items() if k in names)
    return {name: given.get(name) for name in names}


def index_select(name, inner, args, kwargs):
    """``index_select``: values sharded on another dim (the index replicated), the index sharded (the output
    sharded on the selected dim, the values replicated), or partial values passed through."""
    given = _named(args, kwargs, ("input", "dim", "index"))
    self, index = given["input"], given["index"]
    dim = given["dim"] % max(self.ndim, 1)
    strategies = [[Shard(d), Shard(d), R] for d in range(self.ndim) if d != dim]
    strategies.append([Shard(dim), R, Shard(0)])
    strategies += [[Partial(op), Partial(op), R] for op in _PASSED_PARTIALS]
    return by_strategy(name, inner, args, kwargs, [self, index], single_dim(strategies, [self, index]))


def gather(name, inner, args, kwargs):
    """``gather`` by PyTorch's strategies: all replicated; an input sharded on the gathered dim looked up with
    an index of size 1 there, each rank's misses zeros (a _MaskPartial output); the index sharded on the gathered
    dim against a replicated input; or input and index sharded alike on another dim of equal size."""
    given = _named(args, kwargs, ("input", "dim", "index"))
    self, index = given["input"], given["index"]
    require_dtensors(name, [self, index])
    check_operands(name, [self, index], args, kwargs)
    dim = given["dim"] % max(self.ndim, 1)
    strategies = [[R] * 3]
    if dim < index.ndim and index.shape[dim] == 1:
        masked = _MaskPartial(offset_shape=Size(self.shape), offset_dim=dim)
        strategies.append([masked, Shard(dim), masked])
    strategies.append([Shard(dim), R, Shard(dim)])
    if self.ndim == index.ndim:
        strategies += [[Shard(d)] * 3 for d in range(self.ndim) if d != dim and self.shape[d] == index.shape[d]]
    wanted, out, _ = cheapest(strategies, [self, index])
    if any(isinstance(p, _MaskPartial) for p in out):
        return _masked_gather(inner, given, dim, wanted, out)
    return laid_out(inner, args, kwargs, [self, index], wanted, out)


def _masked_gather(inner, given, dim, wanted, out):
    """``gather`` from this rank's rows of the gathered dim: indices outside them look up row 0 and give zeros,
    so the whole is the parts' sum."""
    self, index = given["input"], given["index"]
    local_self = local_part(self, wanted[0], out)
    local_index = local_part(index, [R if isinstance(p, _MaskPartial) else p for p in wanted[1]], out)
    sizes, offsets = local_shape_and_offset(self.shape, self.device_mesh, wanted[0])
    start, rows = offsets[dim], sizes[dim]
    with overrides.DisableTorchFunctionSubclass():
        hits = (local_index >= start) & (local_index < start + rows)
        if rows == 0:   # (no rows here, an uneven last shard: zeros, still in the graph)
            result = local_self.sum() * 0 + local_index * 0
        else:
            result = inner(local_self, dim, (local_index - start) * hits)
        result = result * hits
    shape = sharded_shape(result.shape, out, wanted, [self, index])
    return wrap(result, DTensorSpec(self.device_mesh, tuple(out), Size(shape), contiguous_stride(shape)))


def take_along_dim(name, inner, args, kwargs):
    """``take_along_dim`` as PyTorch computes it: a ``gather`` of the flattened operands without a dim, else of
    the operands broadcast to each other outside the dim."""
    import ember
    given = _named(args, kwargs, ("input", "indices", "dim"))
    self, indices, dim = given["input"], given["indices"], given["dim"]
    require_dtensors(name, [self, indices])
    if dim is None:
        return ember.gather(self.reshape(-1), 0, indices.reshape(-1))
    if self.ndim != indices.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {self.ndim} dimensions for input, and {indices.ndim} dimensions for indices")
    dim %= max(self.ndim, 1)
    sizes = list(self.shape)
    sizes[dim] = indices.shape[dim]
    shape = list(ember.broadcast_shapes(tuple(sizes), tuple(indices.shape)))
    indices = indices if list(indices.shape) == shape else indices.expand(shape)
    shape[dim] = self.shape[dim]
    self = self if list(self.shape) == shape else self.expand(shape)
    return ember.gather(self, dim, indices)


def index_fill(name, inner, args, kwargs):
    """``index_fill`` (and ``index_fill_`` where it keeps the input's placements): sharded alike on a dim it does
    not fill (the index and a tensor value replicated), or partial values passed through where the fill's value
    reduces to itself (a number: an average, max or min of copies; a DTensor value: any kind)."""
    given = _named(args, kwargs, ("input", "dim", "index", "value"))
    self, index, value = given["input"], given["index"], given["value"]
    dim = given["dim"] % max(self.ndim, 1)
    tensor_value = isinstance(value, Tensor)
    operands = [self, index] + ([value] if tensor_value else [])
    require_dtensors(name, operands, "int_Tensor" if tensor_value else "int_Scalar")
    strategies = [[Shard(d), Shard(d)] + [R] * (len(operands) - 1) for d in range(self.ndim) if d != dim]
    if tensor_value:
        strategies += [[Partial(op), Partial(op), R, Partial(op)] for op in _PASSED_PARTIALS]
    else:
        strategies += [[Partial(op), Partial(op), R] for op in ("avg", "max", "min")]
    strategies = single_dim(strategies, operands)
    if name.endswith("_"):
        return _in_place(f"{name}.int_{'Tensor' if tensor_value else 'Scalar'}", inner, args, kwargs, operands,
                         strategies)
    return by_strategy(name, inner, args, kwargs, operands, strategies)


def index_add(name, inner, args, kwargs):
    """``index_add`` and ``index_copy`` as the ``index_put`` (accumulating for the add) PyTorch decomposes them
    into: input and source sharded alike on a dim the index does not address, or partial sums."""
    given = _named(args, kwargs, ("input", "dim", "index", "source"))
    self, index, source = given["input"], given["index"], given["source"]
    operands = [self, index, source]
    require_dtensors(name, operands)
    dim = given["dim"] % max(self.ndim, 1)
    strategies = single_dim(_index_put_strategies(self, [None] * dim + [index], source), operands)
    return by_strategy(name, inner, args, kwargs, operands, strategies)


def scatter(name, inner, args, kwargs):
    """``scatter`` (a src tensor or a value) and ``scatter_add``: all replicated, or sharded alike on another dim
    where input and index (and, for ``scatter``, src) have its size. ``scatter_`` only where that keeps the
    input's placements; ``scatter_add_`` as PyTorch's, the out-of-place result stored as the input (its
    placements then the result's)."""
    given = _named(args, kwargs, ("input", "dim", "index", "src", "reduce"))
    if "value" in kwargs:
        given["src"] = kwargs["value"]
    self, index, src = given["input"], given["index"], given["src"]
    base = name.rstrip("_")
    if given["reduce"] is not None:
        raise no_rule(f"{name}.{'src' if isinstance(src, Tensor) else 'value'}_reduce", args, kwargs)
    operands = [self, index] + ([src] if isinstance(src, Tensor) else [])
    dim = given["dim"] % max(self.ndim, 1)
    strategies = [[R] * (len(operands) + 1)]
    if self.ndim == index.ndim:
        for d in range(self.ndim):
            if d == dim or self.shape[d] != index.shape[d]:
                continue
            if base == "scatter" and len(operands) == 3 and src.shape[d] != index.shape[d]:
                continue
            strategies.append([Shard(d)] * (len(operands) + 1))
    overload = "default" if base == "scatter_add" else "src" if len(operands) == 3 else "value"
    if name == "scatter_":
        require_dtensors(name, operands, overload)
        return _in_place(f"{name}.{overload}", inner, args, kwargs, operands, strategies)
    if name == "scatter_add_":   # (kept where a strategy keeps the input's placements, else all replicated)
        from ... import scatter_add
        require_dtensors(name, operands, overload)
        chosen = cheapest(strategies, operands, keeps=lambda out, wanted: out == wanted[0] == self.placements)
        wanted, out = chosen[:2] if chosen else ([(R,) * self.device_mesh.ndim] * len(operands),
                                                 (R,) * self.device_mesh.ndim)
        result = laid_out(overrides.unwrapped(scatter_add), args, kwargs, operands, wanted, out)
        self._data, self._spec = result._data, result._spec
        self._version_counter[0] += 1
        return self
    return by_strategy(name, inner, args, kwargs, operands, strategies, overload)


def index_put(name, inner, args, kwargs):
    """``index_put``: input and values sharded alike on a dim no index addresses (the indices replicated;
    values broadcast along it replicated), or input and values partial sums. ``index_put_`` (and ``x[index] =
    values``) only where that keeps the input's placements."""
    given = _named(args, kwargs, ("input", "indices", "values", "accumulate"))
    self, indices, values = given["input"], list(given["indices"]), given["values"]
    tensors = [i for i in indices if i is not None]
    operands = [self] + tensors + ([values] if isinstance(values, Tensor) else [])
    require_dtensors(name, operands)
    strategies = single_dim(_index_put_strategies(self, indices, values), operands)
    if name.endswith("_"):
        return _in_place(name, inner, args, kwargs, operands, strategies)
    return by_strategy(name, inner, args, kwargs, operands, strategies)


def _index_put_strategies(self, indices, values):
    """PyTorch's single-dim strategies for ``index_put`` ([output, input, *indices, values]; no values column
    for a number)."""
    tensors = [i for i in indices if i is not None]
    indexed = [d for d, i in enumerate(indices) if i is not None]
    free = [d for d in range(self.ndim) if d not in indexed]
    broadcast = len(_broadcast_shape([tuple(t.shape) for t in tensors]))
    contiguous = len(indexed) <= 1 or indexed[-1] - indexed[0] + 1 == len(indexed)
    given_values = [values] if isinstance(values, Tensor) else []
    strategies = []
    for i, d in enumerate(free):
        at = (d if d < indexed[0] else d - len(indexed) + broadcast) if contiguous and indexed else broadcast + i
        row = [Shard(d), Shard(d)] + [R] * len(tensors)
        for v in given_values:
            at -= broadcast + len(free) - v.ndim
            row.append(Shard(at) if at >= 0 and v.shape[at] != 1 else R)
        strategies.append(row)
    strategies.append([Partial()] * 2 + [R] * len(tensors) + [Partial()] * len(given_values))
    return strategies


def setitem(name, inner, args, kwargs):
    """``x[key] = value`` with DTensor indices: ``index_put_`` (the indices' dims and the others whole); other
    keys write through a view, which DTensor has no rule for."""
    self, key, value = args
    key = key if isinstance(key, tuple) else (key,)
    if not key or not all(isinstance(k, DTensor) for k in key):
        raise no_rule("fill_.Tensor" if not isinstance(value, DTensor) else "copy_", args, kwargs)
    import ember
    require_dtensors("index_put_", [self] + list(key))
    if any(k.dtype in (ember.bool, ember.uint8) for k in key):
        raise RuntimeError("aten.nonzero.default: a boolean mask's nonzero has a data-dependent shape, so "
                           "aten.index_put_.default of it has no sharding strategy")
    if not isinstance(value, Tensor):   # (a number is a replicated 0-d tensor, as PyTorch makes it)
        value = DTensor.from_local(ember.tensor(value, dtype=self.dtype, device=self.device), self.device_mesh,
                                   [R] * self.device_mesh.ndim)
    operands = [self] + list(key) + [value]
    require_dtensors("index_put_", operands)
    strategies = single_dim(_index_put_strategies(self, list(key), value), operands)
    return _in_place("index_put_", inner, (self, key, value), kwargs, operands, strategies)


def _in_place(name, inner, args, kwargs, operands, strategies):
    """In-place op ``name`` on ``args[0]`` by the cheapest of ``strategies`` that keeps its placements, as
    PyTorch's: none keeping them is its error."""
    self = operands[0]
    chosen = cheapest(strategies, operands, keeps=lambda out, wanted: out == wanted[0] == tuple(self.placements))
    wanted = None if chosen is None else chosen[0]
    if wanted is None:
        op = name if "." in name else name + ".default"
        raise RuntimeError(f"aten.{op}: in-place operations that require placement changes are not "
                           f"supported. The input has placement {tuple(self.placements)}, but no valid strategy "
                           "preserves this placement. Please use the out-of-place version of this operation instead.")
    return in_place_local(name, inner, args, kwargs, {id(o): w for o, w in zip(operands, wanted)})


def _broadcast_shape(shapes):
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for shape in shapes:
        for i, size in enumerate(shape, ndim - len(shape)):
            out[i] = size if out[i] == 1 else out[i]
    return tuple(out)


def getitem(name, inner, args, kwargs):
    """``x[key]`` as PyTorch decomposes it: the integers, slices and ``None`` first (a dim they cut gathered,
    others' shards moved to their place), then the DTensor indices by ``index``'s strategies."""
    import ember
    self, key = args[0], args[1]
    key = key if isinstance(key, tuple) else (key,)
    if not isinstance(self, DTensor):
        raise mixed("index", "Tensor")
    for k in key:
        if isinstance(k, (list, Tensor)) and not isinstance(k, DTensor):
            raise mixed("index", "Tensor")
    used = sum(1 for k in key if k is not None and k is not Ellipsis and not isinstance(k, bool))
    at = next((i for i, k in enumerate(key) if k is Ellipsis), len(key))
    key = key[:at] + (slice(None),) * (self.ndim - used) + key[at + 1:]
    basic, cut, moved, tensors = [], set(), {}, {}
    dim = 0
    for k in key:
        if k is None or k is True:
            basic.append(None)
            continue
        if k is False:
            raise no_rule("index.Tensor", args, kwargs)
        if isinstance(k, DTensor):
            if k.dtype in (ember.bool, ember.uint8):
                raise RuntimeError("aten.nonzero.default: a boolean mask's nonzero has a data-dependent shape, "
                                   "so aten.index.Tensor of it has no sharding strategy")
            tensors[len(basic) - sum(1 for b in basic if isinstance(b, int))] = k
            k = slice(None)
        elif not isinstance(k, slice):
            k = operator.index(k)
            cut.add(dim)
        elif k.indices(self.shape[dim]) != (0, self.shape[dim], 1):
            cut.add(dim)
        if not isinstance(k, int):
            moved[dim] = len(basic) - sum(1 for b in basic if isinstance(b, int))
        basic.append(k)
        dim += 1
    if cut or None in basic:
        wanted = tuple(R if p.is_shard() and p.dim in cut else p for p in self.placements)
        out = tuple(Shard(moved[p.dim]) if p.is_shard() else p for p in wanted)
        shape = _basic_shape(self.shape, basic)
        spec = DTensorSpec(self.device_mesh, out, Size(shape), contiguous_stride(shape))
        self = run(inner, (self, tuple(basic)), {}, {id(self): wanted}, spec)
    if not tensors:
        return self
    return _index(inner, self, [tensors.get(d) for d in range(self.ndim)], args, kwargs)


def narrow(name, inner, args, kwargs):
    """``narrow`` as the slice it is."""
    given = _named(args, kwargs, ("input", "dim", "start", "length"))
    self, dim, start, length = (given[k] for k in ("input", "dim", "start", "length"))
    dim %= max(self.ndim, 1)
    start = int(start) + (self.shape[dim] if int(start) < 0 else 0)
    return getitem("__getitem__", _getitem_method(), (self, (slice(None),) * dim + (slice(start, start + length),)),
                   {})


def _getitem_method():
    return overrides.unwrapped(Tensor.__getitem__)


def _basic_shape(shape, basic):
    """The shape ``basic`` (integers, slices and None, one per dim but the Nones) leaves."""
    made, dim = [], 0
    for k in basic:
        if k is None:
            made.append(1)
            continue
        if isinstance(k, slice):
            made.append(len(range(*k.indices(shape[dim]))))
        dim += 1
    return tuple(made)


def _index(inner, self, indices, args, kwargs):
    """``self`` indexed by DTensor ``indices`` (None for a dim left whole) by PyTorch's single-dim strategies
    for ``index``: the values sharded on a dim no index addresses, the indices sharded alike on a dim of their
    broadcast shape (where their size is not 1), or partial sums passed through."""
    indexed = [d for d, i in enumerate(indices) if i is not None]
    tensors = [indices[d] for d in indexed]
    check_operands("index", [self] + tensors, args, kwargs)
    free = [d for d in range(self.ndim) if d not in indexed]
    ndim = max(t.ndim for t in tensors)
    insert = indexed[0] if all(b - a == 1 for a, b in zip(indexed, indexed[1:])) else 0
    strategies = []
    for d in free:
        out = d if d < insert else d + ndim - sum(1 for i in indexed if d > i)
        strategies.append([Shard(out), Shard(d)] + [R] * len(tensors))
    for at in range(ndim):
        dims = [(at - (ndim - t.ndim), t.shape[at - (ndim - t.ndim)]) if at >= ndim - t.ndim else (-1, 1)
                for t in tensors]
        if all(size == 1 for _, size in dims):
            continue
        strategies.append([Shard(at + insert), R] + [Shard(d) if size > 1 else R for d, size in dims])
    strategies += [[Partial(op), Partial(op)] + [R] * len(tensors) for op in _LINEAR]
    operands = [self] + tensors
    wanted, out, _ = cheapest(single_dim(strategies, operands), operands)
    key = tuple(slice(None) if i is None else i for i in indices)
    return laid_out(inner, (self, key), {}, operands, wanted, out)
