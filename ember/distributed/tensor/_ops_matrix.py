"""Sharding rules of the matrix products (``mm``, ``bmm``, ``matmul``/``@``, ``addmm``, ``baddbmm``, ``linear``,
``dot``) and two-operand ``einsum``, as PyTorch's einsum strategies: per mesh dimension the operands are all
replicated, sharded together on a batch dim, sharded on the contracted dim (a Partial sum out), sharded on one
side's free dim, or one side Partial against a replicated other (products are linear in each operand). Of the
strategies over the whole mesh, the one the inputs already match runs as they are; otherwise the one whose
redistribution costs least by PyTorch's cost model (all-gather, all-reduce and reduce-scatter of the bytes moved:
87.7 GB/s and 0.6 us a hop within a host, 0.22 of that bandwidth and 2.7 us a hop across hosts, a CPU host holding
one device) is chosen, ties going to the first. ``linear`` and ``matmul``
of a 3-D (or more) operand by a matrix or vector fold its batch dims into rows first, and other batched ``matmul``s
expand and reshape both operands to one batch dim for ``bmm``, as PyTorch's decompose."""
import inspect
import itertools
import math
import string

from ... import overrides
from ..._tensor import Size, Tensor, _make
from ._dtensor import DTensorSpec, contiguous_stride
from ._local import check_operands, local_part, no_rule, require_dtensors, unstrided, wrap
from .placement_types import Partial, Replicate, Shard, _StridedShard

PRODUCTS = frozenset("mm bmm matmul __matmul__ __rmatmul__ dot addmm baddbmm linear".split())
_EQUATIONS = {"mm": (["mk", "kn"], "mn"), "bmm": (["bmk", "bkn"], "bmn"), "dot": (["k", "k"], "")}
_LINEAR_OPS = ("sum", "avg")
_BANDWIDTH_GB_S, _HOP_LATENCY_US, _BASE_LATENCY_US = 87.7, 0.6, 6.6
_ACROSS_HOSTS_BANDWIDTH, _ACROSS_HOSTS_LATENCY_US = 0.22, 2.7


def _one_mesh_dim(inputs, output):
    """The strategies over one mesh dimension: lists of [output, input, ...] placements, all-replicate first."""
    strategies = [[Replicate()] * (len(inputs) + 1)]
    letters = sorted(set("".join(inputs)), key="".join(inputs).index)
    batch = [c for c in letters if c in output and all(c in dims for dims in inputs)]
    contracted = [c for c in letters if c not in output and all(c in dims for dims in inputs)]
    for c in batch:
        strategies.append([Shard(output.index(c))] + [Shard(dims.index(c)) for dims in inputs])
    for c in contracted:
        strategies.append([Partial()] + [Shard(dims.index(c)) for dims in inputs])
    for side, dims in enumerate(inputs):
        for c in dims:
            if c in output and c not in batch:
                strategies.append([Shard(output.index(c))] + [Shard(dims.index(c)) if i == side else Replicate()
                                                                for i in range(len(inputs))])
    if len(inputs) == 2:
        for op in _LINEAR_OPS:
            strategies.append([Partial(op), Partial(op), Replicate()])
            strategies.append([Partial(op), Replicate(), Partial(op)])
    if not contracted and len(batch) == len(letters):
        for op in _LINEAR_OPS:
            strategies.append([Partial(op)] * (len(inputs) + 1))
    return strategies


def _shardable(shape, placements, mesh):
    parts = [1] * len(shape)
    for mesh_dim, placement in enumerate(placements):
        if placement.is_shard():
            parts[placement.dim] *= mesh.size(mesh_dim)
    return all(size >= count for size, count in zip(shape, parts))


def _collective_cost(kind, gigabytes, devices, link):
    hops = (devices - 1) * (2 if kind == "all_reduce" else 1)
    latency, bandwidth = link
    return _BASE_LATENCY_US + hops * latency + gigabytes * hops / devices / bandwidth * 1e6


