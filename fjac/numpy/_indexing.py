"""fjac.numpy's indexing: ``x[idx]`` on tracers (a gather when the index is traced), the
functional updates ``x.at[idx].set/add/multiply/min/max/get``, ``take`` and
``take_along_axis``.

The primitives are ``getitem``/``scatter_add`` (``fjac._primitives.base_indexing``) and
``gather``/``scatter_set`` (``fjac._primitives.indexing``); ``.at[]`` updates are compositions
of them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fjac._core import Tracer, bind, shape_of
from fjac._dtypes import dtype_of
from fjac._primitives import base as B
from fjac._primitives import elementwise as E
from fjac._primitives import indexing as P
from fjac._primitives.base_indexing import canonical_index, getitem_p, indexed_shape, scatter_add
from fjac.numpy._dispatch import implements

Array = Any

__all__ = ["at", "take", "take_along_axis"]


# The names fjac.numpy exports from this family.
__all__ = [
    "at",
    "take",
    "take_along_axis",
]


@implements(method="__getitem__")
def getitem(x: Array, idx: Any) -> Array:
    """``x[idx]`` with NumPy's indexing rules; integer index arrays may be traced."""
    if isinstance(idx, tuple) and any(isinstance(i, Tracer) for i in idx) or isinstance(
        idx, Tracer
    ):
        return P.gather(x, idx if isinstance(idx, tuple) else (idx,))
    return bind(getitem_p, x, idx=canonical_index(idx))


def _add_at_traced(x: Array, idx: tuple[Any, ...], values: Array) -> Array:
    """``x.at[idx].add(values)`` where ``idx`` holds traced integer arrays: the transpose of
    the gather, scattering ``values`` (broadcast to ``x[idx]``'s shape) and adding."""
    template, arrays = P.index_template(idx)
    if any(dtype_of(a) == np.bool_ for a in arrays):
        raise TypeError(
            "x.at[mask].add(v) with a traced boolean mask would add a different number of "
            "values in each example; use fjac.numpy.where(mask, x + v, x) instead"
        )
    x_shape = shape_of(x)
    # x[idx]'s shape from the index shapes alone: zeros in place of each example's indices
    probe = tuple(np.zeros(shape_of(a), dtype=np.intp) for a in arrays)
    target = B.broadcast_to(values, indexed_shape(x_shape, P.fill_template(template, probe)))
    return B.add(
        x, bind(P.scatter_gathered_p, target, *arrays, template=template, shape=x_shape)
    )


def _write_positions(x_shape: tuple[int, ...], idx: tuple[Any, ...]) -> Array:
    """The flat position in ``x`` of each element of ``x[idx]``, in NumPy's write order."""
    size = math.prod(x_shape)
    return np.arange(size, dtype=np.intp).reshape(x_shape)[idx].ravel()


def _occurrence(pos: Array) -> Array:
    """For each write, how many earlier writes went to the same position (0 for the first)."""
    order = np.argsort(pos, kind="stable")
    run = np.arange(len(pos))
    starts = np.ones(len(pos), dtype=bool)
    starts[1:] = pos[order][1:] != pos[order][:-1]
    occ = np.empty(len(pos), dtype=np.intp)
    occ[order] = run - np.maximum.accumulate(np.where(starts, run, 0))
    return occ


def _flat_values(x_shape: tuple[int, ...], idx: tuple[Any, ...], values: Array) -> Array:
    return B.ravel(B.broadcast_to(values, indexed_shape(x_shape, idx)))


def _multiply_at(x: Array, idx: tuple[Any, ...], values: Array) -> Array:
    """``x`` with its elements at ``idx`` multiplied by ``values`` (repeats multiply again).

    The writes are split into rounds in which no position repeats; each round is a factor
    array of ones with its values set in, so the derivative is exact even where values are 0.
    """
    x_shape = shape_of(x)
    pos = _write_positions(x_shape, idx)
    v = _flat_values(x_shape, idx, values)
    occ = _occurrence(pos)
    ones = np.ones(math.prod(x_shape), dtype=dtype_of(x))
    out = x
    for r in range(int(occ.max()) + 1 if pos.size else 0):
        pick = np.nonzero(occ == r)[0]
        v_r = v if len(pick) == len(pos) else getitem(v, (pick,))
        factor = P.scatter_set(ones, v_r, (pos[pick],))
        out = B.multiply(out, B.reshape(factor, x_shape))
    return out


def _extremum_at(x: Array, idx: tuple[Any, ...], values: Array, ufunc: str) -> Array:
    """``x`` with each element at ``idx`` replaced by ``ufunc`` ("minimum" or "maximum") of it
    and the ``values`` written there; the derivative goes to the one value that is the result."""
    x_shape = shape_of(x)
    pos = _write_positions(x_shape, idx)
    v = _flat_values(x_shape, idx, values)
    xf = B.ravel(x)
    n = shape_of(xf)[0]
    wins = bind(P.extremum_winners_p, xf, v, pos=pos, ufunc=ufunc)
    x_wins, v_wins = getitem(wins, (slice(None, n),)), getitem(wins, (slice(n, None),))
    zero = np.zeros((), dtype=dtype_of(v))
    placed = scatter_add(E.where(v_wins, v, zero), (pos,), (n,))
    if dtype_of(placed) != dtype_of(x):
        placed = B.astype(placed, dtype_of(x))
    return B.reshape(E.where(x_wins, xf, placed), x_shape)


