"""``torch.distributed._functional_collectives``: collectives that return new tensors instead of writing into given
ones, differentiable (transformers' expert and tensor parallelism import ``all_to_all_single_autograd`` and
``wait_tensor``). ember's collectives complete before returning, so a result needs no waiting."""
import ember

from . import collectives
from .device_mesh import DeviceMesh
from .process_group import ProcessGroup

__all__ = ["all_to_all_single", "all_to_all_single_autograd", "wait_tensor"]


def _resolve_group(group):
    """The process group a ProcessGroup, a 1-D DeviceMesh or a (DeviceMesh, dim) pair names."""
    if isinstance(group, ProcessGroup):
        return group
    if isinstance(group, DeviceMesh):
        if group.ndim != 1:
            raise AssertionError("Only 1D mesh is supported, pass in (DeviceMesh, int) together if mesh > 1D")
        return group.get_group()
    if isinstance(group, tuple):
        if len(group) == 2 and isinstance(group[0], DeviceMesh) and isinstance(group[1], int):
            return group[0].get_group(group[1])
        raise ValueError(f"Invalid tuple for group must be (DeviceMesh, int). Instead got "
                         f"{(type(group[0]), type(group[1]))}")
    raise ValueError(f"Unsupported group type: {type(group)}, {group} (ember's functional collectives take a "
                     "ProcessGroup, a 1-D DeviceMesh or (DeviceMesh, dim))")


def wait_tensor(tensor):
    """The result of a functional collective, complete (ember's are complete on return): the tensor itself."""
    return tensor


class _AllToAllSingle(ember.autograd.Function):
    @staticmethod
    def forward(ctx, input, output_split_sizes, input_split_sizes, group):
        ctx.splits, ctx.group = (output_split_sizes, input_split_sizes), group
        output = input.new_empty((sum(output_split_sizes),) + tuple(input.shape[1:]))
        collectives.all_to_all_single(output, input.contiguous(), output_split_sizes, input_split_sizes, group=group)
        return output

    @staticmethod
    def backward(ctx, grad):
        output_split_sizes, input_split_sizes = ctx.splits
        grad_input = _AllToAllSingle.apply(grad.contiguous(), input_split_sizes, output_split_sizes, ctx.group)
        return grad_input, None, None, None


def all_to_all_single(self, output_split_sizes, input_split_sizes, group, tag=""):
    """Rows of ``self`` split by ``input_split_sizes`` and sent one part to each rank of ``group``; the parts
    received, of ``output_split_sizes`` rows, concatenated (equal parts when both are None). Differentiable: the
    gradient goes back by the reverse exchange."""
    for name, sizes in (("output_split_sizes", output_split_sizes), ("input_split_sizes", input_split_sizes)):
        if sizes is not None and not all(isinstance(size, int) for size in sizes):
            raise AssertionError(f"All {name} must be int or SymInt, got {sizes}")
    group = _resolve_group(group)
    if output_split_sizes is None or input_split_sizes is None:
        if not (output_split_sizes is None and input_split_sizes is None):
            raise AssertionError("output_split_sizes and input_split_sizes must either be specified together or both "
                                 "set to None")
        output_split_sizes = input_split_sizes = [self.shape[0] // group.size()] * group.size()
    return _AllToAllSingle.apply(self, list(output_split_sizes), list(input_split_sizes), group)


all_to_all_single_autograd = all_to_all_single
