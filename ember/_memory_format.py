"""Memory formats (``contiguous_format``, ``channels_last``, ``channels_last_3d``, ``preserve_format``): the order in
which a tensor's elements lie in memory. ``channels_last`` keeps a 4-D (N, C, H, W) tensor's elements in (N, H, W, C)
order, as PyTorch does, so its strides and ``is_contiguous`` answers are PyTorch's."""
from . import _alias

__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]


class memory_format:
    """A memory layout of tensor elements (compare with ``is``; the instances are the module's constants)."""

    def __init__(self, name, rank=None):
        self.name, self.rank = name, rank

    def __repr__(self):
        return f"{_alias.package()}.{self.name}"

    def __reduce__(self):   # as PyTorch's, the global torch.<name>, once the class shows torch's module
        return self.name if type(self).__module__ == "torch" else (_by_name, (self.name,))

    def order(self, ndim):
        """The axes in the order their elements lie in memory, outermost first (None: row-major)."""
        if self.rank is None:
            return None
        if ndim != self.rank:
            raise RuntimeError(f"required rank {self.rank} tensor to use {self.name} format")
        return (0,) + tuple(range(2, ndim)) + (1,)


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last", 4)
channels_last_3d = memory_format("channels_last_3d", 5)
preserve_format = memory_format("preserve_format")
_BY_NAME = {f.name: f for f in (contiguous_format, channels_last, channels_last_3d, preserve_format)}


def _by_name(name):
    return _BY_NAME[name]


def suggested(array):
    """The format PyTorch's ``suggest_memory_format`` reads from ``array``'s strides: ``channels_last``
    (``channels_last_3d``) for a 4-D (5-D) array whose strides put the channels innermost, the spatial dims next and
    the batch outermost (an ambiguous N1HW or N111 array counts as contiguous, as in PyTorch), else
    ``contiguous_format``."""
    return suggested_for(array.shape, [s // array.itemsize for s in array.strides])


def suggested_for(sizes, strides):
    """``suggested`` for an array of these sizes and element strides."""
    if len(sizes) not in (4, 5) or strides[1] == 0:
        return contiguous_format
    smallest = 0
    for d in (1, 3, 2, 0) if len(sizes) == 4 else (1, 4, 3, 2, 0):
        if sizes[d] == 0 or strides[d] < smallest or (d == 0 and smallest == strides[1]):
            return contiguous_format
        smallest = strides[d] * max(sizes[d], 1)
    return channels_last if len(sizes) == 4 else channels_last_3d


def is_laid_out(array, fmt):
    """Whether ``array``'s elements lie in ``fmt``'s order without gaps (row-major for ``contiguous_format``; False
    for a channels-last format of another rank, as PyTorch answers)."""
    if fmt is not None and fmt.rank is not None and array.ndim != fmt.rank:
        return False
    order = None if fmt is None or fmt is preserve_format else fmt.order(array.ndim)
    if order is None:
        return bool(array.flags.c_contiguous)
    return bool(array.transpose(order).flags.c_contiguous)
