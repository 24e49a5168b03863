"""``parallelize_module``: a parallel style applied to a module, or a dict of styles applied to the submodules
whose dotted names match its keys (each part an ``fnmatch`` pattern, as PyTorch's)."""
import warnings
from fnmatch import fnmatch

from .._dtensor import _mesh
from .style import ParallelStyle

__all__ = ["parallelize_module"]


def parallelize_module(module, device_mesh=None, parallelize_plan=None, *, src_data_rank=0):
    """Applies ``parallelize_plan`` (a ParallelStyle, or a dict from submodule name patterns to styles) to
    ``module`` over the 1-D ``device_mesh`` (default: the mesh entered with ``with mesh:``); returns ``module``.
    ``src_data_rank`` is the mesh rank whose weights are sharded out (None: each rank keeps its own)."""
    device_mesh = _mesh(device_mesh)
    if parallelize_plan is None:
        warnings.warn("No parallelize_plan is provided and auto-parallel is not supported at the moment, so this "
                      "parallelize_module call will do nothing.", stacklevel=2)
        return module
    if isinstance(parallelize_plan, ParallelStyle):
        parallelize_plan.src_data_rank = src_data_rank
        return parallelize_plan._apply(module, device_mesh)
    if not isinstance(parallelize_plan, dict):
        raise TypeError(f"Expect Union[ParallelStyle, Dict[str, ParallelStyle]] for parallelize_plan, "
                        f"{type(parallelize_plan)} found!")
    for path, style in parallelize_plan.items():
        if path == "":
            parallelize_module(module, device_mesh, style)
            continue
        token, _, rest = path.partition(".")
        matched = [child for name, child in module.named_children() if fnmatch(name, token)]
        if not matched:
            warnings.warn(f"Parallelize plan key '{path}' could not be resolved: no submodule matching token "
                          f"'{token}' in module {module}, skipping this plan entry.", stacklevel=2)
            continue
        for child in matched:
            parallelize_module(child, device_mesh, {rest: style} if rest else style, src_data_rank=src_data_rank)
    return module
