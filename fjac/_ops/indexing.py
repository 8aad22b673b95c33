"""Indexing: ``x[idx]`` and its transpose, a scatter-add; functional updates ``x.at[idx]``.

NumPy index expressions are parameters of the primitives (integers, slices, Ellipsis, None,
integer and boolean arrays). In reverse mode ``x[idx]`` scatters the cotangent back, adding at
repeated integer indices; ``scatter_add`` is in turn transposed by ``getitem``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fjac._core import Primitive, Tracer, bind
from fjac._dispatch import register_function
from fjac._dtypes import dtype_of
from fjac._edge import shape_of
from fjac._jvp import defjvp
from fjac._ops import elementwise, shape
from fjac._vjp import defvjp, keep_residuals
from fjac._vmap import batch_rules, batch_size, move_batch_axis

Array = Any

# The names fjac.numpy exports from this family.
__all__ = [
    "at",
    "take",
    "take_along_axis",
]
_BASIC = (int, np.integer, slice, type(None), type(Ellipsis))


def canonical_index(idx: Any) -> tuple[Any, ...]:
    """``idx`` as a tuple, with lists turned into arrays as NumPy would."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Tracer):
            raise TypeError(
                f"cannot index with a traced array ({i.dtype}); indices are not differentiable: "
                "use an integer or boolean NumPy array, or fjac.stop_gradient on the index"
            )
        out.append(np.asarray(i) if isinstance(i, list) else i)
    return tuple(out)


def _is_basic(idx: tuple[Any, ...]) -> bool:
    return all(isinstance(i, _BASIC) for i in idx)


def indexed_shape(x_shape: tuple[int, ...], idx: tuple[Any, ...]) -> tuple[int, ...]:
    """The shape of ``x[idx]`` for an array of ``x_shape`` (computed without copying data)."""
    probe = np.broadcast_to(np.zeros((), dtype=np.int8), x_shape)
    return probe[idx].shape  # type: ignore[no-any-return]


def _batched_index(idx: tuple[Any, ...]) -> tuple[tuple[Any, ...], int]:
    """``idx`` for a value with a leading batch axis, and the axis of the result where that
    batch axis lands. NumPy moves the dimensions of advanced indices (arrays, and integers
    among arrays) to the front when they are not adjacent, so the batch axis follows them."""
    batched = (slice(None),) + idx
    if not any(isinstance(i, np.ndarray) for i in idx):
        return batched, 0
    advanced = [
        k for k, i in enumerate(idx)
        if isinstance(i, (np.ndarray, np.integer))
        or (isinstance(i, int) and not isinstance(i, bool))
    ]
    if advanced == list(range(advanced[0], advanced[-1] + 1)):
        return batched, 0
    shapes = [
        (int(np.count_nonzero(i)),) if i.dtype == bool else i.shape
        for i in (idx[k] for k in advanced) if isinstance(i, np.ndarray)
    ]
    return batched, len(np.broadcast_shapes(*shapes))


getitem_p = Primitive("getitem", lambda x, *, idx: x[idx])
defjvp(getitem_p, lambda t, ans, x, *, idx: getitem(t, idx))
defvjp(getitem_p, lambda g, ans, x, *, idx: scatter_add(g, idx, shape_of(x)))


def _batch_getitem(vals: list[Any], dims: list[Any], *, idx: tuple[Any, ...]) -> Any:
    batched, out_dim = _batched_index(idx)
    return bind(getitem_p, move_batch_axis(vals[0], dims[0], 0), idx=batched), out_dim


batch_rules[getitem_p] = _batch_getitem


def getitem(x: Array, idx: Any) -> Array:
    """``x[idx]`` with NumPy's indexing rules."""
    return bind(getitem_p, x, idx=canonical_index(idx))


def _scatter_add_impl(g: Array, *, idx: tuple[Any, ...], shape: tuple[int, ...]) -> Array:
    out = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic(idx):
        out[idx] = g  # basic indices never repeat an element: plain assignment is exact
    else:
        np.add.at(out, idx, g)
    return out


scatter_add_p = Primitive("scatter_add", _scatter_add_impl)
defjvp(scatter_add_p, lambda t, ans, g, *, idx, shape: scatter_add(t, idx, shape))
defvjp(scatter_add_p, lambda ct, ans, g, *, idx, shape: getitem(ct, idx))


def _batch_scatter_add(
    vals: list[Any], dims: list[Any], *, idx: tuple[Any, ...], shape: tuple[int, ...]
) -> Any:
    batched, at = _batched_index(idx)
    size = shape_of(vals[0])[dims[0]]
    g = move_batch_axis(vals[0], dims[0], at)  # laid out as the batched getitem would give it
    return bind(scatter_add_p, g, idx=batched, shape=(size,) + shape), 0


