"""fjac.numpy's shape functions: the structural ones of the base layer declared under NumPy's
names, joining and splitting, and the compositions NumPy offers (tile, repeat, flip, roll,
rot90, pad, diff, sort, array).

All are linear; the primitives (``reshape``, ``broadcast_to``, ``transpose``, ``stack`` in
``fjac._primitives.base``; ``concatenate``, ``split``, ``sort`` in ``fjac._primitives.shape``)
carry the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fjac._core import bind, is_tracer, shape_of
from fjac._dtypes import dtype_of
from fjac._primitives import base as B
from fjac._primitives import elementwise as E
from fjac._primitives import shape as P
from fjac._primitives.base import normalize_axis
from fjac._primitives.base_indexing import getitem
from fjac._primitives.base_indexing import stack as _stack
from fjac.numpy._dispatch import implements
from fjac.numpy._indexing import take

Array = Any

__all__ = [
    "reshape", "ravel", "broadcast_to", "transpose", "swapaxes", "moveaxis", "expand_dims",
    "squeeze", "stack", "concatenate", "split", "array_split", "broadcast_arrays",
    "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "dstack", "column_stack",
    "tile", "repeat", "flip", "fliplr", "flipud", "roll", "rot90", "pad", "sort", "diff",
    "array", "asarray",
]

reshape = implements(np.reshape)(B.reshape)
ravel = implements(np.ravel, method="ravel")(B.ravel)
broadcast_to = implements(np.broadcast_to)(B.broadcast_to)
@implements(np.transpose)
def transpose(a: Array, axes: Any = None) -> Array:
    """``a`` with its axes permuted (reversed when ``axes`` is None); a view of an ndarray,
    and a 0-d array for a number, as NumPy's."""
    if not is_tracer(a):
        return np.transpose(a, axes)
    return B.transpose(a, axes)
swapaxes = implements(np.swapaxes, method="swapaxes")(B.swapaxes)
moveaxis = implements(np.moveaxis)(B.moveaxis)
expand_dims = implements(np.expand_dims)(B.expand_dims)
squeeze = implements(np.squeeze, method="squeeze")(B.squeeze)
stack = implements(np.stack)(_stack)


@implements(np.concatenate)
def concatenate(arrays: Sequence[Array], axis: int | None = 0) -> Array:
    """Join arrays along an existing axis; with ``axis=None``, the flattened arrays (as NumPy
    does)."""
    if axis is None:
        return P.concatenate([B.ravel(a) for a in arrays], axis=0)
    return P.concatenate(arrays, axis=axis)


def _split_bounds(n: int, indices_or_sections: Any, equal: bool) -> tuple[tuple[int, int], ...]:
    if np.ndim(indices_or_sections) == 0:
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError(f"number of sections must be larger than 0, got {k}")
        if equal and n % k:
            raise ValueError(
                f"array split does not result in an equal division: {n} elements into {k} "
                "sections; use array_split for unequal parts"
            )
        size, extra = divmod(n, k)
        cuts = np.cumsum([0] + [size + 1] * extra + [size] * (k - extra))
        return tuple((int(s), int(e)) for s, e in zip(cuts[:-1], cuts[1:]))
    points = [None] + [int(i) for i in indices_or_sections] + [None]
    out = []
    for s, e in zip(points[:-1], points[1:]):
        start, stop, _ = slice(s, e).indices(n)
        out.append((start, max(start, stop)))
    return tuple(out)


def _split(ary: Array, indices_or_sections: Any, axis: int, equal: bool) -> list[Array]:
    a_shape = shape_of(ary)
    ax = normalize_axis(axis, len(a_shape))[0]
    bounds = _split_bounds(a_shape[ax], indices_or_sections, equal)
    return list(bind(P.split_p, ary, bounds=bounds, axis=ax))


@implements(np.split)
def split(ary: Array, indices_or_sections: Any, axis: int = 0) -> list[Array]:
    """``ary`` cut along ``axis`` into equal sections (an int) or at the given indices."""
    return _split(ary, indices_or_sections, axis, equal=True)


@implements(np.array_split)
def array_split(ary: Array, indices_or_sections: Any, axis: int = 0) -> list[Array]:
    """Like ``split``, but an int number of sections need not divide the axis evenly."""
    return _split(ary, indices_or_sections, axis, equal=False)


@implements(method="flatten")
def flatten(a: Array, order: str = "C") -> Array:
    """``a`` flattened to 1-D (a copy for ndarrays; tracers are immutable anyway)."""
    if not is_tracer(a):
        return np.asarray(a).flatten(order)  # type: ignore[arg-type]
    return ravel(a, order)


