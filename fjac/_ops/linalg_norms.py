"""``numpy.linalg``'s norms: norm, vector_norm and matrix_norm, with their derivatives.

Each works over the axes it is given (matrix_norm over the last two, for stacks of matrices),
as NumPy's do, and is written with fjac operations (sums, max and min, and svdvals from
``linalg_spectral``), so it differentiates again.

Derivative conventions (documented on ``norm`` too):

- ``norm``: the 2-norm and Frobenius norm have derivative 0 at 0 (not NaN), as do p-norms;
  ``ord=0`` (a count) has no derivative; ``inf``/``-inf``/``1``/``-1`` use max/min, whose
  derivative at ties is that of ``fjac.numpy.max``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fjac._core import is_tracer
from fjac._dispatch import register_function
from fjac._dtypes import dtype_of
from fjac._edge import shape_of
from fjac._ops.linalg_common import Array
from fjac._ops.linalg_spectral import svdvals
from fjac._primitives import base
from fjac._primitives import elementwise as el
from fjac._primitives import nondiff as nd
from fjac._primitives.base import (
    normalize_axis,
)
from fjac.numpy import _reductions as reductions

# The names fjac.numpy.linalg exports from this family.
__all__ = [
    "norm",
    "vector_norm",
    "matrix_norm",
]


def _safe_two_norm(x: Array, axis: tuple[int, ...]) -> Array:
    """``sqrt(sum(x**2))`` over ``axis``, with derivative 0 (not NaN) where the norm is 0."""
    sq = reductions.sum(base.multiply(x, x), axis=axis)
    positive = nd.greater(sq, 0.0)
    return el.where(positive, el.sqrt(el.where(positive, sq, 1.0)), 0.0)


def _vector_norm(x: Array, ord: Any, axis: tuple[int, ...]) -> Array:  # noqa: A002
    if ord is None or ord == 2:
        return _safe_two_norm(x, axis)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is only for matrices; vectors take numbers")
    ax = axis[0] if len(axis) == 1 else axis
    if ord == np.inf:
        return reductions.max(el.absolute(x), axis=ax)
    if ord == -np.inf:
        return reductions.min(el.absolute(x), axis=ax)
    if ord == 0:
        return base.astype(reductions.sum(nd.not_equal(x, 0), axis=axis), dtype_of(x))
    if ord == 1:
        return reductions.sum(el.absolute(x), axis=axis)
    p = float(ord)
    total = reductions.sum(el.power(el.absolute(x), p), axis=axis)
    positive = nd.greater(total, 0.0)
    return el.where(positive, el.power(el.where(positive, total, 1.0), 1.0 / p), 0.0)


def _matrix_norm(x: Array, ord: Any, row: int, col: int) -> Array:  # noqa: A002
    if ord is None or ord in ("fro", "f"):
        return _safe_two_norm(x, (row, col))
    if ord in (1, -1):
        sums = reductions.sum(el.absolute(x), axis=row)
        col = col - 1 if col > row else col
        return (reductions.max if ord == 1 else reductions.min)(sums, axis=col)
    if ord in (np.inf, -np.inf):
        sums = reductions.sum(el.absolute(x), axis=col)
        row = row - 1 if row > col else row
        return (reductions.max if ord == np.inf else reductions.min)(sums, axis=row)
    if ord in ("nuc", 2, -2):
        s = svdvals(base.moveaxis(x, (row, col), (-2, -1)))
        if ord == "nuc":
            return reductions.sum(s, axis=-1)
        return s[..., 0] if ord == 2 else s[..., -1]
    raise ValueError(
        f"norm: invalid ord {ord!r} for matrices; use None, 'fro', 'nuc', 1, -1, 2, -2, inf "
        "or -inf"
    )


def norm(x: Array, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Array:  # noqa: A002
    """Vector or matrix norm, with NumPy's choice of which by ``ord`` and ``axis``.

    Vectors (an int ``axis``, or a 1-D ``x``): ``ord`` None/2, 1, inf, -inf, 0 (a count, no
    derivative) or any p. Matrices (a pair ``axis``, or a 2-D ``x`` with ``ord`` given): None
    or 'fro', 'nuc', 1, -1, 2, -2, inf, -inf. At 0 the 2-norm, the Frobenius norm and the
    p-norms have derivative 0 (not NaN).
    """
    if not is_tracer(x):
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    x_shape = shape_of(x)
    nd = len(x_shape)
    if axis is None:
        two = ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1)
        if two:
            out = _safe_two_norm(x, tuple(range(nd)))
            return base.reshape(out, (1,) * nd) if keepdims else out
        axis = tuple(range(nd))
    axes = normalize_axis(axis, nd) if not isinstance(axis, tuple) else tuple(
        normalize_axis(a, nd)[0] for a in axis)
    if len(axes) == 1:
        out = _vector_norm(x, ord, axes)
    elif len(axes) == 2:
        if axes[0] == axes[1]:
            raise ValueError(f"norm: duplicate axes given: {axis}")
        out = _matrix_norm(x, ord, axes[0], axes[1])
    else:
        raise ValueError(f"norm: axis must name one or two axes, got {axis}")
    if keepdims:
        out = base.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x_shape)))
    return out


def vector_norm(x: Array, /, *, axis: Any = None, keepdims: bool = False,
                ord: Any = 2) -> Array:  # noqa: A002
    """The vector norm of ``x`` over ``axis`` (all axes, as one vector, when None)."""
    x_shape = shape_of(x)
    axes = normalize_axis(axis, len(x_shape))
    moved = base.moveaxis(x, axes, tuple(range(-len(axes), 0))) if axes else x
    flat = base.reshape(moved, shape_of(moved)[: len(x_shape) - len(axes)] + (-1,))
    out = _vector_norm(flat, ord, (len(shape_of(flat)) - 1,))
    if keepdims:
        out = base.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x_shape)))
    return out


def matrix_norm(x: Array, /, *, keepdims: bool = False, ord: Any = "fro") -> Array:  # noqa: A002
    """The matrix norm of each matrix in the last two axes of ``x``."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


_FUNCTIONS: list[tuple[Any, Any]] = [
    (np.linalg.norm, norm),
]
_ARRAY_API: list[tuple[str, Any]] = [
    ("vector_norm", vector_norm), ("matrix_norm", matrix_norm),
]
for _np_fn, _fn in _FUNCTIONS:
    register_function(_np_fn, _fn)
for _name, _fn in _ARRAY_API:  # present in NumPy >= 2.0
    if hasattr(np.linalg, _name):
        register_function(getattr(np.linalg, _name), _fn)