batch_rules[scatter_add_p] = _batch_scatter_add


def scatter_add(values: Array, idx: Any, shape: tuple[int, ...]) -> Array:
    """Zeros of ``shape`` with ``values`` added at ``idx`` (repeated indices accumulate)."""
    return bind(scatter_add_p, values, idx=canonical_index(idx), shape=tuple(shape))


def _scatter_set_impl(x: Array, v: Array, *, idx: tuple[Any, ...]) -> Array:
    out = np.array(x, copy=True)  # the result keeps x's dtype, whatever v's
    out[idx] = v
    return out


def _set_winners(x_shape: tuple[int, ...], idx: tuple[Any, ...]) -> Array:
    """A mask over ``x[idx]``: True where that write is the one that remains (NumPy's last)."""
    target_shape = indexed_shape(x_shape, idx)
    order = np.arange(math.prod(target_shape)).reshape(target_shape)
    writer = np.full(x_shape, -1, dtype=np.int64)
    writer[idx] = order
    return writer[idx] == order


def _set_vjp_v(g: Array, x: Array, v: Array, idx: tuple[Any, ...]) -> Array:
    picked = getitem(g, idx)
    if not _is_basic(idx):
        picked = elementwise.where(_set_winners(shape_of(x), idx), picked, 0.0)
    return elementwise.unbroadcast(picked, v)


scatter_set_p = Primitive("scatter_set", _scatter_set_impl)
defjvp(scatter_set_p,
       lambda t, ans, x, v, *, idx: scatter_set(t, np.zeros((), dtype_of(t)), idx),
       lambda t, ans, x, v, *, idx: scatter_set(np.zeros(shape_of(x), dtype_of(t)), t, idx))
defvjp(scatter_set_p,
       lambda g, ans, x, v, *, idx: scatter_set(g, np.zeros((), dtype_of(g)), idx),
       lambda g, ans, x, v, *, idx: _set_vjp_v(g, x, v, idx))


def _batch_scatter_set(vals: list[Any], dims: list[Any], *, idx: tuple[Any, ...]) -> Any:
    size = batch_size(vals, dims)
    (x, v), (dx, dv) = vals, dims
    target = indexed_shape(shape_of(x)[:dx] + shape_of(x)[dx + 1:] if dx is not None
                           else shape_of(x), idx)
    batched, at = _batched_index(idx)
    if dv is None:  # give v the batch axis too, where the batched target has it
        v = move_batch_axis(shape.broadcast_to(v, target), None, at, size)
    else:
        v = move_batch_axis(v, dv, 0)
        v_shape = shape_of(v)
        lined_up = v_shape[:1] + (1,) * (len(target) - len(v_shape) + 1) + v_shape[1:]
        v = move_batch_axis(shape.reshape(v, lined_up), 0, at)
    return bind(scatter_set_p, move_batch_axis(x, dx, 0, size), v, idx=batched), 0


batch_rules[scatter_set_p] = _batch_scatter_set


def scatter_set(x: Array, v: Array, idx: Any) -> Array:
    """A copy of ``x`` with ``v`` written at ``idx`` (for repeated indices the last write wins,
    as in NumPy)."""
    return bind(scatter_set_p, x, v, idx=canonical_index(idx))


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


