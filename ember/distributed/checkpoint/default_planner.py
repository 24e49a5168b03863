"""``torch.distributed.checkpoint.default_planner``: the planners ``save`` and ``load`` use unless given others.

Saving: the state_dict is flattened (nested keys joined by dots, the paths kept as ``planner_data``), each rank plans
one write per value, the coordinator drops duplicates (replicated values are written by one rank) and builds the
Metadata. Loading: one read per key of the given state_dict, checked against the metadata (missing keys and size
mismatches raise as PyTorch's), tensors filled in place and other values set."""
import dataclasses
import io
import logging
from collections import ChainMap

from . import _version
from ._dedup_save_plans import dedup_save_plans
from ._nested_dict import flatten_state_dict
from ._traverse import set_element
from .metadata import BytesStorageMetadata, Metadata, TensorStorageMetadata
from .planner import LoadPlan, LoadPlanner, SavePlan, SavePlanner, WriteItemType
from .planner_helpers import (_create_default_metadata_only_plan, _create_read_items, _create_write_items,
                              _init_state_dict)
from .utils import find_state_dict_object, narrow_tensor_by_index

logger = logging.getLogger(__name__)

__all__ = ["DefaultSavePlanner", "DefaultLoadPlanner", "create_default_local_load_plan",
           "create_default_global_load_plan", "create_default_local_save_plan", "create_default_global_save_plan"]


class DefaultSavePlanner(SavePlanner):
    """Flattens nested state_dicts and writes each value once (see the module's note)."""

    def __init__(self, flatten_state_dict=True, flatten_sharded_tensors=True, dedup_replicated_tensors=None,
                 dedup_save_to_lowest_rank=False, enable_plan_caching=False):
        self.flatten_state_dict = flatten_state_dict
        self.flatten_sharded_tensors = flatten_sharded_tensors
        self.mappings = {}
        self.dedup_save_to_lowest_rank = dedup_save_to_lowest_rank
        if dedup_replicated_tensors is not None:
            logger.warning("DefaultSavePlanner's `dedup_replicated_tensors` argument is being deprecated, and no "
                           "longer has any effect. Please remove this argument from your call.")
        self._enable_plan_caching = enable_plan_caching

    def set_up_planner(self, state_dict, storage_meta=None, is_coordinator=False):
        if self.flatten_state_dict:
            state_dict, self.mappings = flatten_state_dict(state_dict)
        self.state_dict = state_dict
        self.is_coordinator = is_coordinator

    def create_local_plan(self):
        plan = create_default_local_save_plan(self.state_dict, self.is_coordinator)
        if self.flatten_state_dict:
            plan = dataclasses.replace(plan, planner_data=self.mappings)
        self.plan = plan
        return self.plan

    def _dedup_save_plans(self, all_plans):
        return dedup_save_plans(all_plans, self.dedup_save_to_lowest_rank)

    def create_global_plan(self, all_plans):
        global_plan, metadata = create_default_global_save_plan(self._dedup_save_plans(all_plans))
        if self.flatten_state_dict:
            merged_mappings = dict(ChainMap(*[p.planner_data for p in global_plan]))
            metadata = dataclasses.replace(metadata, planner_data=merged_mappings)
        self.global_plan, self.metadata = global_plan, metadata
        return global_plan, metadata

    def finish_plan(self, new_plan):
        self.plan = new_plan
        return new_plan

    def resolve_data(self, write_item):
        return self.transform_object(write_item, self.lookup_object(write_item.index))

    def lookup_object(self, index):
        """Extension from the planner interface to make it easy to extend the default planner."""
        return find_state_dict_object(self.state_dict, index)

    def transform_object(self, write_item, object):
        """Extension from the planner interface to make it easy to extend the default planner."""
        if write_item.type == WriteItemType.BYTE_IO:
            from ... import serialization
            stream = io.BytesIO()
            serialization.save(object, stream)
            object = stream
        return object


class DefaultLoadPlanner(LoadPlanner):
    """Loads into the given state_dict: flattened as the save flattened it, tensors filled in place; with
    ``allow_partial_load`` keys the checkpoint lacks are skipped instead of raising."""

    def __init__(self, flatten_state_dict=True, flatten_sharded_tensors=True, allow_partial_load=False):
        self.flatten_state_dict = flatten_state_dict
        self.flatten_sharded_tensors = flatten_sharded_tensors
        self.original_state_dict = {}
        self.mappings = {}
        self.allow_partial_load = allow_partial_load

    def set_up_planner(self, state_dict, metadata=None, is_coordinator=False):
        _init_state_dict(state_dict)
        self.original_state_dict = state_dict
        if self.flatten_state_dict:
            state_dict, self.mappings = flatten_state_dict(state_dict)
        self.state_dict = state_dict
        self.metadata = metadata
        self.is_coordinator = is_coordinator

    def create_local_plan(self):
        if self.metadata is None:
            raise AssertionError("self.metadata is not None")
        if self.flatten_state_dict:
            # Keys the checkpoint has and this flattening lacks: it may have been saved by PyTorch 2.3, which kept a
            # dict or list holding no tensor as one value; flatten that way where it finds some of them.
            missing_keys = set(self.metadata.state_dict_metadata) - set(self.state_dict)
            if missing_keys:
                _version._derived_version = "2_3"
                try:
                    old_state_dict, old_mappings = flatten_state_dict(self.original_state_dict)
                finally:
                    _version._derived_version = None
                if set(old_state_dict) & missing_keys:
                    self.state_dict, self.mappings = old_state_dict, old_mappings
        return create_default_local_load_plan(self.state_dict, self.metadata, not self.allow_partial_load)

    def create_global_plan(self, global_plan):
        return create_default_global_load_plan(global_plan)

    def finish_plan(self, new_plan):
        return new_plan

    def load_bytes(self, read_item, value):
        from ... import serialization
        loaded = serialization.load(value, weights_only=False)   # as PyTorch: a saved value may be any object
        if self.flatten_state_dict:
            set_element(self.original_state_dict, self.mappings[read_item.dest_index.fqn], loaded)
        else:
            self.state_dict[read_item.dest_index.fqn] = loaded

    def resolve_tensor(self, read_item):
        return self.transform_tensor(read_item, self.lookup_tensor(read_item.dest_index))

    def commit_tensor(self, read_item, tensor):
        pass

    def lookup_tensor(self, index):
        """Extension from the planner interface to make it easy to extend the default planner."""
        return find_state_dict_object(self.state_dict, index)

    def transform_tensor(self, read_item, tensor):
        """Extension from the planner interface to make it easy to extend the default planner."""
        return narrow_tensor_by_index(tensor, read_item.dest_offsets, read_item.lengths)


