"""The structural primitives of indexing: basic ``getitem``, its transpose ``scatter_add``, and
``stack``; and the generic batch rule, a loop over the examples stacked back together.

Index expressions are parameters of the primitives (integers, slices, Ellipsis, None, integer
and boolean arrays). In reverse mode ``x[idx]`` scatters the cotangent back, adding at repeated
integer indices; ``scatter_add`` is in turn transposed by ``getitem``. Like ``base``, this
module imports only the core, the rule tables and ``base``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fjac._core import Primitive, Tracer, bind, shape_of, snapshot
from fjac._primitives.base import batch_all_front, move_batch_axis, normalize_axis
from fjac._rules import (
    batch_rules,
    declare_complex,
    declare_real_closed,
    defjvp,
    defjvp_argnum,
    defvjp,
    defvjp_argnum,
    keep_residuals,
)

Array = Any

__all__ = [
    "getitem_p",
    "getitem",
    "canonical_index",
    "indexed_shape",
    "scatter_add_p",
    "scatter_add",
    "stack_p",
    "stack",
    "batch_loop",
]


_BASIC = (int, np.integer, slice, type(None), type(Ellipsis))


def canonical_index(idx: Any) -> tuple[Any, ...]:
    """``idx`` as a tuple, with lists turned into arrays as NumPy would."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Tracer) and i.dtype.kind not in "iub":
            raise TypeError(
                f"cannot index with a traced array of dtype {i.dtype}: indices must be integers "
                "or booleans, and they carry no derivative"
            )
        if isinstance(i, Tracer):
            raise TypeError(
                f"this operation cannot take a traced array ({i.dtype}) as an index: x[idx], "
                "x.at[idx].get(), x.at[idx].add(v), fjac.numpy.take and take_along_axis accept "
                "traced integer indices (vmap makes them, e.g. from argmax or a mapped "
                "argument); x.at[idx].set/multiply/min/max do not yet: compute that index with "
                "NumPy, or write the update with fjac.numpy.where"
            )
        if isinstance(i, list):
            i = np.array(i)
        elif isinstance(i, np.ndarray):
            i = snapshot(i)  # the function may change its index array after using it
        out.append(i)
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


def getitem(x: Array, idx: Any) -> Array:
    """``x[idx]`` for an index expression that holds no tracer (NumPy's rules otherwise)."""
    return bind(getitem_p, x, idx=canonical_index(idx))


def _batch_getitem(vals: list[Any], dims: list[Any], *, idx: tuple[Any, ...]) -> Any:
    batched, out_dim = _batched_index(idx)
    return bind(getitem_p, move_batch_axis(vals[0], dims[0], 0), idx=batched), out_dim


batch_rules[getitem_p] = _batch_getitem


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


stack_p = Primitive("stack", lambda *xs, axis: np.stack(xs, axis=axis))
batch_all_front(stack_p)
defjvp_argnum(stack_p, lambda i, t, ans, *xs, axis: _place_in_stack(i, t, xs, axis))
defvjp_argnum(stack_p, lambda i, g, ans, *xs, axis: _index_along(g, i, axis))


def _index_along(g: Array, i: int, axis: int) -> Array:
    """``g[..., i, ...]`` with ``i`` at position ``axis``."""
    return getitem(g, (slice(None),) * axis + (i,))


def _place_in_stack(i: int, t: Array, xs: Sequence[Array], axis: int) -> Array:
    """The tangent of ``stack(xs)`` from argument ``i`` alone: ``t`` with zeros for the rest."""
    zero = np.zeros(shape_of(xs[i]), dtype=t.dtype)
    return stack([t if j == i else zero for j in range(len(xs))], axis=axis)


def stack(arrays: Sequence[Array], axis: int = 0) -> Array:
    """Join arrays of one shape along a new axis."""
    arrays = tuple(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack")
    shapes = {shape_of(x) for x in arrays}
    if len(shapes) != 1:
        raise ValueError(f"all input arrays must have the same shape, got {sorted(shapes)}")
    ndim = len(shape_of(arrays[0])) + 1
    return bind(stack_p, *arrays, axis=normalize_axis(axis, ndim)[0])


def batch_loop(
    prim: Primitive, vals: Sequence[Any], dims: Sequence[int | None], size: int, **params: Any
) -> tuple[Any, Any]:
    """The generic rule: apply ``prim`` to each example and stack the results along axis 0."""

    results = []
    for i in range(size):
        args = [
            v if d is None else getitem(v, (slice(None),) * d + (i,))
            for v, d in zip(vals, dims)
        ]
        results.append(bind(prim, *args, **params))
    if prim.multiple_results:
        outs = tuple(stack([r[j] for r in results]) for j in range(len(results[0])))
        return outs, (0,) * len(outs)
    return stack(results), 0


keep_residuals("shapes", getitem_p, scatter_add_p, stack_p)

# Real arguments give real results.
declare_real_closed(globals())
# Linear and multilinear maps and selections: their rules are right for complex values as
# written (transposes without conjugation, JAX's convention).
declare_complex(*(v for v in list(globals().values()) if isinstance(v, Primitive)))
