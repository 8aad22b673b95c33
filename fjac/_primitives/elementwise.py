"""Differentiable elementwise primitives: unary functions, broadcasting binary arithmetic,
``where``.

Rules follow one pattern: a unary primitive declares its derivative ``d(ans, x)`` once, in the
table below, and both modes use it (``t * d`` forward, ``g * d`` backward); a binary primitive
gives one partial rule per argument, and reverse mode sums each cotangent back to its
argument's shape (``unbroadcast``). ``add`` and ``multiply`` are structural primitives
(``fjac._primitives.base``); operations whose derivative is zero almost everywhere (``sign``,
``floor``, ``floor_divide``) are in ``fjac._primitives.nondiff``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from fjac._core import Primitive, bind, convert_p, shape_of
from fjac._dtypes import dtype_of
from fjac._primitives.base import (
    batch_elementwise,
    batch_unary,
    broadcast_like,
    mul_p,
    multiply,
    unbroadcast,
)
from fjac._primitives.combinators import linear, unary
from fjac._primitives.complex_parts import conj, is_complex, real
from fjac._primitives.nondiff import (
    equal,
    floor_divide,
    greater,
    isnan,
    less,
    logical_and,
    logical_or,
    sign,
    signbit,
)
from fjac._rules import (
    basis_rules,
    declare_complex,
    declare_real_closed,
    defjvp,
    defvjp,
    keep_residuals,
)
from fjac._vmap import BasisTracer, BatchTracer

Array = Any

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


# ---------------------------------------------------------------------------------------------
# unary: one row per function, its derivative d(ans, x) and what its vjp reads

# (the functions the derivatives above their own row call, declared for the type checker)
reciprocal: Callable[[Array], Array]
square: Callable[[Array], Array]
cos: Callable[[Array], Array]
cosh: Callable[[Array], Array]

neg_p = linear("neg", np.negative, lambda g, x: negative(g), batch="unary")


def negative(x: Array) -> Array:
    """Elementwise ``-x``."""
    return bind(neg_p, x)


exp_p, exp = unary("exp", np.exp, lambda ans, x: ans,
                   "Elementwise ``e**x``.", residuals="output")
exp2_p, exp2 = unary("exp2", np.exp2, lambda ans, x: ans * _LN2,
                     "Elementwise ``2**x``.", residuals="output")
expm1_p, expm1 = unary("expm1", np.expm1, lambda ans, x: ans + 1.0,
                       "Elementwise ``exp(x) - 1``, accurate for small ``x``.", residuals="output")
log_p, log = unary("log", np.log, lambda ans, x: reciprocal(x),
                   "Elementwise natural logarithm.", residuals="inputs")
log2_p, log2 = unary("log2", np.log2, lambda ans, x: reciprocal(x * _LN2),
                     "Elementwise base-2 logarithm.", residuals="inputs")
log10_p, log10 = unary("log10", np.log10, lambda ans, x: reciprocal(x * _LN10),
                       "Elementwise base-10 logarithm.", residuals="inputs")
log1p_p, log1p = unary("log1p", np.log1p, lambda ans, x: reciprocal(1.0 + x),
                       "Elementwise ``log(1 + x)``, accurate for small ``x``.", residuals="inputs")
sqrt_p, sqrt = unary("sqrt", np.sqrt, lambda ans, x: 0.5 / ans,
                     "Elementwise non-negative square root (the derivative at 0 is inf).",
                     residuals="output")
cbrt_p, cbrt = unary("cbrt", np.cbrt, lambda ans, x: reciprocal(3.0 * square(ans)),
                     "Elementwise real cube root (the derivative at 0 is inf).",
                     residuals="output")
square_p, square = unary("square", np.square, lambda ans, x: 2.0 * x,
                         "Elementwise ``x**2``.", residuals="inputs")
reciprocal_p, reciprocal = unary("reciprocal", np.reciprocal, lambda ans, x: negative(square(ans)),
                                 "Elementwise ``1/x``.", residuals="output")
sin_p, sin = unary("sin", np.sin, lambda ans, x: cos(x),
                   "Elementwise sine.", residuals="inputs")
cos_p, cos = unary("cos", np.cos, lambda ans, x: negative(sin(x)),
                   "Elementwise cosine.", residuals="inputs")
tan_p, tan = unary("tan", np.tan, lambda ans, x: 1.0 + square(ans),
                   "Elementwise tangent.", residuals="output")
arcsin_p, arcsin = unary("arcsin", np.arcsin, lambda ans, x: reciprocal(sqrt(1.0 - square(x))),
                         "Elementwise inverse sine (the derivative at ±1 is inf).",
                         residuals="inputs")
arccos_p, arccos = unary(
    "arccos", np.arccos, lambda ans, x: negative(reciprocal(sqrt(1.0 - square(x)))),
    "Elementwise inverse cosine (the derivative at ±1 is -inf).", residuals="inputs",
)
arctan_p, arctan = unary("arctan", np.arctan, lambda ans, x: reciprocal(1.0 + square(x)),
                         "Elementwise inverse tangent.", residuals="inputs")
sinh_p, sinh = unary("sinh", np.sinh, lambda ans, x: cosh(x),
                     "Elementwise hyperbolic sine.", residuals="inputs")
cosh_p, cosh = unary("cosh", np.cosh, lambda ans, x: sinh(x),
                     "Elementwise hyperbolic cosine.", residuals="inputs")
tanh_p, tanh = unary("tanh", np.tanh, lambda ans, x: 1.0 - square(ans),
                     "Elementwise hyperbolic tangent.", residuals="output")
arcsinh_p, arcsinh = unary("arcsinh", np.arcsinh, lambda ans, x: reciprocal(sqrt(square(x) + 1.0)),
                           "Elementwise inverse hyperbolic sine.", residuals="inputs")
# (x - 1)(x + 1) rather than x**2 - 1: no overflow for large x, no cancellation near 1.
arccosh_p, arccosh = unary(
    "arccosh", np.arccosh, lambda ans, x: reciprocal(sqrt((x - 1.0) * (x + 1.0))),
    "Elementwise inverse hyperbolic cosine (the derivative at 1 is inf).", residuals="inputs",
)
arctanh_p, arctanh = unary(
    "arctanh", np.arctanh, lambda ans, x: reciprocal(1.0 - square(x)),
    "Elementwise inverse hyperbolic tangent (the derivative at ±1 is inf).", residuals="inputs",
)
abs_p, absolute = unary("abs", np.abs, lambda ans, x: sign(x),
                        "Elementwise ``|x|`` (its derivative at 0 is taken as 0, the sign).",
                        residuals="inputs")
fabs_p, fabs = unary("fabs", np.fabs, lambda ans, x: sign(x),
                     "Elementwise ``|x|`` as a float (its derivative at 0 is taken as 0).",
                     residuals="inputs")
absolute.__name__ = absolute.__qualname__ = "absolute"


def _unit(ans: Array, x: Array) -> Array:
    """``x / |x|`` for a complex ``x`` (0 at 0), from ``ans = |x|``."""
    return x / where(equal(ans, 0), 1.0, ans)


# |z| of a complex z is not holomorphic: d|z| = Re(conj(z) dz) / |z|, so the tangent is
# Re(conj(u) t) and the cotangent g conj(u), with u = z / |z| (JAX's convention; 0 at z = 0).
defjvp(abs_p, lambda t, ans, x: real(conj(_unit(absolute(x), x)) * t) if is_complex(x)
       else t * sign(x))
defvjp(abs_p, lambda g, ans, x: g * conj(_unit(absolute(x), x)) if is_complex(x)
       else g * sign(x))


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
    u = math.pi * np.asarray(x, dtype=np.result_type(dtype_of(x), np.float64))
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


def _pow_dx(ans: Array, x: Array, y: Array) -> Array:
    """d(x**y)/dx = y * x**(y-1). Where x == y == 0 the base is taken as 1, so the result is 0
    there (not 0 * inf = NaN); no mask on the result, so its own derivative in y (1/x at
    y == 0) stays right."""
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        return 0.0 * x if y == 0 else y * power(x, y - 1)
    base = where(logical_and(equal(x, 0), equal(y, 0)), 1.0, x)
    return y * power(base, y - 1)


def _pow_dy(ans: Array, x: Array, y: Array) -> Array:
    """d(x**y)/dy = log(x) * x**y, taken as 0 where x == 0 (the limit for y > 0). A real base
    of a complex power takes the complex logarithm (log(-2) = log 2 + i pi)."""
    if is_complex(ans) and not is_complex(x):
        x = bind(convert_p, x, dtype=dtype_of(ans))
    return where(equal(x, 0), 0.0, ans * log(where(equal(x, 0), 1.0, x)))


pow_p = Primitive("power", np.power)
_def_binary(pow_p, _pow_dx, _pow_dy)


def power(x: Array, y: Array) -> Array:
    """Elementwise ``x ** y`` with broadcasting, differentiable in both arguments."""
    return bind(pow_p, x, y)


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
_def_selection(fmax_p, lambda a, b: logical_or(greater(a, b), isnan(b)))


def fmax(x: Array, y: Array) -> Array:
    """Elementwise maximum ignoring NaN (the other argument is chosen, and differentiated);
    ties split the derivative half-half."""
    return bind(fmax_p, x, y)


fmin_p = Primitive("fmin", np.fmin)
_def_selection(fmin_p, lambda a, b: logical_or(less(a, b), isnan(b)))


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


def _def_remainder(prim: Primitive, quotient: Callable[[Array, Array], Array]) -> None:
    """Rules of a remainder ``x - quotient(x, y) * y`` whose quotient is an integer (constant
    almost everywhere): the derivative is 1 in ``x`` and ``-quotient(x, y)`` in ``y``."""
    defjvp(prim, lambda t, ans, x, y: broadcast_like(t, ans),
           lambda t, ans, x, y: broadcast_like(t * negative(quotient(x, y)), ans))
    defvjp(prim, lambda g, ans, x, y: unbroadcast(g, x),
           lambda g, ans, x, y: unbroadcast(g * negative(quotient(x, y)), y))


remainder_p = Primitive("remainder", np.remainder)
_def_remainder(remainder_p, floor_divide)


def remainder(x1: Array, x2: Array) -> Array:
    """Elementwise ``x1 - floor(x1/x2) * x2`` (the sign of ``x2``, Python's ``%``). The
    derivative is 1 in ``x1`` and ``-floor(x1/x2)`` in ``x2``."""
    return bind(remainder_p, x1, x2)


def _fmod_quotient_impl(x: Array, y: Array) -> Array:
    # The integer quotient that fmod actually used: np.trunc(x / y) can be off by one where the
    # quotient rounds up to an integer (fmod(1.0, 0.1) is 0.09999..., so the quotient is 9).
    return np.rint((x - np.fmod(x, y)) / y)


fmod_quotient_p = Primitive("fmod_quotient", _fmod_quotient_impl, nondiff=True)


fmod_p = Primitive("fmod", np.fmod)
_def_remainder(fmod_p, lambda x, y: bind(fmod_quotient_p, x, y))


def fmod(x1: Array, x2: Array) -> Array:
    """Elementwise C remainder ``x1 - trunc(x1/x2) * x2`` (the sign of ``x1``). The derivative
    is 1 in ``x1`` and ``-trunc(x1/x2)`` in ``x2``."""
    return bind(fmod_p, x1, x2)


def _copysign_pick(t: Array, x: Array, y: Array) -> Array:
    """``t`` where x and y have the same sign bit, ``-t`` where they differ."""
    return where(equal(signbit(x), signbit(y)), t, negative(t))


copysign_p = Primitive("copysign", np.copysign)
defjvp(copysign_p, lambda t, ans, x, y: broadcast_like(_copysign_pick(t, x, y), ans), None)
defvjp(copysign_p, lambda g, ans, x, y: unbroadcast(_copysign_pick(g, x, y), x), None)


def copysign(x1: Array, x2: Array) -> Array:
    """Elementwise ``|x1|`` with the sign of ``x2``. The derivative in ``x1`` is ±1 (+1 where
    the signs agree); ``x2`` has no derivative."""
    return bind(copysign_p, x1, x2)


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


# Structured basis batches (the vectorized Jacobians' seeds): scaling by a value that is not
# batched, negating and casting keep the structure, so only the scales are computed. (multiply
# and convert are structural primitives of fjac._primitives.base; their basis rules live here,
# beside the other scalings of a basis batch.)
basis_rules[mul_p] = _basis_multiply
basis_rules[div_p] = _basis_divide
basis_rules[neg_p] = lambda main, args: args[0].with_scale(negative(_scale_of(args[0])))
basis_rules[convert_p] = lambda main, args, *, dtype: args[0].with_scale(
    bind(convert_p, _scale_of(args[0]), dtype=dtype)
)

# Batching of the primitives not built by the combinators above: all act elementwise.
batch_unary(sinc_p)
for _prim in (sub_p, div_p, pow_p, remainder_p, fmod_quotient_p, fmod_p, copysign_p, where_p,
              maximum_p, minimum_p, fmax_p, fmin_p):
    batch_elementwise(_prim)

# What each vjp rule reads (the rest of its residuals are dropped when the node is recorded).
keep_residuals("shapes", sub_p)
keep_residuals("inputs", arctan2_p)

# Real arguments give real results (convert_element_type aside: it casts to complex too).
declare_real_closed(globals(), except_=(convert_p,))

# The rules that are right for complex values: the holomorphic functions' (their derivative
# formulas hold for complex arguments as written), |z|'s, and selections by NumPy's
# (lexicographic) order of complex numbers. NumPy has no complex cbrt, fabs, arctan2, hypot,
# logaddexp, remainder, fmod or copysign.
declare_complex(
    neg_p, exp_p, exp2_p, expm1_p, log_p, log2_p, log10_p, log1p_p, sqrt_p, square_p,
    reciprocal_p, sin_p, cos_p, tan_p, arcsin_p, arccos_p, arctan_p, sinh_p, cosh_p, tanh_p,
    arcsinh_p, arccosh_p, arctanh_p, abs_p, sinc_p, sub_p, div_p, pow_p, where_p, maximum_p,
    minimum_p, fmax_p, fmin_p,
)
