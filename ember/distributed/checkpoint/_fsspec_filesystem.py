"""``torch.distributed.checkpoint._fsspec_filesystem``: checkpoints at fsspec URLs (``s3://``, ``gs://``,
``memory://``, ...), the same files as FileSystemWriter/Reader write and read, through ``fsspec`` (an optional
library, imported when used)."""
import os
from contextlib import contextmanager
from pathlib import Path

from .filesystem import FileSystemBase, FileSystemReader, FileSystemWriter, SerializationFormat

__all__ = ["FsspecWriter", "FsspecReader"]


class FileSystem(FileSystemBase):
    """The file operations of a checkpoint, on the fsspec filesystem of its URL."""

    def __init__(self):
        self.fs = None

    @contextmanager
    def create_stream(self, path, mode):
        if self.fs is None:
            raise AssertionError("fs should not be None")
        path = os.fspath(path)
        with self.fs.open(path, mode) as stream:
            try:
                yield stream
            except BaseException:
                if any(ch in mode for ch in "w+a"):   # cleanup file if not read-only
                    try:
                        self.rm_file(path)
                    except Exception:
                        pass
                raise

    def concat_path(self, path, suffix):
        return os.path.join(path, suffix)

    def init_path(self, path, **kwargs):
        from fsspec.core import url_to_fs
        self.fs, _ = url_to_fs(path, **kwargs)
        return path

    def rename(self, path, new_path):
        self.fs.rename(path, new_path)

    def mkdir(self, path):
        self.fs.makedirs(path, exist_ok=True)

    @classmethod
    def validate_checkpoint_id(cls, checkpoint_id):
        from fsspec.core import url_to_fs
        if isinstance(checkpoint_id, Path):
            return False
        try:
            url_to_fs(checkpoint_id)
        except ValueError:
            return False
        return True

    def exists(self, path):
        return self.fs.exists(path)

    def rm_file(self, path):
        self.fs.rm(path)

    def ls(self, path):
        return self.fs.ls(path, detail=False)


class FsspecWriter(FileSystemWriter):
    """Basic implementation of StorageWriter using FFspec: the checkpoint's files at ``path``, any URL fsspec
    opens."""

    def __init__(self, path, single_file_per_rank=True, sync_files=True, thread_count=1,
                 per_thread_copy_ahead=10_000_000, overwrite=True, _extensions=None,
                 serialization_format=SerializationFormat.TORCH_SAVE, **kwargs):
        super().__init__(path, single_file_per_rank, sync_files, thread_count, per_thread_copy_ahead,
                         overwrite=overwrite, _extensions=_extensions, serialization_format=serialization_format)
        self.fs = FileSystem()
        self.path = self.fs.init_path(path, **kwargs)

    @classmethod
    def validate_checkpoint_id(cls, checkpoint_id):
        return FileSystem.validate_checkpoint_id(checkpoint_id)


class FsspecReader(FileSystemReader):
    """Reads a checkpoint at an fsspec URL."""

    def __init__(self, path, **kwargs):
        super().__init__(path)
        self.fs = FileSystem()
        self.path = self.fs.init_path(path, **kwargs)

    @classmethod
    def validate_checkpoint_id(cls, checkpoint_id):
        return FileSystem.validate_checkpoint_id(checkpoint_id)
