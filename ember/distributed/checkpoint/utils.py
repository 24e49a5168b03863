"""``torch.distributed.checkpoint.utils``: the rank coordination every save and load goes through (``_DistWrapper``:
each rank plans, the coordinator combines, every rank learns the result or every rank raises the same
CheckpointException), and looking items up in a flat state_dict."""
import io
import os

from ..._tensor import Size, Tensor
from .api import CheckpointException, _is_wrapped_exception, _wrap_exception

__all__ = ["find_tensor_shard", "find_state_dict_object"]


def _get_failure_dict(results):
    return {i: err for i, err in enumerate(results) if _is_wrapped_exception(err)}


class _DistWrapper:
    """Rank coordination for one save or load: with ``use_dist`` False (no process group), a single process that is
    its own coordinator."""

    def __init__(self, group, use_dist, coordinator_rank):
        from ... import distributed as dist
        self.group, self.use_dist, self.coordinator_rank = group, use_dist, coordinator_rank
        if use_dist:
            self.global_coordinator_rank = dist.get_global_rank(group, coordinator_rank) if group is not None \
                else coordinator_rank
            self.rank = dist.get_rank(group)
            self.is_coordinator = self.rank == coordinator_rank
        else:
            self.global_coordinator_rank, self.rank, self.is_coordinator = 0, 0, True

    def get_rank(self):
        return self.rank

    def get_world_size(self):
        from ... import distributed as dist
        return dist.get_world_size(self.group) if self.use_dist else 1

    def broadcast_object(self, obj):
        """Same as c10d::broadcast_object_list but works without distributed enabled."""
        from ... import distributed as dist
        object_list = [obj]
        if self.use_dist:
            dist.broadcast_object_list(object_list=object_list, group=self.group, src=self.global_coordinator_rank)
        return object_list[0]

    def gather_object(self, obj):
        """Same as c10d::gather_object but works without distributed enabled."""
        from ... import distributed as dist
        if not self.use_dist:
            return [obj]
        gathered = [None] * dist.get_world_size(self.group) if self.is_coordinator else None
        dist.gather_object(obj=obj, object_gather_list=gathered, dst=self.global_coordinator_rank, group=self.group)
        return gathered

    def all_gather_object(self, obj):
        """Same as c10d::all_gather_object but works without distributed enabled."""
        from ... import distributed as dist
        if not self.use_dist:
            return [obj]
        gathered = [None] * dist.get_world_size(self.group)
        dist.all_gather_object(object_list=gathered, obj=obj, group=self.group)
        return gathered

    def scatter_object(self, object_list):
        """Same as c10d::scatter_object but works without distributed enabled."""
        from ... import distributed as dist
        if not self.use_dist:
            if object_list is None:
                raise AssertionError("object_list is None")
            return object_list[0]
        result = [None]
        dist.scatter_object_list(scatter_object_output_list=result,
                                 scatter_object_input_list=object_list if self.is_coordinator else None,
                                 src=self.global_coordinator_rank, group=self.group)
        return result[0]

    def reduce_scatter(self, step, map_fun, reduce_fun):
        """Compute a value on each rank, then do centralized reduce on a single rank, followed by a scatter."""
        try:
            local_data = map_fun()
        except BaseException as e:
            local_data = _wrap_exception(e)
        all_data = self.gather_object(local_data)
        all_results = None
        if self.is_coordinator:
            node_failures = _get_failure_dict(all_data)
            if not node_failures:
                try:
                    all_results = reduce_fun(all_data)
                except BaseException as e:
                    node_failures[self.rank] = _wrap_exception(e)
            if node_failures:
                all_results = [CheckpointException(step, node_failures)] * self.get_world_size()
        result = self.scatter_object(all_results)
        if isinstance(result, CheckpointException):
            raise result
        return result

    def all_reduce(self, step, map_fun, reduce_fun):
        """Compute a value on each rank, then do centralized reduce on a single rank, followed by a broadcast."""
        try:
            local_data = map_fun()
        except BaseException as e:
            local_data = _wrap_exception(e)
        all_data = self.gather_object(local_data)
        result = None
        if self.is_coordinator:
            node_failures = _get_failure_dict(all_data)
            if not node_failures:
                try:
                    result = reduce_fun(all_data)
                except BaseException as e:
                    node_failures[self.rank] = _wrap_exception(e)
            if node_failures:
                result = CheckpointException(step, node_failures)
        final_result = self.broadcast_object(result)
        if isinstance(final_result, CheckpointException):
            raise final_result
        return final_result

    def all_gather(self, step, map_fun):
        """Compute a value on each rank, then all_gather them."""
        try:
            result = map_fun()
        except BaseException as e:
            result = _wrap_exception(e)
        all_results = self.all_gather_object(result)
        node_failures = _get_failure_dict(all_results)
        if node_failures:
            raise CheckpointException(step, node_failures)
        return all_results

    def broadcast(self, step, map_fun):
        """Compute a value on rank 0 and broadcast it."""
        result = None
        if self.is_coordinator:
            try:
                result = map_fun()
            except BaseException as e:
                result = CheckpointException(step, {self.rank: _wrap_exception(e)})
        final_result = self.broadcast_object(result)
        if isinstance(final_result, CheckpointException):
            raise final_result
        return final_result

    def barrier(self):
        """Add a synchronization point across all processes when using distributed."""
        from ... import distributed as dist
        if self.use_dist:
            dist.barrier(group=self.group)


