"""fjac.numpy's functions without a derivative: comparisons, predicates, logical operations,
rounding, index-valued functions, truth reductions, closeness tests, arrays shaped like their
argument, and dtype and shape queries.

Array-valued ones bind the non-differentiable primitives of ``fjac._primitives.nondiff``, so
called on tracers they return plain NumPy values; the queries (``shape``, ``ndim``, ``size``,
``result_type``) only read static information.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fjac._core import Tracer, bind, shape_of
from fjac._dtypes import dtype_of
from fjac._primitives import nondiff as P
from fjac._primitives.base import astype, broadcast_to, normalize_axis, ravel
from fjac._primitives.complex_parts import is_complex
from fjac._primitives.elementwise import absolute, divide, where
from fjac.numpy._dispatch import implements, refuse_out

Array = Any

__all__ = [
    "isnan", "isfinite", "isinf", "signbit", "logical_not", "logical_and", "logical_or",
    "logical_xor", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "sign", "floor", "ceil", "trunc", "rint", "fix", "round", "around", "floor_divide",
    "argmax", "argmin", "argsort", "nonzero", "all", "any", "isclose", "allclose",
    "array_equal", "zeros_like", "ones_like", "empty_like", "full_like", "result_type",
    "shape", "ndim", "size",
]

isnan = implements(np.isnan)(P.isnan)
isfinite = implements(np.isfinite)(P.isfinite)
isinf = implements(np.isinf)(P.isinf)
signbit = implements(np.signbit)(P.signbit)
logical_not = implements(np.logical_not)(P.logical_not)
logical_and = implements(np.logical_and)(P.logical_and)
logical_or = implements(np.logical_or)(P.logical_or)
logical_xor = implements(np.logical_xor)(P.logical_xor)
equal = implements(np.equal, method="__eq__")(P.equal)
not_equal = implements(np.not_equal, method="__ne__")(P.not_equal)
less = implements(np.less, method="__lt__")(P.less)
less_equal = implements(np.less_equal, method="__le__")(P.less_equal)
greater = implements(np.greater, method="__gt__")(P.greater)
greater_equal = implements(np.greater_equal, method="__ge__")(P.greater_equal)
@implements(np.sign)
def sign(x: Array) -> Array:
    """Elementwise sign: -1, 0 or 1 for real ``x`` (no derivative); ``x / |x|`` (0 at 0) for
    complex ``x``, as NumPy 2 defines it, differentiable away from 0. (JAX's sign of a
    complex value has a zero derivative instead.)"""
    if is_complex(x):
        ab = absolute(x)
        zero = P.equal(ab, 0)
        return where(zero, 0.0, divide(x, where(zero, 1.0, ab)))
    return P.sign(x)
floor = implements(np.floor)(P.floor)
ceil = implements(np.ceil)(P.ceil)
trunc = implements(np.trunc)(P.trunc)
rint = implements(np.rint)(P.rint)
fix = implements(np.fix)(P.fix)
floor_divide = implements(
    np.floor_divide, method="__floordiv__", reflected="__rfloordiv__"
)(P.floor_divide)


@implements(np.round, np.around, method="round")
def round(a: Array, decimals: int = 0, out: None = None) -> Array:  # noqa: A001
    """Elementwise rounding to ``decimals`` decimals (halves to even); its derivative is zero."""
    refuse_out("round", out)
    return bind(P.round_p, a, decimals=int(decimals))


around = round


def _one_axis(axis: Any, ndim: int) -> int | None:
    """``axis`` (None or one int, negative allowed) as None or a non-negative int."""
    if axis is None:
        return None
    return normalize_axis(int(axis), ndim)[0]


@implements(np.argmax, method="argmax")
def argmax(a: Array, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Array:
    """Indices of the (first) maximum along ``axis`` (of the flattened array when None)."""
    refuse_out("argmax", out)
    axis = _one_axis(axis, len(shape_of(a)))
    return bind(P.argmax_p, a, axis=axis, keepdims=bool(keepdims))


@implements(np.argmin, method="argmin")
def argmin(a: Array, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Array:
    """Indices of the (first) minimum along ``axis`` (of the flattened array when None)."""
    refuse_out("argmin", out)
    axis = _one_axis(axis, len(shape_of(a)))
    return bind(P.argmin_p, a, axis=axis, keepdims=bool(keepdims))


@implements(np.argsort, method="argsort")
def argsort(
    a: Array, axis: int | None = -1, kind: str | None = None, order: None = None, *,
    stable: bool | None = None,
) -> Array:
    """The indices that sort ``a`` along ``axis`` (of the flattened array when None)."""
    if order is not None:
        raise TypeError("fjac.numpy.argsort: order= (for structured arrays) is not supported")
    if axis is None:  # the flattened array: an explicit reshape, so batching sees one axis
        a, axis = ravel(a), -1
    axis = _one_axis(axis, len(shape_of(a)))
    return bind(P.argsort_p, a, axis=axis, kind=kind, stable=stable)


@implements(np.nonzero, method="nonzero")
def nonzero(a: Array) -> tuple[Array, ...]:
    """The indices of the nonzero elements: one integer array per axis."""
    return tuple(bind(P.nonzero_p, a))


@implements(np.isclose)
def isclose(
    a: Array, b: Array, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Array:
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (a boolean array, never traced)."""
    return bind(P.isclose_p, a, b, rtol=rtol, atol=atol, equal_nan=bool(equal_nan))