class _IndexUpdateRef:
    """``x.at[idx]``: the functional updates of one index expression."""

    __slots__ = ("_x", "_idx", "_traced")

    def __init__(self, x: Array, idx: Any) -> None:
        self._x = x
        traced = isinstance(idx, Tracer) or (
            isinstance(idx, tuple) and any(isinstance(i, Tracer) for i in idx)
        )
        self._idx = (idx if isinstance(idx, tuple) else (idx,)) if traced else canonical_index(idx)
        self._traced = traced

    def get(self) -> Array:
        """``x[idx]``."""
        return getitem(self._x, self._idx)

    def set(self, values: Array) -> Array:
        """A new array: ``x`` with ``values`` written at ``idx`` (``x`` is unchanged)."""
        return P.scatter_set(self._x, values, canonical_index(self._idx))

    def add(self, values: Array) -> Array:
        """A new array: ``x`` with ``values`` added at ``idx`` (repeated indices accumulate)."""
        if self._traced:
            return _add_at_traced(self._x, self._idx, values)
        x_shape = shape_of(self._x)
        idx = canonical_index(self._idx)
        target = B.broadcast_to(values, indexed_shape(x_shape, idx))
        return B.add(self._x, scatter_add(target, idx, x_shape))

    def multiply(self, values: Array) -> Array:
        """A new array: ``x`` with its elements at ``idx`` multiplied by ``values`` (repeated
        indices multiply once per occurrence)."""
        return _multiply_at(self._x, canonical_index(self._idx), values)

    def min(self, values: Array) -> Array:
        """A new array: ``x`` with ``minimum(x[idx], values)`` at ``idx`` (repeated indices
        take the minimum of all their values).

        At a tie the derivative goes to one value only: ``x``'s own element if it is among the
        smallest, else the first such value in index order.
        """
        return _extremum_at(self._x, canonical_index(self._idx), values, "minimum")

    def max(self, values: Array) -> Array:
        """A new array: ``x`` with ``maximum(x[idx], values)`` at ``idx`` (repeated indices
        take the maximum of all their values); ties as in ``min``."""
        return _extremum_at(self._x, canonical_index(self._idx), values, "maximum")


class _IndexUpdateHelper:
    """``x.at``: index it to get the updates of that index expression."""

    __slots__ = ("_x",)

    def __init__(self, x: Array) -> None:
        self._x = x

    def __getitem__(self, idx: Any) -> _IndexUpdateRef:
        return _IndexUpdateRef(self._x, idx)


def at(x: Array) -> _IndexUpdateHelper:
    """Functional index updates for any array: ``at(x)[idx].set(v)`` returns a new array.

    On a tracer, ``x.at[idx]`` is the same thing.
    """
    return _IndexUpdateHelper(x)


@implements(np.take, method="take")
def take(a: Array, indices: Any, axis: int | None = None) -> Array:
    """Elements of ``a`` at ``indices`` along ``axis`` (of the flattened array when None);
    ``indices`` may be traced."""
    if not isinstance(indices, Tracer):
        indices = np.asarray(canonical_index((indices,))[0])
    if axis is None:
        return getitem(B.ravel(a), (indices,))
    ndim = len(shape_of(a))
    axis = int(axis) % ndim
    return getitem(a, (slice(None),) * axis + (indices,))


@implements(np.take_along_axis)
def take_along_axis(arr: Array, indices: Any, axis: int | None = -1) -> Array:
    """Elements of ``arr`` at ``indices`` along ``axis``, matched position by position along
    the other axes (as produced by ``argsort``); None means the flattened array."""
    if not isinstance(indices, Tracer):  # (a traced index array is gathered per example)
        indices = np.asarray(canonical_index((indices,))[0])
    if dtype_of(indices).kind not in "iu":
        raise IndexError(
            f"take_along_axis: indices must be integers, got dtype {dtype_of(indices)}"
        )
    if axis is None:
        return getitem(B.ravel(arr), (B.ravel(indices),))
    a_shape = shape_of(arr)
    ndim = len(a_shape)
    i_ndim = len(shape_of(indices))
    if i_ndim != ndim:
        raise ValueError(
            f"take_along_axis: indices have {i_ndim} axes but arr has {ndim}; they must "
            "have the same number of axes"
        )
    axis = int(axis) % ndim if -ndim <= int(axis) < ndim else _bad_axis(axis, ndim)
    idx = tuple(
        indices if d == axis else np.arange(n).reshape((1,) * d + (n,) + (1,) * (ndim - d - 1))
        for d, n in enumerate(a_shape)
    )
    return getitem(arr, idx)


def _bad_axis(axis: Any, ndim: int) -> int:
    raise ValueError(f"axis {axis} is out of bounds for an array of dimension {ndim}")


