"""ember's ops, one module per family; importing this package installs every Tensor method."""
from . import (comparison, complex, conversion, creation, indexing, linalg, pointwise, random, reduction,  # noqa: F401
               shape, sorting)
