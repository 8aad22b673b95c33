"""Elementwise operations: unary functions, broadcasting binary arithmetic, comparisons, where.

Rules follow one pattern: a unary primitive declares its derivative ``d(ans, x)`` once and both
modes use it (``t * d`` forward, ``g * d`` backward); a binary primitive gives one partial rule
per argument, and reverse mode sums each cotangent back to its argument's shape (``unbroadcast``).
Operations whose derivative is zero almost everywhere (``sign``, ``floor``, ``floor_divide``)
are non-differentiable primitives: they return plain arrays even under a transform.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from fjac._core import Primitive, bind, convert_p
from fjac._dispatch import register_function, register_ufunc
from fjac._dtypes import dtype_of
from fjac._edge import shape_of
from fjac._ops import helpers
from fjac._primitives.base import (
    add,
    astype,
    batch_elementwise,
    batch_unary,
    broadcast_like,
    mul_p,
    multiply,
    unbroadcast,
)
from fjac._rules import basis_rules, defjvp, defvjp, keep_residuals
from fjac._vmap import BasisTracer, BatchTracer

Array = Any

# The names fjac.numpy exports from this family.
__all__ = [
    "negative",
    "positive",
    "exp",
    "exp2",
    "expm1",
    "log",
    "log2",
    "log10",
    "log1p",
    "sqrt",
    "cbrt",
    "square",
    "reciprocal",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "deg2rad",
    "rad2deg",
    "degrees",
    "radians",
    "sinc",
    "absolute",
    "abs",
    "fabs",
    "sign",
    "floor",
    "ceil",
    "trunc",
    "rint",
    "fix",
    "round",
    "around",
    "astype",
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "power",
    "float_power",
    "maximum",
    "minimum",
    "fmax",
    "fmin",
    "arctan2",
    "hypot",
    "logaddexp",
    "logaddexp2",
    "remainder",
    "mod",
    "fmod",
    "floor_divide",
    "copysign",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "where",
    "clip",
]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
# Python floats, not NumPy scalars: they are "weak" in NumPy 2 and keep float32 as float32.
_DEG = math.pi / 180.0
_RAD = 180.0 / math.pi

_OUT_MESSAGE = (
    "fjac.numpy.{name}: out= is not supported; traced arrays are immutable; use the returned "
    "value instead"
)


# ---------------------------------------------------------------------------------------------
# helpers shared by the rules


def _def_unary(prim: Primitive, deriv: Callable[[Array, Array], Array]) -> None:
    """Register both modes of a unary primitive from its derivative ``deriv(ans, x)``, and its
    batching (elementwise: the batch axis stays where it is)."""
    defjvp(prim, lambda t, ans, x: t * deriv(ans, x))
    defvjp(prim, lambda g, ans, x: g * deriv(ans, x))
    batch_unary(prim)


def _def_binary(
    prim: Primitive,
    dx: Callable[[Array, Array, Array], Array] | None,
    dy: Callable[[Array, Array, Array], Array] | None,
) -> None:
    """Register both modes of a broadcasting binary primitive from its partial derivatives
    ``dx(ans, x, y)`` and ``dy(ans, x, y)`` (``None``: no derivative in that argument)."""
    jx = vx = jy = vy = None
    if dx is not None:
        jx = lambda t, ans, x, y: broadcast_like(t * dx(ans, x, y), ans)
        vx = lambda g, ans, x, y: unbroadcast(g * dx(ans, x, y), x)
    if dy is not None:
        jy = lambda t, ans, x, y: broadcast_like(t * dy(ans, x, y), ans)
        vy = lambda g, ans, x, y: unbroadcast(g * dy(ans, x, y), y)
    defjvp(prim, jx, jy)
    defvjp(prim, vx, vy)
    batch_elementwise(prim)


def _nondiff_unary(name: str, ufunc: Any, doc: str) -> tuple[Primitive, Callable[[Array], Array]]:
    """A unary primitive with a zero derivative, and its public function."""
    prim = Primitive(name, ufunc, nondiff=True)
    batch_unary(prim)

    def fn(x: Array) -> Array:
        return bind(prim, x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return prim, fn


# ---------------------------------------------------------------------------------------------
# comparisons and rounding: no derivative (they return plain arrays, never traced)


def _comparison(name: str, ufunc: np.ufunc) -> tuple[Primitive, Callable[[Array, Array], Array]]:
    prim = Primitive(name, ufunc, nondiff=True)
    batch_elementwise(prim)

    def compare(x: Array, y: Array) -> Array:
        return bind(prim, x, y)

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise ``numpy.{name}``: a boolean array, never traced."
    return prim, compare


equal_p, equal = _comparison("equal", np.equal)
not_equal_p, not_equal = _comparison("not_equal", np.not_equal)
less_p, less = _comparison("less", np.less)
less_equal_p, less_equal = _comparison("less_equal", np.less_equal)
greater_p, greater = _comparison("greater", np.greater)
greater_equal_p, greater_equal = _comparison("greater_equal", np.greater_equal)


sign_p, sign = _nondiff_unary(
    "sign", np.sign, "Elementwise sign (-1, 0 or 1); its derivative is zero."
)
floor_p, floor = _nondiff_unary(
    "floor", np.floor, "Elementwise floor (largest integer <= x); its derivative is zero."
)
ceil_p, ceil = _nondiff_unary(
    "ceil", np.ceil, "Elementwise ceiling (smallest integer >= x); its derivative is zero."
)
trunc_p, trunc = _nondiff_unary(
    "trunc", np.trunc, "Elementwise rounding toward zero; its derivative is zero."
)
rint_p, rint = _nondiff_unary(
    "rint", np.rint, "Elementwise rounding to the nearest integer; its derivative is zero."
)
fix_p, fix = _nondiff_unary(
    "fix", np.fix, "Elementwise rounding toward zero; its derivative is zero."
)

round_p = Primitive(
    "round", lambda x, *, decimals: np.round(x, decimals=decimals), nondiff=True
)


def round(a: Array, decimals: int = 0, out: None = None) -> Array:  # noqa: A001
    """Elementwise rounding to ``decimals`` decimals (halves to even); its derivative is zero."""
    if out is not None:
        raise TypeError(_OUT_MESSAGE.format(name="round"))
    return bind(round_p, a, decimals=int(decimals))


around = round


# ---------------------------------------------------------------------------------------------
# unary


neg_p = Primitive("neg", np.negative)
defjvp(neg_p, lambda t, ans, x: negative(t))
defvjp(neg_p, lambda g, ans, x: negative(g))


def negative(x: Array) -> Array:
    """Elementwise ``-x``."""
    return bind(neg_p, x)


def positive(x: Array) -> Array:
    """Elementwise ``+x`` (the value itself)."""
    return x


exp_p = Primitive("exp", np.exp)
_def_unary(exp_p, lambda ans, x: ans)


def exp(x: Array) -> Array:
    """Elementwise ``e**x``."""
    return bind(exp_p, x)


exp2_p = Primitive("exp2", np.exp2)
_def_unary(exp2_p, lambda ans, x: ans * _LN2)


def exp2(x: Array) -> Array:
    """Elementwise ``2**x``."""
    return bind(exp2_p, x)


expm1_p = Primitive("expm1", np.expm1)
_def_unary(expm1_p, lambda ans, x: ans + 1.0)


def expm1(x: Array) -> Array:
    """Elementwise ``exp(x) - 1``, accurate for small ``x``."""
    return bind(expm1_p, x)


log_p = Primitive("log", np.log)
_def_unary(log_p, lambda ans, x: reciprocal(x))


def log(x: Array) -> Array:
    """Elementwise natural logarithm."""
    return bind(log_p, x)


log2_p = Primitive("log2", np.log2)
_def_unary(log2_p, lambda ans, x: reciprocal(x * _LN2))


def log2(x: Array) -> Array:
    """Elementwise base-2 logarithm."""
    return bind(log2_p, x)


log10_p = Primitive("log10", np.log10)
_def_unary(log10_p, lambda ans, x: reciprocal(x * _LN10))


def log10(x: Array) -> Array:
    """Elementwise base-10 logarithm."""
    return bind(log10_p, x)


log1p_p = Primitive("log1p", np.log1p)
_def_unary(log1p_p, lambda ans, x: reciprocal(1.0 + x))


def log1p(x: Array) -> Array:
    """Elementwise ``log(1 + x)``, accurate for small ``x``."""
    return bind(log1p_p, x)


sqrt_p = Primitive("sqrt", np.sqrt)
_def_unary(sqrt_p, lambda ans, x: 0.5 / ans)


def sqrt(x: Array) -> Array:
    """Elementwise non-negative square root (the derivative at 0 is inf)."""
    return bind(sqrt_p, x)


cbrt_p = Primitive("cbrt", np.cbrt)
_def_unary(cbrt_p, lambda ans, x: reciprocal(3.0 * square(ans)))


def cbrt(x: Array) -> Array:
    """Elementwise real cube root (the derivative at 0 is inf)."""
    return bind(cbrt_p, x)


square_p = Primitive("square", np.square)
_def_unary(square_p, lambda ans, x: 2.0 * x)


def square(x: Array) -> Array:
    """Elementwise ``x**2``."""
    return bind(square_p, x)


reciprocal_p = Primitive("reciprocal", np.reciprocal)
_def_unary(reciprocal_p, lambda ans, x: negative(square(ans)))


def reciprocal(x: Array) -> Array:
    """Elementwise ``1/x``."""
    return bind(reciprocal_p, x)


sin_p = Primitive("sin", np.sin)
_def_unary(sin_p, lambda ans, x: cos(x))


def sin(x: Array) -> Array:
    """Elementwise sine."""
    return bind(sin_p, x)


cos_p = Primitive("cos", np.cos)
_def_unary(cos_p, lambda ans, x: negative(sin(x)))


def cos(x: Array) -> Array:
    """Elementwise cosine."""
    return bind(cos_p, x)


tan_p = Primitive("tan", np.tan)
_def_unary(tan_p, lambda ans, x: 1.0 + square(ans))


def tan(x: Array) -> Array:
    """Elementwise tangent."""
    return bind(tan_p, x)


arcsin_p = Primitive("arcsin", np.arcsin)
_def_unary(arcsin_p, lambda ans, x: reciprocal(sqrt(1.0 - square(x))))


def arcsin(x: Array) -> Array:
    """Elementwise inverse sine (the derivative at ±1 is inf)."""
    return bind(arcsin_p, x)


arccos_p = Primitive("arccos", np.arccos)
_def_unary(arccos_p, lambda ans, x: negative(reciprocal(sqrt(1.0 - square(x)))))


def arccos(x: Array) -> Array:
    """Elementwise inverse cosine (the derivative at ±1 is -inf)."""
    return bind(arccos_p, x)


arctan_p = Primitive("arctan", np.arctan)
_def_unary(arctan_p, lambda ans, x: reciprocal(1.0 + square(x)))


def arctan(x: Array) -> Array:
    """Elementwise inverse tangent."""
    return bind(arctan_p, x)


sinh_p = Primitive("sinh", np.sinh)
_def_unary(sinh_p, lambda ans, x: cosh(x))


def sinh(x: Array) -> Array:
    """Elementwise hyperbolic sine."""
    return bind(sinh_p, x)


cosh_p = Primitive("cosh", np.cosh)
_def_unary(cosh_p, lambda ans, x: sinh(x))


def cosh(x: Array) -> Array:
    """Elementwise hyperbolic cosine."""
    return bind(cosh_p, x)


tanh_p = Primitive("tanh", np.tanh)
_def_unary(tanh_p, lambda ans, x: 1.0 - square(ans))


def tanh(x: Array) -> Array:
    """Elementwise hyperbolic tangent."""
    return bind(tanh_p, x)


arcsinh_p = Primitive("arcsinh", np.arcsinh)
_def_unary(arcsinh_p, lambda ans, x: reciprocal(sqrt(square(x) + 1.0)))


def arcsinh(x: Array) -> Array:
    """Elementwise inverse hyperbolic sine."""
    return bind(arcsinh_p, x)


arccosh_p = Primitive("arccosh", np.arccosh)
# (x - 1)(x + 1) rather than x**2 - 1: no overflow for large x, no cancellation near 1.
_def_unary(arccosh_p, lambda ans, x: reciprocal(sqrt((x - 1.0) * (x + 1.0))))


def arccosh(x: Array) -> Array:
    """Elementwise inverse hyperbolic cosine (the derivative at 1 is inf)."""
    return bind(arccosh_p, x)


arctanh_p = Primitive("arctanh", np.arctanh)
_def_unary(arctanh_p, lambda ans, x: reciprocal(1.0 - square(x)))


def arctanh(x: Array) -> Array:
    """Elementwise inverse hyperbolic tangent (the derivative at ±1 is inf)."""
    return bind(arctanh_p, x)


def deg2rad(x: Array) -> Array:
    """Degrees to radians: ``x * pi / 180``."""
    return multiply(x, _DEG)


def rad2deg(x: Array) -> Array:
    """Radians to degrees: ``x * 180 / pi``."""
    return multiply(x, _RAD)


radians = deg2rad
degrees = rad2deg


def _sinc_series(u: Array, k: int) -> Array:
    """The k-th derivative of ``sin(u)/u`` by its Maclaurin series (for ``|u| < 2``)."""
    total = np.zeros_like(u)
    for n in range((k + 1) // 2, (k + 1) // 2 + 24):
        coef = (-1.0) ** n / ((2 * n + 1) * math.factorial(2 * n - k))
        total = total + coef * u ** (2 * n - k)
    return total


def _sinc_recurrence(u: Array, k: int) -> Array:
    """The k-th derivative of ``f(u) = sin(u)/u`` from ``u f⁽ʲ⁾ = sin⁽ʲ⁾(u) - j f⁽ʲ⁻¹⁾``, stable
    for ``|u| >= 2``."""
    f = np.sin(u) / u
    for j in range(1, k + 1):
        f = (np.sin(u + j * math.pi / 2) - j * f) / u
    return f


def _sinc_impl(x: Array, *, order: int) -> Array:
    if order == 0:
        return np.sinc(x)
    out_dtype = np.result_type(np.sinc(np.zeros((), dtype_of(x))))
    u = math.pi * np.asarray(x, dtype=np.float64)
    small = np.abs(u) < 2.0
    value: Array = np.where(
        small, _sinc_series(np.where(small, u, 0.0), order),
        _sinc_recurrence(np.where(small, 2.0, u), order),
    )
    return np.asarray(math.pi**order * value).astype(out_dtype, copy=False)


# One primitive for sinc and all its derivatives (parameter ``order``), so every order is exact
# at 0 too, where the quotient sin(pi x)/(pi x) cannot be differentiated as written.
sinc_p = Primitive("sinc", _sinc_impl)
defjvp(sinc_p, lambda t, ans, x, *, order: t * bind(sinc_p, x, order=order + 1))
defvjp(sinc_p, lambda g, ans, x, *, order: g * bind(sinc_p, x, order=order + 1))


def sinc(x: Array) -> Array:
    """The normalized sinc function ``sin(pi x) / (pi x)`` (1 at 0); its derivatives of every
    order are exact, at 0 too."""
    return bind(sinc_p, x, order=0)


abs_p = Primitive("abs", np.abs)
_def_unary(abs_p, lambda ans, x: sign(x))


def absolute(x: Array) -> Array:
    """Elementwise ``|x|`` (its derivative at 0 is taken as 0, the sign)."""
    return bind(abs_p, x)


abs = absolute  # noqa: A001  (NumPy's alias; fjac.numpy exports it)


fabs_p = Primitive("fabs", np.fabs)
_def_unary(fabs_p, lambda ans, x: sign(x))


def fabs(x: Array) -> Array:
    """Elementwise ``|x|`` as a float (its derivative at 0 is taken as 0)."""
    return bind(fabs_p, x)


# ---------------------------------------------------------------------------------------------
# dtype conversion


# ---------------------------------------------------------------------------------------------
# binary, with NumPy broadcasting


sub_p = Primitive("subtract", np.subtract)
defjvp(sub_p, lambda t, ans, x, y: broadcast_like(t, ans),
       lambda t, ans, x, y: broadcast_like(negative(t), ans))
defvjp(sub_p, lambda g, ans, x, y: unbroadcast(g, x),
       lambda g, ans, x, y: unbroadcast(negative(g), y))


def subtract(x: Array, y: Array) -> Array:
    """Elementwise ``x - y`` with broadcasting."""
    return bind(sub_p, x, y)


div_p = Primitive("divide", np.divide)
defjvp(div_p, lambda t, ans, x, y: broadcast_like(t / y, ans),
       lambda t, ans, x, y: negative(t) * ans / y)
defvjp(div_p, lambda g, ans, x, y: unbroadcast(g / y, x),
       lambda g, ans, x, y: unbroadcast(negative(g) * ans / y, y))


def divide(x: Array, y: Array) -> Array:
    """Elementwise ``x / y`` with broadcasting."""
    return bind(div_p, x, y)


true_divide = divide


def _pow_dx(ans: Array, x: Array, y: Array) -> Array:
    """d(x**y)/dx = y * x**(y-1). Where x == y == 0 the base is taken as 1, so the result is 0
    there (not 0 * inf = NaN); no mask on the result, so its own derivative in y (1/x at
    y == 0) stays right."""
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        return 0.0 * x if y == 0 else y * power(x, y - 1)
    base = where(helpers.logical_and(equal(x, 0), equal(y, 0)), 1.0, x)
    return y * power(base, y - 1)


def _pow_dy(ans: Array, x: Array, y: Array) -> Array:
    """d(x**y)/dy = log(x) * x**y, taken as 0 where x == 0 (the limit for y > 0)."""
    return where(equal(x, 0), 0.0, ans * log(where(equal(x, 0), 1.0, x)))


pow_p = Primitive("power", np.power)
_def_binary(pow_p, _pow_dx, _pow_dy)


def power(x: Array, y: Array) -> Array:
    """Elementwise ``x ** y`` with broadcasting, differentiable in both arguments."""
    return bind(pow_p, x, y)


def _as_float64(x: Array) -> Array:
    return astype(x, np.float64) if dtype_of(x) != np.float64 else x


def float_power(x: Array, y: Array) -> Array:
    """Elementwise ``x ** y`` computed in float64 (whatever the input dtypes), as NumPy does."""
    return power(_as_float64(x), _as_float64(y))


def _def_selection(prim: Primitive, x_wins: Callable[[Array, Array], Array]) -> None:
    """Rules of a primitive that returns one of its two arguments, elementwise: the derivative
    goes to the argument chosen; at a tie (``x == y``) each side gets half of it."""

    def pick_x(t: Array, x: Array, y: Array) -> Array:
        return where(x_wins(x, y), t, where(equal(x, y), 0.5 * t, 0.0))

    def pick_y(t: Array, x: Array, y: Array) -> Array:
        return where(x_wins(y, x), t, where(equal(x, y), 0.5 * t, 0.0))

    defjvp(prim, lambda t, ans, x, y: broadcast_like(pick_x(t, x, y), ans),
           lambda t, ans, x, y: broadcast_like(pick_y(t, x, y), ans))
    defvjp(prim, lambda g, ans, x, y: unbroadcast(pick_x(g, x, y), x),
           lambda g, ans, x, y: unbroadcast(pick_y(g, x, y), y))


maximum_p = Primitive("maximum", np.maximum)
_def_selection(maximum_p, lambda a, b: greater(a, b))


def maximum(x: Array, y: Array) -> Array:
    """Elementwise maximum with broadcasting (NaN propagates). Where ``x == y`` the derivative
    is split half-half between the two arguments."""
    return bind(maximum_p, x, y)


minimum_p = Primitive("minimum", np.minimum)
_def_selection(minimum_p, lambda a, b: less(a, b))


def minimum(x: Array, y: Array) -> Array:
    """Elementwise minimum with broadcasting (NaN propagates). Where ``x == y`` the derivative
    is split half-half between the two arguments."""
    return bind(minimum_p, x, y)


fmax_p = Primitive("fmax", np.fmax)
_def_selection(fmax_p, lambda a, b: helpers.logical_or(greater(a, b), helpers.isnan(b)))


def fmax(x: Array, y: Array) -> Array:
    """Elementwise maximum ignoring NaN (the other argument is chosen, and differentiated);
    ties split the derivative half-half."""
    return bind(fmax_p, x, y)


fmin_p = Primitive("fmin", np.fmin)
_def_selection(fmin_p, lambda a, b: helpers.logical_or(less(a, b), helpers.isnan(b)))


def fmin(x: Array, y: Array) -> Array:
    """Elementwise minimum ignoring NaN (the other argument is chosen, and differentiated);
    ties split the derivative half-half."""
    return bind(fmin_p, x, y)


arctan2_p = Primitive("arctan2", np.arctan2)
_def_binary(arctan2_p, lambda ans, y, x: x / (square(x) + square(y)),
            lambda ans, y, x: negative(y) / (square(x) + square(y)))


def arctan2(x1: Array, x2: Array) -> Array:
    """Elementwise angle of the point ``(x2, x1)`` (``arctan(x1/x2)`` in the right quadrant);
    the derivative at the origin is NaN."""
    return bind(arctan2_p, x1, x2)


def _hypot_d(ans: Array, x: Array) -> Array:
    """x / hypot(x, y), taken as 0 at the origin."""
    return x / where(equal(ans, 0), 1.0, ans)


hypot_p = Primitive("hypot", np.hypot)
_def_binary(hypot_p, lambda ans, x, y: _hypot_d(ans, x), lambda ans, x, y: _hypot_d(ans, y))


def hypot(x1: Array, x2: Array) -> Array:
    """Elementwise ``sqrt(x1**2 + x2**2)`` without overflow; at the origin the derivative is
    taken as 0."""
    return bind(hypot_p, x1, x2)


logaddexp_p = Primitive("logaddexp", np.logaddexp)
_def_binary(logaddexp_p, lambda ans, x, y: exp(x - ans), lambda ans, x, y: exp(y - ans))


def logaddexp(x1: Array, x2: Array) -> Array:
    """Elementwise ``log(exp(x1) + exp(x2))`` without overflow."""
    return bind(logaddexp_p, x1, x2)


logaddexp2_p = Primitive("logaddexp2", np.logaddexp2)
_def_binary(logaddexp2_p, lambda ans, x, y: exp2(x - ans), lambda ans, x, y: exp2(y - ans))


def logaddexp2(x1: Array, x2: Array) -> Array:
    """Elementwise ``log2(2**x1 + 2**x2)`` without overflow."""
    return bind(logaddexp2_p, x1, x2)


floor_divide_p = Primitive("floor_divide", np.floor_divide, nondiff=True)


def floor_divide(x1: Array, x2: Array) -> Array:
    """Elementwise ``x1 // x2`` (the floor of the quotient); its derivative is zero."""
    return bind(floor_divide_p, x1, x2)


