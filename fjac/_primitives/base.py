"""The structural primitives: the few every interpreter and every family builds on.

Casts (``convert_element_type``, ``cast``), ``add`` and ``multiply``, ``reshape``,
``broadcast_to``, ``transpose`` and ``sum``, each with its impl and all its rules side by
side (basic indexing and ``stack`` follow in ``base_indexing``); the
compositions of them the rules need (``expand_dims``, ``moveaxis``, ``unbroadcast``, ...); and the
helpers batch rules are written with (``move_batch_axis``, ``batch_elementwise``, ...), which
are themselves moves and broadcasts of batch axes.

This module imports only the core and the rule tables, so the interpreters (``fjac._vmap``
moves batch axes with it) can import it without importing any family back.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from fjac._core import Primitive, add_p, as_array, bind, convert_p, shape_of
from fjac._dtypes import dtype_of
from fjac._rules import (
    basis_rules,
    batch_rules,
    declare_complex,
    declare_real_closed,
    defjvp,
    defvjp,
    keep_residuals,
)

Array = Any

__all__ = [
    "normalize_axis",
    "astype",
    "cast_p",
    "add",
    "mul_p",
    "multiply",
    "unbroadcast",
    "broadcast_like",
    "reshape_p",
    "reshape",
    "ravel",
    "broadcast_to_p",
    "broadcast_to",
    "transpose_p",
    "transpose",
    "swapaxes",
    "moveaxis",
    "expand_dims",
    "squeeze",
    "sum_p",
    "reduce_sum",
    "move_batch_axis",
    "broadcast_front",
    "batch_elementwise",
    "batch_unary",
    "batch_axis_param",
    "batch_size",
    "batch_all_front",
    "batch_leading",
]
# ---------------------------------------------------------------------------------------------
# axes


_ALL_AXES = [tuple(range(n)) for n in range(8)]


def normalize_axis(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple, negatives allowed) as a sorted tuple of axes."""
    if axis is None:
        return _ALL_AXES[ndim] if ndim < len(_ALL_AXES) else tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for an array of dimension {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"duplicate value in axis: {axis}")
    return tuple(sorted(out))


# ---------------------------------------------------------------------------------------------
# batching helpers: moves and broadcasts of batch axes, used by every batch rule


def move_batch_axis(x: Array, src: int | None, dst: int, size: int | None = None) -> Array:
    """``x`` with its batch axis moved from ``src`` to ``dst``; an unbatched ``x`` (src None)
    gets a new batch axis of length ``size`` there, by broadcasting."""

    if src is None:
        assert size is not None, "an unbatched value needs a batch size to be broadcast"
        x_shape = shape_of(x)
        dst = dst % (len(x_shape) + 1)
        expanded = expand_dims(x, dst)
        return broadcast_to(expanded, x_shape[:dst] + (size,) + x_shape[dst:])
    if src == dst:
        return x
    return moveaxis(x, src, dst)


def _batched_rank(x: Array, dim: int | None) -> int:
    return len(shape_of(x)) - (dim is not None)


def broadcast_front(vals: Sequence[Any], dims: Sequence[int | None]) -> list[Any]:
    """The arguments of a primitive that broadcasts its leading axes, lined up for NumPy:
    batched ones get their batch axis in front and as many length-1 axes after it as they
    lack against the widest argument; unbatched ones are left as they are (broadcasting puts
    them under every example)."""

    rank = max(_batched_rank(v, d) for v, d in zip(vals, dims))
    args = []
    for v, d in zip(vals, dims):
        if d is None:
            args.append(v)
            continue
        v = move_batch_axis(v, d, 0)
        v_shape = shape_of(v)
        missing = rank - (len(v_shape) - 1)
        if missing:
            v = reshape(v, v_shape[:1] + (1,) * missing + v_shape[1:])
        args.append(v)
    return args