def _refuse_sharded(tensor):
    """ShardedTensor values: ember makes none (DTensors answer DCP's planner protocol themselves)."""
    if type(tensor).__name__ == "ShardedTensor":
        raise NotImplementedError("ember's distributed checkpoint saves and loads plain tensors and DTensors; it has "
                                  "no ShardedTensor")


def find_tensor_shard(tensor, index):
    """The part of ``tensor`` that ``index`` names: a plain tensor is its own only chunk, at offset 0."""
    if hasattr(tensor, "__get_tensor_shard__"):
        return tensor.__get_tensor_shard__(index)
    _refuse_sharded(tensor)
    if index.offset is not None:
        if index.offset == Size([0] * len(tensor.size())):
            return tensor
        raise ValueError(f"FQN: '{index.fqn}' is not a ShardedTensor, can't find by offset: '{index.offset}'")
    return tensor


def find_state_dict_object(state_dict, index):
    """The value of flat ``state_dict`` at ``index`` (its chunk, for a tensor)."""
    if index.fqn not in state_dict:
        raise ValueError(f"Could not find FQN: '{index.fqn}'")
    obj = state_dict[index.fqn]
    if isinstance(obj, Tensor) or hasattr(obj, "__get_tensor_shard__"):   # (a ShardedTensor is not a Tensor here)
        return find_tensor_shard(obj, index)
    if index.offset is not None:
        raise ValueError(f"FQN: '{index.fqn}' is not a ShardedTensor, can't find by offset: '{index.offset}'")
    return obj


def narrow_tensor_by_index(tensor, offsets, sizes):
    """The view of ``tensor`` starting at ``offsets`` with ``sizes`` along each dimension."""
    narrowed = tensor
    for dim, (offset, size) in enumerate(zip(offsets, sizes)):
        if size < tensor.size(dim):
            narrowed = narrowed.narrow(dim, offset, size)
    return narrowed


class _ReaderView(io.IOBase):
    """A read-only window ``[offset, offset + len)`` of a binary stream: one item of a ``.distcp`` file."""

    def __init__(self, base_stream, offset, len):
        super().__init__()
        self.offset, self.len, self.base_stream = offset, len, base_stream
        self.seek(0)

    def seek(self, offset, whence=os.SEEK_SET, /):
        if whence == os.SEEK_SET:
            offset = self.offset + offset
        elif whence == os.SEEK_END:
            whence = os.SEEK_SET
            offset = (self.offset + self.len) - offset
        return self.base_stream.seek(offset, whence)

    def tell(self):
        return self.base_stream.tell() - self.offset

    def readable(self):
        return self.base_stream.readable()

    def seekable(self):
        return self.base_stream.seekable()

    def readinto(self, b):
        max_size = self.len - self.tell()
        if max_size <= 0:
            return 0
        if len(b) > max_size:
            b = memoryview(b)[:max_size]
        return self.base_stream.readinto(b)

    def read(self, size=-1):
        max_size = self.len - self.tell()
        if size == -1 or size > max_size:
            size = max_size
        return self.base_stream.read(max(size, 0))


def _create_file_view(file, offset, length):
    return _ReaderView(file, offset, length)
