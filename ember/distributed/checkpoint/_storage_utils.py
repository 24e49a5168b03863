"""Choosing the storage for a ``checkpoint_id`` when no reader or writer is given: a local directory, else an
fsspec URL where fsspec is installed."""
from .filesystem import FileSystemReader, FileSystemWriter


def _storage_setup(storage, checkpoint_id, reader=False):
    if storage:
        if checkpoint_id is not None:
            storage.reset(checkpoint_id)
        return storage
    if not checkpoint_id:
        raise RuntimeError("`checkpoint_id` must be specified if storage_reader/storage_writer is None.")
    targets = [FileSystemReader if reader else FileSystemWriter]
    try:
        from ._fsspec_filesystem import FsspecReader, FsspecWriter
        import fsspec  # noqa: F401 (an optional library: without it, local directories only)
        targets.append(FsspecReader if reader else FsspecWriter)
    except Exception:
        pass
    for target in targets:
        if target.validate_checkpoint_id(checkpoint_id):
            storage = target(checkpoint_id)
            storage.reset(checkpoint_id)
            return storage
    raise RuntimeError("Cannot detect which StorageReader or StorageWriter to use. Please specify the "
                       "storage_reader/storage_writer.")
