"""DTensor: a tensor laid over a DeviceMesh. Its array (``_data``) is this rank's local part, so ember's code that
works on arrays (optimizers' updates, the autograd engine's bookkeeping) works on shards; its ``shape``, ``size()``,
``stride()`` and ``numel()`` are the global tensor's. Public calls with a DTensor go to ``_dispatch`` through the
``__torch_function__`` protocol, which runs each op on the local parts under a sharding rule."""
from collections import namedtuple

from ... import overrides
from ..._tensor import Size, Tensor, _make
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ..device_mesh import DeviceMesh, _entered
from ..device_mesh import _contiguous_strides as contiguous_stride
from ._redistribute import local_shape_and_offset, normalized, redistribute_array
from .placement_types import Placement, Replicate, Shard


class DTensorSpec(namedtuple("DTensorSpec", "mesh placements shape stride")):
    """Where a DTensor lives: its mesh, one placement per mesh dimension, the global shape and stride."""

    __slots__ = ()

    def local_shape(self):
        """This rank's part's shape."""
        return local_shape_and_offset(self.shape, self.mesh, self.placements)[0]

    def with_placements(self, placements):
        """The same tensor laid out by ``placements``."""
        return DTensorSpec(self.mesh, tuple(placements), self.shape, self.stride)


class DTensor(Tensor):
    """A tensor laid over a device mesh by one placement per mesh dimension (``torch.distributed.tensor.DTensor``):
    each rank holds its local part; ops run on the parts where a sharding rule says how."""

    __slots__ = ()
    _takes_over_calls = True   # ember's own subclass that still takes calls through __torch_function__

    def __new__(cls, local_tensor, spec, *, requires_grad=False):
        return _new(local_tensor._data, spec, requires_grad)

    def __init__(self, *args, **kwargs):
        pass

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        from ._dispatch import dispatch
        return dispatch(func, args, kwargs or {})

    # --- the global tensor's metadata ----------------------------------------------------------------------------
    @property
    def shape(self):
        """The global tensor's shape."""
        return self._spec.shape

    def size(self, dim=None):
        """The global tensor's shape, or its size along ``dim``."""
        return self._spec.shape if dim is None else self._spec.shape[dim]

    def stride(self, dim=None):
        """The global tensor's strides, or its stride along ``dim``."""
        return self._spec.stride if dim is None else self._spec.stride[dim]

    def numel(self):
        """The global tensor's number of elements."""
        count = 1
        for size in self._spec.shape:
            count *= size
        return count

    nelement = numel

    def __len__(self):
        if not self._spec.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._spec.shape[0]

    @property
    def device_mesh(self):
        """The mesh the tensor is laid over."""
        return self._spec.mesh

    @property
    def placements(self):
        """One placement per mesh dimension."""
        return self._spec.placements

    def __repr__(self):
        return (f"DTensor(local_tensor={self.to_local()!r}, device_mesh={self._spec.mesh!r}, "
                f"placements={self._spec.placements!r})")

    _pickles_itself = True   # torch.save stores the local part and the layout, not a global-shaped storage

    def __reduce_ex__(self, protocol):
        mesh, spec = self._spec.mesh, self._spec
        where = (mesh.device_type, mesh.mesh.tolist(), mesh.mesh_dim_names)
        return _rebuild, (_make(self._data), where, spec.placements, tuple(spec.shape), spec.stride,
                          self.requires_grad)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        copied = _new(self._data.copy(), self._spec, self.requires_grad)
        if getattr(self, "_is_param", False):
            copied._is_param = True
        memo[id(self)] = copied
        return copied

    def _state_like(self, tensor):
        """``tensor`` (an optimizer's state array for this parameter's part) laid out as this tensor."""
        return _new(tensor._data, self._spec)

    # --- distributed checkpoints (the protocol torch.distributed.checkpoint's planners call) ------------------------
    def _chunk(self):
        from ..checkpoint.metadata import ChunkStorageMetadata
        sizes, offsets = local_shape_and_offset(self._spec.shape, self._spec.mesh, self._spec.placements)
        return ChunkStorageMetadata(offsets=Size(offsets), sizes=Size(sizes))

    def __create_write_items__(self, fqn, object):
        """One write of this rank's part, at its offset in the whole tensor (replicated parts share an index, so
        one rank writes them)."""
        from ..checkpoint.metadata import MetadataIndex, TensorProperties
        from ..checkpoint.planner import TensorWriteData, WriteItem, WriteItemType
        chunk = self._chunk()
        return [WriteItem(index=MetadataIndex(fqn, chunk.offsets), type=WriteItemType.SHARD,
                          tensor_data=TensorWriteData(chunk=chunk, size=self._spec.shape,
                                                      properties=TensorProperties.create_from_tensor(self.to_local())))]

    def __create_chunk_list__(self):
        """This rank's part as the one chunk a load fills."""
        return [self._chunk()]

    def __get_tensor_shard__(self, index):
        """This rank's part (a plain tensor sharing its memory), which ``index`` must name."""
        if index.offset is not None and tuple(index.offset) != tuple(self._chunk().offsets):
            raise ValueError(f"Could not find shard at '{index.offset}' for FQN: '{index.fqn}'")
        return _make(self._data)

    # --- between local and global --------------------------------------------------------------------------------
    @staticmethod
    def from_local(local_tensor, device_mesh=None, placements=None, *, run_check=False, shape=None, stride=None):
        """A DTensor whose part on this rank is ``local_tensor``, laid out by ``placements`` (default: replicated).
        The global shape assumes even shards unless ``shape`` (and ``stride``) are given; ``run_check`` broadcasts
        replicated parts from the mesh's first rank along each replicated dimension."""
        mesh = _mesh(device_mesh)
        placements = _placements(placements, mesh, local_tensor.ndim)
        if shape is None:
            shape = list(local_tensor.shape)
            for mesh_dim, placement in enumerate(placements):
                if placement.is_shard():
                    shape[placement.dim] *= mesh.size(mesh_dim)
            shape = tuple(shape)
            stride = contiguous_stride(shape)
        elif stride is None:
            raise RuntimeError("Please pass both shape and stride at the same time.")
        spec = DTensorSpec(mesh, placements, Size(shape), tuple(stride))
        if run_check:
            local_tensor = _checked_replicas(local_tensor, spec)
        return _FromLocal.apply(local_tensor, spec)

    def to_local(self, *, grad_placements=None):
        """This rank's part as a plain tensor (sharing memory); its gradient flows back laid out by
        ``grad_placements`` (default: this tensor's placements)."""
        if grad_placements is not None:
            grad_placements = tuple(grad_placements)
        return _ToLocal.apply(self, grad_placements)

    def redistribute(self, device_mesh=None, placements=None, *, async_op=False, forward_dtype=None,
                     backward_dtype=None):
        """The same tensor laid out by ``placements`` (collectives along the mesh dimensions that change)."""
        mesh = self._spec.mesh if device_mesh is None else device_mesh
        if mesh != self._spec.mesh:
            raise NotImplementedError("Cross device mesh comm not supported yet!")
        if placements is None:
            raise RuntimeError("placements is needed for redistribute!")
        placements = _placements(placements, mesh, self.ndim)
        return _Redistribute.apply(self, placements, forward_dtype, backward_dtype)

    def full_tensor(self, *, grad_placements=None):
        """The whole tensor on every rank (gathered and reduced); differentiable."""
        whole = self.redistribute(self._spec.mesh, [Replicate()] * self._spec.mesh.ndim)
        return whole.to_local(grad_placements=grad_placements)


