"""Reductions over axes (sum, prod, max, min and the statistics built on them) and cumulative
sums and products.

Derivative conventions: where several elements share the maximum (or minimum) the derivative
is split equally among them, so it sums to one; ``prod`` and ``cumprod`` never divide by the
input, so zeros in it give exact derivatives of every order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fjac._core import Primitive, bind, try_concrete
from fjac._dispatch import register_function, register_ufunc_method
from fjac._dtypes import dtype_of
from fjac._edge import shape_of
from fjac._primitives import base, base_indexing, elementwise, nondiff, shape
from fjac._primitives.base import _expand_back, _keep_dims, batch_axis_param, normalize_axis, sum_p
from fjac._rules import defjvp, defvjp, keep_residuals

Array = Any

# The names fjac.numpy exports from this family.
__all__ = [
    "sum",
    "prod",
    "mean",
    "average",
    "var",
    "std",
    "max",
    "min",
    "amax",
    "amin",
    "ptp",
    "cumsum",
    "cumprod",
    "cumulative_sum",
    "cumulative_prod",
]


def _unsupported(fname: str, **options: Any) -> None:
    """Raise for a NumPy option fjac does not implement (None, or True for ``where``: unset).

    ``fname`` is a name in fjac.numpy, or a full name such as ``numpy.add.reduce``.
    """
    label = fname if fname.startswith("numpy.") else f"fjac.numpy.{fname}"
    for name, value in options.items():
        if value is None or (name == "where" and value is True):
            continue
        if name == "out":
            hint = "traced arrays are immutable; use the returned value instead"
        elif name == "where":
            hint = "mask the input instead, e.g. sum(where(mask, a, 0))"
        else:
            hint = "leave it out"
        raise TypeError(f"{label}: {name}= is not supported; {hint}")


def _count(x_shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return math.prod([x_shape[i] for i in axes])


# ---------------------------------------------------------------------------------------------
# sum and prod


def sum(  # noqa: A001
    a: Array, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False,
    initial: Any = None, where: Any = None,
) -> Array:
    """Sum of array elements over ``axis`` (None: all; an int or a tuple; negatives allowed)."""
    if out is not None or where is not None:
        _unsupported("sum", out=out, where=where)
    if dtype is not None:
        a = base.astype(a, dtype)
    axes = normalize_axis(axis, len(shape_of(a)))
    total = bind(sum_p, a, axis=axes, keepdims=bool(keepdims))
    return total if initial is None else base.add(total, initial)


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
    before = _shift(cumprod(flat, axis=last), last, 1.0, forward=True)
    after = _shift(_flip(cumprod(_flip(flat, last), axis=last), last), last, 1.0, forward=False)
    return _from_last(base.multiply(before, after), x_shape, axes)


def _prod_impl(x: Array, *, axis: tuple[int, ...], keepdims: bool) -> Array:
    return np.prod(x, axis=axis, keepdims=keepdims)


prod_p = Primitive("prod", _prod_impl)
defjvp(prod_p, lambda t, ans, x, *, axis, keepdims:
       sum(t * _others_product(x, axis), axis=axis, keepdims=keepdims))
defvjp(prod_p, lambda g, ans, x, *, axis, keepdims:
       _expand_back(g, x, axis, keepdims) * _others_product(x, axis))


def prod(
    a: Array, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False,
    initial: Any = None, where: Any = None,
) -> Array:
    """Product of array elements over ``axis``.

    The derivative in each element is the product of the others, computed without dividing,
    so it is exact with zeros: with one zero only that element has a nonzero derivative; with
    two or more, all derivatives are 0.
    """
    _unsupported("prod", out=out, where=where)
    if dtype is not None:
        a = base.astype(a, dtype)
    axes = normalize_axis(axis, len(shape_of(a)))
    total = bind(prod_p, a, axis=axes, keepdims=bool(keepdims))
    return total if initial is None else base.multiply(total, initial)


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
        return shape.concatenate([pad, _index_along(x, axis, slice(None, -1))], axis=axis)
    return shape.concatenate([_index_along(x, axis, slice(1, None)), pad], axis=axis)


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
        b = shape.concatenate([_index_along(b, axis, slice(None, step)), b_new], axis=axis)
        if 2 * step < n:
            a_new = a_tail * _index_along(a, axis, head)
            a = shape.concatenate([_index_along(a, axis, slice(None, step)), a_new], axis=axis)
        step *= 2
    return b


cumsum_p = Primitive("cumsum", lambda x, *, axis: np.cumsum(x, axis=axis))
defjvp(cumsum_p, lambda t, ans, x, *, axis: bind(cumsum_p, t, axis=axis))
defvjp(cumsum_p, lambda g, ans, x, *, axis: _flip(bind(cumsum_p, _flip(g, axis), axis=axis), axis))


def _cumulative_args(a: Array, axis: Any, dtype: Any, name: str) -> tuple[Array, int]:
    """The array and axis a cumulative operation runs along (the flattened array for None)."""
    if dtype is not None:
        a = base.astype(a, dtype)
    if axis is None:
        return base.ravel(a), 0
    ndim = len(shape_of(a))
    if ndim == 0:
        raise ValueError(f"fjac.numpy.{name}: axis={axis} is out of bounds for a 0-d array")
    return a, normalize_axis(int(axis), ndim)[0]


def cumsum(a: Array, axis: int | None = None, dtype: Any = None, out: None = None) -> Array:
    """Cumulative sum along ``axis`` (of the flattened array when None)."""
    _unsupported("cumsum", out=out)
    a, ax = _cumulative_args(a, axis, dtype, "cumsum")
    return bind(cumsum_p, a, axis=ax)


# The tangent of cumprod is h[i] = x[i] h[i-1] + t[i] P[i-1] (P: the cumulative product), and
# its cotangent is P[j-1] S[j] with S[j] = g[j] + x[j+1] S[j+1]: linear recurrences, with no
# division by x.
cumprod_p = Primitive("cumprod", lambda x, *, axis: np.cumprod(x, axis=axis))
defjvp(cumprod_p, lambda t, ans, x, *, axis:
       linear_recurrence(x, t * _shift(ans, axis, 1.0, forward=True), axis))
defvjp(cumprod_p, lambda g, ans, x, *, axis:
       _shift(ans, axis, 1.0, forward=True) * linear_recurrence(x, g, axis, reverse=True))


def cumprod(a: Array, axis: int | None = None, dtype: Any = None, out: None = None) -> Array:
    """Cumulative product along ``axis`` (of the flattened array when None). Derivatives are
    exact with zeros in ``a`` (no division), at a cost of O(n log n) along the axis."""
    _unsupported("cumprod", out=out)
    a, ax = _cumulative_args(a, axis, dtype, "cumprod")
    return bind(cumprod_p, a, axis=ax)


def _with_initial(c: Array, ax: int, fill: float) -> Array:
    pad_shape = tuple(1 if i == ax else d for i, d in enumerate(shape_of(c)))
    return shape.concatenate([np.full(pad_shape, fill, dtype=dtype_of(c)), c], axis=ax)


def cumulative_sum(
    x: Array, /, *, axis: int | None = None, dtype: Any = None, out: None = None,
    include_initial: bool = False,
) -> Array:
    """Cumulative sum along ``axis`` (required unless ``x`` is 1-D), optionally starting
    with 0."""
    ax = _cumulative_axis(x, axis, "cumulative_sum")
    c = cumsum(x, axis=ax, dtype=dtype, out=out)
    return _with_initial(c, ax, 0.0) if include_initial else c


def cumulative_prod(
    x: Array, /, *, axis: int | None = None, dtype: Any = None, out: None = None,
    include_initial: bool = False,
) -> Array:
    """Cumulative product along ``axis`` (required unless ``x`` is 1-D), optionally starting
    with 1."""
    ax = _cumulative_axis(x, axis, "cumulative_prod")
    c = cumprod(x, axis=ax, dtype=dtype, out=out)
    return _with_initial(c, ax, 1.0) if include_initial else c


def _cumulative_axis(x: Array, axis: int | None, name: str) -> int:
    ndim = len(shape_of(x))
    if axis is None:
        if ndim != 1:
            raise ValueError(
                f"fjac.numpy.{name}: axis must be given for an array of dimension {ndim}"
            )
        return 0
    return normalize_axis(int(axis), ndim)[0]


# ---------------------------------------------------------------------------------------------
# max and min


def _extremum_weights(x: Array, ans: Array, axis: tuple[int, ...], keepdims: bool) -> Array:
    """1/k on the k elements of each reduction equal to its result (or NaN when it is NaN),
    0 elsewhere: ties share the derivative equally and it always sums to one."""
    hit = nondiff.logical_or(
        nondiff.equal(x, _keep_dims(ans, x, axis, keepdims)), nondiff.isnan(x)
    )
    dtype = dtype_of(x)
    count = sum(hit, axis=axis, keepdims=True)
    return base.astype(hit, dtype) / base.astype(count, dtype)


def _extremum_jvp(t: Array, ans: Array, x: Array, *, axis: tuple[int, ...],
                  keepdims: bool) -> Array:
    return sum(t * _extremum_weights(x, ans, axis, keepdims), axis=axis, keepdims=keepdims)


def _extremum_vjp(g: Array, ans: Array, x: Array, *, axis: tuple[int, ...],
                  keepdims: bool) -> Array:
    return _expand_back(g, x, axis, keepdims) * _extremum_weights(x, ans, axis, keepdims)


max_p = Primitive("max", lambda x, *, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims))
defjvp(max_p, _extremum_jvp)
defvjp(max_p, _extremum_vjp)
min_p = Primitive("min", lambda x, *, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims))
defjvp(min_p, _extremum_jvp)
defvjp(min_p, _extremum_vjp)


def _extremum(
    prim: Primitive, name: str, a: Array, axis: Any, out: None, keepdims: bool, initial: Any,
    where: Any,
) -> Array:
    _unsupported(name, out=out, where=where)
    axes = normalize_axis(axis, len(shape_of(a)))
    if initial is None:
        return bind(prim, a, axis=axes, keepdims=bool(keepdims))
    if _count(shape_of(a), axes) == 0:  # an empty reduction is ``initial`` itself
        zeros = np.zeros(shape_of(a), dtype_of(a)).sum(axis=axes, keepdims=bool(keepdims))
        return base.add(zeros, initial)
    pick = elementwise.maximum if prim is max_p else elementwise.minimum
    return pick(bind(prim, a, axis=axes, keepdims=bool(keepdims)), initial)


def max(  # noqa: A001
    a: Array, axis: Any = None, out: None = None, keepdims: bool = False, initial: Any = None,
    where: Any = None,
) -> Array:
    """Maximum over ``axis``. Where several elements share the maximum, the derivative is
    split equally among them (it sums to one, never NaN)."""
    return _extremum(max_p, "max", a, axis, out, keepdims, initial, where)


def min(  # noqa: A001
    a: Array, axis: Any = None, out: None = None, keepdims: bool = False, initial: Any = None,
    where: Any = None,
) -> Array:
    """Minimum over ``axis``. Where several elements share the minimum, the derivative is
    split equally among them (it sums to one, never NaN)."""
    return _extremum(min_p, "min", a, axis, out, keepdims, initial, where)


amax = max
amin = min


def ptp(a: Array, axis: Any = None, out: None = None, keepdims: bool = False) -> Array:
    """Range (maximum minus minimum) over ``axis``."""
    _unsupported("ptp", out=out)
    return elementwise.subtract(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


# ---------------------------------------------------------------------------------------------
# statistics (compositions)


def mean(
    a: Array, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False, *,
    where: Any = None,
) -> Array:
    """Arithmetic mean over ``axis``."""
    _unsupported("mean", out=out, where=where)
    a_shape = shape_of(a)
    axes = normalize_axis(axis, len(a_shape))
    total = sum(a, axis=axes, dtype=dtype, keepdims=keepdims)
    return elementwise.divide(total, _count(a_shape, axes))


def average(
    a: Array, axis: Any = None, weights: Array = None, returned: bool = False, *,
    keepdims: bool = False,
) -> Any:
    """Weighted average over ``axis``, differentiable in ``a`` and in ``weights``.

    ``weights`` has the shape of ``a``, or is 1-D along a single ``axis``. With ``returned``,
    also returns the sum of the weights (broadcast to the result's shape).
    """
    a_shape = shape_of(a)
    axes = normalize_axis(axis, len(a_shape))
    if weights is None:
        avg = mean(a, axes, keepdims=keepdims)
        scale: Array = np.full(shape_of(avg), _count(a_shape, axes), dtype=dtype_of(avg))
    else:
        w = _weights_like(weights, a_shape, axis)
        scale = sum(w, axes, keepdims=keepdims)
        zero = try_concrete(nondiff.equal(scale, 0))  # (unknown under jit: no check)
        if zero is not None and np.any(zero):
            raise ZeroDivisionError("average: the weights sum to zero and cannot be normalized")
        avg = elementwise.divide(sum(a * w, axes, keepdims=keepdims), scale)
        scale = base.broadcast_to(scale, shape_of(avg))
    return (avg, scale) if returned else avg


def _weights_like(w: Array, a_shape: tuple[int, ...], axis: Any) -> Array:
    """``w`` reshaped to broadcast against ``a`` (1-D weights lie along ``axis``)."""
    w_shape = shape_of(w)
    if w_shape == a_shape:
        return w
    if axis is None:
        raise TypeError("average: axis must be given when a and weights have different shapes")
    if not isinstance(axis, (int, np.integer)) or len(w_shape) != 1:
        raise TypeError(
            f"average: weights of shape {w_shape} for a of shape {a_shape}: give weights of "
            "a's shape, or 1-D weights along a single int axis"
        )
    ax = normalize_axis(int(axis), len(a_shape))[0]
    if w_shape[0] != a_shape[ax]:
        raise ValueError(f"average: {w_shape[0]} weights for an axis of length {a_shape[ax]}")
    return base.reshape(w, tuple(-1 if i == ax else 1 for i in range(len(a_shape))))


def var(
    a: Array, axis: Any = None, dtype: Any = None, out: None = None, ddof: float = 0,
    keepdims: bool = False, *, where: Any = None, mean: Array = None, correction: Any = None,
) -> Array:
    """Variance over ``axis``: ``sum((a - a.mean())**2) / (n - ddof)`` (``correction`` is an
    alias of ``ddof``; ``mean`` a precomputed mean with ``keepdims=True``)."""
    _unsupported("var", out=out, where=where)
    a_shape = shape_of(a)
    axes = normalize_axis(axis, len(a_shape))
    if correction is not None:
        if ddof != 0:
            raise ValueError("var: give ddof or correction, not both")
        ddof = correction
    if dtype is not None:
        a = base.astype(a, dtype)
    center = _mean(a, axes, keepdims=True) if mean is None else mean
    squares = sum(elementwise.square(a - center), axes, keepdims=keepdims)
    dof = _count(a_shape, axes) - ddof
    return elementwise.divide(squares, dof if dof > 0 else 0)


_mean = mean  # (var's keyword ``mean`` shadows the function inside var)


def std(
    a: Array, axis: Any = None, dtype: Any = None, out: None = None, ddof: float = 0,
    keepdims: bool = False, *, where: Any = None, mean: Array = None, correction: Any = None,
) -> Array:
    """Standard deviation over ``axis``: the square root of ``var``.

    Where the variance is 0 (all elements equal), the derivative is taken as 0 rather than
    NaN: std is not differentiable there, and 0 is a subgradient (like ``abs`` at 0).
    """
    v = var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
    zero = nondiff.equal(v, 0)
    known = try_concrete(zero)  # (all examples at once under vmap; None under jit)
    if known is not None and not np.any(known):
        return elementwise.sqrt(v)
    return elementwise.where(zero, 0.0, elementwise.sqrt(elementwise.where(zero, 1.0, v)))


# ---------------------------------------------------------------------------------------------
# NumPy dispatch: functions, and the ufunc methods np.add.reduce, np.multiply.accumulate, ...


def _ufunc_reduction(fn: Any, name: str) -> Any:
    def reduce(
        a: Array, axis: Any = 0, dtype: Any = None, out: Any = None, keepdims: bool = False,
        initial: Any = None, where: Any = None,
    ) -> Array:
        _unsupported(name, out=out, where=where)
        if dtype is not None:
            a = base.astype(a, dtype)
        return fn(a, axis=axis, keepdims=keepdims, initial=initial)

    return reduce


def _ufunc_accumulation(fn: Any, name: str) -> Any:
    def accumulate(a: Array, axis: int = 0, dtype: Any = None, out: Any = None) -> Array:
        _unsupported(name, out=out)
        return fn(a, axis=axis, dtype=dtype)

    return accumulate


register_ufunc_method(np.add, "reduce", _ufunc_reduction(sum, "numpy.add.reduce"))
register_ufunc_method(np.multiply, "reduce", _ufunc_reduction(prod, "numpy.multiply.reduce"))
register_ufunc_method(np.maximum, "reduce", _ufunc_reduction(max, "numpy.maximum.reduce"))
register_ufunc_method(np.minimum, "reduce", _ufunc_reduction(min, "numpy.minimum.reduce"))
register_ufunc_method(np.add, "accumulate", _ufunc_accumulation(cumsum, "numpy.add.accumulate"))
register_ufunc_method(
    np.multiply, "accumulate", _ufunc_accumulation(cumprod, "numpy.multiply.accumulate")
)

_FUNCTIONS: list[tuple[Any, Any]] = [
    (np.sum, sum), (np.prod, prod), (np.mean, mean), (np.average, average), (np.var, var),
    (np.std, std), (np.max, max), (np.min, min), (np.amax, amax), (np.amin, amin),
    (np.ptp, ptp), (np.cumsum, cumsum), (np.cumprod, cumprod),
    (np.cumulative_sum, cumulative_sum), (np.cumulative_prod, cumulative_prod),
]
for _np_fn, _fn in _FUNCTIONS:
    register_function(_np_fn, _fn)




# Every reduction here takes its axes as a parameter: the batch axis goes in front.
for _prim in (prod_p, max_p, min_p, cumsum_p, cumprod_p):
    batch_axis_param(_prim)

# These vjp rules read only shapes (the rest of the residuals are dropped when recorded).
keep_residuals("shapes", cumsum_p)