def batch_elementwise(prim: Primitive) -> None:
    """Register the batch rule of a broadcasting elementwise primitive (any number of args):
    the arguments lined up by ``broadcast_front``, one call."""
    batch_rules[prim] = lambda vals, dims, **params: (
        bind(prim, *broadcast_front(vals, dims), **params), 0
    )


def batch_unary(prim: Primitive) -> None:
    """Register the batch rule of a primitive that acts on each element alone (one argument):
    the batch axis stays where it is."""
    batch_rules[prim] = lambda vals, dims, **params: (bind(prim, vals[0], **params), dims[0])


def batch_axis_param(prim: Primitive, *, out_batched_front: bool = True) -> None:
    """Register the batch rule of a one-argument primitive whose ``axis`` parameter is a tuple
    of axes (or an int): the batch axis goes in front and the axes shift by one."""

    def rule(vals: list[Any], dims: list[int | None], **params: Any) -> tuple[Any, int]:
        x = move_batch_axis(vals[0], dims[0], 0)
        axis = params.get("axis")
        if isinstance(axis, tuple):
            params["axis"] = tuple(a + 1 for a in axis)
        elif isinstance(axis, int):
            params["axis"] = axis + 1
        return bind(prim, x, **params), 0

    batch_rules[prim] = rule


def batch_size(vals: Sequence[Any], dims: Sequence[int | None]) -> int:
    """The batch size, read off the first batched value."""
    return next(shape_of(v)[d] for v, d in zip(vals, dims) if d is not None)


def batch_all_front(prim: Primitive) -> None:
    """Register the batch rule of a primitive whose ``axis`` parameter (an int) joins or
    splits its arguments (stack, concatenate, sort): every argument gets the batch axis in
    front, unbatched ones by broadcasting, and ``axis`` shifts by one."""

    def rule(vals: list[Any], dims: list[int | None], **params: Any) -> tuple[Any, Any]:
        size = batch_size(vals, dims)
        args = [move_batch_axis(v, d, 0, size) for v, d in zip(vals, dims)]
        params["axis"] = params["axis"] + 1
        out = bind(prim, *args, **params)
        return out, (0,) * len(out) if prim.multiple_results else 0

    batch_rules[prim] = rule


def batch_leading(prim: Primitive) -> None:
    """Register the batch rule of a primitive that already maps over leading axes, as NumPy's
    linear algebra does over stacks of matrices: the arguments lined up by
    ``broadcast_front`` (so in ``solve`` a batched matrix meets an unbatched stack example by
    example), one call."""

    def rule(vals: list[Any], dims: list[int | None], **params: Any) -> tuple[Any, Any]:
        out = bind(prim, *broadcast_front(vals, dims), **params)
        return out, (0,) * len(out) if prim.multiple_results else 0

    batch_rules[prim] = rule


# ---------------------------------------------------------------------------------------------
# casts
defjvp(convert_p, lambda t, ans, x, *, dtype: bind(convert_p, t, dtype=dtype))
defvjp(convert_p, lambda g, ans, x, *, dtype: bind(convert_p, g, dtype=dtype_of(x)))
batch_unary(convert_p)


cast_p = Primitive("cast", lambda x, *, dtype: as_array(x).astype(dtype), nondiff=True)
batch_unary(cast_p)


def astype(x: Array, dtype: Any, copy: bool = True) -> Array:
    """``x`` converted to ``dtype``: differentiable between floating dtypes, a constant (no
    derivative) when the target is an integer or boolean dtype. (``copy`` is accepted for
    NumPy compatibility; traced arrays are immutable, so it changes nothing.)"""
    dtype = np.dtype(dtype)
    x_dtype = dtype_of(x)
    if x_dtype.kind in "fc" and dtype.kind in "fc":
        if x_dtype.kind == "c" and dtype.kind == "f":
            warnings.warn(
                "Casting complex values to real discards the imaginary part "
                "(the derivative keeps the real part too)", np.exceptions.ComplexWarning,
                stacklevel=2,
            )
        return bind(convert_p, x, dtype=dtype)
    return bind(cast_p, x, dtype=dtype)


