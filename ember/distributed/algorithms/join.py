"""``torch.distributed.algorithms.join``: training on uneven inputs. Inside ``with Join([ddp_model, zero_optim]):``
a rank that runs out of batches keeps answering the collectives the other ranks still make (each ``Joinable``'s
hook "shadows" one iteration of them), until every rank has joined; then each joinable's post-hook runs (DDP makes
every replica the last joiner's)."""
import abc
import typing
import warnings

from ... import full, ones
from .. import all_reduce, get_rank

__all__ = ["JoinHook", "Joinable", "Join"]


class JoinHook:
    """What a joined rank runs for one ``Joinable``: ``main_hook`` once per iteration the other ranks still make,
    ``post_hook(is_last_joiner)`` once all have joined."""

    def main_hook(self):
        """Shadows one iteration's collectives of the ranks that have not joined."""

    def post_hook(self, is_last_joiner):
        """Runs once every rank has joined; ``is_last_joiner`` is True on the ranks that joined last."""


class _JoinConfig(typing.NamedTuple):
    enable: bool
    throw_on_early_termination: bool
    is_first_joinable: bool

    @staticmethod
    def construct_disabled_join_config():
        """The configuration of a joinable outside any join context."""
        return _JoinConfig(enable=False, throw_on_early_termination=False, is_first_joinable=False)


class Joinable(abc.ABC):
    """A class whose per-iteration collectives a ``Join`` context can shadow: it gives a ``join_hook`` and the
    ``join_device`` and ``join_process_group`` its collectives use, and calls ``Join.notify_join_context(self)``
    before each iteration's collectives."""

    @abc.abstractmethod
    def __init__(self):
        super().__init__()
        self._join_config = _JoinConfig.construct_disabled_join_config()

    @abc.abstractmethod
    def join_hook(self, **kwargs):
        """The ``JoinHook`` a joined rank runs for this object."""

    @property
    @abc.abstractmethod
    def join_device(self):
        """The device of the tensors the join collectives use."""

    @property
    @abc.abstractmethod
    def join_process_group(self):
        """The process group of this object's collectives."""


class Join:
    """Context manager for uneven inputs across the ranks of the ``joinables``' process group: a rank leaving the
    block runs the joinables' hooks for every iteration the others still make. With ``throw_on_early_termination``
    every rank raises once one runs out instead."""

    def __init__(self, joinables, enable=True, throw_on_early_termination=False, **kwargs):
        if len(joinables) == 0:
            raise ValueError("The join context manager requires at least one joinable")
        self._joinables = joinables
        self._join_hooks = [joinable.join_hook(**kwargs) for joinable in joinables]
        self._enable, self._throw_on_early_termination = enable, throw_on_early_termination
        for i, joinable in enumerate(joinables):
            joinable._join_config = _JoinConfig(enable, throw_on_early_termination, is_first_joinable=i == 0)
        self._process_group, self._device = None, None
        for joinable in joinables:
            if self._process_group is None:
                self._process_group = joinable.join_process_group
            elif self._process_group != joinable.join_process_group:
                raise ValueError("Using join context manager with multiple process groups")
            if self._device is None:
                self._device = joinable.join_device
        self._rank = get_rank(self._process_group)

    def __enter__(self):
        pass

    def __exit__(self, kind, value, traceback):
        """Once this rank leaves the block, shadows the others' iterations until every rank has joined."""
        if not self._enable or kind:
            return
        everyone_joined, is_last_joiner, iterations = False, True, 0
        while not everyone_joined:
            if iterations > 1000:
                warnings.warn(f"Detected uneven input skew of greater than 1000. This means that rank {self._rank} "
                              f"has at least 1000 fewer inputs than other currently-active ranks. This level of skew "
                              f"could lead to performance degradation during training.", stacklevel=2)
            if self._count(0) == 0:
                everyone_joined = True
            else:
                if self._throw_on_early_termination:
                    self._count(1)
                    raise RuntimeError(f"Rank {self._rank} exhausted all inputs.")
                for hook in self._join_hooks:
                    hook.main_hook()
                is_last_joiner = False
                iterations += 1
        for hook in self._join_hooks:
            hook.post_hook(is_last_joiner)

    def _count(self, value):
        """The sum of ``value`` over the ranks (the ranks still iterating each add 1)."""
        return _all_reduce_count(value, self._device, self._process_group)

    @staticmethod
    def notify_join_context(joinable):
        """Called by a joinable before its iteration's collectives: the first joinable of a join context tells the
        joined ranks this one is still iterating (and, with ``throw_on_early_termination``, raises once a rank has
        run out). Returns the started collective's Work, or None."""
        if not hasattr(joinable, "_join_config"):
            raise AssertionError(f"Check that the {type(joinable)} constructor calls the ``Joinable`` constructor")
        config = joinable._join_config
        if not config.is_first_joinable or not config.enable:
            return None
        work = all_reduce(ones(1, device=joinable.join_device), group=joinable.join_process_group, async_op=True)
        if config.throw_on_early_termination and \
                _all_reduce_count(0, joinable.join_device, joinable.join_process_group):
            raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing across all ranks.")
        return work


def _all_reduce_count(value, device, process_group):
    count = full((1,), float(value), device=device)
    all_reduce(count, group=process_group)
    return count.item()
