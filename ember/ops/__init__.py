"""ember's ops, one module per family; importing this package installs every Tensor method."""
from . import comparison, conversion, creation, pointwise, reduction, shape  # noqa: F401