# ---------------------------------------------------------------------------------------------
# reshape, broadcast, transpose, and their compositions


def _resolve(dims: tuple[int, ...], size: int) -> tuple[int, ...]:
    if dims.count(-1) > 1:
        raise ValueError(f"can only specify one unknown dimension (-1) in a shape, got {dims}")
    if -1 in dims:
        known = math.prod([d for d in dims if d != -1])
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape an array of size {size} into shape {dims}")
        dims = tuple(size // known if d == -1 else d for d in dims)
    if math.prod(dims) != size:
        raise ValueError(f"cannot reshape an array of size {size} into shape {dims}")
    return dims


def _reshape_impl(x: Array, *, shape: tuple[int, ...]) -> Array:
    return x.reshape(shape) if isinstance(x, np.ndarray) else np.reshape(x, shape)


reshape_p = Primitive("reshape", _reshape_impl)


def _batch_reshape(vals: list[Any], dims: list[Any], *, shape: tuple[int, ...]) -> Any:
    x = move_batch_axis(vals[0], dims[0], 0)
    return bind(reshape_p, x, shape=shape_of(x)[:1] + shape), 0
batch_rules[reshape_p] = _batch_reshape
# A reshape keeps the C-order flat index of each basis vector's 1: only the scales reshape.
basis_rules[reshape_p] = lambda main, args, *, shape: args[0].with_scale(
    None if args[0].scale is None else bind(reshape_p, args[0].scale, shape=shape), shape
)
defjvp(reshape_p, lambda t, ans, x, *, shape: reshape(t, shape))
defvjp(reshape_p, lambda g, ans, x, *, shape: reshape(g, shape_of(x)))


def reshape(a: Array, shape: Any, order: str = "C") -> Array:
    """``a`` with a new shape of the same size (one dimension may be -1), read and written in
    ``order`` "C" (last index fastest) or "F" (first index fastest)."""
    if order == "F":
        dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
        return transpose(reshape(transpose(a), tuple(dims)[::-1]))
    if order != "C":
        raise ValueError(f"reshape: order must be 'C' or 'F', got {order!r}")
    a_shape = shape_of(a)
    new = _resolve(
        (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape),
        math.prod(a_shape),
    )
    if new == a_shape:
        return a
    return bind(reshape_p, a, shape=new)


def ravel(a: Array, order: str = "C") -> Array:
    """``a`` flattened to 1-D, read in ``order`` "C" (last index fastest) or "F"."""
    return reshape(a, (-1,), order=order)


def _broadcast_to_impl(x: Array, *, shape: tuple[int, ...]) -> Array:
    # Small results are cheaper to fill than NumPy's read-only broadcast view is to build;
    # large ones stay views so they take no memory.
    if math.prod(shape) <= 4096:
        # (np.result_type only for Python numbers: it costs more than the fill itself)
        dtype = x.dtype if isinstance(x, (np.ndarray, np.generic)) else np.result_type(x)
        out = np.empty(shape, dtype=dtype)
        out[...] = x
        return out
    return np.broadcast_to(x, shape)


broadcast_to_p = Primitive("broadcast_to", _broadcast_to_impl)


def _batch_broadcast_to(vals: list[Any], dims: list[Any], *, shape: tuple[int, ...]) -> Any:
    x = move_batch_axis(vals[0], dims[0], 0)
    x_shape = shape_of(x)
    lined_up = x_shape[:1] + (1,) * (len(shape) - len(x_shape) + 1) + x_shape[1:]
    return bind(broadcast_to_p, bind(reshape_p, x, shape=lined_up), shape=x_shape[:1] + shape), 0
batch_rules[broadcast_to_p] = _batch_broadcast_to
defjvp(broadcast_to_p, lambda t, ans, x, *, shape: broadcast_to(t, shape))
defvjp(broadcast_to_p, lambda g, ans, x, *, shape: unbroadcast(g, x))


def broadcast_to(array: Array, shape: Any) -> Array:
    """``array`` broadcast to ``shape`` by NumPy's rules (a read-only view for plain arrays)."""
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(map(int, shape))
    if shape_of(array) == shape:
        return array
    return bind(broadcast_to_p, array, shape=shape)


transpose_p = Primitive("transpose", lambda x, *, axes: np.transpose(x, axes))
batch_rules[transpose_p] = lambda vals, dims, *, axes: (
    bind(transpose_p, move_batch_axis(vals[0], dims[0], 0), axes=(0,) + tuple(a + 1 for a in axes)),
    0,
)
defjvp(transpose_p, lambda t, ans, x, *, axes: transpose(t, axes))
defvjp(transpose_p, lambda g, ans, x, *, axes: transpose(g, tuple(np.argsort(axes))))


def transpose(a: Array, axes: Sequence[int] | None = None) -> Array:
    """``a`` with its axes permuted (reversed when ``axes`` is None)."""
    ndim = len(shape_of(a))
    perm = tuple(range(ndim))[::-1] if axes is None else tuple(int(i) % ndim for i in axes)
    if sorted(perm) != list(range(ndim)):
        raise ValueError(f"axes {axes} are not a permutation of the {ndim} axes of the array")
    if perm == tuple(range(ndim)):
        return a
    return bind(transpose_p, a, axes=perm)


def swapaxes(a: Array, axis1: int, axis2: int) -> Array:
    """``a`` with two axes interchanged."""
    ndim = len(shape_of(a))
    perm = list(range(ndim))
    i, j = normalize_axis(axis1, ndim)[0], normalize_axis(axis2, ndim)[0]
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, perm)