class _EmptyStateDictLoadPlanner(DefaultLoadPlanner):
    """Rebuilds the state_dict from the saved metadata (an empty dict given): a tensor of each saved size and dtype
    for each tensor, the saved values for the rest; ``keys`` picks some."""

    def __init__(self, keys=None, *args, **kwargs):
        self.keys = keys
        super().__init__(*args, **kwargs)

    def _should_include_key(self, key, metadata):
        if self.keys is None or key in self.keys:
            return True
        unflattened_keys = []
        for part in metadata.planner_data.get(key):
            unflattened_keys.append(".".join([unflattened_keys[-1], str(part)]) if unflattened_keys else part)
        return any(k in self.keys for k in unflattened_keys)

    def set_up_planner(self, state_dict, metadata=None, is_coordinator=False):
        from ... import empty
        if state_dict:
            raise AssertionError("not state_dict")
        if metadata is None:
            raise AssertionError("metadata is not None")
        for k, v in metadata.state_dict_metadata.items():
            if not self._should_include_key(k, metadata):
                continue
            if isinstance(v, TensorStorageMetadata):
                v = empty(v.size, dtype=v.properties.dtype)
            if metadata.planner_data is not None and k in metadata.planner_data:
                set_element(state_dict, metadata.planner_data[k], v)
            else:
                state_dict[k] = v
        super().set_up_planner(state_dict, metadata, is_coordinator)


def create_default_local_load_plan(state_dict, metadata, strict=True):
    """The ``LoadPlan`` used by DefaultLoadPlanner: one read per value of ``state_dict`` (more where the checkpoint
    holds a tensor in several chunks)."""
    requests = []
    for fqn, obj in state_dict.items():
        if fqn not in metadata.state_dict_metadata:
            if strict:
                raise RuntimeError(f"Missing key in checkpoint state_dict: {fqn}.")
            continue
        md = metadata.state_dict_metadata[fqn]
        if isinstance(md, TensorStorageMetadata) and getattr(obj, "size", None) is not None \
                and md.size != obj.size():
            raise ValueError(f"Size mismatch between saved {md.size} and current: {obj.size()} for {fqn}")
        requests += _create_read_items(fqn, md, obj)
    return LoadPlan(requests)


def create_default_global_load_plan(all_plans):
    """The default load needs no global coordination: the local plans unchanged."""
    return all_plans


def create_default_local_save_plan(state_dict, is_coordinator):
    """The ``SavePlan`` used by DefaultSavePlanner: one write per value of the flat ``state_dict``."""
    requests = []
    for fqn, obj in state_dict.items():
        requests += _create_write_items(fqn, obj)
    return SavePlan(requests)


def create_default_global_save_plan(all_plans, rewrite_index_hints=True):
    """The global plan and the Metadata: every write item's storage metadata, the index hints numbered per key."""
    md = {}
    new_plans = []
    for plan in all_plans:
        new_items = []
        for item in plan.items:
            if item.type != WriteItemType.SHARD and item.index.fqn in md:
                raise AssertionError("item.index.fqn not in md")
            if item.type == WriteItemType.BYTE_IO:
                md[item.index.fqn] = BytesStorageMetadata()
                new_items.append(item)
                continue
            tensor_md = md.setdefault(item.index.fqn, TensorStorageMetadata(
                properties=item.tensor_data.properties, size=item.tensor_data.size, chunks=[]))
            new_item = item
            if rewrite_index_hints:
                new_item = dataclasses.replace(item, index=dataclasses.replace(item.index,
                                                                               index=len(tensor_md.chunks)))
            new_items.append(new_item)
            tensor_md.chunks.append(item.tensor_data.chunk)
        new_plans.append(dataclasses.replace(plan, items=new_items))
    return new_plans, Metadata(md)


def _create_default_local_metadata(state_dict):
    """Return the ``Metadata`` if DefaultSavePlanner was used to checkpoint ``state_dict``."""
    return create_default_global_save_plan([_create_default_metadata_only_plan(state_dict)])[1]