def _remainder_dy(ans: Array, x: Array, y: Array) -> Array:
    return negative(floor_divide(x, y))


remainder_p = Primitive("remainder", np.remainder)
defjvp(remainder_p, lambda t, ans, x, y: broadcast_like(t, ans),
       lambda t, ans, x, y: broadcast_like(t * _remainder_dy(ans, x, y), ans))
defvjp(remainder_p, lambda g, ans, x, y: unbroadcast(g, x),
       lambda g, ans, x, y: unbroadcast(g * _remainder_dy(ans, x, y), y))


def remainder(x1: Array, x2: Array) -> Array:
    """Elementwise ``x1 - floor(x1/x2) * x2`` (the sign of ``x2``, Python's ``%``). The
    derivative is 1 in ``x1`` and ``-floor(x1/x2)`` in ``x2``."""
    return bind(remainder_p, x1, x2)


mod = remainder


def _fmod_quotient_impl(x: Array, y: Array) -> Array:
    # The integer quotient that fmod actually used: np.trunc(x / y) can be off by one where the
    # quotient rounds up to an integer (fmod(1.0, 0.1) is 0.09999..., so the quotient is 9).
    return np.rint((x - np.fmod(x, y)) / y)


fmod_quotient_p = Primitive("fmod_quotient", _fmod_quotient_impl, nondiff=True)