def moveaxis(a: Array, source: Any, destination: Any) -> Array:
    """``a`` with the axes ``source`` moved to positions ``destination``."""
    ndim = len(shape_of(a))
    src = [normalize_axis(s, ndim)[0] for s in np.atleast_1d(source)]
    dst = [normalize_axis(d, ndim)[0] for d in np.atleast_1d(destination)]
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of axes")
    order = [i for i in range(ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


def expand_dims(a: Array, axis: Any) -> Array:
    """``a`` with new axes of length 1 inserted at ``axis`` (an int or a tuple)."""
    a_shape = shape_of(a)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    ndim = len(a_shape) + len(axes)
    new_axes = normalize_axis(axes, ndim)
    dims = iter(a_shape)
    return reshape(a, tuple(1 if i in new_axes else next(dims) for i in range(ndim)))


def squeeze(a: Array, axis: Any = None) -> Array:
    """``a`` without its length-1 axes (or only those in ``axis``, which must have length 1)."""
    a_shape = shape_of(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a_shape) if d == 1)
    else:
        axes = normalize_axis(axis, len(a_shape))
        for i in axes:
            if a_shape[i] != 1:
                raise ValueError(f"cannot squeeze axis {i}: it has length {a_shape[i]}, not 1")
    return reshape(a, tuple(d for i, d in enumerate(a_shape) if i not in axes))


# ---------------------------------------------------------------------------------------------
# sum, and the broadcasting it transposes


# The implementation takes ``(x, axis=, keepdims=)``: np.add.reduce itself, which is what
# np.sum calls after its Python-level dispatch.
sum_p = Primitive("sum", np.add.reduce)
defjvp(sum_p, lambda t, ans, x, *, axis, keepdims: reduce_sum(t, axis, keepdims))
defvjp(sum_p, lambda g, ans, x, *, axis, keepdims: _expand_back(g, x, axis, keepdims))
batch_axis_param(sum_p)


def reduce_sum(x: Array, axis: Any = None, keepdims: bool = False) -> Array:
    """The sum of ``x`` over ``axis`` (None: all; an int or a tuple; negatives allowed)."""
    return bind(sum_p, x, axis=normalize_axis(axis, len(shape_of(x))), keepdims=bool(keepdims))


def _expand_back(g: Array, x: Array, axis: tuple[int, ...], keepdims: bool) -> Array:
    """A reduced cotangent broadcast back over the reduced axes of ``x``."""
    x_shape = shape_of(x)
    if len(axis) == len(x_shape):  # a full reduction: the cotangent is a scalar, broadcast it
        if keepdims:
            g = reshape(g, ())
        return bind(broadcast_to_p, g, shape=x_shape) if x_shape else g
    return broadcast_to(_keep_dims(g, x, axis, keepdims), x_shape)


def _keep_dims(r: Array, x: Array, axis: tuple[int, ...], keepdims: bool) -> Array:
    """A reduction's result ``r`` with the reduced axes of ``x`` kept (as length 1)."""
    if keepdims:
        return r
    kept = tuple(1 if i in axis else d for i, d in enumerate(shape_of(x)))
    return reshape(r, kept)


def unbroadcast(g: Array, x: Array) -> Array:
    """Sum ``g`` over the axes NumPy broadcasting added to ``x``; cast to ``x``'s floating
    dtype (a complex cotangent of a real ``x`` keeps its real part)."""
    if type(g) is np.ndarray and type(x) is np.ndarray and g.shape == x.shape \
            and g.dtype == x.dtype:
        return g  # the common case: nothing was broadcast
    x_shape = shape_of(x)
    g_shape = shape_of(g)
    if g_shape != x_shape:
        lead = len(g_shape) - len(x_shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, d in enumerate(x_shape) if d == 1 and g_shape[lead + i] != 1
        )
        g = reshape(reduce_sum(g, axis=axes), x_shape)
    x_dtype = dtype_of(x)
    if x_dtype.kind in "fc":
        g_dtype = dtype_of(g)
        # (a real cotangent of a complex value stays real: it is the same complex number)
        if g_dtype != x_dtype and not (g_dtype.kind == "f" and x_dtype.kind == "c"):
            g = bind(convert_p, g, dtype=x_dtype)
    return g


def broadcast_like(t: Array, ans: Array) -> Array:
    """``t`` broadcast to the shape of ``ans`` (a tangent of an argument that was broadcast)."""
    ans_shape = shape_of(ans)
    return t if shape_of(t) == ans_shape else broadcast_to(t, ans_shape)


# ---------------------------------------------------------------------------------------------
# add and multiply
defjvp(add_p, lambda t, ans, x, y: broadcast_like(t, ans),
       lambda t, ans, x, y: broadcast_like(t, ans))
defvjp(add_p, lambda g, ans, x, y: unbroadcast(g, x), lambda g, ans, x, y: unbroadcast(g, y))
batch_elementwise(add_p)


def add(x: Array, y: Array) -> Array:
    """Elementwise ``x + y`` with broadcasting."""
    return bind(add_p, x, y)


mul_p = Primitive("multiply", np.multiply)
defjvp(mul_p, lambda t, ans, x, y: broadcast_like(t * y, ans),
       lambda t, ans, x, y: broadcast_like(x * t, ans))
defvjp(mul_p, lambda g, ans, x, y: unbroadcast(g * y, x),
       lambda g, ans, x, y: unbroadcast(x * g, y))
batch_elementwise(mul_p)


def multiply(x: Array, y: Array) -> Array:
    """Elementwise ``x * y`` with broadcasting."""
    return bind(mul_p, x, y)


# What each vjp rule reads (the rest of its residuals are dropped when the node is recorded).
keep_residuals("shapes", add_p, convert_p, sum_p, reshape_p, broadcast_to_p, transpose_p)
keep_residuals("inputs", mul_p)

# Real arguments give real results (convert_element_type aside: it casts to complex too).
declare_real_closed(globals(), except_=(convert_p,))
# Linear maps and products transpose without conjugation under JAX's convention, so these
# rules are right for complex values as written.
declare_complex(add_p, mul_p, convert_p, reshape_p, broadcast_to_p, transpose_p, sum_p)
