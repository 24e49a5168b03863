"""``torch.distributed.tensor.placement_types``: how a DTensor lays a tensor over one dimension of a device mesh
(``Shard(dim)``, ``Replicate()``, ``Partial(reduce_op)``). Plain values: ember has no DeviceMesh, so nothing is
placed with them, but libraries build and compare them."""

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