def _fmod_dy(ans: Array, x: Array, y: Array) -> Array:
    return negative(bind(fmod_quotient_p, x, y))


fmod_p = Primitive("fmod", np.fmod)
defjvp(fmod_p, lambda t, ans, x, y: broadcast_like(t, ans),
       lambda t, ans, x, y: broadcast_like(t * _fmod_dy(ans, x, y), ans))
defvjp(fmod_p, lambda g, ans, x, y: unbroadcast(g, x),
       lambda g, ans, x, y: unbroadcast(g * _fmod_dy(ans, x, y), y))


def fmod(x1: Array, x2: Array) -> Array:
    """Elementwise C remainder ``x1 - trunc(x1/x2) * x2`` (the sign of ``x1``). The derivative
    is 1 in ``x1`` and ``-trunc(x1/x2)`` in ``x2``."""
    return bind(fmod_p, x1, x2)


def _copysign_pick(t: Array, x: Array, y: Array) -> Array:
    """``t`` where x and y have the same sign bit, ``-t`` where they differ."""
    return where(equal(helpers.signbit(x), helpers.signbit(y)), t, negative(t))


copysign_p = Primitive("copysign", np.copysign)
defjvp(copysign_p, lambda t, ans, x, y: broadcast_like(_copysign_pick(t, x, y), ans), None)
defvjp(copysign_p, lambda g, ans, x, y: unbroadcast(_copysign_pick(g, x, y), x), None)


