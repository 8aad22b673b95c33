"""NumPy's ``numpy.linalg`` names for fjac's traced operations: ``fjac.numpy.linalg``.

Every function accepts NumPy arrays and tracers and works on stacks of matrices. Derivative
conventions (symmetric inputs of ``cholesky`` and ``eigh``, distinct eigenvalues and singular
values for vectors, the differentiable ``svd`` and ``qr`` modes, constant rank for ``pinv`` and
``lstsq``, norms at zero) are described in each function's docstring.
"""

from fjac._ops.linalg_norms import matrix_norm, norm, vector_norm
from fjac._ops.linalg_solves import (
    SlogdetResult,
    det,
    diagonal,
    inv,
    matmul,
    matrix_power,
    matrix_rank,
    matrix_transpose,
    multi_dot,
    outer,
    pinv,
    slogdet,
    solve,
    tensordot,
    trace,
    vecdot,
)
from fjac._ops.linalg_spectral import (
    EighResult,
    QRResult,
    SVDResult,
    cholesky,
    eigh,
    eigvalsh,
    lstsq,
    qr,
    svd,
    svdvals,
)

# The union of the __all__ of linalg_solves, linalg_spectral and linalg_norms, in the order
# numpy.linalg users have always seen.
__all__ = [
    "inv",
    "solve",
    "det",
    "slogdet",
    "cholesky",
    "eigh",
    "eigvalsh",
    "svd",
    "svdvals",
    "pinv",
    "qr",
    "matrix_power",
    "lstsq",
    "norm",
    "vector_norm",
    "matrix_norm",
    "matrix_rank",
    "multi_dot",
    "matmul",
    "tensordot",
    "outer",
    "vecdot",
    "matrix_transpose",
    "trace",
    "diagonal",
    "SlogdetResult",
    "EighResult",
    "SVDResult",
    "QRResult",
]