@implements(np.broadcast_arrays)
def broadcast_arrays(*args: Array) -> tuple[Array, ...]:
    """The arguments broadcast against each other to one shape."""
    target = np.broadcast_shapes(*(shape_of(a) for a in args))
    return tuple(broadcast_to(a, target) for a in args)


def _atleast(arys: tuple[Array, ...], pad: Any) -> Any:
    out = [reshape(a, pad(shape_of(a))) for a in arys]
    return out[0] if len(out) == 1 else tuple(out)


@implements(np.atleast_1d)
def atleast_1d(*arys: Array) -> Any:
    """Each argument with at least one axis (0-d becomes shape (1,))."""
    return _atleast(arys, lambda s: s or (1,))


@implements(np.atleast_2d)
def atleast_2d(*arys: Array) -> Any:
    """Each argument with at least two axes (new axes in front)."""
    return _atleast(arys, lambda s: (1,) * (2 - len(s)) + s if len(s) < 2 else s)


@implements(np.atleast_3d)
def atleast_3d(*arys: Array) -> Any:
    """Each argument with at least three axes: (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""

    def pad(s: tuple[int, ...]) -> tuple[int, ...]:
        return ((1, 1, 1), (1, *s, 1), (*s, 1))[len(s)] if len(s) < 3 else s

    return _atleast(arys, pad)


def _as_list(arrays: Any, name: str) -> list[Array]:
    out = list(arrays)
    if not out:
        raise ValueError(f"{name}: need at least one array")
    return out


@implements(np.hstack)
def hstack(tup: Sequence[Array]) -> Array:
    """Join arrays along axis 1 (along axis 0 when all are 1-D)."""
    arrays = [atleast_1d(a) for a in _as_list(tup, "hstack")]
    return concatenate(arrays, axis=0 if all(len(shape_of(a)) == 1 for a in arrays) else 1)


@implements(np.vstack)
def vstack(tup: Sequence[Array]) -> Array:
    """Join arrays along axis 0, 1-D arrays as rows."""
    return concatenate([atleast_2d(a) for a in _as_list(tup, "vstack")], axis=0)


@implements(np.dstack)
def dstack(tup: Sequence[Array]) -> Array:
    """Join arrays along axis 2, after making each at least 3-D."""
    return concatenate([atleast_3d(a) for a in _as_list(tup, "dstack")], axis=2)


@implements(np.column_stack)
def column_stack(tup: Sequence[Array]) -> Array:
    """Join 1-D arrays as columns (and 2-D arrays as they are) into a 2-D array."""
    arrays = _as_list(tup, "column_stack")
    cols = [reshape(a, (-1, 1)) if len(shape_of(a)) < 2 else a for a in arrays]
    return concatenate(cols, axis=1)


@implements(np.tile)
def tile(A: Array, reps: Any) -> Array:  # noqa: N803  (NumPy's parameter name)
    """``A`` repeated ``reps`` times along each axis (``reps`` an int or a tuple)."""
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    a_shape = shape_of(A)
    nd = max(len(a_shape), len(reps))
    a_shape = (1,) * (nd - len(a_shape)) + a_shape
    reps = (1,) * (nd - len(reps)) + reps
    interleaved = tuple(d for a in a_shape for d in (1, a))
    full = tuple(d for r, a in zip(reps, a_shape) for d in (r, a))
    out = broadcast_to(reshape(A, interleaved), full)
    return reshape(out, tuple(r * a for r, a in zip(reps, a_shape)))


@implements(np.repeat, method="repeat")
def repeat(a: Array, repeats: Any, axis: int | None = None) -> Array:
    """Each element of ``a`` repeated ``repeats`` times (an int, or one count per element)
    along ``axis`` (of the flattened array when None); a new array, as NumPy's."""
    if not is_tracer(a):
        return np.repeat(a, repeats, axis)
    if axis is None:
        a, axis = ravel(a), 0
    a_shape = shape_of(a)
    ax = normalize_axis(axis, len(a_shape))[0]
    counts = np.asarray(repeats)
    if counts.ndim == 0 or counts.shape == (1,):
        r = int(counts.reshape(()))
        if r < 0:
            raise ValueError(f"repeat: repeats must be non-negative, got {r}")
        b = broadcast_to(expand_dims(a, ax + 1), a_shape[: ax + 1] + (r,) + a_shape[ax + 1:])
        return reshape(b, a_shape[:ax] + (a_shape[ax] * r,) + a_shape[ax + 1:])
    if counts.shape != (a_shape[ax],):
        raise ValueError(
            f"repeat: repeats has shape {counts.shape}, but axis {ax} has length {a_shape[ax]}"
        )
    return take(a, np.repeat(np.arange(a_shape[ax]), counts), axis=ax)