def copysign(x1: Array, x2: Array) -> Array:
    """Elementwise ``|x1|`` with the sign of ``x2``. The derivative in ``x1`` is ±1 (+1 where
    the signs agree); ``x2`` has no derivative."""
    return bind(copysign_p, x1, x2)


# ---------------------------------------------------------------------------------------------
# where and clip


where_p = Primitive("where", np.where)
defjvp(where_p, None,
       lambda t, ans, c, x, y: broadcast_like(where(c, t, 0.0), ans),
       lambda t, ans, c, x, y: broadcast_like(where(c, 0.0, t), ans))
defvjp(where_p, None,
       lambda g, ans, c, x, y: unbroadcast(where(c, g, 0.0), x),
       lambda g, ans, c, x, y: unbroadcast(where(c, 0.0, g), y))


def where(condition: Array, x: Array, y: Array) -> Array:
    """Elementwise choice: ``x`` where ``condition`` holds, else ``y``, with broadcasting.

    The derivative flows only to the chosen side. A side whose own derivative is inf or NaN
    where it is not chosen still yields NaN there (0 × NaN), so guard the input of such a side
    too: ``where(x > 0, sqrt(where(x > 0, x, 1.0)), 0.0)``.
    """
    return bind(where_p, condition, x, y)


def clip(
    a: Array,
    a_min: Array = None,
    a_max: Array = None,
    out: None = None,
    *,
    min: Array = None,  # noqa: A002  (NumPy's keyword names)
    max: Array = None,  # noqa: A002
) -> Array:
    """``a`` limited to ``[a_min, a_max]`` elementwise (either bound may be None or an array).

    The derivative goes to whichever value is returned: to ``a`` where
    ``a_min <= a <= a_max`` (bounds included), to a bound where ``a`` lies strictly beyond it.
    As in NumPy, where ``a_min > a_max`` the result is ``a_max``.
    """
    if out is not None:
        raise TypeError(_OUT_MESSAGE.format(name="clip"))
    lo = _one_of(a_min, min, "a_min", "min")
    hi = _one_of(a_max, max, "a_max", "max")
    if lo is not None:
        a = where(less(a, lo), lo, a)
    if hi is not None:
        a = where(greater(a, hi), hi, a)
    return a


