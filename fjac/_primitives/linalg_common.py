"""Helpers shared by the ``numpy.linalg`` families: ``linalg_solves`` (inverses, solves,
determinants, products), ``linalg_spectral`` (the decompositions) and ``linalg_norms``.

They work on stacks of matrices (the last two axes), as NumPy's linear algebra does, and are
written with fjac operations, so rules built from them differentiate again. The families import
in one direction: linalg_common, linalg_solves, linalg_spectral, linalg_norms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fjac._core import shape_of
from fjac._dtypes import dtype_of, is_float
from fjac._primitives import base, products

Array = Any
_la: Any = np.linalg  # NumPy's own functions, for untraced inputs (their stubs want literals)


def _mT(x: Array) -> Array:
    """Transpose of the last two axes."""
    return base.swapaxes(x, -1, -2)


def _mm(*xs: Array) -> Array:
    """The matrix product of the arguments, left to right."""
    out = xs[0]
    for x in xs[1:]:
        out = products.matmul(out, x)
    return out


def _sym(x: Array) -> Array:
    """The symmetric part ``(x + xᵀ)/2`` of the last two axes."""
    return base.multiply(base.add(x, _mT(x)), 0.5)


def _check_square(a: Array, name: str) -> tuple[int, ...]:
    s = shape_of(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(
            f"{name} needs square matrices in the last two axes, got shape {s}"
        )
    return s


def _check_matrix(a: Array, name: str) -> tuple[int, ...]:
    s = shape_of(a)
    if len(s) < 2:
        raise ValueError(f"{name} needs an array of at least 2 axes (matrices), got shape {s}")
    return s


def _float(a: Array) -> Array:
    """``a`` as a floating array (integers become float64, as in numpy.linalg)."""
    return a if is_float(dtype_of(a)) else base.astype(a, np.float64)
