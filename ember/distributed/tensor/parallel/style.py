"""PyTorch's parallel styles: how ``parallelize_module`` lays out a module's parameters and converts its inputs and
outputs. ``ColwiseParallel`` shards a Linear's output features (an Embedding's embedding dim), ``RowwiseParallel``
its input features (an Embedding's rows), ``SequenceParallel`` runs a norm or dropout on sequence shards with
replicated parameters, ``PrepareModuleInput``/``PrepareModuleOutput`` redistribute what goes in and comes out."""
from abc import ABC, abstractmethod
from functools import partial

from .... import nn
from ....nn.parameter import Parameter
from ...._tensor import Tensor
from .._dtensor import DTensor, distribute_module, distribute_tensor
from ..placement_types import Placement, Replicate, Shard

__all__ = ["ParallelStyle", "RowwiseParallel", "SequenceParallel", "ColwiseParallel", "PrepareModuleInput",
           "PrepareModuleInputOutput", "PrepareModuleOutput"]


class ParallelStyle(ABC):
    """The base of the parallel styles: ``_apply(module, device_mesh)`` parallelizes ``module``."""

    src_data_rank = 0

    @abstractmethod
    def _apply(self, module, device_mesh):
        """Parallelizes ``module`` over ``device_mesh`` and returns it."""


def _as_dtensor_input(inputs, device_mesh, input_layouts, desired_input_layouts):
    """The module's first input as a DTensor laid out by ``desired_input_layouts`` (a plain tensor is taken as
    this rank's part laid out by ``input_layouts``)."""
    tensor = inputs[0]
    if not isinstance(tensor, DTensor):
        tensor = DTensor.from_local(tensor, device_mesh, input_layouts, run_check=False)
    if input_layouts != desired_input_layouts:
        tensor = tensor.redistribute(placements=desired_input_layouts, async_op=True)
    return tensor


def _laid_out_output(output_layouts, use_local_output, module, outputs, device_mesh):
    """The module's DTensor output laid out by ``output_layouts``, as its local part with ``use_local_output``."""
    if outputs.placements != output_layouts:
        outputs = outputs.redistribute(placements=output_layouts, async_op=True)
    return outputs.to_local() if use_local_output else outputs


def _prepare_input(input_layouts, desired_input_layouts, mod, inputs, device_mesh):
    return _as_dtensor_input(inputs, device_mesh, input_layouts, desired_input_layouts)


def _distribute_linear_or_embedding(style, module, device_mesh):
    """``ColwiseParallel``'s and ``RowwiseParallel``'s ``_apply``: ``module`` (a Linear or an Embedding) partitioned
    by the style's function for its kind, its input and output converted by the style's layouts."""
    if isinstance(module, nn.Linear):
        partition_fn = style._partition_linear_fn
    elif isinstance(module, nn.Embedding):
        partition_fn = style._partition_embedding_fn
    else:
        raise NotImplementedError(f"{type(style).__name__} currently only support nn.Linear and nn.Embedding!")
    return distribute_module(module, device_mesh, partition_fn,
                             partial(style._prepare_input_fn, style.input_layouts, style.desired_input_layouts),
                             partial(style._prepare_output_fn, style.output_layouts, style.use_local_output))


def _shard_parameters(module, device_mesh, placements, src_data_rank, names=None):
    for name, param in list(module.named_parameters()):
        if names is None or name in names:
            dtensor = distribute_tensor(param, device_mesh, placements, src_data_rank=src_data_rank)
            module.register_parameter(name, Parameter(dtensor, requires_grad=param.requires_grad))


def _layouts_repr(style):
    return (f"{type(style).__name__}(input_layouts={style.input_layouts}, output_layouts={style.output_layouts}, "
            f"use_local_output={style.use_local_output})")