def _one_of(positional: Array, keyword: Array, name: str, alias: str) -> Array:
    if positional is not None and keyword is not None:
        raise TypeError(f"clip: give {name} or {alias}, not both")
    return keyword if positional is None else positional


_UFUNCS: list[tuple[np.ufunc, Any]] = [
    (np.negative, negative), (np.positive, positive), (np.exp, exp), (np.exp2, exp2),
    (np.expm1, expm1), (np.log, log), (np.log2, log2), (np.log10, log10), (np.log1p, log1p),
    (np.sqrt, sqrt), (np.cbrt, cbrt), (np.square, square), (np.reciprocal, reciprocal),
    (np.sin, sin), (np.cos, cos), (np.tan, tan), (np.arcsin, arcsin), (np.arccos, arccos),
    (np.arctan, arctan), (np.sinh, sinh), (np.cosh, cosh), (np.tanh, tanh),
    (np.arcsinh, arcsinh), (np.arccosh, arccosh), (np.arctanh, arctanh),
    (np.deg2rad, deg2rad), (np.rad2deg, rad2deg), (np.radians, radians),
    (np.degrees, degrees), (np.absolute, absolute), (np.fabs, fabs), (np.sign, sign),
    (np.floor, floor), (np.ceil, ceil), (np.trunc, trunc), (np.rint, rint),
    (np.add, add), (np.subtract, subtract), (np.multiply, multiply), (np.divide, divide),
    (np.power, power), (np.float_power, float_power), (np.maximum, maximum),
    (np.minimum, minimum), (np.fmax, fmax), (np.fmin, fmin), (np.arctan2, arctan2),
    (np.hypot, hypot), (np.logaddexp, logaddexp), (np.logaddexp2, logaddexp2),
    (np.remainder, remainder), (np.fmod, fmod), (np.floor_divide, floor_divide),
    (np.copysign, copysign), (np.equal, equal), (np.not_equal, not_equal), (np.less, less),
    (np.less_equal, less_equal), (np.greater, greater), (np.greater_equal, greater_equal),
]
for _ufunc, _fn in _UFUNCS:
    register_ufunc(_ufunc, _fn)
