"""Primitives without a derivative: comparisons, predicates and logical operations, rounding,
index-valued functions (``argmax``, ``argsort``, ``nonzero``), truth reductions, closeness
tests, and arrays shaped like their argument.

Each is a primitive with ``nondiff=True``: called on tracers it returns a plain NumPy value (a
differentiating transform applies the implementation to the primal values and records
nothing), and it stays a primitive so that batching can give it a rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fjac._core import Primitive, bind, shape_of
from fjac._primitives.base import move_batch_axis, reshape
from fjac._primitives.combinators import defop, nondiff

Array = Any

__all__ = [
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "isnan", "isfinite", "isinf", "signbit",
    "logical_not", "logical_and", "logical_or", "logical_xor",
    "sign", "floor", "ceil", "trunc", "rint", "fix", "round_p", "floor_divide",
    "argmax_p", "argmin_p", "argsort_p", "nonzero_p", "all_p", "any_p",
    "isclose_p", "allclose_p", "array_equal_p",
    "zeros_like_p", "ones_like_p", "empty_like_p", "full_like_p",
]


def _elementwise_doc(name: str) -> str:
    return f"Elementwise ``numpy.{name}``: a boolean array, never traced."


# ---------------------------------------------------------------------------------------------
# elementwise

equal_p, equal = nondiff("equal", np.equal, _elementwise_doc("equal"), arity=2)
not_equal_p, not_equal = nondiff("not_equal", np.not_equal, _elementwise_doc("not_equal"), arity=2)
less_p, less = nondiff("less", np.less, _elementwise_doc("less"), arity=2)
less_equal_p, less_equal = nondiff(
    "less_equal", np.less_equal, _elementwise_doc("less_equal"), arity=2
)
greater_p, greater = nondiff("greater", np.greater, _elementwise_doc("greater"), arity=2)
greater_equal_p, greater_equal = nondiff(
    "greater_equal", np.greater_equal, _elementwise_doc("greater_equal"), arity=2
)

isnan_p, isnan = nondiff("isnan", np.isnan, _elementwise_doc("isnan"))
isfinite_p, isfinite = nondiff("isfinite", np.isfinite, _elementwise_doc("isfinite"))
isinf_p, isinf = nondiff("isinf", np.isinf, _elementwise_doc("isinf"))
signbit_p, signbit = nondiff("signbit", np.signbit, _elementwise_doc("signbit"))
logical_not_p, logical_not = nondiff(
    "logical_not", np.logical_not, _elementwise_doc("logical_not")
)
_BROADCAST = " with broadcasting: a boolean array, never traced."
logical_and_p, logical_and = nondiff(
    "logical_and", np.logical_and, "Elementwise ``numpy.logical_and``" + _BROADCAST, arity=2
)
logical_or_p, logical_or = nondiff(
    "logical_or", np.logical_or, "Elementwise ``numpy.logical_or``" + _BROADCAST, arity=2
)
logical_xor_p, logical_xor = nondiff(
    "logical_xor", np.logical_xor, "Elementwise ``numpy.logical_xor``" + _BROADCAST, arity=2
)

sign_p, sign = nondiff("sign", np.sign, "Elementwise sign (-1, 0 or 1); its derivative is zero.")
floor_p, floor = nondiff(
    "floor", np.floor, "Elementwise floor (largest integer <= x); its derivative is zero."
)
ceil_p, ceil = nondiff(
    "ceil", np.ceil, "Elementwise ceiling (smallest integer >= x); its derivative is zero."
)
trunc_p, trunc = nondiff(
    "trunc", np.trunc, "Elementwise rounding toward zero; its derivative is zero."
)
rint_p, rint = nondiff(
    "rint", np.rint, "Elementwise rounding to the nearest integer; its derivative is zero."
)
fix_p, fix = nondiff("fix", np.fix, "Elementwise rounding toward zero; its derivative is zero.")
round_p = defop(
    "round", lambda x, *, decimals: np.round(x, decimals=decimals), nondiff=True, batch="unary"
)
floor_divide_p, floor_divide = nondiff(
    "floor_divide", np.floor_divide,
    "Elementwise ``x1 // x2`` (the floor of the quotient); its derivative is zero.", arity=2,
)


# ---------------------------------------------------------------------------------------------
# index-valued


def _batch_arg(vals: list[Any], dims: list[Any], *, prim: Any, axis: Any, keepdims: bool) -> Any:
    """argmax/argmin batching: ``axis=None`` means each example flattened."""
    x = move_batch_axis(vals[0], dims[0], 0)
    if axis is not None:
        return bind(prim, x, axis=axis + 1, keepdims=keepdims), 0
    x_shape = shape_of(x)
    out = bind(prim, reshape(x, (x_shape[0], -1)), axis=1, keepdims=False)
    if keepdims:
        out = reshape(out, (x_shape[0],) + (1,) * (len(x_shape) - 1))
    return out, 0


argmax_p: Primitive
argmin_p: Primitive
argmax_p = defop(
    "argmax", lambda x, *, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims),
    nondiff=True, batch=lambda vals, dims, **p: _batch_arg(vals, dims, prim=argmax_p, **p),
)
argmin_p = defop(
    "argmin", lambda x, *, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims),
    nondiff=True, batch=lambda vals, dims, **p: _batch_arg(vals, dims, prim=argmin_p, **p),
)
argsort_p = defop(
    "argsort",
    lambda x, *, axis, kind, stable: np.argsort(x, axis=axis, kind=kind, stable=stable),
    nondiff=True, batch="axis",
)
# As many indices as nonzero values: jit cannot record it.
nonzero_p = defop(
    "nonzero", np.nonzero, nondiff=True, multiple_results=True,
    value_shaped_when=lambda a: True,
)


# ---------------------------------------------------------------------------------------------
# truth reductions and closeness


def _truth_reduction(name: str, np_fn: Any) -> Any:
    return defop(
        name, lambda x, *, axis, keepdims: np_fn(x, axis=axis, keepdims=keepdims),
        nondiff=True, batch="axis",
    )


all_p = _truth_reduction("all", np.all)
any_p = _truth_reduction("any", np.any)
isclose_p = defop(
    "isclose",
    lambda a, b, *, rtol, atol, equal_nan: np.isclose(
        a, b, rtol=rtol, atol=atol, equal_nan=equal_nan
    ),
    nondiff=True, batch="elementwise",
)
allclose_p = defop(
    "allclose",
    lambda a, b, *, rtol, atol, equal_nan: np.allclose(
        a, b, rtol=rtol, atol=atol, equal_nan=equal_nan
    ),
    nondiff=True,
)
array_equal_p = defop(
    "array_equal",
    lambda a, b, *, equal_nan: np.array_equal(a, b, equal_nan=equal_nan),
    nondiff=True,
)


# ---------------------------------------------------------------------------------------------
# arrays shaped like their argument: plain arrays, never traced


def _like(name: str, np_fn: Any) -> Any:
    prim = defop(
        name, lambda x, *, dtype, shape: np_fn(x, dtype=dtype, shape=shape), nondiff=True,
        # shaped like each example (batch axis kept), or of a given shape (the same for all)
        batch=lambda vals, dims, **p: (
            bind(prim, vals[0], **p), dims[0] if p["shape"] is None else None
        ),
    )
    return prim


zeros_like_p = _like("zeros_like", np.zeros_like)
ones_like_p = _like("ones_like", np.ones_like)
empty_like_p = _like("empty_like", np.empty_like)
full_like_p = defop(
    "full_like",
    lambda x, fill, *, dtype, shape: np.full_like(x, fill, dtype=dtype, shape=shape),
    nondiff=True,
)