_REBUILT_MESHES = {}


def _rebuild(local, where, placements, shape, stride, requires_grad):
    """A pickled DTensor: its mesh made again from its ranks (a mesh over the whole job needs no collective)."""
    device_type, ranks, names = where
    key = (device_type, repr(ranks), names)
    if key not in _REBUILT_MESHES:
        _REBUILT_MESHES[key] = DeviceMesh(device_type, ranks, mesh_dim_names=names)
    spec = DTensorSpec(_REBUILT_MESHES[key], tuple(placements), Size(shape), tuple(stride))
    return _new(local._data, spec, requires_grad)


def _new(array, spec, requires_grad=False):
    """A DTensor over ``array`` (this rank's part) with ``spec``, outside the graph."""
    overrides.enable_torch_function_dispatch()
    dtensor = _make(array, requires_grad=requires_grad, cls=DTensor)
    dtensor._spec = spec
    return dtensor


def _mesh(device_mesh):
    if device_mesh is not None:
        return device_mesh
    if _entered:
        return _entered[-1]
    raise RuntimeError("No device mesh is currently active, please create a DeviceMesh or enter one with "
                       "`with mesh:` first.")


def _placements(placements, mesh, ndim):
    """``placements`` checked against ``mesh`` and a tensor of ``ndim`` dimensions; negative shard dims wrapped."""
    if placements is None:
        return (Replicate(),) * mesh.ndim
    placements = tuple(placements)
    if len(placements) != mesh.ndim:
        raise ValueError(f"`placements` must have the same length as `device_mesh.ndim`! Found placements length: "
                         f"{len(placements)}, and device_mesh.ndim: {mesh.ndim}.")
    made = []
    for placement in placements:
        if not isinstance(placement, Placement):
            raise TypeError(f"placements must be Placement instances, got {placement!r}")
        if placement.is_shard() and placement.dim < 0:
            placement = Shard(placement.dim + ndim)
        if placement.is_shard() and not 0 <= placement.dim < max(ndim, 1):
            raise IndexError(f"Shard dim {placement.dim} is out of range for a tensor of {ndim} dimensions")
        made.append(placement)
    return tuple(made)