_FUNCTIONS: list[tuple[Any, Any]] = [
    (np.where, where), (np.clip, clip), (np.sinc, sinc), (np.round, round),
    (np.around, around), (np.fix, fix),
]
for _np_fn, _fn in _FUNCTIONS:
    register_function(_np_fn, _fn)


# Structured basis batches (the vectorized Jacobians' seeds): scaling by a value that is not
# batched, negating and casting keep the structure, so only the scales are computed.


def _scale_of(b: BasisTracer) -> Array:
    return np.ones(b.shape, dtype=b.dtype) if b.scale is None else b.scale


def _fits_under(v: Any, main: Any, target: tuple[int, ...]) -> bool:
    """``v`` is not batched by ``main`` and broadcasts to ``target`` without widening it."""
    if isinstance(v, BatchTracer) and v._main is main:
        return False
    v_shape = shape_of(v)
    return len(v_shape) <= len(target) and all(
        a == 1 or a == b for a, b in zip(reversed(v_shape), reversed(target))
    )


def _basis_multiply(main: Any, args: tuple[Any, ...]) -> Any:
    x, y = args
    if type(x) is BasisTracer and x._main is main and _fits_under(y, main, x.shape):
        return x.with_scale(multiply(_scale_of(x), y))
    if type(y) is BasisTracer and y._main is main and _fits_under(x, main, y.shape):
        return y.with_scale(multiply(x, _scale_of(y)))
    return None


