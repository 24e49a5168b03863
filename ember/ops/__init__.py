"""ember's ops, one module per family; importing this package installs every Tensor method."""
from . import (comparison, complex, conversion, creation, cumulative, indexing, linalg, pointwise, random,  # noqa: F401
               rearrange, reduction, shape, sorting)
from . import (calculus, floating_point, hashing, indices, integer_math, statistics, tensor_utilities,  # noqa: F401
               variance, view_copies)
from .linalg import householder, lu  # noqa: F401
from . import operators  # noqa: F401,E402  (last: wraps the operators the modules above installed)


def __getattr__(name):
    """``torch.ops``: ``ember.ops.<namespace>`` for a namespace ``ember.library`` defined operators in (only once
    it is loaded, so ember's own modules are never shadowed), ``aten`` and ``load_library``."""
    import sys
    library = sys.modules.get("ember.library._ops")
    if name in ("load_library", "loaded_libraries"):
        from ..library import _ops
        return getattr(_ops, name)
    if name == "aten":   # PyTorch's ATen operators by name (library._aten)
        from ..library._aten import aten
        return aten
    if name == "_c10d_functional":   # named by selective checkpointing policies (library._aten)
        from ..library._aten import c10d_functional
        return c10d_functional
    if name == "quantized":   # the quantized kernels FX-quantized graphs call (ao._quantized_namespace)
        from ..ao._quantized_namespace import quantized
        return quantized
    namespace = library.namespace(name) if library is not None and not name.startswith("__") else None
    if namespace is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return namespace
