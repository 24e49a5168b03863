"""``torch.distributed.checkpoint.load`` (and ``load_state_dict``): loads a checkpoint into the given state_dict in
place: its tensors are filled, other values replaced, ``Stateful`` values given ``load_state_dict``. Every rank reads
what its state_dict asks for, from whichever rank's files hold it."""
import inspect
import logging
import warnings

from ._storage_utils import _storage_setup
from .default_planner import DefaultLoadPlanner, _EmptyStateDictLoadPlanner
from .state_dict_saver import _no_dist
from .stateful import Stateful
from .utils import _DistWrapper

logger = logging.getLogger(__name__)

__all__ = ["load_state_dict", "load"]


def load_state_dict(state_dict, storage_reader, process_group=None, coordinator_rank=0, no_dist=False, planner=None):
    """This method is deprecated. Please switch to 'load'."""
    warnings.warn("`load_state_dict` is deprecated and will be removed in future versions. Please use `load` "
                  "instead.", FutureWarning, stacklevel=2)
    storage_reader.reset()
    return _load_state_dict(state_dict, storage_reader, process_group, coordinator_rank, no_dist, planner)


def load(state_dict, *, checkpoint_id=None, storage_reader=None, planner=None, process_group=None, no_dist=False):
    """Load a checkpoint into a distributed state dict in SPMD style: ``state_dict``'s tensors are filled in place
    (their sizes must match the saved ones), its other values replaced; a key the checkpoint lacks raises."""
    no_dist = _no_dist(no_dist, "load")
    storage_reader = _storage_setup(storage_reader, checkpoint_id, reader=True)
    keys = sorted(state_dict.keys())
    stateful_sd = {}
    for key in keys:
        elem = state_dict[key]
        stateful_sd[key] = elem.state_dict() if isinstance(elem, Stateful) else elem
    _load_state_dict(state_dict=stateful_sd, storage_reader=storage_reader, process_group=process_group,
                     no_dist=no_dist, planner=planner)
    for key in keys:
        elem = state_dict[key]
        if isinstance(elem, Stateful):
            elem.load_state_dict(stateful_sd[key])   # a Stateful's state_dict may be a copy: load it back
        else:
            state_dict[key] = stateful_sd[key]


def _load_state_dict(state_dict, storage_reader, process_group=None, coordinator_rank=0, no_dist=False,
                     planner=None):
    distW = _DistWrapper(process_group, not no_dist, coordinator_rank)
    if planner is None:
        planner = DefaultLoadPlanner()
    use_collectives = True
    metadata = None

    def local_step():
        nonlocal use_collectives, metadata
        global_exc = rank_exc = None
        try:
            metadata = storage_reader.read_metadata()
        except Exception as e:
            global_exc = e
            logger.warning("Global metadata is not found. Falling back to rank local metadata.", exc_info=True)
        if not metadata and "kwargs" in inspect.signature(storage_reader.read_metadata).parameters:
            try:
                metadata = storage_reader.read_metadata(rank=distW.rank)
                use_collectives = False
            except Exception as e:
                rank_exc = e
                logger.warning("Rank local metadata is not found.", exc_info=True)
        if metadata is None:
            parts = ["metadata is None"]
            if global_exc is not None:
                parts.append(f"global metadata read failed: {global_exc}")
            if rank_exc is not None:
                parts.append(f"rank local metadata read failed: {rank_exc}")
            raise AssertionError("; ".join(parts))
        planner.set_up_planner(state_dict, metadata, distW.is_coordinator)
        if "kwargs" in inspect.signature(storage_reader.set_up_storage_reader).parameters:
            storage_reader.set_up_storage_reader(metadata, distW.is_coordinator, rank=distW.rank,
                                                 use_collectives=use_collectives)
        else:
            storage_reader.set_up_storage_reader(metadata, distW.is_coordinator)
        return storage_reader.prepare_local_plan(planner.create_local_plan())

    def global_step(all_local_plans):
        return storage_reader.prepare_global_plan(planner.create_global_plan(all_local_plans))

    if use_collectives:
        central_plan = distW.reduce_scatter("plan", local_step, global_step)
    else:
        central_plan = global_step([local_step()])[0]

    def read_data():
        storage_reader.read_data(planner.finish_plan(central_plan), planner).result()

    if use_collectives:
        distW.all_gather("read", read_data)
    else:
        read_data()
        distW.barrier()


def _load_state_dict_from_keys(keys=None, *, checkpoint_id=None, storage_reader=None, process_group=None):
    """Load only the specified keys from the checkpoint, if no keys are specified, the entire checkpoint will be
    loaded (as a new state_dict, tensors made from the metadata)."""
    from ... import distributed as dist
    no_dist = not (dist.is_available() and dist.is_initialized())
    if no_dist:
        warnings.warn("torch.distributed is unavailable or uninitialized, assuming the intent is to load in a single "
                      "process.", stacklevel=2)
    storage_reader = _storage_setup(storage_reader, checkpoint_id, reader=True)
    if isinstance(keys, str):
        keys = {keys}
    sd = {}
    _load_state_dict(state_dict=sd, storage_reader=storage_reader, process_group=process_group, no_dist=no_dist,
                     planner=_EmptyStateDictLoadPlanner(keys=keys))
    return sd