def _basis_divide(main: Any, args: tuple[Any, ...]) -> Any:
    x, y = args
    if type(x) is BasisTracer and x._main is main and _fits_under(y, main, x.shape):
        return x.with_scale(divide(_scale_of(x), y))
    return None


basis_rules[div_p] = _basis_divide
basis_rules[neg_p] = lambda main, args: args[0].with_scale(negative(_scale_of(args[0])))



# Batching for the primitives not built by the combinators above: all act elementwise.
for _prim in (neg_p, sinc_p, abs_p, fabs_p, round_p):
    batch_unary(_prim)
for _prim in (sub_p, div_p, pow_p, floor_divide_p, remainder_p, fmod_quotient_p,
              fmod_p, copysign_p, where_p, maximum_p, minimum_p, fmax_p, fmin_p):
    batch_elementwise(_prim)

# (multiply and convert are structural primitives of fjac._primitives.base; their basis rules
# live here, beside the other scalings of a basis batch)
basis_rules[mul_p] = _basis_multiply
basis_rules[convert_p] = lambda main, args, *, dtype: args[0].with_scale(
    bind(convert_p, _scale_of(args[0]), dtype=dtype)
)

# What each vjp rule reads (the rest of its residuals are dropped when the node is recorded).
keep_residuals("shapes", sub_p, neg_p)
keep_residuals("output", exp_p, exp2_p, expm1_p, sqrt_p, cbrt_p, reciprocal_p, tan_p, tanh_p)
keep_residuals("inputs", sin_p, cos_p, log_p, log2_p, log10_p, log1p_p, square_p,
               arcsin_p, arccos_p, arctan_p, sinh_p, cosh_p, arcsinh_p, arccosh_p, arctanh_p,
               abs_p, fabs_p, arctan2_p)