class ColwiseParallel(ParallelStyle):
    """Shards an ``nn.Linear`` by output features (weight and bias ``Shard(0)``) or an ``nn.Embedding`` by its
    embedding dim (``Shard(1)``); the input (laid out by ``input_layouts``, default Replicate) is replicated
    first, the output comes out ``Shard(-1)`` (or ``output_layouts``), as its local part with
    ``use_local_output``."""

    def __init__(self, *, input_layouts=None, output_layouts=None, use_local_output=True):
        self.input_layouts = (input_layouts or Replicate(),)
        self.output_layouts = (output_layouts or Shard(-1),)
        self.desired_input_layouts = (Replicate(),)
        self.use_local_output = use_local_output

    _prepare_input_fn = staticmethod(_prepare_input)

    def _partition_linear_fn(self, name, module, device_mesh):
        _shard_parameters(module, device_mesh, [Shard(0)], self.src_data_rank)

    def _partition_embedding_fn(self, name, module, device_mesh):
        _shard_parameters(module, device_mesh, [Shard(1)], self.src_data_rank)

    _prepare_output_fn = staticmethod(_laid_out_output)

    def _apply(self, module, device_mesh):
        return _distribute_linear_or_embedding(self, module, device_mesh)

    def __repr__(self):
        return _layouts_repr(self)


class RowwiseParallel(ParallelStyle):
    """Shards an ``nn.Linear`` by input features (weight ``Shard(1)``, bias replicated) or an ``nn.Embedding`` by
    rows (``Shard(0)``); a Linear's input (``input_layouts``, default ``Shard(-1)``) is sharded on its last dim,
    an Embedding's replicated; the partial output is reduced to ``output_layouts`` (default Replicate), as its
    local part with ``use_local_output``."""

    def __init__(self, *, input_layouts=None, output_layouts=None, use_local_output=True):
        self.input_layouts = (input_layouts or Shard(-1),)
        self.output_layouts = (output_layouts or Replicate(),)
        self.use_local_output = use_local_output

    _prepare_input_fn = staticmethod(_prepare_input)

    def _partition_linear_fn(self, name, module, device_mesh):
        _shard_parameters(module, device_mesh, [Shard(1)], self.src_data_rank, names=("weight",))
        if getattr(module, "bias", None) is not None:
            _shard_parameters(module, device_mesh, [Replicate()], self.src_data_rank, names=("bias",))

    def _partition_embedding_fn(self, name, module, device_mesh):
        _shard_parameters(module, device_mesh, [Shard(0)], self.src_data_rank)

    _prepare_output_fn = staticmethod(_laid_out_output)

    def _apply(self, module, device_mesh):
        self.desired_input_layouts = (Shard(-1),) if isinstance(module, nn.Linear) else (Replicate(),)
        return _distribute_linear_or_embedding(self, module, device_mesh)

    def __repr__(self):
        return _layouts_repr(self)


class SequenceParallel(ParallelStyle):
    """Runs a module (a norm, dropout) on shards of the sequence dim ``sequence_dim``: its parameters replicated
    (each rank keeps its own values), its input laid out ``Shard(sequence_dim)``, its output a DTensor (its local
    part with ``use_local_output``)."""

    def __init__(self, *, sequence_dim=1, use_local_output=False):
        self.sequence_sharding = (Shard(sequence_dim),)
        self.use_local_output = use_local_output

    def _replicate_module_fn(self, name, module, device_mesh):
        for p_name, param in list(module.named_parameters()):
            module.register_parameter(p_name, Parameter(DTensor.from_local(param, device_mesh, [Replicate()],
                                                                           run_check=False)))

    @staticmethod
    def _prepare_input_fn(sequence_sharding, mod, inputs, device_mesh):
        tensor = inputs[0]
        if isinstance(tensor, DTensor):
            if tensor.placements != sequence_sharding:
                tensor = tensor.redistribute(placements=sequence_sharding, async_op=True)
            return tensor
        if isinstance(tensor, Tensor):
            return DTensor.from_local(tensor, device_mesh, sequence_sharding, run_check=False)
        raise ValueError(f"expecting input of {mod} to be a torch.Tensor or DTensor, but got {tensor}")

    @staticmethod
    def _prepare_output_fn(use_local_output, mod, outputs, device_mesh):
        return outputs.to_local() if use_local_output else outputs

    def _apply(self, module, device_mesh):
        return distribute_module(module, device_mesh, self._replicate_module_fn,
                                 partial(self._prepare_input_fn, self.sequence_sharding),
                                 partial(self._prepare_output_fn, self.use_local_output))

    def __repr__(self):
        return (f"SequenceParallel(sequence_dim={self.sequence_sharding[0].dim}, "
                f"use_local_output={self.use_local_output})")


