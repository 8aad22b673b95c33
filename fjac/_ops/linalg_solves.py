"""``numpy.linalg``: inverses, solves, determinants, the pseudo-inverse, matrix powers and
chains of products, with their derivatives; and ``numpy.linalg``'s versions of the array-API
products (matmul, tensordot, outer, vecdot, matrix_transpose, trace, diagonal).

Every function works on stacks of matrices (the last two axes), as NumPy's do. The rules are
written with fjac operations (matmul, solve, inv, ...), so they differentiate again; the
decompositions in ``linalg_spectral`` use ``inv`` and ``solve`` in theirs.

Derivative conventions (documented on each function too):

- ``det``, ``slogdet``, ``inv``, ``solve``: derivatives use the inverse; at singular matrices
  they are inf or NaN (and NumPy itself raises for ``inv`` and ``solve``).
- ``pinv``: the derivative holds where the rank is constant (no singular value near the
  cutoff).
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from fjac._core import Primitive, bind, is_tracer
from fjac._dispatch import register_function
from fjac._dtypes import dtype_of
from fjac._edge import shape_of
from fjac._ops.linalg_common import (
    Array,
    _check_matrix,
    _check_square,
    _float,
    _la,
    _mm,
    _mT,
    _sym,
)
from fjac._primitives import base, products
from fjac._primitives import elementwise as el
from fjac._primitives.base import (
    batch_leading,
    broadcast_like,
    unbroadcast,
)
from fjac._rules import defjvp, defvjp, jvp_rules
from fjac.numpy import _products
from fjac.numpy import _reductions as reductions

# The names fjac.numpy.linalg exports from this family.
__all__ = [
    "inv",
    "solve",
    "det",
    "slogdet",
    "pinv",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "matmul",
    "tensordot",
    "outer",
    "vecdot",
    "matrix_transpose",
    "trace",
    "diagonal",
    "SlogdetResult",
]


class SlogdetResult(NamedTuple):
    """``slogdet``'s result: ``det = sign * exp(logabsdet)``."""

    sign: Array
    logabsdet: Array


# ---------------------------------------------------------------------------------------------
# helpers


def _trace_of_product(x: Array, y: Array) -> Array:
    """``trace(xᵀ y)`` of each matrix of the stacks: the sum of ``x * y`` over the last two
    axes."""
    return reductions.sum(base.multiply(x, y), axis=(-2, -1))


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


def solve(a: Array, b: Array) -> Array:
    """The solution ``x`` of ``a @ x = b``: ``b`` is a vector (1-D) or a stack of matrices
    ``(..., M, K)``; batch axes broadcast (NumPy 2 rules)."""
    s = _check_square(a, "solve")
    b_shape = shape_of(b)
    a, b = _float(a), _float(b)
    if len(b_shape) == 1:
        if b_shape[0] != s[-1]:
            raise ValueError(f"solve: a has shape {s} but b has shape {b_shape}")
        x = bind(solve_p, a, base.reshape(b, (-1, 1)))
        return base.reshape(x, shape_of(x)[:-1])
    if b_shape[-2] != s[-1]:
        raise ValueError(
            f"solve: a has shape {s} but b has shape {b_shape}; b must be (M,) or (..., M, K)"
        )
    return bind(solve_p, a, b)


def _inv_T(a: Array) -> Array:
    return _mT(inv(a))


det_p = Primitive("det", np.linalg.det)
defjvp(det_p, lambda t, ans, a: base.multiply(ans, _trace_of_product(_inv_T(a), t)))
defvjp(det_p, lambda g, ans, a: base.multiply(
    base.expand_dims(base.multiply(g, ans), (-2, -1)), _inv_T(a)))


def det(a: Array) -> Array:
    """The determinant of each square matrix in ``a`` (derivative ``det(a) inv(a)ᵀ``: inf or
    NaN at singular matrices)."""
    _check_square(a, "det")
    return bind(det_p, _float(a))


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


def slogdet(a: Array) -> SlogdetResult:
    """``(sign, logabsdet)`` of the determinant of each square matrix in ``a``; only
    ``logabsdet`` has a derivative (``inv(a)ᵀ``)."""
    _check_square(a, "slogdet")
    if not is_tracer(a):
        return _la.slogdet(a)  # type: ignore[no-any-return]
    return SlogdetResult(*bind(slogdet_p, a))


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


