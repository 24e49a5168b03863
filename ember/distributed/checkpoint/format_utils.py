"""``torch.distributed.checkpoint.format_utils``: converting between a DCP directory and one ``torch.save`` file,
in one process (also ``python -m torch.distributed.checkpoint.format_utils {torch_to_dcp,dcp_to_torch} SRC DST``),
and loading a ``torch.save`` file with ``load`` on every rank (``BroadcastingTorchSaveReader``: the coordinator reads
it and broadcasts each tensor; ``DynamicMetaLoadPlanner`` makes the metadata from the state_dict given)."""
import argparse
import os
from concurrent.futures import Future
from enum import Enum

from ..._tensor import Tensor
from ._nested_dict import flatten_state_dict
from .default_planner import DefaultLoadPlanner, _EmptyStateDictLoadPlanner
from .filesystem import FileSystemReader, FileSystemWriter
from .metadata import Metadata, TensorProperties, TensorStorageMetadata
from .planner import LoadItemType
from .planner_helpers import _create_chunk_list
from .state_dict_loader import _load_state_dict
from .state_dict_saver import _save_state_dict
from .storage import StorageReader
from .utils import narrow_tensor_by_index

__all__ = ["dcp_to_torch_save", "torch_save_to_dcp", "BroadcastingTorchSaveReader", "DynamicMetaLoadPlanner"]


class BroadcastingTorchSaveReader(StorageReader):
    """StorageReader for reading a Torch Save file: the coordinator rank loads the whole file and broadcasts each
    tensor to the other ranks. Tensors only; use with ``DynamicMetaLoadPlanner``."""

    def __init__(self, checkpoint_id=None, coordinator_rank=0):
        self.checkpoint_id = checkpoint_id
        self.coordinator_rank = coordinator_rank

    def read_metadata(self):
        """Extends the default StorageReader to support building the metadata file"""
        return Metadata(state_dict_metadata={})

    def read_data(self, plan, planner):
        """Reads torch save data on the coordinator rank, and broadcast afterwards."""
        from ... import distributed as dist
        from ... import empty_like, serialization
        if self.is_coordinator:
            if self.checkpoint_id is None:
                raise AssertionError("checkpoint_id must be set before reading data")
            torch_state_dict = serialization.load(self.checkpoint_id, map_location="cpu", weights_only=False)
            if planner.flatten_state_dict:
                torch_state_dict, _ = flatten_state_dict(torch_state_dict)
        else:
            torch_state_dict = None
        for req in plan.items:
            if req.type == LoadItemType.BYTE_IO:
                raise RuntimeError(f"Non-tensor value identified at {req.storage_index.fqn}. At this time "
                                   f"{type(self).__name__} only supports loading Tensors.")
            if self.is_coordinator:
                tensor = torch_state_dict[req.storage_index.fqn].cpu()
            else:
                tensor = empty_like(planner.state_dict[req.storage_index.fqn])
            dist.broadcast(tensor, src=self.coordinator_rank, async_op=False)
            tensor = narrow_tensor_by_index(tensor, req.storage_offsets, req.lengths)
            target_tensor = planner.resolve_tensor(req).detach()
            if not target_tensor.size() == tensor.size():
                raise AssertionError(f"req {req.storage_index} mismatch sizes, {target_tensor.size()} vs "
                                     f"{tensor.size()}")
            target_tensor.copy_(tensor)
            planner.commit_tensor(req, target_tensor)
        fut = Future()
        fut.set_result(None)
        return fut

    def set_up_storage_reader(self, metadata, is_coordinator):
        """Implementation of the StorageReader method"""
        from ... import distributed as dist
        self.is_coordinator = is_coordinator
        if self.is_coordinator and dist.get_rank() != self.coordinator_rank:
            raise AssertionError(f"Coordinator rank mismatch: expected {self.coordinator_rank}, got "
                                 f"{dist.get_rank()}")
        if self.checkpoint_id is None:
            raise AssertionError("checkpoint_id must be set before setting up storage reader")

    def prepare_local_plan(self, plan):
        """Implementation of the StorageReader method"""
        return plan

    def prepare_global_plan(self, global_plan):
        """Implementation of the StorageReader method"""
        return global_plan

    def reset(self, checkpoint_id=None):
        """Implementation of the StorageReader method"""
        self.checkpoint_id = checkpoint_id

    @classmethod
    def validate_checkpoint_id(cls, checkpoint_id):
        """Implementation of the StorageReader method"""
        return os.path.isfile(checkpoint_id)


class DynamicMetaLoadPlanner(DefaultLoadPlanner):
    """A DefaultLoadPlanner that makes the checkpoint's Metadata from the state_dict it loads into (every value a
    tensor), for storages without metadata of their own (``BroadcastingTorchSaveReader``)."""

    def set_up_planner(self, state_dict, metadata=None, is_coordinator=False):
        """Setups of the planner, extnding default behavior by creating the Metadata object from the state dict"""
        super().set_up_planner(state_dict, metadata, is_coordinator)
        state_dict_metadata = {}
        for key, tensor in self.state_dict.items():
            if not isinstance(tensor, Tensor):
                raise RuntimeError(f"Non-tensor value identified at {key}. At this time {type(self).__name__} only "
                                   "supports loading Tensors.")
            state_dict_metadata[key] = TensorStorageMetadata(TensorProperties(dtype=tensor.dtype), tensor.size(),
                                                             _create_chunk_list(tensor))
        self.metadata = Metadata(state_dict_metadata=state_dict_metadata)


def dcp_to_torch_save(dcp_checkpoint_dir, torch_save_path):
    """Given a directory containing a DCP checkpoint, this function will convert it into a Torch save file."""
    from ... import serialization
    sd = {}
    _load_state_dict(sd, storage_reader=FileSystemReader(dcp_checkpoint_dir), planner=_EmptyStateDictLoadPlanner(),
                     no_dist=True)
    serialization.save(sd, torch_save_path)


def torch_save_to_dcp(torch_save_path, dcp_checkpoint_dir):
    """Given the location of a torch save file, converts it into a DCP checkpoint (the file is loaded with
    ``weights_only=False``, as PyTorch does: convert only files you trust)."""
    from ... import serialization
    state_dict = serialization.load(torch_save_path, weights_only=False)
    _save_state_dict(state_dict, storage_writer=FileSystemWriter(dcp_checkpoint_dir), no_dist=True)


def _main(argv=None):
    class FormatMode(Enum):
        TORCH_TO_DCP = "torch_to_dcp"
        DCP_TO_TORCH = "dcp_to_torch"

    parser = argparse.ArgumentParser()
    parser.add_argument("mode", type=str, help="Conversion mode", choices=[m.value for m in FormatMode],
                        default=FormatMode.TORCH_TO_DCP)
    parser.add_argument("src", type=str, help="Path to the source model")
    parser.add_argument("dst", type=str, help="Path to the destination model")
    args = parser.parse_args(argv)
    print(f"Converting checkpoint from {args.src} to {args.dst} using method: '{args.mode}'")
    missing = f"No checkpoint found at {args.src}. Skipping conversion."
    if args.mode == FormatMode.TORCH_TO_DCP.value:
        torch_save_to_dcp(args.src, args.dst) if os.path.isfile(args.src) else print(missing)
    else:
        dcp_to_torch_save(args.src, args.dst) if os.path.isdir(args.src) else print(missing)


if __name__ == "__main__":
    _main()