def _same(a: Array, b: Array) -> Array:
    """Elementwise equality that also matches NaN with NaN (for picking an extremum)."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _flat_values(x_shape: tuple[int, ...], idx: tuple[Any, ...], values: Array) -> Array:
    return shape.ravel(shape.broadcast_to(values, indexed_shape(x_shape, idx)))


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
        factor = scatter_set(ones, v_r, (pos[pick],))
        out = elementwise.multiply(out, shape.reshape(factor, x_shape))
    return out


def _extremum_winners_impl(x: Array, v: Array, *, pos: Array, ufunc: str) -> Array:
    """For flat ``x`` and the flat values ``v`` written at ``pos``: a boolean array marking,
    per position, the one value that is the result of ``ufunc`` (x's own element if it is,
    else the first such value), as ``concatenate([x_wins, v_wins])``."""
    result = np.array(x, copy=True)
    vc = np.asarray(v).astype(result.dtype)
    getattr(np, ufunc).at(result, pos, vc)
    x_wins = _same(x, result)
    candidates = np.nonzero(_same(vc, result[pos]) & ~x_wins[pos])[0]
    _, first = np.unique(pos[candidates], return_index=True)
    v_wins = np.zeros(len(pos), dtype=bool)
    v_wins[candidates[first]] = True
    return np.concatenate([x_wins, v_wins])


extremum_winners_p = Primitive("extremum_winners", _extremum_winners_impl, nondiff=True)


def _extremum_at(x: Array, idx: tuple[Any, ...], values: Array, ufunc: str) -> Array:
    """``x`` with each element at ``idx`` replaced by ``ufunc`` ("minimum" or "maximum") of it
    and the ``values`` written there; the derivative goes to the one value that is the result."""
    x_shape = shape_of(x)
    pos = _write_positions(x_shape, idx)
    v = _flat_values(x_shape, idx, values)
    xf = shape.ravel(x)
    n = shape_of(xf)[0]
    wins = bind(extremum_winners_p, xf, v, pos=pos, ufunc=ufunc)
    x_wins, v_wins = getitem(wins, (slice(None, n),)), getitem(wins, (slice(n, None),))
    zero = np.zeros((), dtype=dtype_of(v))
    placed = scatter_add(elementwise.where(v_wins, v, zero), (pos,), (n,))
    if dtype_of(placed) != dtype_of(x):
        placed = elementwise.astype(placed, dtype_of(x))
    return shape.reshape(elementwise.where(x_wins, xf, placed), x_shape)


class _IndexUpdateRef:
    """``x.at[idx]``: the functional updates of one index expression."""

    __slots__ = ("_x", "_idx")

    def __init__(self, x: Array, idx: Any) -> None:
        self._x = x
        self._idx = canonical_index(idx)

    def get(self) -> Array:
        """``x[idx]``."""
        return getitem(self._x, self._idx)

    def set(self, values: Array) -> Array:
        """A new array: ``x`` with ``values`` written at ``idx`` (``x`` is unchanged)."""
        return scatter_set(self._x, values, self._idx)

    def add(self, values: Array) -> Array:
        """A new array: ``x`` with ``values`` added at ``idx`` (repeated indices accumulate)."""
        x_shape = shape_of(self._x)
        target = shape.broadcast_to(values, indexed_shape(x_shape, self._idx))
        return elementwise.add(self._x, scatter_add(target, self._idx, x_shape))

    def multiply(self, values: Array) -> Array:
        """A new array: ``x`` with its elements at ``idx`` multiplied by ``values`` (repeated
        indices multiply once per occurrence)."""
        return _multiply_at(self._x, self._idx, values)

    def min(self, values: Array) -> Array:
        """A new array: ``x`` with ``minimum(x[idx], values)`` at ``idx`` (repeated indices
        take the minimum of all their values).

        At a tie the derivative goes to one value only: ``x``'s own element if it is among the
        smallest, else the first such value in index order.
        """
        return _extremum_at(self._x, self._idx, values, "minimum")

    def max(self, values: Array) -> Array:
        """A new array: ``x`` with ``maximum(x[idx], values)`` at ``idx`` (repeated indices
        take the maximum of all their values); ties as in ``min``."""
        return _extremum_at(self._x, self._idx, values, "maximum")


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


def take(a: Array, indices: Any, axis: int | None = None) -> Array:
    """Elements of ``a`` at ``indices`` along ``axis`` (of the flattened array when None)."""
    indices = np.asarray(canonical_index((indices,))[0])
    if axis is None:
        return getitem(shape.ravel(a), (indices,))
    ndim = len(shape_of(a))
    axis = int(axis) % ndim
    return getitem(a, (slice(None),) * axis + (indices,))


def take_along_axis(arr: Array, indices: Any, axis: int | None = -1) -> Array:
    """Elements of ``arr`` at ``indices`` along ``axis``, matched position by position along
    the other axes (as produced by ``argsort``); None means the flattened array."""
    indices = np.asarray(canonical_index((indices,))[0])
    if indices.dtype.kind not in "iu":
        raise IndexError(f"take_along_axis: indices must be integers, got dtype {indices.dtype}")
    if axis is None:
        return getitem(shape.ravel(arr), (indices.ravel(),))
    a_shape = shape_of(arr)
    ndim = len(a_shape)
    if indices.ndim != ndim:
        raise ValueError(
            f"take_along_axis: indices have {indices.ndim} axes but arr has {ndim}; they must "
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


register_function(np.take, take)
register_function(np.take_along_axis, take_along_axis)

# These vjp rules read only shapes (the rest of the residuals are dropped when recorded).
keep_residuals("shapes", getitem_p, scatter_add_p)