@implements(np.flip)
def flip(m: Array, axis: Any = None) -> Array:
    """``m`` with the order of elements reversed along ``axis`` (all axes when None)."""
    ndim = len(shape_of(m))
    axes = normalize_axis(axis, ndim)
    if not axes:
        return m
    return getitem(m, tuple(slice(None, None, -1) if i in axes else slice(None)
                                     for i in range(max(axes) + 1)))


@implements(np.fliplr)
def fliplr(m: Array) -> Array:
    """``m`` with axis 1 reversed (left and right swapped)."""
    if len(shape_of(m)) < 2:
        raise ValueError("fliplr needs an array of at least 2 axes")
    return flip(m, 1)


@implements(np.flipud)
def flipud(m: Array) -> Array:
    """``m`` with axis 0 reversed (up and down swapped)."""
    if len(shape_of(m)) < 1:
        raise ValueError("flipud needs an array of at least 1 axis")
    return flip(m, 0)


@implements(np.roll)
def roll(a: Array, shift: Any, axis: Any = None) -> Array:
    """``a`` with its elements shifted cyclically by ``shift`` along ``axis`` (the flattened
    array when None); ``shift`` and ``axis`` may be tuples."""
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape_of(a))
    a_shape = shape_of(a)
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    total: dict[int, int] = {}
    for s, ax in zip(shifts.ravel(), axes.ravel()):
        i = normalize_axis(int(ax), len(a_shape))[0]
        total[i] = total.get(i, 0) + int(s)
    for i, s in total.items():
        n = a_shape[i]
        s = s % n if n else 0
        if s:
            lead = (slice(None),) * i
            a = concatenate([getitem(a, lead + (slice(n - s, None),)),
                             getitem(a, lead + (slice(None, n - s),))], axis=i)
    return a