def _as_tuple(layouts):
    return (layouts,) if isinstance(layouts, Placement) else layouts


class PrepareModuleInput(ParallelStyle):
    """Lays out a module's inputs before its forward: each positional input with a layout in ``input_layouts``
    (a plain tensor taken as this rank's part) is redistributed to its ``desired_input_layouts`` entry (None
    leaves an input as it is); keyword inputs likewise by ``input_kwarg_layouts``; local parts with
    ``use_local_output``."""

    def __init__(self, *, input_layouts=None, desired_input_layouts=None, input_kwarg_layouts=None,
                 desired_input_kwarg_layouts=None, use_local_output=False):
        self.input_layouts = _as_tuple(input_layouts)
        self.desired_input_layouts = _as_tuple(desired_input_layouts)
        self.use_local_output = use_local_output
        if self.input_layouts is not None:
            if self.desired_input_layouts is None:
                raise AssertionError("desired module inputs should not be None!")
            if len(self.input_layouts) != len(self.desired_input_layouts):
                raise AssertionError("input_layouts and desired_input_layouts should have same length!")
        self.with_kwargs = input_kwarg_layouts is not None
        self.input_kwarg_layouts = input_kwarg_layouts or {}
        self.desired_input_kwarg_layouts = desired_input_kwarg_layouts or {}
        if self.with_kwargs and len(self.input_kwarg_layouts) != len(self.desired_input_kwarg_layouts):
            raise AssertionError("input_kwarg_layouts and desired_input_kwarg_layouts should have same length!")

    def _prepare_input_arg(self, input, mesh, input_layout, desired_layout):
        if input_layout is None:
            return input
        if isinstance(input, DTensor):
            dtensor = input
        else:
            if not isinstance(input, Tensor):
                raise AssertionError("expecting input to be a torch.Tensor!")
            dtensor = DTensor.from_local(input, mesh, (input_layout,), run_check=False)
        if desired_layout is not None and input_layout != desired_layout:
            dtensor = dtensor.redistribute(placements=(desired_layout,))
        return dtensor.to_local() if self.use_local_output else dtensor

    def _prepare_input_fn(self, inputs, device_mesh):
        if self.input_layouts is None:
            return inputs
        if not isinstance(inputs, tuple):
            inputs = (inputs,)
        if len(inputs) != len(self.input_layouts):
            raise ValueError("module inputs and input_layouts should have same length!")
        return tuple(self._prepare_input_arg(value, device_mesh, layout, desired)
                     for value, layout, desired in zip(inputs, self.input_layouts, self.desired_input_layouts))

    def _prepare_input_kwarg_fn(self, inputs, kwarg_inputs, device_mesh):
        prepared = {key: self._prepare_input_arg(value, device_mesh, self.input_kwarg_layouts.get(key),
                                                 self.desired_input_kwarg_layouts.get(key))
                    for key, value in kwarg_inputs.items()}
        return self._prepare_input_fn(inputs, device_mesh), prepared

    def _apply(self, module, device_mesh):
        if self.with_kwargs:
            module.register_forward_pre_hook(
                lambda _, inputs, kwargs: self._prepare_input_kwarg_fn(inputs, kwargs, device_mesh),
                with_kwargs=True)
        else:
            module.register_forward_pre_hook(lambda _, inputs: self._prepare_input_fn(inputs, device_mesh))
        return module

    def __repr__(self):
        return (f"PrepareModuleInput(input_layouts={self.input_layouts}, "
                f"desired_input_layouts={self.desired_input_layouts}, "
                f"input_kwarg_layouts={self.input_kwarg_layouts}, "
                f"desired_input_kwarg_layouts={self.desired_input_kwarg_layouts}, "
                f"use_local_output={self.use_local_output})")


