"""``torch.distributed.checkpoint.filesystem``: a checkpoint as a directory, in PyTorch's layout.

Each rank writes ``__<rank>_<n>.distcp`` files: its items one after another, a non-tensor value as the bytes of a
``torch.save`` of it, a tensor as a ``torch.save`` of the tensor (a whole zip archive per item), so torch's
``FileSystemReader`` reads them; the coordinator writes ``.metadata`` (a pickled Metadata whose ``storage_data`` maps
each item's MetadataIndex to its file, offset and length) last, through a temporary file renamed over it. Reading
loads each tensor item with ``weights_only=True`` and copies it into the state_dict's tensor in place; the metadata
goes through the restricted unpickler of ``_metadata_pickle``."""
import dataclasses
import io
import operator
import os
import queue
import threading
import uuid
import warnings
from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import Enum
from io import UnsupportedOperation
from pathlib import Path

from . import _metadata_pickle
from .metadata import StorageMeta
from .planner import LoadItemType, WriteItemType
from .staging import BlockingAsyncStager
from .storage import StorageReader, StorageWriter, WriteResult
from .utils import _create_file_view, narrow_tensor_by_index

__all__ = ["FileSystemWriter", "FileSystemReader", "FileSystem", "FileSystemBase", "SerializationFormat"]

_metadata_fn = ".metadata"
CURRENT_DCP_VERSION = "1.0.0"
DEFAULT_SUFFIX = ".distcp"


@dataclass
class _StorageInfo:
    """This is the per entry storage info."""

    relative_path: str
    offset: int
    length: int
    transform_descriptors: Sequence[str] | None = None

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def __setstate__(self, state):
        from .metadata import _set_fields
        _set_fields(self, state)


@dataclass
class _StoragePrefix:
    prefix: str


class SerializationFormat(Enum):
    TORCH_SAVE = "torch_save"
    SAFETENSORS = "safetensors"


def _generate_uuid():
    return str(uuid.uuid4())


def _item_size(item):
    size = 1
    for s in item.tensor_data.size:
        size *= s
    return size * item.tensor_data.properties.dtype.itemsize


def _split_by_size_and_type(bins, items):
    """``bins`` lists of items: non-tensor items dealt round-robin, tensors largest first into the lightest bin."""
    if bins == 1:
        return [items]
    bytes_w = [wi for wi in items if wi.type == WriteItemType.BYTE_IO]
    tensor_w = sorted((wi for wi in items if wi.type != WriteItemType.BYTE_IO), key=_item_size, reverse=True)
    buckets = [[] for _ in range(bins)]
    bucket_sizes = [0] * bins
    for i, wi in enumerate(bytes_w):
        buckets[i % bins].append(wi)
    for wi in tensor_w:
        idx = min(enumerate(bucket_sizes), key=operator.itemgetter(1))[0]
        buckets[idx].append(wi)
        bucket_sizes[idx] += _item_size(wi)
    return buckets


def _cpu_tensor(tensor):
    """The tensor as written: detached, on the CPU, cloned when it views part of a larger storage (so the file holds
    only its own elements, as PyTorch's loaders clone such tensors)."""
    tensor = tensor.detach().cpu()
    if tensor.untyped_storage().nbytes() != tensor.nbytes:
        tensor = tensor.clone()
    return tensor


def _write_item(stream, data, write_item, storage_key):
    from ... import serialization
    offset = stream.tell()
    if write_item.type == WriteItemType.BYTE_IO:
        if not isinstance(data, io.BytesIO):
            raise AssertionError("Data must be io.BytesIO for BYTE_IO write items")
        stream.write(data.getbuffer())
    else:
        if data.device.type != "cpu":
            raise AssertionError("Tensor must be on CPU device")
        serialization.save(data, stream)
    length = stream.tell() - offset
    return WriteResult(index=write_item.index, size_in_bytes=length,
                       storage_data=_StorageInfo(storage_key, offset, length))


def _write_files_from_queue(create_stream, file_queue, result_queue, planner, use_fsync):
    try:
        while True:
            file_name, storage_key, write_items = file_queue.get_nowait()
            bytes_w = [wi for wi in write_items if wi.type == WriteItemType.BYTE_IO]
            tensor_w = [wi for wi in write_items if wi.type != WriteItemType.BYTE_IO]
            results = []
            with create_stream(file_name, "wb") as stream:
                for write_item in bytes_w:
                    results.append(_write_item(stream, planner.resolve_data(write_item), write_item, storage_key))
                for write_item in tensor_w:
                    tensor = _cpu_tensor(planner.resolve_data(write_item))
                    results.append(_write_item(stream, tensor, write_item, storage_key))
                if use_fsync:
                    stream.flush()
                    try:
                        os.fsync(stream.fileno())
                    except (AttributeError, UnsupportedOperation):
                        os.sync()
            result_queue.put(results)
    except queue.Empty:
        pass