def _checked_replicas(local_tensor, spec):
    """``local_tensor`` broadcast from coordinate 0 along each replicated mesh dimension (``run_check``)."""
    from .. import collectives
    from ..process_group import get_process_group_ranks
    result = _make(local_tensor._data.copy())
    for mesh_dim, placement in enumerate(spec.placements):
        if placement.is_replicate():
            group = spec.mesh.get_group(mesh_dim)
            collectives.broadcast(result, src=get_process_group_ranks(group)[0], group=group)
    if local_tensor.requires_grad:
        return local_tensor + (result - local_tensor).detach()
    return result


def _as_dtensor_grad(grad, spec):
    """A gradient laid out as ``spec`` says (a plain tensor is taken as this rank's part)."""
    if isinstance(grad, DTensor):
        if grad._spec.placements != spec.placements:
            return redistribute_array(grad._data, spec.mesh, spec.shape, grad._spec.placements, spec.placements)
        return grad._data
    return grad._data


class _FromLocal(Function):
    @staticmethod
    def forward(ctx, local, spec):
        ctx.spec = spec
        return _new(local._data, spec)

    @staticmethod
    def backward(ctx, grad):
        spec = ctx.spec.with_placements(normalized(ctx.spec.placements))
        return _make(_as_dtensor_grad(grad, spec)), None


class _ToLocal(Function):
    """A DTensor's local part; its gradient is taken as laid out by ``grad_placements`` (default: the DTensor's)
    and, where ``deliver`` is given, redistributed to those placements on the way back (an op's leaf operands
    receive gradients laid out as themselves)."""

    @staticmethod
    def forward(ctx, dtensor, grad_placements, deliver=None):
        ctx.spec = dtensor._spec if grad_placements is None else dtensor._spec.with_placements(grad_placements)
        ctx.deliver = deliver
        return _make(dtensor._data)

    @staticmethod
    def backward(ctx, grad):
        spec, array = ctx.spec, grad._data
        if ctx.deliver is not None and tuple(ctx.deliver) != spec.placements:
            array = redistribute_array(array, spec.mesh, spec.shape, spec.placements, ctx.deliver)
            spec = spec.with_placements(ctx.deliver)
        return _new(array, spec), None, None


class _Redistribute(Function):
    @staticmethod
    def forward(ctx, dtensor, placements, forward_dtype, backward_dtype):
        spec = dtensor._spec
        ctx.spec, ctx.backward_dtype = spec, backward_dtype
        array = dtensor._data
        if forward_dtype is not None and forward_dtype != dtensor.dtype:
            array = array.astype(_numpy_dtype(forward_dtype))
        ctx.dtype = dtensor.dtype
        if placements == spec.placements:
            return _new(array, spec)
        return _new(redistribute_array(array, spec.mesh, spec.shape, spec.placements, placements),
                    spec.with_placements(placements))

    @staticmethod
    def backward(ctx, grad):
        target = normalized(ctx.spec.placements)
        if ctx.backward_dtype is not None and isinstance(grad, DTensor) and grad.dtype != ctx.backward_dtype:
            grad = _new(grad._data.astype(_numpy_dtype(ctx.backward_dtype)), grad._spec)
        array = _as_dtensor_grad(grad, ctx.spec.with_placements(target))
        if array.dtype != _numpy_dtype(ctx.dtype):
            array = array.astype(_numpy_dtype(ctx.dtype))
        return _new(array, ctx.spec.with_placements(target)), None, None, None


def _numpy_dtype(dtype):
    return dtype.numpy


