"""Running an op by a list of PyTorch's per-mesh-dimension strategies ([output, operand, ...] placements): the
cheapest that the operands match or move to (``_ops_matrix.cheapest``), the op on the local parts, the output
laid out by it. ``single_dim`` fills a list as PyTorch's single-dim strategies are filled."""
from ._dtensor import DTensorSpec
from ._local import check_operands, require_dtensors, run
from ._ops_matrix import cheapest
from .placement_types import Replicate


def single_dim(strategies, operands):
    """``strategies`` as PyTorch expands its single-dim ones: all replicated first where missing, and those
    sharding a dim only when some operand is sharded (its placeholders take the operands' kinds of shard)."""
    rows = [list(row) for row in strategies]
    columns = 1 + len(operands)
    if not any(all(p.is_replicate() for p in row) for row in rows):
        rows.insert(0, [Replicate()] * columns)
    if not any(p.is_shard() for operand in operands for p in operand.placements):
        rows = [row for row in rows if not any(p.is_shard() for p in row)]
    return rows


def sharded_shape(local_shape, out, wanted, operands):
    """The global shape of an output whose local part has ``local_shape``: each dim ``out`` shards has the size
    of the operand dim the same mesh dim shards (the strategy pairs dims of equal size)."""
    shape = list(local_shape)
    for mesh_dim, placement in enumerate(out):
        if placement.is_shard():
            for operand, placements in zip(operands, wanted):
                if placements[mesh_dim].is_shard():
                    shape[placement.dim] = operand.shape[placements[mesh_dim].dim]
                    break
    return shape


def by_strategy(name, inner, args, kwargs, operands, strategies, overload="default"):
    """Runs ``inner`` on ``operands`` (DTensors; a plain tensor among them is PyTorch's error for aten
    ``name.overload``) laid out by the cheapest of ``strategies``; its tensors come back laid out by that
    strategy's output placement."""
    require_dtensors(name, operands, overload)
    check_operands(name, operands, args, kwargs)
    wanted, out, _ = cheapest(strategies, operands)
    return laid_out(inner, args, kwargs, operands, wanted, out)


def laid_out(inner, args, kwargs, operands, wanted, out):
    """Runs ``inner`` on ``operands`` laid out by ``wanted`` (one placement list each); its tensors come back laid
    out by ``out``."""
    targets = {id(operand): placements for operand, placements in zip(operands, wanted)}
    return run(inner, args, kwargs, targets, DTensorSpec(operands[0].device_mesh, tuple(out), None, None),
               lambda local: sharded_shape(local, out, wanted, operands))
