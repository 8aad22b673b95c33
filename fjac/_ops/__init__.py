"""Primitive families. Importing this package defines every primitive and its rules."""

from fjac._ops import (  # noqa: F401
    elementwise,
    helpers,
    indexing,
    linalg,
    linalg_common,
    linalg_norms,
    linalg_solves,
    linalg_spectral,
    reductions,
    shape,
)

# isort: off
# Installs the array methods on Tracer from the families above, so it must come after them.
from fjac._ops import methods  # noqa: F401, E402
# isort: on
