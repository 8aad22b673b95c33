"""Linear-algebra primitives for inverses, solves, determinants and the pseudo-inverse, with
their derivatives (``inv`` is here as a function too: the decompositions' rules use it).

Every primitive works on stacks of matrices (the last two axes), as NumPy's do. The rules are
written with fjac operations (matmul, solve, inv, ...), so they differentiate again; the
decompositions in ``linalg_spectral`` use ``inv`` and ``solve`` in theirs.

Derivative conventions (documented on each function too):

- ``det``, ``slogdet``, ``inv``, ``solve``: derivatives use the inverse; at singular matrices
  they are inf or NaN (and NumPy itself raises for ``inv`` and ``solve``).
- ``pinv``: the derivative holds where the rank is constant (no singular value near the
  cutoff).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fjac._core import Primitive, bind
from fjac._primitives import base, products
from fjac._primitives import elementwise as el
from fjac._primitives.base import (
    batch_leading,
    broadcast_like,
    unbroadcast,
)
from fjac._primitives.linalg_common import (
    Array,
    _check_square,
    _float,
    _mm,
    _mT,
    _sym,
)
from fjac._rules import declare_real_closed, defjvp, defvjp, jvp_rules

__all__ = ["inv_p", "inv", "solve_p", "det_p", "slogdet_p", "pinv_p", "matrix_rank_p"]


# ---------------------------------------------------------------------------------------------
# helpers


def _trace_of_product(x: Array, y: Array) -> Array:
    """``trace(xᵀ y)`` of each matrix of the stacks: the sum of ``x * y`` over the last two
    axes."""
    return base.reduce_sum(base.multiply(x, y), (-2, -1))


# ---------------------------------------------------------------------------------------------
# inv, solve, det, slogdet


inv_p = Primitive("inv", np.linalg.inv)
defjvp(inv_p, lambda t, ans, a: el.negative(_mm(ans, t, ans)))
defvjp(inv_p, lambda g, ans, a: el.negative(_mm(_mT(ans), g, _mT(ans))))


def inv(a: Array) -> Array:
    """The inverse of each square matrix in ``a`` (derivative ``-inv(a) @ da @ inv(a)``)."""
    _check_square(a, "inv")
    return bind(inv_p, _float(a))


def _solve_vjp_b(g: Array, ans: Array, a: Array, b: Array) -> Array:
    return unbroadcast(bind(solve_p, _mT(a), g), b)


def _solve_vjp_a(g: Array, ans: Array, a: Array, b: Array) -> Array:
    gb = bind(solve_p, _mT(a), g)
    return unbroadcast(el.negative(products.matmul(gb, _mT(ans))), a)


# (matrix right-hand sides only; ``solve`` reshapes a vector into one column)
solve_p = Primitive("solve", np.linalg.solve)
defjvp(solve_p,
       lambda t, ans, a, b: el.negative(bind(solve_p, a, products.matmul(t, ans))),
       lambda t, ans, a, b: broadcast_like(bind(solve_p, a, t), ans))
defvjp(solve_p, _solve_vjp_a, _solve_vjp_b)


def _inv_T(a: Array) -> Array:
    return _mT(inv(a))


det_p = Primitive("det", np.linalg.det)
defjvp(det_p, lambda t, ans, a: base.multiply(ans, _trace_of_product(_inv_T(a), t)))
defvjp(det_p, lambda g, ans, a: base.multiply(
    base.expand_dims(base.multiply(g, ans), (-2, -1)), _inv_T(a)))


def _slogdet_jvp(primals: list[Array], tangents: list[Array]) -> Any:
    (a,), (t,) = primals, tangents
    sign, logdet = bind(slogdet_p, a)
    return (sign, logdet), (None, _trace_of_product(_inv_T(a), t))


def _slogdet_vjp(g: tuple[Array, Array], ans: Any, a: Array) -> Array:
    g_logdet = g[1]
    if g_logdet is None:  # the sign is piecewise constant
        return None
    return base.multiply(base.expand_dims(g_logdet, (-2, -1)), _inv_T(a))


slogdet_p = Primitive("slogdet", lambda a: tuple(np.linalg.slogdet(a)), multiple_results=True)
jvp_rules[slogdet_p] = _slogdet_jvp
defvjp(slogdet_p, _slogdet_vjp)


# ---------------------------------------------------------------------------------------------
# pinv


def _pinv_jvp(t: Array, ans: Array, a: Array, **params: Any) -> Array:
    """d(A⁺) = -A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I - AA⁺) + (I - A⁺A) dAᵀ A⁺ᵀA⁺ (constant rank)."""
    if params["hermitian"]:
        t = _sym(t)
    p, tt = ans, _mT(t)
    term1 = el.negative(_mm(p, t, p))
    term2 = products.matmul(products.matmul(p, _mT(p)), el.subtract(tt, _mm(tt, a, p)))
    term3 = products.matmul(el.subtract(tt, _mm(p, a, tt)), products.matmul(_mT(p), p))
    return base.add(base.add(term1, term2), term3)


def _pinv_vjp(g: Array, ans: Array, a: Array, **params: Any) -> Array:
    p, gt = ans, _mT(g)
    term1 = el.negative(_mm(_mT(p), g, _mT(p)))
    x = products.matmul(gt, products.matmul(p, _mT(p)))
    y = products.matmul(products.matmul(_mT(p), p), gt)
    ga = base.add(base.add(term1, el.subtract(x, _mm(a, p, x))), el.subtract(y, _mm(y, p, a)))
    return _sym(ga) if params["hermitian"] else ga


def _pinv_impl(a: Array, *, rcond: Any, hermitian: bool, rtol: Any) -> Array:
    if rtol is None:
        return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian)
    return np.linalg.pinv(a, hermitian=hermitian, rtol=rtol)


pinv_p = Primitive("pinv", _pinv_impl)
defjvp(pinv_p, _pinv_jvp)
defvjp(pinv_p, _pinv_vjp)


# ---------------------------------------------------------------------------------------------
# compositions


# ---------------------------------------------------------------------------------------------
# matrix_rank


# A rank has no derivative; as a primitive (not a read of concrete values) it batches per
# example.
matrix_rank_p = Primitive(
    "matrix_rank",
    lambda a, tol, rtol, *, hermitian: np.linalg.matrix_rank(a, tol, hermitian, rtol=rtol),
    nondiff=True,
)


# ---------------------------------------------------------------------------------------------
# numpy.linalg's versions of array-API functions (last axes)


# NumPy's linear algebra maps over leading axes (stacks of matrices), so each of these
# primitives batches by putting the batch axis in front and calling it once.
for _prim in (inv_p, solve_p, det_p, slogdet_p, pinv_p, matrix_rank_p):
    batch_leading(_prim)

# Real arguments give real results.
declare_real_closed(globals())
