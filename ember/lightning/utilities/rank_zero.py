"""Calling functions and emitting messages on global rank 0 only (Lightning's ``utilities.rank_zero``): info and
debug messages go to the ``ember.lightning`` logger, warnings through ``warnings.warn``."""
import functools
import logging
import os
import warnings

log = logging.getLogger(__name__)


def rank_zero_only(fn, default=None):
    """Wraps ``fn`` so that it runs only where ``rank_zero_only.rank`` is 0; other ranks get ``default``."""

    @functools.wraps(fn)
    def wrapped_fn(*args, **kwargs):
        rank = getattr(rank_zero_only, "rank", None)
        if rank is None:
            raise RuntimeError("The `rank_zero_only.rank` needs to be set before use")
        if rank == 0:
            return fn(*args, **kwargs)
        return default

    return wrapped_fn


def _get_rank():
    for key in ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        rank = os.environ.get(key)
        if rank is not None:
            return int(rank)
    return None


rank_zero_only.rank = _get_rank() or 0


def _debug(*args, stacklevel=2, **kwargs):
    log.debug(*args, stacklevel=stacklevel, **kwargs)


@rank_zero_only
def rank_zero_debug(*args, stacklevel=4, **kwargs):
    """Logs a debug message on global rank 0 (``stacklevel`` 4: the caller of this function)."""
    _debug(*args, stacklevel=stacklevel, **kwargs)


def _info(*args, stacklevel=2, **kwargs):
    log.info(*args, stacklevel=stacklevel, **kwargs)


@rank_zero_only
def rank_zero_info(*args, stacklevel=4, **kwargs):
    """Logs an info message on global rank 0."""
    _info(*args, stacklevel=stacklevel, **kwargs)


def _warn(message, stacklevel=2, **kwargs):
    warnings.warn(message, stacklevel=stacklevel, **kwargs)


@rank_zero_only
def rank_zero_warn(message, stacklevel=4, **kwargs):
    """Warns on global rank 0 (``stacklevel`` 4: from the line that called this function)."""
    _warn(message, stacklevel=stacklevel, **kwargs)


class LightningDeprecationWarning(DeprecationWarning):
    """Deprecation warnings raised by Lightning."""


def rank_zero_deprecation(message, stacklevel=5, **kwargs):
    """Emits a LightningDeprecationWarning (or ``category``) on global rank 0."""
    category = kwargs.pop("category", LightningDeprecationWarning)
    rank_zero_warn(message, stacklevel=stacklevel, category=category, **kwargs)


def rank_prefixed_message(message, rank):
    """``message`` with a ``[rank: X]`` prefix when ``rank`` is given."""
    return f"[rank: {rank}] {message}" if rank is not None else message


class WarningCache(set):
    """Emits each distinct message once (warning, deprecation or info) on global rank 0."""

    def warn(self, message, stacklevel=5, **kwargs):
        if message not in self:
            self.add(message)
            rank_zero_warn(message, stacklevel=stacklevel, **kwargs)

    def deprecation(self, message, stacklevel=6, **kwargs):
        if message not in self:
            self.add(message)
            rank_zero_deprecation(message, stacklevel=stacklevel, **kwargs)

    def info(self, message, stacklevel=5, **kwargs):
        if message not in self:
            self.add(message)
            rank_zero_info(message, stacklevel=stacklevel, **kwargs)
