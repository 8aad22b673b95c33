"""fjac.numpy's differentiable elementwise functions: each NumPy ufunc declared once, with the
tracer operator or method it backs, and the compositions NumPy offers beside them
(``positive``, ``deg2rad``, ``float_power``, ``clip``).

The primitives and their rules are in ``fjac._primitives.elementwise`` (and ``add``,
``multiply`` and the casts in ``fjac._primitives.base``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fjac._core import Tracer, concrete
from fjac._dtypes import dtype_of
from fjac._primitives import base as B
from fjac._primitives import complex_parts as C
from fjac._primitives import elementwise as P
from fjac._primitives.nondiff import floor_divide, greater, less
from fjac.numpy._dispatch import implements, refuse_out

Array = Any

__all__ = [
    "negative", "positive", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
    "cbrt", "square", "reciprocal", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
    "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "degrees",
    "radians", "sinc", "absolute", "abs", "fabs", "astype", "add", "subtract", "multiply",
    "divide", "true_divide", "power", "float_power", "maximum", "minimum", "fmax", "fmin",
    "arctan2", "hypot", "logaddexp", "logaddexp2", "remainder", "mod", "fmod", "copysign",
    "where", "clip", "real", "imag", "conj", "conjugate", "angle", "real_if_close",
]

# Python floats, not NumPy scalars: they are "weak" in NumPy 2 and keep float32 as float32.
_DEG = math.pi / 180.0
_RAD = 180.0 / math.pi

negative = implements(np.negative, method="__neg__")(P.negative)
exp = implements(np.exp)(P.exp)
exp2 = implements(np.exp2)(P.exp2)
expm1 = implements(np.expm1)(P.expm1)
log = implements(np.log)(P.log)
log2 = implements(np.log2)(P.log2)
log10 = implements(np.log10)(P.log10)
log1p = implements(np.log1p)(P.log1p)
sqrt = implements(np.sqrt)(P.sqrt)
cbrt = implements(np.cbrt)(P.cbrt)
square = implements(np.square)(P.square)
reciprocal = implements(np.reciprocal)(P.reciprocal)
sin = implements(np.sin)(P.sin)
cos = implements(np.cos)(P.cos)
tan = implements(np.tan)(P.tan)
arcsin = implements(np.arcsin)(P.arcsin)
arccos = implements(np.arccos)(P.arccos)
arctan = implements(np.arctan)(P.arctan)
sinh = implements(np.sinh)(P.sinh)
cosh = implements(np.cosh)(P.cosh)
tanh = implements(np.tanh)(P.tanh)
arcsinh = implements(np.arcsinh)(P.arcsinh)
arccosh = implements(np.arccosh)(P.arccosh)
arctanh = implements(np.arctanh)(P.arctanh)
sinc = implements(np.sinc)(P.sinc)
absolute = implements(np.absolute, method="__abs__")(P.absolute)
abs = absolute  # noqa: A001  (NumPy's alias)
fabs = implements(np.fabs)(P.fabs)
astype = implements(method="astype")(B.astype)

add = implements(np.add, method="__add__", reflected="__radd__")(B.add)
subtract = implements(np.subtract, method="__sub__", reflected="__rsub__")(P.subtract)
multiply = implements(np.multiply, method="__mul__", reflected="__rmul__")(B.multiply)
divide = implements(np.divide, method="__truediv__", reflected="__rtruediv__")(P.divide)
true_divide = divide
power = implements(np.power, method="__pow__", reflected="__rpow__")(P.power)
maximum = implements(np.maximum)(P.maximum)
minimum = implements(np.minimum)(P.minimum)
fmax = implements(np.fmax)(P.fmax)
fmin = implements(np.fmin)(P.fmin)
arctan2 = implements(np.arctan2)(P.arctan2)
hypot = implements(np.hypot)(P.hypot)
logaddexp = implements(np.logaddexp)(P.logaddexp)
logaddexp2 = implements(np.logaddexp2)(P.logaddexp2)
remainder = implements(np.remainder, method="__mod__", reflected="__rmod__")(P.remainder)
mod = remainder
fmod = implements(np.fmod)(P.fmod)
copysign = implements(np.copysign)(P.copysign)
where = implements(np.where)(P.where)


real = implements(np.real)(C.real)
imag = implements(np.imag)(C.imag)
conj = implements(np.conjugate, np.conj, method="conjugate")(C.conj)
conjugate = conj
Tracer.conj = C.conj  # type: ignore[attr-defined]
Tracer.real = property(C.real)  # type: ignore[attr-defined]
Tracer.imag = property(C.imag)  # type: ignore[attr-defined]


@implements(np.angle)
def angle(z: Array, deg: bool = False) -> Array:
    """The angle of ``z`` in the complex plane, in radians (degrees with ``deg``), in
    ``(-pi, pi]``; 0 for a non-negative real. At 0 the derivative is NaN (as arctan2's)."""
    out = P.arctan2(C.imag(z), C.real(z))
    return B.multiply(out, _RAD) if deg else out


@implements(np.real_if_close)
def real_if_close(a: Array, tol: float = 100) -> Array:
    """``a``'s real part when every imaginary part is within ``tol`` machine epsilons of 0
    (``tol`` above 1; or an absolute tolerance below 1), else ``a``. Which of the two is
    decided by the value, so under ``jit`` it needs a concrete value."""
    if not C.is_complex(a):
        return a
    if tol > 1:
        tol = float(np.finfo(dtype_of(a)).eps) * tol
    imaginary = concrete(C.imag(a))
    return C.real(a) if bool(np.all(np.abs(imaginary) < tol)) else a


@implements(np.positive, method="__pos__")
def positive(x: Array) -> Array:
    """Elementwise ``+x``: the value itself for a tracer, a new array for an ndarray (as
    NumPy's, it never aliases its input)."""
    return x if isinstance(x, Tracer) else np.positive(x)


@implements(np.deg2rad, np.radians)
def deg2rad(x: Array) -> Array:
    """Degrees to radians: ``x * pi / 180``."""
    return B.multiply(x, _DEG)


@implements(np.rad2deg, np.degrees)
def rad2deg(x: Array) -> Array:
    """Radians to degrees: ``x * 180 / pi``."""
    return B.multiply(x, _RAD)


radians = deg2rad
degrees = rad2deg


def _as_float64(x: Array) -> Array:
    """``x`` in float64, or complex128 when it is complex."""
    target = np.complex128 if C.is_complex(x) else np.float64
    return B.astype(x, target) if dtype_of(x) != target else x


@implements(np.float_power)
def float_power(x: Array, y: Array) -> Array:
    """Elementwise ``x ** y`` computed in float64 (complex128 for complex inputs), whatever the
    input dtypes, as NumPy does."""
    return P.power(_as_float64(x), _as_float64(y))


@implements(method="__divmod__")
def _divmod(x: Array, y: Array) -> tuple[Array, Array]:
    return floor_divide(x, y), P.remainder(x, y)


@implements(method="__rdivmod__")
def _rdivmod(x: Array, y: Array) -> tuple[Array, Array]:
    return floor_divide(y, x), P.remainder(y, x)


@implements(np.clip, method="clip")
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
    refuse_out("clip", out)
    lo = _one_of(a_min, min, "a_min", "min")
    hi = _one_of(a_max, max, "a_max", "max")
    if lo is not None:
        a = P.where(less(a, lo), lo, a)
    if hi is not None:
        a = P.where(greater(a, hi), hi, a)
    return a


def _one_of(positional: Array, keyword: Array, name: str, alias: str) -> Array:
    if positional is not None and keyword is not None:
        raise TypeError(f"clip: give {name} or {alias}, not both")
    return keyword if positional is None else positional
