"""``torch.distributed.checkpoint`` (DCP): a state_dict saved as a directory of per-rank ``.distcp`` files plus a
``.metadata`` file, in PyTorch 2.13's format, so checkpoints go both ways between ember and torch.

``save``/``load`` (and the older ``save_state_dict``/``load_state_dict``), ``async_save`` (a background thread),
``FileSystemWriter``/``FileSystemReader`` (and ``_fsspec_filesystem``'s for URLs), the default planners,
``state_dict`` (get/set_state_dict for plain and DDP-wrapped models and their optimizers, keyed by parameter names)
and ``format_utils`` (to and from a single ``torch.save`` file). Without a process group a save or load is one
process, as in PyTorch; under ``mpiexec`` each rank writes its share of the items and rank 0 the metadata, after
renaming every rank's staged data files into place, so a failed save leaves the previous checkpoint loadable.
Values are plain (replicated) tensors, DTensors (each rank writes its shard; loading reshards to the target's
placements) and other objects; torch's sharded checkpoints load into whole tensors or DTensors."""
from .api import CheckpointException
from .default_planner import DefaultLoadPlanner, DefaultSavePlanner
from .filesystem import FileSystemReader, FileSystemWriter
from .metadata import BytesStorageMetadata, ChunkStorageMetadata, Metadata, TensorStorageMetadata
from .planner import LoadPlan, LoadPlanner, ReadItem, SavePlan, SavePlanner, WriteItem
from .state_dict_loader import load, load_state_dict
from .state_dict_saver import async_save, save, save_state_dict
from .storage import StorageReader, StorageWriter

__all__ = ["BytesStorageMetadata", "CheckpointException", "ChunkStorageMetadata", "DefaultLoadPlanner",
           "DefaultSavePlanner", "FileSystemReader", "FileSystemWriter", "LoadPlan", "LoadPlanner", "Metadata",
           "ReadItem", "SavePlan", "SavePlanner", "StorageReader", "StorageWriter", "TensorStorageMetadata",
           "WriteItem", "async_save", "load", "load_state_dict", "save", "save_state_dict"]