class FileSystemBase:
    """The file operations a filesystem checkpoint needs (``FileSystem`` does them on local paths)."""


class FileSystem(FileSystemBase):
    """Local paths, through pathlib."""

    @contextmanager
    def create_stream(self, path, mode):
        """The file at ``path`` opened in ``mode``; a file being written goes to a temporary beside it, renamed over
        ``path`` when the block ends without error, so a save that fails or dies midway leaves the previous
        checkpoint's file whole (PyTorch writes in place)."""
        path = Path(path)
        if "w" not in mode:
            with path.open(mode) as stream:
                yield stream
            return
        from ..._atomic_file import _create_temp, _removed_if_terminated
        temp, descriptor = _create_temp(str(path.parent), path.name)
        try:
            with _removed_if_terminated(temp):
                with os.fdopen(descriptor, mode) as stream:
                    yield stream
                os.replace(temp, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(temp)
            raise

    def concat_path(self, path, suffix):
        return Path(path) / suffix

    def init_path(self, path):
        return path if isinstance(path, Path) else Path(path)

    def rename(self, path, new_path):
        Path(path).rename(new_path)

    def mkdir(self, path):
        Path(path).mkdir(parents=True, exist_ok=True)

    @classmethod
    def validate_checkpoint_id(cls, checkpoint_id):
        if isinstance(checkpoint_id, Path):
            return True
        if "://" in str(checkpoint_id):
            return False
        return any(p.exists() and os.access(str(p), os.W_OK) for p in Path(checkpoint_id).parents)

    def exists(self, path):
        return Path(path).exists()

    def rm_file(self, path):
        Path(path).unlink()

    def ls(self, path):
        return [str(p) for p in Path(path).iterdir()]


def _refuse_extensions(extensions, serialization_format):
    if extensions:
        raise NotImplementedError("ember's FileSystemWriter writes no stream transform extensions")
    if serialization_format != SerializationFormat.TORCH_SAVE:
        raise NotImplementedError("ember's FileSystemWriter writes SerializationFormat.TORCH_SAVE only")


class _FileSystemWriter(StorageWriter):
    """Basic implementation of StorageWriter using file IO: one file per write request plus a ``.metadata`` file."""

    def __init__(self, path, single_file_per_rank=True, sync_files=True, thread_count=1,
                 per_thread_copy_ahead=10_000_000, overwrite=True, _extensions=None,
                 serialization_format=SerializationFormat.TORCH_SAVE, *args, **kwargs):
        super().__init__()
        _refuse_extensions(_extensions, serialization_format)
        self.fs = FileSystem()
        self.path = self.fs.init_path(path)
        self.single_file_per_rank = single_file_per_rank
        self.sync_files = sync_files
        self.thread_count = thread_count
        self.per_thread_copy_ahead = per_thread_copy_ahead
        self.save_id = _generate_uuid()
        self.overwrite = overwrite
        self.serialization_format = serialization_format
        self.rank = None
        self.use_collectives = True

    def reset(self, checkpoint_id=None):
        if checkpoint_id:
            self.path = self.fs.init_path(checkpoint_id)
        self.save_id = _generate_uuid()

    def set_up_storage_writer(self, is_coordinator, *args, **kwargs):
        self.rank = kwargs.get("rank")
        self.use_collectives = kwargs.get("use_collectives", True)

    def _metadata_exists(self):
        return self.fs.exists(self._get_metadata_path(rank=None if self.use_collectives else 0))

    def prepare_local_plan(self, plan):
        self.fs.mkdir(self.path)
        if self._metadata_exists():
            if self.overwrite:
                warnings.warn(f"Detected an existing checkpoint in {self.path}, overwriting since {self.overwrite=}."
                              " Past version 2.5 of PyTorch, `overwrite` will default to False. Set this variable to "
                              "True to maintain this functionality or False to raise when an existing checkpoint is "
                              "found.", stacklevel=2)
            else:
                raise RuntimeError(f"Checkpoint already exists and {self.overwrite=}.")
        if self.rank is not None and not self.use_collectives:
            plan = dataclasses.replace(plan, storage_data=_StoragePrefix(f"__{self.rank}_"))
        return plan

    def prepare_global_plan(self, plans):
        return [dataclasses.replace(plan, storage_data=_StoragePrefix(f"__{i}_")) if plan.storage_data is None
                else plan for i, plan in enumerate(plans)]

    def write_data(self, plan, planner):
        prefix = plan.storage_data.prefix
        file_queue = queue.Queue()
        buckets = _split_by_size_and_type(self.thread_count, plan.items) if self.single_file_per_rank \
            else [[item] for item in plan.items]
        self._pending = []
        for count, bucket in enumerate(buckets):
            file_name = f"{prefix}{count}{DEFAULT_SUFFIX}"
            target = self.fs.concat_path(self.path, file_name)
            if self._stage_files():
                target = self.fs.concat_path(self.path, _staged_name(file_name))
                self._pending.append(target)
            file_queue.put((target, file_name, bucket))
        result_queue = queue.Queue()
        args = (self.fs.create_stream, file_queue, result_queue, planner, self.sync_files)
        errors = []

        def write_in_thread():
            try:
                _write_files_from_queue(*args)
            except BaseException as error:   # raised below: a lost file must fail the save, not shrink the metadata
                errors.append(error)

        threads = [threading.Thread(target=write_in_thread) for _ in range(1, self.thread_count)]
        for t in threads:
            t.start()
        _write_files_from_queue(*args)
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        res = []
        while not result_queue.empty():
            res += result_queue.get_nowait()
        fut = Future()
        fut.set_result(res)
        return fut

    def _stage_files(self):
        """Whether data files are written under staged names and renamed into place by ``finish``: for local
        directories (on object stores a rename is a copy)."""
        return type(self.fs) is FileSystem

    def _discard_pending(self):
        """Removes the staged data files this rank wrote, after a failed save."""
        for path in getattr(self, "_pending", ()):
            with suppress(OSError):
                os.unlink(path)
        self._pending = []

    def finish(self, metadata, results):
        metadata.version = CURRENT_DCP_VERSION
        storage_md = {}
        for wr_list in results:
            storage_md.update({wr.index: wr.storage_data for wr in wr_list})
        metadata.storage_data = storage_md
        if self._stage_files():   # every rank has written: the data files take their names, then the metadata
            for name in sorted({info.relative_path for info in storage_md.values()}):
                staged = self.fs.concat_path(self.path, _staged_name(name))
                if self.fs.exists(staged):
                    os.replace(staged, self.fs.concat_path(self.path, name))
            self._pending = []
        metadata.storage_meta = self.storage_meta()
        local = not self.use_collectives and self.rank is not None
        tmp_path = self.fs.concat_path(self.path, f"__{self.rank}{_metadata_fn}.tmp" if local
                                       else f"{_metadata_fn}.tmp")
        with self.fs.create_stream(tmp_path, "wb") as metadata_file:
            _metadata_pickle.dump(metadata, metadata_file)
            if self.sync_files:
                metadata_file.flush()
                try:
                    os.fsync(metadata_file.fileno())
                except (AttributeError, UnsupportedOperation):
                    os.sync()
        metadata_path = self._get_metadata_path(self.rank if local else None)
        if self.fs.exists(metadata_path):
            self.fs.rm_file(metadata_path)
        self.fs.rename(tmp_path, metadata_path)

    def storage_meta(self):
        return StorageMeta(checkpoint_id=self.checkpoint_id, save_id=self.save_id)

    def _get_metadata_path(self, rank=None):
        return self.fs.concat_path(self.path, _metadata_fn if rank is None else f"__{rank}{_metadata_fn}")

    @property
    def checkpoint_id(self):
        """The checkpoint_id that will be used to save the checkpoint."""
        return self.path

    @classmethod
    def validate_checkpoint_id(cls, checkpoint_id):
        return FileSystem.validate_checkpoint_id(checkpoint_id)


def _staged_name(file_name):
    """Where a data file is written until the whole checkpoint is: beside it, hidden."""
    return f".{file_name}.staged"


class FileSystemReader(StorageReader):
    """Reads a checkpoint directory written by ``FileSystemWriter`` (ember's or PyTorch's)."""

    def __init__(self, path, _extension_registry=None):
        super().__init__()
        self.fs = FileSystem()
        self.path = self.fs.init_path(path)
        self.storage_data = {}
        self.load_id = _generate_uuid()
        self.rank = None
        self.use_collectives = True

    def _slice_file(self, file, sinfo):
        return _create_file_view(file, sinfo.offset, sinfo.length)

    def reset(self, checkpoint_id=None):
        self.storage_data = {}
        if checkpoint_id:
            self.path = self.fs.init_path(checkpoint_id)
        self.load_id = _generate_uuid()

    def read_data(self, plan, planner):
        from ... import serialization
        per_file = {}
        for read_item in plan.items:
            per_file.setdefault(self.storage_data[read_item.storage_index].relative_path, []).append(read_item)
        for relative_path, reqs in per_file.items():
            _check_relative(relative_path)
            with self.fs.create_stream(self.fs.concat_path(self.path, relative_path), "rb") as stream:
                for req in reqs:
                    item_md = self.storage_data[req.storage_index]
                    if item_md.transform_descriptors:
                        raise NotImplementedError(f"ember reads no stream transforms (item {req.storage_index.fqn} "
                                                  f"was written with {list(item_md.transform_descriptors)})")
                    data = io.BytesIO(self._slice_file(stream, item_md).read(-1))
                    if req.type == LoadItemType.BYTE_IO:
                        planner.load_bytes(req, data)
                        continue
                    tensor = serialization.load(data, map_location="cpu", weights_only=True)
                    tensor = narrow_tensor_by_index(tensor, req.storage_offsets, req.lengths)
                    target_tensor = planner.resolve_tensor(req).detach()
                    if target_tensor.size() != tensor.size():
                        raise AssertionError(f"req {req.storage_index} mismatch sizes {target_tensor.size()} vs "
                                             f"{tensor.size()}")
                    target_tensor.copy_(tensor)
                    planner.commit_tensor(req, target_tensor)
        fut = Future()
        fut.set_result(None)
        return fut

    def _get_metadata_path(self, rank=None):
        return self.fs.concat_path(self.path, _metadata_fn if rank is None else f"__{rank}{_metadata_fn}")

    def read_metadata(self, *args, **kwargs):
        with self.fs.create_stream(self._get_metadata_path(kwargs.get("rank")), "rb") as metadata_file:
            metadata = _metadata_pickle.load(metadata_file)
        if getattr(metadata, "storage_meta", None) is None:
            metadata.storage_meta = StorageMeta()
        metadata.storage_meta.load_id = self.load_id
        return metadata

    def set_up_storage_reader(self, metadata, is_coordinator, *args, **kwargs):
        self.storage_data = metadata.storage_data
        self.rank = kwargs.get("rank")
        self.use_collectives = kwargs.get("use_collectives", True)
        if self.storage_data is None:
            raise AssertionError("storage_data must not be None in metadata")

    def prepare_local_plan(self, plan):
        return plan

    def prepare_global_plan(self, plans):
        return plans

    @property
    def checkpoint_id(self):
        """The checkpoint_id that will be used to load the checkpoint."""
        return self.path

    @classmethod
    def validate_checkpoint_id(cls, checkpoint_id):
        return FileSystem.validate_checkpoint_id(checkpoint_id)


def _check_relative(relative_path):
    """A data file named by the metadata lies in the checkpoint directory: no absolute paths, no ``..``."""
    if not isinstance(relative_path, str) or os.path.isabs(relative_path) or ".." in Path(relative_path).parts:
        raise ValueError(f"checkpoint metadata names a data file outside the checkpoint: {relative_path!r}")


class FileSystemWriter(_FileSystemWriter, BlockingAsyncStager):
    """Basic implementation of StorageWriter using file IO.

    The checkpoint consist of one file per write request plus a global `.metadata` file with the serialized
    metadata if rank coordination is enabled, or a rank local `__{rank}.metadata` file if it is not.
    """

    def __init__(self, path, single_file_per_rank=True, sync_files=True, thread_count=1,
                 per_thread_copy_ahead=10_000_000, cache_staged_state_dict=False, overwrite=True, _extensions=None,
                 serialization_format=SerializationFormat.TORCH_SAVE):
        _FileSystemWriter.__init__(self, path=path, single_file_per_rank=single_file_per_rank,
                                   sync_files=sync_files, thread_count=thread_count,
                                   per_thread_copy_ahead=per_thread_copy_ahead, overwrite=overwrite,
                                   _extensions=_extensions, serialization_format=serialization_format)
        BlockingAsyncStager.__init__(self, cache_staged_state_dict=cache_staged_state_dict)

    def stage(self, state_dict):
        """Override of AsyncStager.stage"""
        self.per_thread_copy_ahead = 0
        return super().stage(state_dict)
