"""Tensor layouts (``ember.strided``, ``ember.sparse_coo``, ``ember.sparse_csr``) and how sparse tensors pickle in
torch's format (``torch._utils._rebuild_sparse_tensor`` with ``torch.serialization._get_layout``)."""
import pickle

from .. import _alias

__all__ = ["jagged", "layout", "sparse_bsc", "sparse_bsr", "sparse_coo", "sparse_csc", "sparse_csr", "strided"]


class layout:
    """How a tensor's elements are stored in memory, as ``torch.layout``."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"{_alias.package()}.{self.name}"

    def __reduce__(self):
        if _alias.installed:   # torch.serialization._get_layout, which a real-PyTorch process finds
            return _alias.torch_reduce(self)
        return get_layout, (f"torch.{self.name}",)

    def _torch_reduce(self):   # torch pickles a layout as torch.serialization._get_layout("torch.<name>")
        return ("torch.serialization", "_get_layout"), (f"torch.{self.name}",)


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")   # the block layouts: named (a layout a program compares with), not computed
sparse_bsc = layout("sparse_bsc")
jagged = layout("jagged")   # torch.nested's jagged layout (ember.nested)
_BY_NAME = {f"{prefix}.{value.name}": value for value in (strided, sparse_coo, sparse_csr, sparse_csc, sparse_bsr, sparse_bsc, jagged)
            for prefix in ("torch", "ember")}


def get_layout(name):
    """torch.serialization._get_layout: the layout named ``torch.<name>`` in a checkpoint."""
    if not isinstance(name, str) or name not in _BY_NAME:
        raise pickle.UnpicklingError(f"unknown tensor layout in checkpoint: {name!r}")
    return _BY_NAME[name]


def rebuild_sparse_tensor(layout, data):
    """torch._utils._rebuild_sparse_tensor: a sparse tensor from its layout and (indices, values, size[, coalesced])
    or (compressed indices, plain indices, values, size); the indices are checked against the size."""
    from .._tensor import Tensor
    if not isinstance(data, tuple) or not all(isinstance(t, Tensor) for t in data[:2]):
        raise pickle.UnpicklingError("_rebuild_sparse_tensor takes a layout and a tuple of index and value tensors")
    if layout is sparse_coo and len(data) in (3, 4):
        from ._coo import sparse_coo_tensor
        indices, values, size = data[:3]
        coalesced = data[3] if len(data) == 4 else None
        if not (coalesced is None or isinstance(coalesced, bool)):
            raise pickle.UnpicklingError("_rebuild_sparse_tensor: is_coalesced must be a bool or None")
        return sparse_coo_tensor(indices, values, tuple(size), check_invariants=True, is_coalesced=coalesced)
    if layout is sparse_csr and len(data) == 4:
        from ._csr import sparse_csr_tensor
        return sparse_csr_tensor(*data[:3], tuple(data[3]))
    if layout is sparse_csc and len(data) == 4:
        from ._csc import sparse_csc_tensor
        return sparse_csc_tensor(*data[:3], tuple(data[3]))
    raise pickle.UnpicklingError(f"rebuilding sparse tensor for layout {layout!r} is not supported")


TORCH_GLOBALS = {("torch._utils", "_rebuild_sparse_tensor"): rebuild_sparse_tensor,
                 ("torch.serialization", "_get_layout"): get_layout}
