"""NumPy's names for fjac's traced operations: ``import fjac.numpy as fnp``.

Each function accepts NumPy arrays, Python numbers and tracers, and is differentiable under
every fjac transform. Unmodified NumPy code works too: NumPy's own functions called on a
tracer dispatch to these. Each family module lists what it exports in its ``__all__``.
"""

from fjac._ops.elementwise import *  # noqa: F403
from fjac._ops.helpers import *  # noqa: F403
from fjac._ops.indexing import *  # noqa: F403
from fjac._ops.linalg import *  # noqa: F403
from fjac._ops.reductions import *  # noqa: F403
from fjac._ops.shape import *  # noqa: F403
from fjac.numpy import linalg as linalg