def distribute_tensor(tensor, device_mesh=None, placements=None, *, src_data_rank=0):
    """``tensor`` laid over ``device_mesh`` by ``placements``: each rank keeps its chunk of the value on mesh
    coordinate ``src_data_rank`` (broadcast first), or of its own value when ``src_data_rank`` is None."""
    mesh = _mesh(device_mesh)
    if isinstance(tensor, DTensor):
        if tensor._spec.mesh != mesh:
            raise ValueError(f"Cannot distribute a DTensor with device mesh {tensor._spec.mesh} to a different "
                             f"device mesh {mesh}.")
        if tensor._spec.placements != tuple(placements):
            raise ValueError(f"Cannot distribute a DTensor with placements {tensor._spec.placements} to a "
                             f"different placements {tuple(placements)}. do you want to call `redistribute` "
                             "instead?")
        return tensor
    placements = _placements(placements, mesh, tensor.ndim)
    for placement in placements:
        if placement.is_partial():
            raise RuntimeError(f"Trying to distribute tensor with unsupported placements {placement}")
    shape = Size(tensor.shape)
    spec = DTensorSpec(mesh, placements, shape, contiguous_stride(shape))
    with no_grad():
        value = tensor.detach()
        if src_data_rank is not None:
            value = _broadcast_from(value, mesh, src_data_rank)
        replicated = (Replicate(),) * mesh.ndim
        array = redistribute_array(value._data, mesh, shape, replicated, placements)
        if array is tensor._data:
            array = array.copy()
    return _new(array, spec, requires_grad=tensor.requires_grad)


def _broadcast_from(value, mesh, src_data_rank):
    from .. import collectives
    from ..process_group import get_process_group_ranks
    result = _make(value._data.copy())
    for mesh_dim in range(mesh.ndim):
        group = mesh.get_group(mesh_dim)
        collectives.broadcast(result, src=get_process_group_ranks(group)[src_data_rank], group=group)
    return result


def distribute_module(module, device_mesh=None, partition_fn=None, input_fn=None, output_fn=None):
    """Lays ``module``'s parameters and buffers over ``device_mesh``: ``partition_fn(name, submodule, mesh)`` for
    each submodule when given, else every tensor replicated; ``input_fn(module, inputs, mesh)`` and
    ``output_fn(module, outputs, mesh)`` become forward hooks."""
    from ...nn.parameter import Parameter
    mesh = _mesh(device_mesh)
    if getattr(module, "_distribute_module_applied", False):
        raise RuntimeError("distribute_module should only be called once on a module, but it has already been "
                           "called on this module!")

    def replicate(submodule):
        for name, param in list(submodule._parameters.items()):
            if param is not None and not isinstance(param, DTensor):
                submodule.register_parameter(name, Parameter(distribute_tensor(param.data, mesh,
                                                                               [Replicate()] * mesh.ndim),
                                                             param.requires_grad))
        for name, buffer in list(submodule._buffers.items()):
            if buffer is not None and not isinstance(buffer, DTensor):
                submodule._buffers[name] = distribute_tensor(buffer, mesh, [Replicate()] * mesh.ndim)

    for name, submodule in module.named_modules():
        if partition_fn is not None:
            partition_fn(name, submodule, mesh)
        replicate(submodule)
    if input_fn is not None:
        if _arity(input_fn, "input_fn") == 2:
            module.register_forward_pre_hook(lambda mod, inputs: input_fn(inputs, mesh))
        else:
            module.register_forward_pre_hook(lambda mod, inputs: input_fn(mod, inputs, mesh))
    if output_fn is not None:
        if _arity(output_fn, "output_fn") == 2:
            module.register_forward_hook(lambda mod, inputs, outputs: output_fn(outputs, mesh))
        else:
            module.register_forward_hook(lambda mod, inputs, outputs: output_fn(mod, outputs, mesh))
    module._distribute_module_applied = True
    return module


def _arity(function, name):
    """How many arguments a distribute_module hook takes: 3, or the deprecated 2 (with PyTorch's warning)."""
    import inspect
    import warnings
    count = len(inspect.signature(function).parameters)
    if count == 2:
        warnings.warn(f"Deprecating {name} that takes two arguments (inputs, device_mesh), please use {name} that "
                      "takes in (module, inputs, device_mesh) instead!", FutureWarning, stacklevel=3)
    elif count != 3:
        raise ValueError(f"{name} should take in 3 arguments, but got {count} arguments!")
    return count


__all__ = ["DTensor", "DTensorSpec", "distribute_tensor", "distribute_module"]
