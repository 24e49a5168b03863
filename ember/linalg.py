"""torch.linalg: matrix and vector norms, inverses, decompositions and solvers (defined in ``ember.ops.linalg``)."""
from .ops.linalg import (LinAlgError, cholesky_ex, cond, cross, diagonal, eig, eigvals, eigvalsh, eigh, inv,
                         inv_ex, lstsq, matmul, matrix_exp, matrix_norm, matrix_power, matrix_rank, multi_dot, norm,
                         pinv, solve, solve_triangular, svdvals, vecdot, vector_norm)
from .ops.linalg import linalg_cholesky as cholesky, linalg_det as det, linalg_qr as qr, linalg_slogdet as slogdet
from .ops.linalg import linalg_svd as svd
from .ops.linalg.householder import householder_product
from .ops.linalg.ldl import ldl_factor, ldl_factor_ex, ldl_solve
from .ops.linalg.lu import linalg_lu as lu, linalg_lu_solve as lu_solve, lu_factor, lu_factor_ex
from .ops.linalg.tensor_forms import solve_ex, tensorinv, tensorsolve, vander

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals",
           "eigvalsh", "inv", "inv_ex", "lstsq", "matmul", "matrix_exp", "matrix_norm", "matrix_power",
           "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd", "svdvals",
           "vecdot", "vector_norm", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "solve_ex", "tensorinv",
           "tensorsolve", "vander", "householder_product", "ldl_factor", "ldl_factor_ex", "ldl_solve"]

from .ops import numpy_keywords as _numpy_keywords  # noqa: E402
_numpy_keywords.install(globals())   # axis=, keepdims=, x=... as PyTorch's parsed functions
