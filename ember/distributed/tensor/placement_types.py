"""``torch.distributed.tensor.placement_types``: how a DTensor lays a tensor over one dimension of a device mesh
(``Shard(dim)``, ``Replicate()``, ``Partial(reduce_op)``), as values that print, compare and hash as PyTorch's."""

__all__ = ["Placement", "Shard", "Replicate", "Partial"]


class Placement:
    """The base of the placement types."""

    __slots__ = ()

    def is_shard(self, dim=None):
        """Whether this places shards (along ``dim``, when given)."""
        return False

    def is_replicate(self):
        """Whether this places a full copy on every rank."""
        return False

    def is_partial(self, reduce_op=None):
        """Whether this places partial values awaiting a reduction (by ``reduce_op``, when given)."""
        return False


class Shard(Placement):
    """Each rank of the mesh dimension holds one ``torch.chunk`` of the tensor along dimension ``dim``."""

    __slots__ = ("dim",)

    def __init__(self, dim=0):
        self.dim = dim

    def is_shard(self, dim=None):
        return dim is None or dim == self.dim

    def __eq__(self, other):
        return type(other) is type(self) and other.dim == self.dim

    def __hash__(self):
        return hash((type(self).__name__, self.dim))

    def __repr__(self):
        return f"Shard(dim={self.dim})"

    def __str__(self):
        return f"S({self.dim})"


class _StridedShard(Placement):
    """A shard of a tensor already sharded ``split_factor`` ways along the same dimension (FSDP over TP); not a
    ``Shard`` (``is_shard()`` is False), as in PyTorch."""

    __slots__ = ("dim", "split_factor")

    def __init__(self, dim, split_factor):
        self.dim, self.split_factor = dim, split_factor

    def __eq__(self, other):
        return type(other) is type(self) and (other.dim, other.split_factor) == (self.dim, self.split_factor)

    def __hash__(self):
        return hash((type(self).__name__, self.dim, self.split_factor))

    def __repr__(self):
        return f"_StridedShard(dim={self.dim}, sf={self.split_factor})"

    def __str__(self):
        return f"_S({self.dim}, {self.split_factor})"


class Replicate(Placement):
    """Every rank of the mesh dimension holds the whole tensor."""

    __slots__ = ()

    def is_replicate(self):
        return True

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(type(self).__name__)

    def __repr__(self):
        return "Replicate()"

    def __str__(self):
        return "R"


class Partial(Placement):
    """Every rank of the mesh dimension holds a partial value; the tensor is their reduction by ``reduce_op``."""

    __slots__ = ("reduce_op",)

    def __init__(self, reduce_op="sum"):
        self.reduce_op = reduce_op

    def is_partial(self, reduce_op=None):
        return reduce_op is None or reduce_op == self.reduce_op

    def __eq__(self, other):
        return type(other) is type(self) and other.reduce_op == self.reduce_op

    def __hash__(self):
        return hash((type(self).__name__, self.reduce_op))

    def __repr__(self):
        return f"Partial({self.reduce_op})"

    def __str__(self):
        return f"P({self.reduce_op})"


class _MaskPartial(Partial):
    """Partial values of a lookup in a table sharded by rows: each rank's lookups of ids outside its rows (along
    ``offset_dim`` of a table of ``offset_shape``) are zeros, so the whole is their reduction (PyTorch's placement
    for a row-sharded embedding; ember masks at the lookup, so no mask travels with it)."""

    __slots__ = ("offset_shape", "offset_dim")

    def __init__(self, reduce_op="sum", offset_shape=None, offset_dim=0):
        super().__init__(reduce_op)
        self.offset_shape, self.offset_dim = offset_shape, offset_dim

    def __eq__(self, other):
        return type(other) is type(self) and (other.reduce_op, other.offset_shape, other.offset_dim) == \
            (self.reduce_op, self.offset_shape, self.offset_dim)

    def __hash__(self):
        return hash((type(self).__name__, self.reduce_op, self.offset_shape, self.offset_dim))

    def __repr__(self):
        return (f"_MaskPartial(reduce_op={self.reduce_op}, offset_shape={self.offset_shape}, "
                f"offset_dim={self.offset_dim})")

    def __str__(self):
        return f"MaskP({self.reduce_op}, {self.offset_shape}, {self.offset_dim})"


class _NormPartial(Partial):
    """Partial vector norms of order ``norm_type``: the whole is (sum of the parts' p-th powers)^(1/p), the largest
    part for p = inf, the smallest for p = -inf (PyTorch's placement for a norm over a sharded dimension)."""

    __slots__ = ("norm_type",)

    def __init__(self, norm_type=2):
        norm_type = float(norm_type)
        super().__init__("max" if norm_type == float("inf") else "min" if norm_type == float("-inf") else "sum")
        self.norm_type = norm_type

    def __eq__(self, other):
        return type(other) is type(self) and other.norm_type == self.norm_type

    def __hash__(self):
        return hash((type(self).__name__, self.norm_type))

    def __repr__(self):
        p = self.norm_type
        shown = int(p) if p not in (float("inf"), float("-inf")) and p == int(p) else p
        return f"_NormPartial({shown})"

    __str__ = __repr__
