"""Non-differentiable helpers: predicates, logical operations, index-valued functions, array
constructors shaped like their argument, and dtype and shape queries.

Each array-valued helper is a primitive with ``nondiff=True``: called on tracers it returns a
plain NumPy value (a differentiating transform applies the implementation to the primal values
and records nothing), and it stays a primitive so that batching can give it a rule. The
queries (``shape``, ``ndim``, ``size``, ``result_type``) only read static information.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from fjac._core import Primitive, Tracer, bind
from fjac._dispatch import register_function, register_ufunc
from fjac._dtypes import dtype_of
from fjac._edge import shape_of
from fjac._ops import elementwise
from fjac._ops import shape as shape_ops
from fjac._primitives.base import (
    batch_axis_param,
    batch_elementwise,
    batch_unary,
    move_batch_axis,
    normalize_axis,
)
from fjac._rules import batch_rules, value_shaped

Array = Any

# The names fjac.numpy exports from this family.
__all__ = [
    "isnan",
    "isfinite",
    "isinf",
    "signbit",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "argmax",
    "argmin",
    "argsort",
    "nonzero",
    "all",
    "any",
    "isclose",
    "allclose",
    "array_equal",
    "zeros_like",
    "ones_like",
    "empty_like",
    "full_like",
    "result_type",
    "shape",
    "ndim",
    "size",
]


def _unary(name: str, ufunc: np.ufunc) -> tuple[Primitive, Callable[[Array], Array]]:
    prim = Primitive(name, ufunc, nondiff=True)
    batch_unary(prim)

    def fn(x: Array) -> Array:
        return bind(prim, x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``numpy.{name}``: a boolean array, never traced."
    return prim, fn


def _binary(name: str, ufunc: np.ufunc) -> tuple[Primitive, Callable[[Array, Array], Array]]:
    prim = Primitive(name, ufunc, nondiff=True)
    batch_elementwise(prim)

    def fn(x1: Array, x2: Array) -> Array:
        return bind(prim, x1, x2)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``numpy.{name}`` with broadcasting: a boolean array, never traced."
    return prim, fn


isnan_p, isnan = _unary("isnan", np.isnan)
isfinite_p, isfinite = _unary("isfinite", np.isfinite)
isinf_p, isinf = _unary("isinf", np.isinf)
signbit_p, signbit = _unary("signbit", np.signbit)
logical_not_p, logical_not = _unary("logical_not", np.logical_not)
logical_and_p, logical_and = _binary("logical_and", np.logical_and)
logical_or_p, logical_or = _binary("logical_or", np.logical_or)
logical_xor_p, logical_xor = _binary("logical_xor", np.logical_xor)


def _no_out(name: str, out: Any) -> None:
    if out is not None:
        raise TypeError(
            f"fjac.numpy.{name}: out= is not supported: traced arrays are immutable; use the "
            "returned value instead"
        )


def _one_axis(axis: Any, ndim: int) -> int | None:
    """``axis`` (None or one int, negative allowed) as None or a non-negative int."""
    if axis is None:
        return None
    return normalize_axis(int(axis), ndim)[0]


argmax_p = Primitive(
    "argmax", lambda x, *, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims),
    nondiff=True,
)
argmin_p = Primitive(
    "argmin", lambda x, *, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims),
    nondiff=True,
)


def argmax(a: Array, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Array:
    """Indices of the (first) maximum along ``axis`` (of the flattened array when None)."""
    _no_out("argmax", out)
    axis = _one_axis(axis, len(shape_of(a)))
    return bind(argmax_p, a, axis=axis, keepdims=bool(keepdims))


def argmin(a: Array, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Array:
    """Indices of the (first) minimum along ``axis`` (of the flattened array when None)."""
    _no_out("argmin", out)
    axis = _one_axis(axis, len(shape_of(a)))
    return bind(argmin_p, a, axis=axis, keepdims=bool(keepdims))


argsort_p = Primitive(
    "argsort",
    lambda x, *, axis, kind, stable: np.argsort(x, axis=axis, kind=kind, stable=stable),
    nondiff=True,
)


def argsort(
    a: Array, axis: int | None = -1, kind: str | None = None, order: None = None, *,
    stable: bool | None = None,
) -> Array:
    """The indices that sort ``a`` along ``axis`` (of the flattened array when None)."""
    if order is not None:
        raise TypeError("fjac.numpy.argsort: order= (for structured arrays) is not supported")
    if axis is None:  # the flattened array: an explicit reshape, so batching sees one axis
        a, axis = shape_ops.ravel(a), -1
    axis = _one_axis(axis, len(shape_of(a)))
    return bind(argsort_p, a, axis=axis, kind=kind, stable=stable)


nonzero_p = Primitive("nonzero", np.nonzero, nondiff=True, multiple_results=True)
value_shaped[nonzero_p] = lambda a: True  # as many indices as nonzero values


def nonzero(a: Array) -> tuple[Array, ...]:
    """The indices of the nonzero elements: one integer array per axis."""
    return tuple(bind(nonzero_p, a))


def _truth_reduction(name: str, np_fn: Any) -> tuple[Primitive, Callable[..., Array]]:
    prim = Primitive(
        name, lambda x, *, axis, keepdims: np_fn(x, axis=axis, keepdims=keepdims), nondiff=True
    )

    def fn(
        a: Array, axis: Any = None, out: None = None, keepdims: bool = False, *,
        where: Any = None,
    ) -> Array:
        _no_out(name, out)
        if where is not None and where is not True:
            raise TypeError(f"fjac.numpy.{name}: where= is not supported on traced arrays")
        axes = normalize_axis(axis, len(shape_of(a)))
        return bind(prim, a, axis=axes, keepdims=bool(keepdims))

    fn.__name__ = fn.__qualname__ = name
    return prim, fn


all_p, all = _truth_reduction("all", np.all)  # noqa: A001
all.__doc__ = "Whether all elements along ``axis`` are true (a boolean, never traced)."
any_p, any = _truth_reduction("any", np.any)  # noqa: A001
any.__doc__ = "Whether any element along ``axis`` is true (a boolean, never traced)."


isclose_p = Primitive(
    "isclose",
    lambda a, b, *, rtol, atol, equal_nan: np.isclose(
        a, b, rtol=rtol, atol=atol, equal_nan=equal_nan
    ),
    nondiff=True,
)


def isclose(
    a: Array, b: Array, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Array:
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (a boolean array, never traced)."""
    return bind(isclose_p, a, b, rtol=rtol, atol=atol, equal_nan=bool(equal_nan))


