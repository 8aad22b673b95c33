"""NumPy's names for fjac's traced operations: ``import fjac.numpy as fnp``.

Each function accepts NumPy arrays, Python numbers and tracers, and is differentiable under
every fjac transform. Unmodified NumPy code works too: NumPy's own functions called on a
tracer dispatch to these. Each family module lists what it exports in its ``__all__``.
"""

from fjac.numpy import linalg as linalg
from fjac.numpy._elementwise import *  # noqa: F403
from fjac.numpy._indexing import *  # noqa: F403
from fjac.numpy._nondiff import *  # noqa: F403
from fjac.numpy._products import *  # noqa: F403
from fjac.numpy._reductions import *  # noqa: F403
from fjac.numpy._shape import *  # noqa: F403

# isort: off
# Installs the array methods on Tracer from the declarations above, so it must come last.
from fjac.numpy import _methods  # noqa: F401, E402
# isort: on
