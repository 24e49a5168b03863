"""ember's ops, one module per family; importing this package installs every Tensor method."""
from . import (comparison, complex, conversion, creation, cumulative, indexing, linalg, pointwise, random,  # noqa: F401
               rearrange, reduction, shape, sorting)
from . import calculus, floating_point, indices, integer_math, statistics, tensor_utilities, view_copies  # noqa: F401
from .linalg import householder, lu  # noqa: F401
