"""NumPy's ``numpy.linalg`` names for fjac's traced operations: ``fjac.numpy.linalg``.

Every function accepts NumPy arrays and tracers and works on stacks of matrices. Derivative
conventions (symmetric inputs of ``cholesky`` and ``eigh``, distinct eigenvalues and singular
values for vectors, the differentiable ``svd`` and ``qr`` modes, constant rank for ``pinv`` and
``lstsq``, norms at zero) are described in each function's docstring.
"""

from fjac._ops.decompositions import *  # noqa: F403
from fjac._ops.decompositions import __all__ as __all__  # noqa: F401
