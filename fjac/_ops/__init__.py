"""Primitive families. Importing this package defines every primitive and its rules."""

from fjac._ops import (  # noqa: F401
    decompositions,
    elementwise,
    helpers,
    indexing,
    linalg,
    methods,  # noqa: F401  (installs array methods on Tracer; must be last)
    reductions,
    shape,
)
