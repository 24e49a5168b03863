"""``torch.distributed.checkpoint.save`` (and ``save_state_dict``, ``async_save``): every rank plans its writes, the
coordinator (rank 0) makes the global plan and the Metadata, every rank writes its files, the coordinator writes
``.metadata`` once all have written. Without a process group it is one process, as in PyTorch."""
import inspect
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum

from ._storage_utils import _storage_setup
from .default_planner import DefaultSavePlanner
from .staging import AsyncStager, DefaultStager, StagingOptions
from .stateful import Stateful
from .utils import _DistWrapper

__all__ = ["save_state_dict", "save", "async_save", "AsyncCheckpointerType", "AsyncSaveResponse"]


class AsyncCheckpointerType(Enum):
    """Enum for async checkpointer type."""

    THREAD = "thread"
    PROCESS = "process"


def _no_dist(no_dist, verb):
    from ... import distributed as dist
    no_dist = no_dist or not dist.is_available() or not dist.is_initialized()
    if no_dist:
        warnings.warn(f"torch.distributed is disabled, unavailable or uninitialized, assuming the intent is to {verb} "
                      "in a single process.", stacklevel=3)
    return no_dist


def save_state_dict(state_dict, storage_writer, process_group=None, coordinator_rank=0, no_dist=False, planner=None):
    """This method is deprecated. Please switch to 'save'."""
    warnings.warn("`save_state_dict` is deprecated and will be removed in future versions.Please use `save` instead.",
                  FutureWarning, stacklevel=2)
    storage_writer.reset()
    return _save_state_dict(state_dict, storage_writer, process_group, coordinator_rank, no_dist, planner)


def save(state_dict, *, checkpoint_id=None, storage_writer=None, planner=None, process_group=None, no_dist=False,
         use_collectives=True):
    """Save a distributed model in SPMD style: each rank writes its items under ``checkpoint_id`` (a directory), the
    coordinator the ``.metadata``. Values that are ``Stateful`` are saved as their ``state_dict()``. Returns the
    Metadata."""
    no_dist = _no_dist(no_dist, "save")
    storage_writer = _storage_setup(storage_writer, checkpoint_id, reader=False)
    return _save_state_dict(state_dict=_stateful_to_state_dict(state_dict), storage_writer=storage_writer,
                            process_group=process_group, no_dist=no_dist, planner=planner,
                            use_collectives=use_collectives)


@dataclass
class AsyncSaveResponse:
    """Futures of an asynchronous save: the staging (the copy) and the upload (the write)."""

    staging_completion: Future
    upload_completion: Future


_EXECUTOR = []


def async_save(state_dict, *, checkpoint_id=None, storage_writer=None, planner=None, process_group=None,
               async_checkpointer_type=AsyncCheckpointerType.THREAD, async_stager=None, no_dist=False,
               use_collectives=True):
    """Like ``save``, but the state_dict is first copied aside (staged) and written by a background thread; returns
    a ``concurrent.futures.Future`` whose result is the Metadata (an ``AsyncSaveResponse`` when the stager stages in
    the background)."""
    if async_checkpointer_type == AsyncCheckpointerType.PROCESS:
        raise NotImplementedError("ember's async_save writes in a thread (AsyncCheckpointerType.THREAD)")
    owned = None
    if async_stager is None:
        if storage_writer is not None and isinstance(storage_writer, AsyncStager):
            async_stager = storage_writer
        else:
            async_stager = owned = DefaultStager(StagingOptions(False, False, False, False))
    process_group = _background_group(process_group, no_dist)
    staged = async_stager.stage(_stateful_to_state_dict(state_dict))
    if not _EXECUTOR:
        _EXECUTOR.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="dcp_async_save"))

    def upload():
        sd = staged.result() if isinstance(staged, Future) else staged
        try:
            return save(sd, checkpoint_id=checkpoint_id, storage_writer=storage_writer, planner=planner,
                        process_group=process_group, no_dist=no_dist, use_collectives=use_collectives)
        finally:
            if owned is not None:
                owned.close()

    upload_future = _EXECUTOR[0].submit(upload)
    if isinstance(staged, Future):
        staging_completion = Future()
        staged.add_done_callback(lambda f: staging_completion.set_exception(f.exception()) if f.exception()
                                 else staging_completion.set_result(None))
        return AsyncSaveResponse(staging_completion=staging_completion, upload_completion=upload_future)
    if async_stager.should_synchronize_after_execute:
        async_stager.synchronize_staging()
    return upload_future


_GROUPS = {}


def _background_group(process_group, no_dist):
    """The group an asynchronous save's collectives run on: without one given, a communicator of its own over the
    default group's ranks (made once, by every rank's first async_save), so the writing thread's collectives never
    interleave with the training thread's (on one communicator they would pair up wrongly across ranks)."""
    from ... import distributed as dist
    if no_dist or process_group is not None or not (dist.is_available() and dist.is_initialized()):
        return process_group
    world = dist.group.WORLD
    if _GROUPS.get("world") is not world:
        _GROUPS.update(world=world, group=dist.new_group())
    return _GROUPS["group"]


def _stateful_to_state_dict(state_dict):
    """Creates a shallow copy of `state_dict` where `state_dict` is called for each Stateful object."""
    return {key: elem.state_dict() if isinstance(elem, Stateful) else elem for key, elem in state_dict.items()}


def _save_state_dict(state_dict, storage_writer, process_group=None, coordinator_rank=0, no_dist=False, planner=None,
                     use_collectives=True):
    distW = _DistWrapper(process_group, not no_dist, coordinator_rank)
    if planner is None:
        planner = DefaultSavePlanner()
    global_metadata = None

    def local_step():
        storage_meta = storage_writer.storage_meta()
        if "storage_meta" not in inspect.signature(planner.set_up_planner).parameters:
            warnings.warn("The function definition for SavePlanner.set_up_planner has been updated to include the "
                          "storage_meta argument. Please update your implementation to include this parameter.",
                          stacklevel=2)
            planner.set_up_planner(state_dict, distW.is_coordinator)
        else:
            planner.set_up_planner(state_dict=state_dict, storage_meta=storage_meta,
                                   is_coordinator=distW.is_coordinator)
        if "kwargs" in inspect.signature(storage_writer.set_up_storage_writer).parameters:
            storage_writer.set_up_storage_writer(distW.is_coordinator, rank=distW.rank,
                                                 use_collectives=use_collectives)
        else:
            storage_writer.set_up_storage_writer(distW.is_coordinator)
        return storage_writer.prepare_local_plan(planner.create_local_plan())

    def global_step(all_local_plans):
        nonlocal global_metadata
        all_local_plans, global_metadata = planner.create_global_plan(all_local_plans)
        return storage_writer.prepare_global_plan(all_local_plans)

    if use_collectives:
        central_plan = distW.reduce_scatter("plan", local_step, global_step)
    else:
        central_plan = global_step([local_step()])[0]

    def write_data():
        all_writes = storage_writer.write_data(planner.finish_plan(central_plan), planner)
        return all_writes.result()

    def finish_checkpoint(all_results):
        storage_writer.finish(metadata=global_metadata, results=all_results)
        return global_metadata

    try:
        if use_collectives:
            return distW.all_reduce("write", write_data, finish_checkpoint)
        metadata = finish_checkpoint([write_data()])
    except BaseException:
        discard = getattr(storage_writer, "_discard_pending", None)   # ember's writers stage their data files
        if discard is not None:
            discard()
        raise
    distW.barrier()
    return metadata