def _links(mesh):
    """Per mesh dim, PyTorch's (latency a hop in us, bandwidth in GB/s): within a host while the devices of that
    dim and those after it fit on one (a CPU host holds one, a GPU host its GPUs), else across hosts."""
    if mesh.device_type == "cpu":
        per_host = 1
    else:
        from ... import cuda
        per_host = cuda.device_count()
    links, devices = [None] * mesh.ndim, 1
    for mesh_dim in reversed(range(mesh.ndim)):
        devices *= mesh.size(mesh_dim)
        links[mesh_dim] = ((_ACROSS_HOSTS_LATENCY_US, _BANDWIDTH_GB_S * _ACROSS_HOSTS_BANDWIDTH)
                           if devices > per_host else (_HOP_LATENCY_US, _BANDWIDTH_GB_S))
    return links


def redistribute_cost(mesh, shape, itemsize, current, target):
    """PyTorch's estimate (in microseconds) of laying a tensor out by ``target`` instead of ``current``: infinite
    for a move it refuses (a shard or another partial made partial)."""
    current, target = tuple(current), tuple(target)
    if current == target or all(p.is_replicate() for p in current):
        return 0.0
    numel = 1
    for size in shape:
        numel *= size
    shards = 1
    for mesh_dim, placement in enumerate(current):
        if placement.is_shard():
            shards *= mesh.size(mesh_dim)
    gigabytes, cost, links = numel * itemsize / shards / 2 ** 30, 0.0, _links(mesh)
    order = [i for i in reversed(range(len(target))) if current[i] != target[i] and not target[i].is_shard()] + \
            [i for i in range(len(target)) if current[i] != target[i] and target[i].is_shard()]
    for i in order:
        src, dst, devices = current[i], target[i], mesh.size(i)
        if src.is_shard() and dst.is_replicate():
            gigabytes *= devices
            cost += _collective_cost("all_gather", gigabytes, devices, links[i])
        elif src.is_shard() and dst.is_shard():
            cost += _collective_cost("all_gather", gigabytes, devices, links[i]) + 1.0
        elif src.is_partial() and dst.is_replicate():
            cost += _collective_cost("all_reduce", gigabytes, devices, links[i])
        elif src.is_partial() and dst.is_shard():
            cost += _collective_cost("reduce_scatter", gigabytes, devices, links[i])
            gigabytes /= devices
        elif dst.is_partial():
            if not src.is_replicate():
                return float("inf")
        elif src.is_replicate() and dst.is_shard():
            gigabytes /= devices
    return cost


def einsum_strategy(inputs, output, operands, bias=None):
    """The placements each of ``operands`` (DTensors whose dims ``inputs`` name, PyTorch's einsum letters) must
    have and the output's, for the product giving dims ``output``; ``bias`` (a DTensor added to the output,
    broadcasting) gets the output's placements where it has the dim. Returns (input placements, output
    placements, bias placements or None)."""
    out_shape = output_shape(inputs, output, [tuple(o.shape) for o in operands])
    extra = None if bias is None else (lambda out: [(bias, _bias_placements(out, out_shape, bias))])
    wanted, out, extras = cheapest(_one_mesh_dim(inputs, output), operands, extra)
    return wanted, out, extras[0][1] if bias is not None else None


def cheapest(per_dim, operands, extra=None, keeps=None):
    """Of the strategies over the whole mesh (one of ``per_dim``'s [output, input, ...] placement lists per mesh
    dimension), the one ``operands`` already match, else the one whose redistribution costs least (ties to the
    first); only those ``keeps(out, wanted)`` accepts where given (None if no strategy is left). ``extra(out)``
    lists more (DTensor, placements) pairs that strategy asks for. Returns (input placements, output
    placements, extra pairs)."""
    mesh = operands[0].device_mesh
    best, best_cost = None, None
    for combination in itertools.product(per_dim, repeat=mesh.ndim):
        columns = list(zip(*combination))
        out, wanted = tuple(columns[0]), [tuple(c) for c in columns[1:]]
        if not all(_shardable(tuple(o.shape), w, mesh) for o, w in zip(operands, wanted)):
            continue
        if keeps is not None and not keeps(out, wanted):
            continue
        extras = extra(out) if extra is not None else []
        pairs = list(zip(operands, wanted)) + extras
        if all(tuple(t.placements) == w for t, w in pairs):
            return wanted, out, extras
        cost = sum(redistribute_cost(mesh, tuple(t.shape), t.element_size(), t.placements, w) for t, w in pairs)
        if best_cost is None or cost < best_cost:
            best, best_cost = (wanted, out, extras), cost
    return best


