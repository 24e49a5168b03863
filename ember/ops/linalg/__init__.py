"""Linear algebra: matrix products (matmul and friends, einsum, tensordot) and the ``torch.linalg`` functions
(norms, inverses, determinants, solvers, decompositions), one module per kind. ``ember.linalg`` re-exports the latter
under their PyTorch names; ``__all__`` lists what ``torch`` itself offers at the top level.

Backwards are written with the public functions of these modules, so second derivatives come for free.
"""
from ._common import LinAlgError  # noqa: F401 (ember.linalg re-exports it)
from .decompositions import *  # noqa: F403
from .determinants import *  # noqa: F403
from .least_squares import *  # noqa: F403
from .norms import *  # noqa: F403
from .products import *  # noqa: F403
from .solvers import *  # noqa: F403

__all__ = ["matmul", "mm", "dsmm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "addbmm",
           "baddbmm", "addr", "einsum", "tensordot", "chain_matmul", "cdist", "inverse", "det", "logdet", "slogdet",
           "cholesky", "cholesky_solve", "cholesky_inverse", "qr", "svd", "pinverse", "matrix_power", "matrix_exp"]