def pinv(a: Array, rcond: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Array:
    """The Moore-Penrose pseudo-inverse of each matrix in ``a`` (singular values at most
    ``rcond`` (or ``rtol``) times the largest are treated as zero).

    The derivative holds where the rank is constant, i.e. no singular value is near the cutoff.
    """
    _check_matrix(a, "pinv")
    if rcond is not None and rtol is not None:
        raise ValueError("pinv: give rcond or rtol, not both")
    return bind(pinv_p, _float(a), rcond=rcond, hermitian=bool(hermitian), rtol=rtol)


# ---------------------------------------------------------------------------------------------
# compositions


def matrix_power(a: Array, n: int) -> Array:
    """``a`` multiplied by itself ``n`` times (an integer; negative powers invert first, 0
    gives the identity)."""
    s = _check_square(a, "matrix_power")
    n = operator.index(n)
    if not is_tracer(a):
        return np.linalg.matrix_power(a, n)
    if n == 0:
        return np.broadcast_to(np.eye(s[-1], dtype=dtype_of(a)), s).copy()
    if n < 0:
        a, n = inv(a), -n
    # NumPy's binary powering, in its order of products
    if n <= 3:
        return _mm(*[a] * n)
    result = z = None
    while n > 0:
        z = a if z is None else products.matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else products.matmul(result, z)
    return result


def multi_dot(arrays: Any, *, out: Any = None) -> Array:
    """The product of a chain of matrices (the first may be a 1-D row vector, the last a 1-D
    column vector), multiplied left to right."""
    if out is not None:
        raise TypeError("multi_dot: out= is not supported (traced arrays are immutable)")
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("multi_dot needs at least two arrays")
    return _mm(*arrays)


# ---------------------------------------------------------------------------------------------
# matrix_rank


# A rank has no derivative; as a primitive (not a read of concrete values) it batches per
# example.
matrix_rank_p = Primitive(
    "matrix_rank",
    lambda a, tol, rtol, *, hermitian: np.linalg.matrix_rank(a, tol, hermitian, rtol=rtol),
    nondiff=True,
)


def matrix_rank(A: Array, tol: Any = None, hermitian: bool = False, *,  # noqa: N803
                rtol: Any = None) -> Any:
    """The number of singular values above the tolerance (an integer: no derivative)."""
    return bind(matrix_rank_p, A, tol, rtol, hermitian=bool(hermitian))


# ---------------------------------------------------------------------------------------------
# numpy.linalg's versions of array-API functions (last axes)


def matmul(x1: Array, x2: Array, /) -> Array:
    """Matrix product (as ``numpy.matmul``)."""
    return products.matmul(x1, x2)


def tensordot(x1: Array, x2: Array, /, *, axes: Any = 2) -> Array:
    """Sum of products over ``axes`` (as ``numpy.tensordot``)."""
    return _products.tensordot(x1, x2, axes)


def outer(x1: Array, x2: Array, /) -> Array:
    """Outer product of two vectors."""
    return _products.outer(x1, x2)


def vecdot(x1: Array, x2: Array, /, *, axis: int = -1) -> Array:
    """Dot product of vectors along ``axis`` (broadcasting the rest; real inputs)."""
    return reductions.sum(base.multiply(x1, x2), axis=axis)


def matrix_transpose(x: Array, /) -> Array:
    """Each matrix of the stack transposed (the last two axes swapped)."""
    return _mT(x)


def trace(x: Array, /, *, offset: int = 0, dtype: Any = None) -> Array:
    """Sum along diagonal ``offset`` of each matrix in the last two axes."""
    return _products.trace(x, offset, axis1=-2, axis2=-1, dtype=dtype)


def diagonal(x: Array, /, *, offset: int = 0) -> Array:
    """Diagonal ``offset`` of each matrix in the last two axes."""
    return _products.diagonal(x, offset, axis1=-2, axis2=-1)


_FUNCTIONS: list[tuple[Any, Any]] = [
    (np.linalg.inv, inv), (np.linalg.solve, solve), (np.linalg.det, det),
    (np.linalg.slogdet, slogdet), (np.linalg.pinv, pinv),
    (np.linalg.matrix_power, matrix_power), (np.linalg.matrix_rank, matrix_rank),
    (np.linalg.multi_dot, multi_dot),
]
_ARRAY_API: list[tuple[str, Any]] = [
    ("matmul", matmul), ("tensordot", tensordot), ("outer", outer), ("vecdot", vecdot),
    ("matrix_transpose", matrix_transpose), ("trace", trace), ("diagonal", diagonal),
]
for _np_fn, _fn in _FUNCTIONS:
    register_function(_np_fn, _fn)
for _name, _fn in _ARRAY_API:  # present in NumPy >= 2.0
    if hasattr(np.linalg, _name):
        register_function(getattr(np.linalg, _name), _fn)


# NumPy's linear algebra maps over leading axes (stacks of matrices), so each of these
# primitives batches by putting the batch axis in front and calling it once.
for _prim in (inv_p, solve_p, det_p, slogdet_p, pinv_p, matrix_rank_p):
    batch_leading(_prim)