@implements(np.allclose)
def allclose(
    a: Array, b: Array, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """Whether ``isclose(a, b)`` holds everywhere (a Python bool)."""
    return bool(bind(P.allclose_p, a, b, rtol=rtol, atol=atol, equal_nan=bool(equal_nan)))


@implements(np.array_equal)
def array_equal(a1: Array, a2: Array, equal_nan: bool = False) -> bool:
    """Whether two arrays have the same shape and elements (a Python bool)."""
    return bool(bind(P.array_equal_p, a1, a2, equal_nan=bool(equal_nan)))


def _check_like_options(name: str, order: str, device: Any) -> None:
    if order not in ("K", "A", "C"):
        raise ValueError(f"fjac.numpy.{name}: order={order!r} is not supported; use 'C'")
    if device not in (None, "cpu"):
        raise ValueError(f"fjac.numpy.{name}: device={device!r} is not supported; use 'cpu'")


def _shape_param(shape: Any) -> tuple[int, ...] | None:
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


@implements(np.full_like)
def full_like(
    a: Array, fill_value: Array, dtype: Any = None, order: str = "K", subok: bool = True,
    shape: Any = None, *, device: Any = None,
) -> Array:
    """An array with the shape and dtype of ``a`` filled with ``fill_value``.

    The result depends on ``a`` only through its shape and dtype, so it is never traced for
    ``a``; a traced ``fill_value`` is broadcast, and differentiated.
    """
    _check_like_options("full_like", order, device)
    dims = _shape_param(shape)
    if isinstance(fill_value, Tracer):
        out_dtype = dtype_of(a) if dtype is None else np.dtype(dtype)
        out_shape = shape_of(a) if dims is None else dims
        return broadcast_to(astype(fill_value, out_dtype), out_shape)
    return bind(P.full_like_p, a, fill_value, dtype=dtype, shape=dims)


@implements(np.result_type)
def result_type(*arrays_and_dtypes: Any) -> np.dtype[Any]:
    """The dtype NumPy's promotion rules give these arrays, numbers and dtypes (Python numbers
    are "weak": ``result_type(float32_array, 1.0)`` is float32)."""
    return np.result_type(
        *(x.dtype if isinstance(x, Tracer) else x for x in arrays_and_dtypes)
    )


@implements(np.shape)
def shape(a: Array) -> tuple[int, ...]:
    """The shape of an array, tracer or number."""
    return shape_of(a)


@implements(np.ndim)
def ndim(a: Array) -> int:
    """The number of dimensions of an array, tracer or number."""
    return len(shape_of(a))


@implements(np.size)
def size(a: Array, axis: int | None = None) -> int:
    """The number of elements (along ``axis`` when given)."""
    dims = shape_of(a)
    if axis is None:
        return math.prod(dims)
    return dims[normalize_axis(axis, len(dims))[0]]



def _truth_reduction(name: str, prim: Any, doc: str) -> Any:
    def fn(
        a: Array, axis: Any = None, out: None = None, keepdims: bool = False, *,
        where: Any = None,
    ) -> Array:
        refuse_out(name, out)
        if where is not None and where is not True:
            raise TypeError(f"fjac.numpy.{name}: where= is not supported on traced arrays")
        axes = normalize_axis(axis, len(shape_of(a)))
        return bind(prim, a, axis=axes, keepdims=bool(keepdims))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


all = implements(np.all, method="all")(_truth_reduction(  # noqa: A001
    "all", P.all_p, "Whether all elements along ``axis`` are true (a boolean, never traced)."
))
any = implements(np.any, method="any")(_truth_reduction(  # noqa: A001
    "any", P.any_p, "Whether any element along ``axis`` is true (a boolean, never traced)."
))


def _like(name: str, prim: Any, doc: str) -> Any:
    def fn(
        a: Array, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, *,
        device: Any = None,
    ) -> Array:
        _check_like_options(name, order, device)
        return bind(prim, a, dtype=dtype, shape=_shape_param(shape))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


zeros_like = implements(np.zeros_like)(_like(
    "zeros_like", P.zeros_like_p,
    "Zeros with the shape and dtype of ``a`` (a plain array, never traced).",
))
ones_like = implements(np.ones_like)(_like(
    "ones_like", P.ones_like_p,
    "Ones with the shape and dtype of ``a`` (a plain array, never traced).",
))
empty_like = implements(np.empty_like)(_like(
    "empty_like", P.empty_like_p,
    "An uninitialized array with the shape and dtype of ``a`` (a plain array, never traced).",
))