allclose_p = Primitive(
    "allclose",
    lambda a, b, *, rtol, atol, equal_nan: np.allclose(
        a, b, rtol=rtol, atol=atol, equal_nan=equal_nan
    ),
    nondiff=True,
)


def allclose(
    a: Array, b: Array, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """Whether ``isclose(a, b)`` holds everywhere (a Python bool)."""
    return bool(bind(allclose_p, a, b, rtol=rtol, atol=atol, equal_nan=bool(equal_nan)))


array_equal_p = Primitive(
    "array_equal",
    lambda a, b, *, equal_nan: np.array_equal(a, b, equal_nan=equal_nan),
    nondiff=True,
)


def array_equal(a1: Array, a2: Array, equal_nan: bool = False) -> bool:
    """Whether two arrays have the same shape and elements (a Python bool)."""
    return bool(bind(array_equal_p, a1, a2, equal_nan=bool(equal_nan)))


# ---------------------------------------------------------------------------------------------
# arrays shaped like their argument: plain arrays, never traced


def _like(name: str, np_fn: Any) -> tuple[Primitive, Callable[..., Array]]:
    prim = Primitive(
        name, lambda x, *, dtype, shape: np_fn(x, dtype=dtype, shape=shape), nondiff=True
    )
    # shaped like each example (batch axis kept), or of a given shape (the same for all)
    batch_rules[prim] = lambda vals, dims, **p: (
        bind(prim, vals[0], **p), dims[0] if p["shape"] is None else None
    )

    def fn(
        a: Array, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, *,
        device: Any = None,
    ) -> Array:
        _check_like_options(name, order, device)
        return bind(prim, a, dtype=dtype, shape=_shape_param(shape))

    fn.__name__ = fn.__qualname__ = name
    return prim, fn


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


zeros_like_p, zeros_like = _like("zeros_like", np.zeros_like)
zeros_like.__doc__ = "Zeros with the shape and dtype of ``a`` (a plain array, never traced)."
ones_like_p, ones_like = _like("ones_like", np.ones_like)
ones_like.__doc__ = "Ones with the shape and dtype of ``a`` (a plain array, never traced)."
empty_like_p, empty_like = _like("empty_like", np.empty_like)
empty_like.__doc__ = (
    "An uninitialized array with the shape and dtype of ``a`` (a plain array, never traced)."
)

full_like_p = Primitive(
    "full_like",
    lambda x, fill, *, dtype, shape: np.full_like(x, fill, dtype=dtype, shape=shape),
    nondiff=True,
)


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
        return shape_ops.broadcast_to(elementwise.astype(fill_value, out_dtype), out_shape)
    return bind(full_like_p, a, fill_value, dtype=dtype, shape=dims)


# ---------------------------------------------------------------------------------------------
# static queries


def result_type(*arrays_and_dtypes: Any) -> np.dtype[Any]:
    """The dtype NumPy's promotion rules give these arrays, numbers and dtypes (Python numbers
    are "weak": ``result_type(float32_array, 1.0)`` is float32)."""
    return np.result_type(
        *(x.dtype if isinstance(x, Tracer) else x for x in arrays_and_dtypes)
    )


def shape(a: Array) -> tuple[int, ...]:
    """The shape of an array, tracer or number."""
    return shape_of(a)


def ndim(a: Array) -> int:
    """The number of dimensions of an array, tracer or number."""
    return len(shape_of(a))


def size(a: Array, axis: int | None = None) -> int:
    """The number of elements (along ``axis`` when given)."""
    dims = shape_of(a)
    if axis is None:
        return math.prod(dims)
    return dims[normalize_axis(axis, len(dims))[0]]


_UFUNCS: list[tuple[np.ufunc, Any]] = [
    (np.isnan, isnan), (np.isfinite, isfinite), (np.isinf, isinf), (np.signbit, signbit),
    (np.logical_not, logical_not), (np.logical_and, logical_and), (np.logical_or, logical_or),
    (np.logical_xor, logical_xor),
]
for _ufunc, _fn in _UFUNCS:
    register_ufunc(_ufunc, _fn)
_FUNCTIONS: list[tuple[Any, Any]] = [
    (np.argmax, argmax), (np.argmin, argmin), (np.argsort, argsort), (np.nonzero, nonzero),
    (np.all, all), (np.any, any), (np.isclose, isclose), (np.allclose, allclose),
    (np.array_equal, array_equal), (np.zeros_like, zeros_like), (np.ones_like, ones_like),
    (np.empty_like, empty_like), (np.full_like, full_like), (np.result_type, result_type),
    (np.shape, shape), (np.ndim, ndim), (np.size, size),
]
for _np_fn, _fn in _FUNCTIONS:
    register_function(_np_fn, _fn)


def _batch_arg(prim: Primitive) -> None:
    """argmax/argmin batching: ``axis=None`` means each example flattened."""

    def rule(vals: list[Any], dims: list[Any], *, axis: Any, keepdims: bool) -> tuple[Any, int]:
        x = move_batch_axis(vals[0], dims[0], 0)
        if axis is not None:
            return bind(prim, x, axis=axis + 1, keepdims=keepdims), 0
        x_shape = shape_of(x)
        out = bind(prim, shape_ops.reshape(x, (x_shape[0], -1)), axis=1, keepdims=False)
        if keepdims:
            out = shape_ops.reshape(out, (x_shape[0],) + (1,) * (len(x_shape) - 1))
        return out, 0

    batch_rules[prim] = rule


_batch_arg(argmax_p)
_batch_arg(argmin_p)
batch_axis_param(argsort_p)
batch_axis_param(all_p)
batch_axis_param(any_p)
batch_elementwise(isclose_p)