def output_shape(inputs, output, shapes):
    """The product's shape: each output letter's size among the operands (broadcast dims of size 1 give way)."""
    sizes = {}
    for dims, shape in zip(inputs, shapes):
        for c, size in zip(dims, shape):
            sizes[c] = max(sizes.get(c, 1), size)
    return tuple(sizes[c] for c in output)


def _bias_placements(out, out_shape, bias):
    """The output's placements as a tensor of ``bias``'s shape broadcast to ``out_shape`` receives them."""
    pad = len(out_shape) - bias.ndim
    made = []
    for placement in out:
        if placement.is_shard():
            dim = placement.dim - pad
            made.append(Shard(dim) if dim >= 0 and bias.shape[dim] != 1 else Replicate())
        else:
            made.append(placement)
    return tuple(made)


def matmul_equation(a_shape, b_shape):
    """``matmul``'s einsum letters for operands of these shapes (broadcast batch dims of size 1 on one side
    are that side's own letters, never sharded with the other's), or None for 0-d operands."""
    if not a_shape or not b_shape:
        return None
    letters = iter(string.ascii_lowercase)
    k = next(letters)
    if len(a_shape) == 1 and len(b_shape) == 1:
        return [k, k], ""
    m = next(letters) if len(a_shape) > 1 else None
    n = next(letters) if len(b_shape) > 1 else None
    a_batch, b_batch = list(a_shape[:-2]), list(b_shape[:-2])
    ndim = max(len(a_batch), len(b_batch))
    a_names, b_names, out_names = [], [], []
    for i in range(ndim):
        a_size = a_batch[i - ndim + len(a_batch)] if i >= ndim - len(a_batch) else None
        b_size = b_batch[i - ndim + len(b_batch)] if i >= ndim - len(b_batch) else None
        if a_size is not None and a_size == b_size:
            shared = next(letters)
            a_names.append(shared), b_names.append(shared), out_names.append(shared)
            continue
        for size, other, names in ((a_size, b_size, a_names), (b_size, a_size, b_names)):
            if size is not None:
                letter = next(letters)
                if size == 1 and other is not None:   # broadcast against the other's dim: never sharded
                    letter = letter.upper()
                else:
                    out_names.append(letter)
                names.append(letter)
    a = "".join(a_names) + (m or "") + k
    b = "".join(b_names) + k + (n or "")
    return [a, b], "".join(out_names) + (m or "") + (n or "")