@implements(np.rot90)
def rot90(m: Array, k: int = 1, axes: Sequence[int] = (0, 1)) -> Array:
    """``m`` rotated by 90 degrees ``k`` times in the plane of ``axes`` (from the first axis
    towards the second)."""
    ndim = len(shape_of(m))
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must name two axes, got {axes}")
    a0, a1 = (normalize_axis(int(i), ndim)[0] for i in axes)
    if a0 == a1:
        raise ValueError(f"rot90: the axes must differ, got {axes}")
    k = int(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    if k == 1:
        return swapaxes(flip(m, a1), a0, a1)
    return flip(swapaxes(m, a0, a1), a1)


_PAD_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")
_np: Any = np  # np.pad's overloads want a literal mode


@implements(np.pad)
def pad(array: Array, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Array:
    """``array`` padded at both ends of each axis by ``pad_width`` ((before, after) per axis,
    one pair for all, or one int).

    Modes: "constant" (``constant_values``: a number, a traced scalar, or pairs per axis),
    and "edge", "reflect", "symmetric", "wrap" (``reflect_type="even"`` only).
    """
    a_shape = shape_of(array)
    ndim = len(a_shape)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width}")
    if mode == "constant":
        allowed = {"constant_values"}
    elif mode in _PAD_INDEX_MODES:
        allowed = {"reflect_type"} if mode in ("reflect", "symmetric") else set()
    else:
        raise ValueError(
            f"pad: mode {mode!r} is not supported; use 'constant', "
            + ", ".join(repr(m) for m in _PAD_INDEX_MODES)
        )
    unknown = set(kwargs) - allowed
    if unknown:
        raise TypeError(f"pad: unsupported keyword(s) {sorted(unknown)} for mode {mode!r}")
    if kwargs.get("reflect_type", "even") != "even":
        raise ValueError("pad: only reflect_type='even' is supported (the default)")
    if mode == "constant":
        return _pad_constant(array, widths, kwargs.get("constant_values", 0))
    for i in range(ndim):
        before, after = (int(w) for w in widths[i])
        if before or after:
            where = _np.pad(np.arange(a_shape[i]), (before, after), mode=mode, **kwargs)
            array = take(array, where, axis=i)
    return array


def _pad_constant(array: Array, widths: Any, values: Any) -> Array:
    ndim = len(shape_of(array))
    dtype = dtype_of(array)
    if is_tracer(values):
        if shape_of(values) != ():
            raise ValueError("pad: a traced constant_values must be a scalar")
        if values.dtype != dtype:
            values = B.astype(values, dtype)
        pairs = [(values, values)] * ndim
    else:
        vals = np.broadcast_to(np.asarray(values), (ndim, 2))
        pairs = [(vals[i, 0].astype(dtype), vals[i, 1].astype(dtype)) for i in range(ndim)]
    for i in range(ndim):
        before, after = int(widths[i, 0]), int(widths[i, 1])
        if not (before or after):
            continue
        s = shape_of(array)
        parts = [array]
        if before:
            parts.insert(0, broadcast_to(pairs[i][0], s[:i] + (before,) + s[i + 1:]))
        if after:
            parts.append(broadcast_to(pairs[i][1], s[:i] + (after,) + s[i + 1:]))
        array = concatenate(parts, axis=i)
    return array


@implements(np.sort)
def sort(a: Array, axis: int | None = -1, kind: Any = None, order: Any = None, *,
         stable: Any = None) -> Array:
    """``a`` sorted along ``axis`` (the flattened array when None).

    Differentiable as the gather it is, ``take_along_axis(a, argsort(a))``: each output
    element's derivative is that of the input element that landed there (ties: NumPy's order).
    """
    if not is_tracer(a):
        return np.sort(a, axis=axis, kind=kind, order=order, stable=stable)
    if order is not None:
        raise TypeError("sort: order= (sorting structured arrays by field) is not supported")
    if axis is None:
        a, axis = ravel(a), -1
    ax = normalize_axis(axis, len(shape_of(a)))[0]
    return bind(P.sort_p, a, axis=ax, kind=kind, stable=stable)


@implements(np.diff)
def diff(a: Array, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Array:
    """The ``n``-th discrete difference ``a[i+1] - a[i]`` along ``axis``, after joining
    ``prepend`` and ``append`` (arrays or numbers broadcast to one slice) to the ends."""
    a_shape = shape_of(a)
    if not a_shape:
        raise ValueError("diff needs an array of at least 1 axis")
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    ax = normalize_axis(axis, len(a_shape))[0]
    parts = []
    for extra in (prepend, append):
        if extra is not None and len(shape_of(extra)) == 0:
            extra = broadcast_to(extra, a_shape[:ax] + (1,) + a_shape[ax + 1:])
        parts.append(extra)
    if parts[0] is not None or parts[1] is not None:
        a = concatenate([p for p in (parts[0], a, parts[1]) if p is not None], axis=ax)
    lead = (slice(None),) * ax
    for _ in range(n):
        a = E.subtract(getitem(a, lead + (slice(1, None),)),
                                 getitem(a, lead + (slice(None, -1),)))
    return a


def _has_tracer(obj: Any) -> bool:
    if is_tracer(obj):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_has_tracer(o) for o in obj)
    return False


def _leaf_dtypes(obj: Any) -> list[np.dtype[Any]]:
    """The dtype of each leaf of nested lists, as ``numpy.array`` would see it."""
    if isinstance(obj, (list, tuple)):
        return [d for o in obj for d in _leaf_dtypes(o)]
    return [obj.dtype if is_tracer(obj) else np.asarray(obj).dtype]


def _stack_nested(obj: Any, dtype: np.dtype[Any]) -> Array:
    if isinstance(obj, (list, tuple)):
        return stack([_stack_nested(o, dtype) for o in obj])
    if is_tracer(obj):
        return obj if obj.dtype == dtype else B.astype(obj, dtype)
    return np.asarray(obj, dtype=dtype)


def array(object: Any, dtype: Any = None, *, copy: bool = True, ndmin: int = 0,  # noqa: A002
          **kwargs: Any) -> Array:
    """An array from an array, a number, or (nested) lists and tuples of them, which may
    contain traced values: ``fnp.array([t, 2.0, u])`` stacks them, keeping the derivative.

    ``numpy.array([t, ...])`` cannot be intercepted by NumPy's protocols: it raises for
    traced elements. Use ``fjac.numpy.array`` or ``fjac.numpy.stack`` there.
    """
    if not _has_tracer(object):
        return np.array(object, dtype=dtype, copy=copy, ndmin=ndmin, **kwargs)
    unknown = set(kwargs) - {"order", "subok"}
    if unknown:
        raise TypeError(f"array: unsupported keyword(s) {sorted(unknown)} with traced values")
    target = np.dtype(dtype) if dtype is not None else np.result_type(*_leaf_dtypes(object))
    out = _stack_nested(object, target)
    if len(shape_of(out)) < ndmin:
        out = reshape(out, (1,) * (ndmin - len(shape_of(out))) + shape_of(out))
    return out


def asarray(a: Any, dtype: Any = None, order: Any = None, **kwargs: Any) -> Array:
    """``a`` as an array without copying where possible; tracers (and sequences containing
    them, see ``array``) stay traced."""
    if not _has_tracer(a):
        return np.asarray(a, dtype=dtype, order=order, **kwargs)
    return array(a, dtype=dtype)
