"""The parts of a complex value: ``real``, ``imag`` and ``conj``, each real-linear.

Their transposes follow JAX's convention, in which a cotangent ``g`` pairs with a tangent ``t``
as ``Re(sum(g * t))`` (no conjugation):

- ``real``: ``g * Re(t) = Re(g * t)`` for a real ``g``, so the cotangent is ``g`` itself;
- ``imag``: ``g * Im(t) = Re(-i g * t)``, so the cotangent is ``-i g``;
- ``conj``: ``Re(g * conj(t)) = Re(conj(g) * t)``, so the cotangent is ``conj(g)``.

On a real argument ``real`` and ``conj`` are the identity and ``imag`` is zero, as in NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fjac._core import bind
from fjac._dtypes import dtype_of
from fjac._primitives.base import multiply
from fjac._primitives.combinators import linear
from fjac._rules import declare_complex, declare_real_closed

Array = Any

__all__ = ["real_p", "imag_p", "conj_p", "real", "imag", "conj", "is_complex"]


def is_complex(x: Array) -> bool:
    """Whether ``x`` (an array, tracer, number or a residual's shape and dtype) is complex."""
    return type(x) is complex or dtype_of(x).kind == "c"


def _real_impl(x: Array) -> Array:
    return np.real(x) if np.iscomplexobj(x) else x


def _imag_impl(x: Array) -> Array:
    x = np.asarray(x) if not hasattr(x, "dtype") else x
    if np.iscomplexobj(x):
        return np.imag(x)
    return np.zeros_like(x)


def _conj_impl(x: Array) -> Array:
    return np.conjugate(x) if np.iscomplexobj(x) else x


real_p = linear("real", _real_impl, lambda g, x: g, batch="unary")
imag_p = linear(
    "imag", _imag_impl,
    lambda g, x: multiply(g, -1j) if is_complex(x) else multiply(g, 0.0),
    batch="unary",
)
conj_p = linear("conj", _conj_impl, lambda g, x: conj(g), batch="unary")


def real(x: Array) -> Array:
    """The real part of ``x`` (``x`` itself when it is real)."""
    return bind(real_p, x)


def imag(x: Array) -> Array:
    """The imaginary part of ``x`` (zeros when it is real)."""
    return bind(imag_p, x)


def conj(x: Array) -> Array:
    """The complex conjugate of ``x`` (``x`` itself when it is real)."""
    return bind(conj_p, x)


declare_complex(real_p, imag_p, conj_p)
declare_real_closed(globals())
