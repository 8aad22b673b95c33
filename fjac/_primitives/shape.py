"""Shape primitives beyond the structural ones of ``base``: ``concatenate``, ``split`` (one
primitive with a result per piece, so the reverse pass is one concatenation) and ``sort``.

All are linear, so each rule is the same operation (forward) or its transpose (reverse) applied
to the tangent or cotangent; ``sort`` is the gather ``take_along_axis(a, argsort(a))``, whose
derivative permutes the tangent the way sorting permutes the values (``sort_permute``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fjac._core import Primitive, as_array, bind, shape_of
from fjac._primitives import base
from fjac._primitives.base import (
    batch_all_front,
    normalize_axis,
)
from fjac._primitives.base_indexing import (
    getitem,
    scatter_add,
)
from fjac._rules import (
    declare_complex,
    declare_real_closed,
    defjvp,
    defjvp_argnum,
    defvjp,
    defvjp_argnum,
    jvp_rules,
    keep_residuals,
)

Array = Any

__all__ = ["concatenate_p", "concatenate", "split_p", "permute_p", "unpermute_p", "sort_p"]


concatenate_p = Primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis))
batch_all_front(concatenate_p)
defjvp_argnum(concatenate_p, lambda i, t, ans, *xs, axis: _place_in_concat(i, t, xs, axis))
defvjp_argnum(concatenate_p, lambda i, g, ans, *xs, axis: _slice_of_concat(i, g, xs, axis))


def _offsets(xs: Sequence[Array], axis: int) -> list[int]:
    starts = [0]
    for x in xs:
        starts.append(starts[-1] + shape_of(x)[axis])
    return starts


def _slice_of_concat(i: int, g: Array, xs: Sequence[Array], axis: int) -> Array:
    """The part of ``g`` that argument ``i`` of a concatenation contributed."""
    starts = _offsets(xs, axis)
    idx = (slice(None),) * axis + (slice(starts[i], starts[i + 1]),)
    return getitem(g, idx)


def _place_in_concat(i: int, t: Array, xs: Sequence[Array], axis: int) -> Array:
    parts = [t if j == i else np.zeros(shape_of(x), dtype=t.dtype) for j, x in enumerate(xs)]
    return concatenate(parts, axis=axis)


def concatenate(arrays: Sequence[Array], axis: int = 0) -> Array:
    """Join arrays along an existing axis."""
    arrays = tuple(arrays)
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    ndim = len(shape_of(arrays[0]))
    return bind(concatenate_p, *arrays, axis=normalize_axis(axis, ndim)[0])


# ---------------------------------------------------------------------------------------------
# splitting: one primitive with a result per piece, so the reverse pass is one concatenation


def _split_impl(x: Array, *, bounds: tuple[tuple[int, int], ...], axis: int) -> tuple[Array, ...]:
    lead = (slice(None),) * axis
    return tuple(x[lead + (slice(s, e),)] for s, e in bounds)


def _split_jvp(primals: list[Array], tangents: list[Array], *, bounds: Any, axis: int) -> Any:
    (x,), (t,) = primals, tangents
    return bind(split_p, x, bounds=bounds, axis=axis), bind(split_p, t, bounds=bounds, axis=axis)


def _split_vjp(g: tuple[Array, ...], ans: Any, x: Array, *, bounds: Any, axis: int) -> Array:
    """The pieces' cotangents joined back (zeros for pieces that got none)."""
    x_shape = shape_of(x)
    dtype = next(c for c in g if c is not None).dtype
    parts = [
        np.zeros(shape_of(a), dtype=dtype) if c is None else c for c, a in zip(g, ans)
    ]
    tiles = all(bounds[i][1] == bounds[i + 1][0] for i in range(len(bounds) - 1))
    if tiles and bounds[0][0] == 0 and bounds[-1][1] == x_shape[axis]:
        return concatenate(parts, axis=axis)
    total = None  # pieces that overlap or leave gaps: add each one in place
    for (s, e), part in zip(bounds, parts):
        piece = scatter_add(part, (slice(None),) * axis + (slice(s, e),), x_shape)
        total = piece if total is None else base.add(total, piece)
    return total


split_p = Primitive("split", _split_impl, multiple_results=True)
batch_all_front(split_p)
jvp_rules[split_p] = _split_jvp
defvjp(split_p, _split_vjp)


# ---------------------------------------------------------------------------------------------
# compositions of reshape, broadcast, transpose, slicing and concatenation




def _order(key: Array, axis: int, kind: Any, stable: Any) -> Array:
    return np.argsort(key, axis=axis, kind=kind, stable=stable)


def _permute_impl(key: Array, t: Array, *, axis: int, kind: Any, stable: Any) -> Array:
    return np.take_along_axis(as_array(t), _order(key, axis, kind, stable), axis=axis)


def _unpermute_impl(key: Array, g: Array, *, axis: int, kind: Any, stable: Any) -> Array:
    out = np.empty(np.shape(g), dtype=np.result_type(g))
    np.put_along_axis(out, _order(key, axis, kind, stable), g, axis=axis)
    return out


# ``t`` rearranged the way sorting rearranges ``key`` (and back): the derivative of a sort.
# The order is recomputed from ``key`` inside each primitive, so no traced index is needed.
permute_p = Primitive("sort_permute", _permute_impl)
unpermute_p = Primitive("sort_unpermute", _unpermute_impl)
batch_all_front(permute_p)
batch_all_front(unpermute_p)
defjvp(permute_p, None, lambda t, ans, key, x, **p: bind(permute_p, key, t, **p))
defvjp(permute_p, None, lambda g, ans, key, x, **p: bind(unpermute_p, key, g, **p))
defjvp(unpermute_p, None, lambda t, ans, key, x, **p: bind(unpermute_p, key, t, **p))
defvjp(unpermute_p, None, lambda g, ans, key, x, **p: bind(permute_p, key, g, **p))

sort_p = Primitive("sort", lambda x, **p: np.take_along_axis(x, _order(x, **p), axis=p["axis"]))
batch_all_front(sort_p)
defjvp(sort_p, lambda t, ans, x, **p: bind(permute_p, x, t, **p))
defvjp(sort_p, lambda g, ans, x, **p: bind(unpermute_p, x, g, **p))


# ---------------------------------------------------------------------------------------------
# arrays from (nested) sequences that contain tracers


keep_residuals("shapes", concatenate_p)

# Real arguments give real results.
declare_real_closed(globals())
# Linear and multilinear maps and selections: their rules are right for complex values as
# written (transposes without conjugation, JAX's convention).
declare_complex(*(v for v in list(globals().values()) if isinstance(v, Primitive)))