class PrepareModuleOutput(ParallelStyle):
    """Lays out a module's outputs after its forward: each output with a layout in ``output_layouts`` (a plain
    tensor taken as this rank's part) is redistributed to its ``desired_output_layouts`` entry; local parts with
    ``use_local_output``."""

    def __init__(self, *, output_layouts, desired_output_layouts, use_local_output=True):
        self.output_layouts = _as_tuple(output_layouts)
        self.desired_output_layouts = _as_tuple(desired_output_layouts)
        self.use_local_output = use_local_output
        if len(self.output_layouts) != len(self.desired_output_layouts):
            raise AssertionError("output_layouts and desired_output_layouts should have same length!")

    def _prepare_out_fn(self, outputs, device_mesh):
        if not isinstance(outputs, tuple):
            outputs = (outputs,)
        if len(outputs) != len(self.output_layouts):
            raise ValueError("module outputs and output_layouts should have same length!")
        prepared = []
        for out, layout, desired in zip(outputs, self.output_layouts, self.desired_output_layouts):
            if layout is None:
                prepared.append(out)
                continue
            dtensor = out if isinstance(out, DTensor) else DTensor.from_local(out, device_mesh, (layout,),
                                                                              run_check=False)
            if layout != desired:
                dtensor = dtensor.redistribute(placements=(desired,))
            prepared.append(dtensor.to_local() if self.use_local_output else dtensor)
        return prepared[0] if len(prepared) == 1 else tuple(prepared)

    def _apply(self, module, device_mesh):
        module.register_forward_hook(lambda _, inputs, outputs: self._prepare_out_fn(outputs, device_mesh))
        return module

    def __repr__(self):
        return (f"PrepareModuleOutput(output_layouts={self.output_layouts}, "
                f"desired_output_layouts={self.desired_output_layouts}, "
                f"use_local_output={self.use_local_output})")


class PrepareModuleInputOutput(ParallelStyle):
    """``PrepareModuleInput`` and ``PrepareModuleOutput`` on one module (``use_local_input`` is the input side's
    ``use_local_output``)."""

    def __init__(self, *, input_layouts=None, desired_input_layouts=None, input_kwarg_layouts=None,
                 desired_input_kwarg_layouts=None, use_local_input=False, output_layouts,
                 desired_output_layouts, use_local_output=True):
        self.prepare_module_input = PrepareModuleInput(
            input_layouts=input_layouts, desired_input_layouts=desired_input_layouts,
            input_kwarg_layouts=input_kwarg_layouts, desired_input_kwarg_layouts=desired_input_kwarg_layouts,
            use_local_output=use_local_input)
        self.prepare_module_output = PrepareModuleOutput(
            output_layouts=output_layouts, desired_output_layouts=desired_output_layouts,
            use_local_output=use_local_output)

    def _apply(self, module, device_mesh):
        self.prepare_module_input._apply(module, device_mesh)
        self.prepare_module_output._apply(module, device_mesh)
        return module

    def __repr__(self):
        inputs, outputs = self.prepare_module_input, self.prepare_module_output
        return (f"PrepareModuleInputOutput(input_layouts={inputs.input_layouts}, "
                f"desired_input_layouts={inputs.desired_input_layouts}, "
                f"input_kwarg_layouts={inputs.input_kwarg_layouts}, "
                f"desired_input_kwarg_layouts={inputs.desired_input_kwarg_layouts}, "
                f"use_local_input={inputs.use_local_output}, output_layouts={outputs.output_layouts}, "
                f"desired_output_layouts={outputs.desired_output_layouts}, "
                f"use_local_output={outputs.use_local_output})")
