"""fjac.numpy's reductions: sums, products, extrema and the statistics built on them (mean,
average, var, std, ptp), cumulative sums and products, and the ufunc methods that are
reductions (``np.add.reduce``, ``np.multiply.accumulate``, ...).

Options NumPy has and fjac does not (``out=``, ``where=``) raise. The primitives (``sum`` in
``fjac._primitives.base``, the others in ``fjac._primitives.reductions``) carry the rules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fjac._core import Primitive, bind, shape_of, try_concrete
from fjac._dtypes import dtype_of
from fjac._primitives import base as B
from fjac._primitives import elementwise as E
from fjac._primitives import nondiff as N
from fjac._primitives import reductions as P
from fjac._primitives.base import normalize_axis
from fjac._primitives.complex_parts import imag, is_complex, real
from fjac._primitives.shape import concatenate
from fjac.numpy._dispatch import implements, refuse_out

Array = Any

__all__ = [
    "sum", "prod", "mean", "average", "var", "std", "max", "min", "amax", "amin", "ptp",
    "cumsum", "cumprod", "cumulative_sum", "cumulative_prod",
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
            refuse_out(fname, value)
        if name == "where":
            hint = "mask the input instead, e.g. sum(where(mask, a, 0))"
        else:
            hint = "leave it out"
        raise TypeError(f"{label}: {name}= is not supported; {hint}")


def _count(x_shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return math.prod([x_shape[i] for i in axes])


@implements(np.sum, method="sum")
def sum(  # noqa: A001
    a: Array, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False,
    initial: Any = None, where: Any = None,
) -> Array:
    """Sum of array elements over ``axis`` (None: all; an int or a tuple; negatives allowed)."""
    if out is not None or where is not None:
        _unsupported("sum", out=out, where=where)
    if dtype is not None:
        a = B.astype(a, dtype)
    axes = normalize_axis(axis, len(shape_of(a)))
    total = bind(B.sum_p, a, axis=axes, keepdims=bool(keepdims))
    return total if initial is None else B.add(total, initial)


@implements(np.prod, method="prod")
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
        a = B.astype(a, dtype)
    axes = normalize_axis(axis, len(shape_of(a)))
    total = bind(P.prod_p, a, axis=axes, keepdims=bool(keepdims))
    return total if initial is None else B.multiply(total, initial)


def _cumulative_args(a: Array, axis: Any, dtype: Any, name: str) -> tuple[Array, int]:
    """The array and axis a cumulative operation runs along (the flattened array for None)."""
    if dtype is not None:
        a = B.astype(a, dtype)
    if axis is None:
        return B.ravel(a), 0
    ndim = len(shape_of(a))
    if ndim == 0:
        raise ValueError(f"fjac.numpy.{name}: axis={axis} is out of bounds for a 0-d array")
    return a, normalize_axis(int(axis), ndim)[0]


@implements(np.cumsum, method="cumsum")
def cumsum(a: Array, axis: int | None = None, dtype: Any = None, out: None = None) -> Array:
    """Cumulative sum along ``axis`` (of the flattened array when None)."""
    _unsupported("cumsum", out=out)
    a, ax = _cumulative_args(a, axis, dtype, "cumsum")
    return bind(P.cumsum_p, a, axis=ax)


@implements(np.cumprod, method="cumprod")
def cumprod(a: Array, axis: int | None = None, dtype: Any = None, out: None = None) -> Array:
    """Cumulative product along ``axis`` (of the flattened array when None). Derivatives are
    exact with zeros in ``a`` (no division), at a cost of O(n log n) along the axis."""
    _unsupported("cumprod", out=out)
    a, ax = _cumulative_args(a, axis, dtype, "cumprod")
    return bind(P.cumprod_p, a, axis=ax)


def _with_initial(c: Array, ax: int, fill: float) -> Array:
    pad_shape = tuple(1 if i == ax else d for i, d in enumerate(shape_of(c)))
    return concatenate([np.full(pad_shape, fill, dtype=dtype_of(c)), c], axis=ax)


@implements(np.cumulative_sum)
def cumulative_sum(
    x: Array, /, *, axis: int | None = None, dtype: Any = None, out: None = None,
    include_initial: bool = False,
) -> Array:
    """Cumulative sum along ``axis`` (required unless ``x`` is 1-D), optionally starting
    with 0."""
    ax = _cumulative_axis(x, axis, "cumulative_sum")
    c = cumsum(x, axis=ax, dtype=dtype, out=out)
    return _with_initial(c, ax, 0.0) if include_initial else c


@implements(np.cumulative_prod)
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
        return B.add(zeros, initial)
    pick = E.maximum if prim is P.max_p else E.minimum
    return pick(bind(prim, a, axis=axes, keepdims=bool(keepdims)), initial)


@implements(np.max, np.amax, method="max")
def max(  # noqa: A001
    a: Array, axis: Any = None, out: None = None, keepdims: bool = False, initial: Any = None,
    where: Any = None,
) -> Array:
    """Maximum over ``axis``. Where several elements share the maximum, the derivative is
    split equally among them (it sums to one, never NaN)."""
    return _extremum(P.max_p, "max", a, axis, out, keepdims, initial, where)


@implements(np.min, np.amin, method="min")
def min(  # noqa: A001
    a: Array, axis: Any = None, out: None = None, keepdims: bool = False, initial: Any = None,
    where: Any = None,
) -> Array:
    """Minimum over ``axis``. Where several elements share the minimum, the derivative is
    split equally among them (it sums to one, never NaN)."""
    return _extremum(P.min_p, "min", a, axis, out, keepdims, initial, where)


amax = max


amin = min


@implements(np.ptp)
def ptp(a: Array, axis: Any = None, out: None = None, keepdims: bool = False) -> Array:
    """Range (maximum minus minimum) over ``axis``."""
    _unsupported("ptp", out=out)
    return E.subtract(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


@implements(np.mean, method="mean")
def mean(
    a: Array, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False, *,
    where: Any = None,
) -> Array:
    """Arithmetic mean over ``axis``."""
    _unsupported("mean", out=out, where=where)
    a_shape = shape_of(a)
    axes = normalize_axis(axis, len(a_shape))
    total = sum(a, axis=axes, dtype=dtype, keepdims=keepdims)
    return E.divide(total, _count(a_shape, axes))


@implements(np.average)
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
        zero = try_concrete(N.equal(scale, 0))  # (unknown under jit: no check)
        if zero is not None and np.any(zero):
            raise ZeroDivisionError("average: the weights sum to zero and cannot be normalized")
        avg = E.divide(sum(a * w, axes, keepdims=keepdims), scale)
        if dtype_of(scale) != dtype_of(avg):  # NumPy sums the weights in the result's dtype
            scale = B.astype(scale, dtype_of(avg))
        scale = B.broadcast_to(scale, shape_of(avg))
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
    return B.reshape(w, tuple(-1 if i == ax else 1 for i in range(len(a_shape))))



_mean = mean  # (var's keyword ``mean`` shadows the function inside var)

@implements(np.var, method="var")
def var(
    a: Array, axis: Any = None, dtype: Any = None, out: None = None, ddof: float = 0,
    keepdims: bool = False, *, where: Any = None, mean: Array = None, correction: Any = None,
) -> Array:
    """Variance over ``axis``: ``sum(|a - a.mean()|**2) / (n - ddof)``, real for complex ``a``
    as in NumPy (``correction`` is an alias of ``ddof``; ``mean`` a precomputed mean with
    ``keepdims=True``)."""
    _unsupported("var", out=out, where=where)
    a_shape = shape_of(a)
    axes = normalize_axis(axis, len(a_shape))
    if correction is not None:
        if ddof != 0:
            raise ValueError("var: give ddof or correction, not both")
        ddof = correction
    if dtype is not None:
        a = B.astype(a, dtype)
    center = _mean(a, axes, keepdims=True) if mean is None else mean
    d = a - center
    if is_complex(d):
        squares = sum(E.square(real(d)) + E.square(imag(d)), axes, keepdims=keepdims)
    else:
        squares = sum(E.square(d), axes, keepdims=keepdims)
    dof = _count(a_shape, axes) - ddof
    return E.divide(squares, dof if dof > 0 else 0)


@implements(np.std, method="std")
def std(
    a: Array, axis: Any = None, dtype: Any = None, out: None = None, ddof: float = 0,
    keepdims: bool = False, *, where: Any = None, mean: Array = None, correction: Any = None,
) -> Array:
    """Standard deviation over ``axis``: the square root of ``var``.

    Where the variance is 0 (all elements equal), the derivative is taken as 0 rather than
    NaN: std is not differentiable there, and 0 is a subgradient (like ``abs`` at 0).
    """
    v = var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
    zero = N.equal(v, 0)
    known = try_concrete(zero)  # (all examples at once under vmap; None under jit)
    if known is not None and not np.any(known):
        return E.sqrt(v)
    return E.where(zero, 0.0, E.sqrt(E.where(zero, 1.0, v)))


def _ufunc_reduction(fn: Any, name: str) -> Any:
    def reduce(
        a: Array, axis: Any = 0, dtype: Any = None, out: Any = None, keepdims: bool = False,
        initial: Any = None, where: Any = None,
    ) -> Array:
        _unsupported(name, out=out, where=where)
        if dtype is not None:
            a = B.astype(a, dtype)
        return fn(a, axis=axis, keepdims=keepdims, initial=initial)

    return reduce


def _ufunc_accumulation(fn: Any, name: str) -> Any:
    def accumulate(a: Array, axis: int = 0, dtype: Any = None, out: Any = None) -> Array:
        _unsupported(name, out=out)
        return fn(a, axis=axis, dtype=dtype)

    return accumulate


implements((np.add, "reduce"))(_ufunc_reduction(sum, "numpy.add.reduce"))


implements((np.multiply, "reduce"))(_ufunc_reduction(prod, "numpy.multiply.reduce"))


implements((np.maximum, "reduce"))(_ufunc_reduction(max, "numpy.maximum.reduce"))


implements((np.minimum, "reduce"))(_ufunc_reduction(min, "numpy.minimum.reduce"))


implements((np.add, "accumulate"))(_ufunc_accumulation(cumsum, "numpy.add.accumulate"))


implements((np.multiply, "accumulate"))(_ufunc_accumulation(cumprod, "numpy.multiply.accumulate"))


