"""Reduction primitives beyond ``sum`` (which is structural, in ``base``): ``prod``, ``max``,
``min``, and the cumulative ``cumsum`` and ``cumprod``; the statistics built on them are
compositions in ``fjac.numpy``.

Derivative conventions: where several elements share the maximum (or minimum) the derivative
is split equally among them, so it sums to one; ``prod`` and ``cumprod`` never divide by the
input, so zeros in it give exact derivatives of every order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fjac._core import Primitive, bind, shape_of
from fjac._dtypes import dtype_of
from fjac._primitives import base, base_indexing, nondiff
from fjac._primitives.base import _expand_back, _keep_dims, batch_axis_param, reduce_sum
from fjac._primitives.combinators import linear
from fjac._primitives.shape import concatenate
from fjac._rules import declare_complex, declare_real_closed, defjvp, defvjp

Array = Any

__all__ = ["prod_p", "cumsum_p", "cumprod_p", "max_p", "min_p", "linear_recurrence"]


# ---------------------------------------------------------------------------------------------
# sum and prod


def _along_last(x: Array, axes: tuple[int, ...]) -> Array:
    """``x`` with ``axes`` moved to the end and merged into one last axis."""
    x_shape = shape_of(x)
    rest = [i for i in range(len(x_shape)) if i not in axes]
    moved = base.transpose(x, rest + list(axes))
    return base.reshape(moved, tuple(x_shape[i] for i in rest) + (-1,))


def _from_last(y: Array, x_shape: tuple[int, ...], axes: tuple[int, ...]) -> Array:
    """The inverse of ``_along_last``: ``y`` back in the layout of an array of ``x_shape``."""
    rest = [i for i in range(len(x_shape)) if i not in axes]
    perm = rest + list(axes)
    y = base.reshape(y, tuple(x_shape[i] for i in perm))
    return base.transpose(y, tuple(np.argsort(perm)))


def _others_product(x: Array, axes: tuple[int, ...]) -> Array:
    """For each element, the product of the other elements of its reduction (no division)."""
    x_shape = shape_of(x)
    if not axes:
        return np.ones(x_shape, dtype=dtype_of(x))
    flat = _along_last(x, axes)
    last = len(shape_of(flat)) - 1
    before = _shift(bind(cumprod_p, flat, axis=last), last, 1.0, forward=True)
    reversed_products = bind(cumprod_p, _flip(flat, last), axis=last)
    after = _shift(_flip(reversed_products, last), last, 1.0, forward=False)
    return _from_last(base.multiply(before, after), x_shape, axes)


def _prod_impl(x: Array, *, axis: tuple[int, ...], keepdims: bool) -> Array:
    return np.prod(x, axis=axis, keepdims=keepdims)


prod_p = Primitive("prod", _prod_impl)
defjvp(prod_p, lambda t, ans, x, *, axis, keepdims:
       reduce_sum(t * _others_product(x, axis), axis, keepdims))
defvjp(prod_p, lambda g, ans, x, *, axis, keepdims:
       _expand_back(g, x, axis, keepdims) * _others_product(x, axis))


# ---------------------------------------------------------------------------------------------
# cumulative sums and products


def _index_along(x: Array, axis: int, index: Any) -> Array:
    return base_indexing.getitem(x, (slice(None),) * axis + (index,))


def _flip(x: Array, axis: int) -> Array:
    return _index_along(x, axis, slice(None, None, -1))


def _shift(x: Array, axis: int, fill: float, *, forward: bool) -> Array:
    """``x`` shifted by one along ``axis`` (toward higher indices when ``forward``), the vacated
    place filled with ``fill``."""
    pad_shape = tuple(1 if i == axis else d for i, d in enumerate(shape_of(x)))
    pad = np.full(pad_shape, fill, dtype=dtype_of(x))
    if forward:
        return concatenate([pad, _index_along(x, axis, slice(None, -1))], axis=axis)
    return concatenate([_index_along(x, axis, slice(1, None)), pad], axis=axis)


def linear_recurrence(a: Array, b: Array, axis: int, *, reverse: bool = False) -> Array:
    """``h`` with ``h[i] = a[i] * h[i-1] + b[i]`` along ``axis`` (``h[-1] = 0``, so ``a[0]`` is
    unused); with ``reverse``, ``h[i] = a[i+1] * h[i+1] + b[i]``, its transpose.

    A composition of slices, products and sums in log2(n) doubling steps, so it is
    differentiable to any order and never divides.
    """
    if reverse:
        a = _shift(_flip(a, axis), axis, 0.0, forward=True)
        return _flip(linear_recurrence(a, _flip(b, axis), axis), axis)
    n = shape_of(b)[axis]
    a = base.broadcast_to(a, shape_of(b))
    step = 1
    while step < n:
        head = slice(None, n - step)
        tail = slice(step, None)
        a_tail = _index_along(a, axis, tail)
        b_new = a_tail * _index_along(b, axis, head) + _index_along(b, axis, tail)
        b = concatenate([_index_along(b, axis, slice(None, step)), b_new], axis=axis)
        if 2 * step < n:
            a_new = a_tail * _index_along(a, axis, head)
            a = concatenate([_index_along(a, axis, slice(None, step)), a_new], axis=axis)
        step *= 2
    return b


cumsum_p: Primitive
cumsum_p = linear(
    "cumsum", lambda x, *, axis: np.cumsum(x, axis=axis),
    lambda g, x, *, axis: _flip(bind(cumsum_p, _flip(g, axis), axis=axis), axis), batch="axis",
)


# The tangent of cumprod is h[i] = x[i] h[i-1] + t[i] P[i-1] (P: the cumulative product), and
# its cotangent is P[j-1] S[j] with S[j] = g[j] + x[j+1] S[j+1]: linear recurrences, with no
# division by x.
cumprod_p = Primitive("cumprod", lambda x, *, axis: np.cumprod(x, axis=axis))
defjvp(cumprod_p, lambda t, ans, x, *, axis:
       linear_recurrence(x, t * _shift(ans, axis, 1.0, forward=True), axis))
defvjp(cumprod_p, lambda g, ans, x, *, axis:
       _shift(ans, axis, 1.0, forward=True) * linear_recurrence(x, g, axis, reverse=True))


# ---------------------------------------------------------------------------------------------
# max and min


def _extremum_weights(x: Array, ans: Array, axis: tuple[int, ...], keepdims: bool) -> Array:
    """1/k on the k elements of each reduction equal to its result (or NaN when it is NaN),
    0 elsewhere: ties share the derivative equally and it always sums to one."""
    hit = nondiff.logical_or(
        nondiff.equal(x, _keep_dims(ans, x, axis, keepdims)), nondiff.isnan(x)
    )
    dtype = dtype_of(x)
    count = reduce_sum(hit, axis, True)
    return base.astype(hit, dtype) / base.astype(count, dtype)


def _extremum_jvp(t: Array, ans: Array, x: Array, *, axis: tuple[int, ...],
                  keepdims: bool) -> Array:
    return reduce_sum(t * _extremum_weights(x, ans, axis, keepdims), axis, keepdims)


def _extremum_vjp(g: Array, ans: Array, x: Array, *, axis: tuple[int, ...],
                  keepdims: bool) -> Array:
    return _expand_back(g, x, axis, keepdims) * _extremum_weights(x, ans, axis, keepdims)


max_p = Primitive("max", lambda x, *, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims))
defjvp(max_p, _extremum_jvp)
defvjp(max_p, _extremum_vjp)
min_p = Primitive("min", lambda x, *, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims))
defjvp(min_p, _extremum_jvp)
defvjp(min_p, _extremum_vjp)


# ---------------------------------------------------------------------------------------------
# statistics (compositions)


# ---------------------------------------------------------------------------------------------
# NumPy dispatch: functions, and the ufunc methods np.add.reduce, np.multiply.accumulate, ...


# Every reduction here takes its axes as a parameter: the batch axis goes in front.
for _prim in (prod_p, max_p, min_p, cumprod_p):
    batch_axis_param(_prim)


# Real arguments give real results.
declare_real_closed(globals())
# Linear and multilinear maps and selections: their rules are right for complex values as
# written (transposes without conjugation, JAX's convention).
declare_complex(*(v for v in list(globals().values()) if isinstance(v, Primitive)))