def matrix(name, inner, args, kwargs):
    """A product by the einsum strategy ``_ops_matrix`` picks: operands laid out by it, the product of the local
    parts, the output laid out as it says (a bias added to a Partial sum becomes Partial too: its share, as
    PyTorch's)."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    given = list(bound.arguments.items())
    positions = {"addmm": (1, 2, 0), "baddbmm": (1, 2, 0), "linear": (0, 1, 2), "__rmatmul__": (1, 0, None)}
    first, second, bias_at = positions.get(name, (0, 1, None))
    a, b = given[first][1], given[second][1]
    bias = given[bias_at][1] if bias_at is not None and bias_at < len(given) else None
    operands = [t for t in (a, b, bias) if t is not None]
    require_dtensors(name, operands)
    mesh = check_operands(name, operands, args, kwargs)
    if name == "linear" and a.ndim > 2:   # folded to one matrix product, as PyTorch's (shards of later batch dims:
        import ember                       # strided shards of the folded dim)
        product = ember.nn.functional.linear(a.reshape(-1, a.shape[-1]), b, bias)
        return product.view(*a.shape[:-1], product.shape[-1])
    if name in ("matmul", "__matmul__", "__rmatmul__") and max(a.ndim, b.ndim) >= 3 and min(a.ndim, b.ndim) >= 1:
        return _folded_matmul(a, b) if _folds(a, b) else _batched_matmul(a, b)
    base = {"addmm": "mm", "baddbmm": "bmm"}.get(name, name)
    if base in _EQUATIONS:
        inputs, output = _EQUATIONS[base]
    elif base == "linear":
        free = "abcdefghij"[:a.ndim - 1]
        inputs, output = [free + "k", "nk"], free + "n"
    else:
        inputs, output = matmul_equation(tuple(a.shape), tuple(b.shape)) or (None, None)
        if inputs is None:
            raise no_rule(name, args, kwargs)
    strided = _kept_strided(inputs, output, [a, b], bias)
    a, b, bias = (None if t is None else unstrided(t, strided.get(j, {})) for j, t in enumerate((a, b, bias)))
    seen = [_LaidOut(t, [Shard(p.dim) if i in strided.get(j, {}) else p for i, p in enumerate(t.placements)])
            for j, t in enumerate((a, b))]
    wanted, out, bias_wanted = einsum_strategy(inputs, output, seen, bias)
    wanted, out = [list(w) for w in wanted], list(out)
    for j, kept in strided.items():
        for i, placement in kept.items():
            if wanted[j][i] == Shard(placement.dim):   # the strategy keeps the shard: it stays strided, in and out
                wanted[j][i], out[i] = placement, _StridedShard(out[i].dim, placement.split_factor)
    shape = output_shape(inputs, output, [tuple(a.shape), tuple(b.shape)])
    spec = DTensorSpec(mesh, tuple(out), Size(shape), contiguous_stride(shape))
    converted = {first: local_part(a, wanted[0], out), second: local_part(b, wanted[1], out)}
    if bias is not None:
        converted[bias_at] = local_part(bias, bias_wanted, out)
    local = {key: converted.get(i, value) for i, (key, value) in enumerate(given)}
    if name == "__rmatmul__":
        local = {"self": local[given[1][0]], "other": local[given[0][0]]}
        inner = overrides.unwrapped(Tensor.__matmul__)
    with overrides.DisableTorchFunctionSubclass():
        result = inner(*local.values()) if name.startswith("__") else inner(**local)
    return wrap(result, spec)


def _folds(a, b):
    """Whether PyTorch's ``matmul`` folds the larger operand's batch dims into its rows (one mm or mv, no bmm): it
    has 3 dims or more and the other 1 or 2, and the other needs grad or the fold (of the larger, transposed when it
    is the second) is a view."""
    larger = a.ndim >= b.ndim
    big, small = (a, b) if larger else (b, a)
    if big.ndim < 3 or small.ndim > 2:
        return False
    if small.requires_grad:
        return True
    if a.ndim == 2:   # (the product of the transposed fold would need a copy to transpose back)
        return False
    if big.numel() == 0:
        return True
    local = _make(big._data)
    shape, stride = list(local.shape), list(local.stride())
    if not larger:
        shape[-2:], stride[-2:] = shape[:-3:-1], stride[:-3:-1]
    return all(stride[i] == stride[i + 1] * shape[i + 1] for i in range(big.ndim - 2))


def _folded_matmul(a, b):
    """``matmul`` folded as PyTorch's: the larger operand (the second one transposed) reshaped to rows, one matrix
    product (or matrix-vector) with the other, viewed back (and transposed back to a contiguous result)."""
    import ember
    transpose = b.ndim > a.ndim
    big = b.mT if transpose else a
    small = (a.t() if a.ndim == 2 else a) if transpose else b
    rows = big.reshape(-1, big.shape[-1])
    product = ember.mm(rows, small) if small.ndim == 2 else ember.matmul(rows, small)
    output = product.view(*big.shape[:-1], *small.shape[1:])
    return output.mT.contiguous() if transpose and small.ndim == 2 else output


def _batched_matmul(a, b):
    """``matmul`` of batches as PyTorch's decomposes it: both operands expanded to the broadcast batch dims and
    reshaped to one, one ``bmm``, viewed back (a 3-D operand with a batch of 1 against another batch squeezed
    first, for the fold, as PyTorch does for a tensor subclass)."""
    import ember
    if a.ndim == 3 and b.ndim == 3 and a.shape[0] != b.shape[0] and 1 in (a.shape[0], b.shape[0]):
        return ember.matmul(a.squeeze(0), b) if a.shape[0] == 1 else ember.matmul(a, b.squeeze(0))
    n, k = (a.shape[-2] if a.ndim > 1 else 1), a.shape[-1]
    p = b.shape[-1] if b.ndim > 1 else 1
    batch = tuple(ember.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2])))
    count = math.prod(batch)
    left = a.expand(*batch, n, k).reshape(count, n, k)
    if b.ndim == 1:
        right = b.expand(*batch, k).reshape(count, k).unsqueeze(2)
    else:
        right = b.expand(*batch, k, p).reshape(count, k, p)
    product = ember.bmm(left, right)
    product = product.squeeze(-1) if b.ndim == 1 else product
    return product.view(*batch, *((n,) if a.ndim > 1 else ()), *((p,) if b.ndim > 1 else ()))


def _kept_strided(inputs, output, operands, bias):
    """{operand index: {mesh dim: its _StridedShard}} for the strided shards a product keeps: on a dim kept in the
    output, every other operand with that dim strided alike on that mesh dim (a batch dim both fold the same way)
    and the rest replicated there (each rank's rows of the output are then the same strided set). Other strided
    shards are gathered first."""
    kept = {}
    for j, (dims, operand) in enumerate(zip(inputs, operands)):
        for i, placement in enumerate(operand.placements):
            if not isinstance(placement, _StridedShard) or dims[placement.dim] not in output:
                continue
            letter = dims[placement.dim]
            alike = all(other.placements[i] == placement and other_dims[other.placements[i].dim] == letter
                        if letter in other_dims else other.placements[i].is_replicate()
                        for k, (other_dims, other) in enumerate(zip(inputs, operands)) if k != j)
            if alike and (bias is None or bias.placements[i].is_replicate()):
                kept.setdefault(j, {})[i] = placement
    return kept


class _LaidOut:
    """A DTensor's shape, mesh and element size with other placements: how a strategy sees a kept strided shard."""

    def __init__(self, dtensor, placements):
        self.shape, self.device_mesh, self.placements = dtensor.shape, dtensor.device_mesh, tuple(placements)
        self.ndim, self.element_size = dtensor.ndim, dtensor.element_size


def einsum(name, inner, args, kwargs):
    """``einsum`` of two DTensors by the einsum strategies (each operand's letters distinct, no ellipsis)."""
    equation, operands = args[0], list(args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:])
    inputs, arrow, output = equation.replace(" ", "").partition("->")
    inputs = inputs.split(",")
    if not arrow:
        counts = "".join(inputs)
        output = "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    if len(operands) != 2 or "." in equation or kwargs or any(len(set(dims)) != len(dims) for dims in inputs):
        raise no_rule(name, args, kwargs)
    require_dtensors(name, operands)
    mesh = check_operands(name, operands, (), {})
    wanted, out, _ = einsum_strategy(inputs, output, operands)
    shape = output_shape(inputs, output, [tuple(t.shape) for t in operands])
    spec = DTensorSpec(mesh, tuple(out), Size(shape), contiguous_stride(shape))
    parts = [local_part(t, w, out) for t, w in zip(operands, wanted)]
    with overrides.DisableTorchFunctionSubclass():
        return wrap(inner(equation, *parts), spec)
