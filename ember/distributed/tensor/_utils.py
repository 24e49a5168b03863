"""``torch.distributed.tensor._utils``: the shard-layout query libraries call (transformers' sharding utilities
import it whenever torch.distributed is available; DCP-style checkpoint code uses it)."""
from ._redistribute import local_shape_and_offset


def compute_local_shape_and_global_offset(global_shape, mesh, placements, skip_offset=False):
    """This rank's local shape of a DTensor of ``global_shape`` laid out by ``placements`` on ``mesh``, and its
    offset in the global tensor (``()`` with ``skip_offset``); ``((0,), ())`` on a rank outside the mesh."""
    if mesh.get_coordinate() is None:
        return (0,), ()
    shape, offset = local_shape_and_offset(global_shape, mesh, placements)
    return shape, () if skip_offset else offset
