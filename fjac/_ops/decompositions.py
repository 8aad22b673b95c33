"""``numpy.linalg``: inverses, solves, determinants and decompositions, with their derivatives.

Every function works on stacks of matrices (the last two axes), as NumPy's do. The rules are
written with fjac operations (matmul, solve, inv, ...), so they differentiate again.

Derivative conventions (documented on each function too):

- ``cholesky``, ``eigh`` (and ``eigvalsh``) read one triangle of a symmetric matrix; their
  derivatives treat the input as symmetric: a tangent ``dA`` acts as ``(dA + dAᵀ)/2`` and the
  gradient they return is symmetric. Differentiate them at symmetric inputs, along symmetric
  directions (e.g. of ``A = X @ X.T + n*I``).
- ``eigh`` eigenvectors and ``svd`` singular vectors: the derivative assumes distinct
  eigenvalues (singular values); where two coincide it is inf or NaN. Eigenvalues alone
  (``eigvalsh``) and singular values alone (``svd(compute_uv=False)``, ``svdvals``, the nuclear
  and 2-norms) have well-defined first derivatives without that assumption. Vectors are
  defined up to sign: differentiate sign-invariant functions of them.
- ``svd`` is differentiable with ``full_matrices=False`` (and for square matrices with any
  value): the extra columns of ``full_matrices=True`` are not unique and raise under
  differentiation. The derivative of U and V needs nonzero singular values (full rank).
- ``qr``: modes "reduced" and "r" are differentiable for every shape (full rank assumed);
  "complete" only when it equals "reduced" (m <= n); "raw" not at all.
- ``det``, ``slogdet``, ``inv``, ``solve``: derivatives use the inverse; at singular matrices
  they are inf or NaN (and NumPy itself raises for ``inv`` and ``solve``).
- ``pinv`` and ``lstsq``: the derivative holds where the rank is constant (no singular value
  near the cutoff).
- ``norm``: the 2-norm and Frobenius norm have derivative 0 at 0 (not NaN), as do p-norms;
  ``ord=0`` (a count) has no derivative; ``inf``/``-inf``/``1``/``-1`` use max/min, whose
  derivative at ties is that of ``fjac.numpy.max``.
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from fjac._core import Primitive, bind, concrete, is_tracer
from fjac._dispatch import register_function
from fjac._dtypes import dtype_of, is_float
from fjac._edge import shape_of
from fjac._ops import elementwise as el
from fjac._ops import indexing, linalg, reductions, shape
from fjac._rules import defjvp, defvjp, jvp_rules
from fjac._vmap import batch_leading

Array = Any
_la: Any = np.linalg  # NumPy's own functions, for untraced inputs (their stubs want literals)

# The names fjac.numpy.linalg exports.
__all__ = [
    "inv",
    "solve",
    "det",
    "slogdet",
    "cholesky",
    "eigh",
    "eigvalsh",
    "svd",
    "svdvals",
    "pinv",
    "qr",
    "matrix_power",
    "lstsq",
    "norm",
    "vector_norm",
    "matrix_norm",
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
    "EighResult",
    "SVDResult",
    "QRResult",
]


class SlogdetResult(NamedTuple):
    """``slogdet``'s result: ``det = sign * exp(logabsdet)``."""

    sign: Array
    logabsdet: Array


class EighResult(NamedTuple):
    """``eigh``'s result: eigenvalues in ascending order and eigenvectors as columns."""

    eigenvalues: Array
    eigenvectors: Array


class SVDResult(NamedTuple):
    """``svd``'s result: ``a = U @ (S[..., None] * Vh)``."""

    U: Array
    S: Array
    Vh: Array


class QRResult(NamedTuple):
    """``qr``'s result: ``a = Q @ R``."""

    Q: Array
    R: Array


# ---------------------------------------------------------------------------------------------
# helpers


def _mT(x: Array) -> Array:
    """Transpose of the last two axes."""
    return shape.swapaxes(x, -1, -2)


def _mm(*xs: Array) -> Array:
    """The matrix product of the arguments, left to right."""
    out = xs[0]
    for x in xs[1:]:
        out = linalg.matmul(out, x)
    return out


def _sym(x: Array) -> Array:
    """The symmetric part ``(x + xᵀ)/2`` of the last two axes."""
    return el.multiply(el.add(x, _mT(x)), 0.5)


def _diag_embed(v: Array) -> Array:
    """A stack of diagonal matrices with the last axis of ``v`` on their diagonals."""
    n = shape_of(v)[-1]
    return el.multiply(shape.expand_dims(v, -1), np.eye(n, dtype=dtype_of(v)))


def _diag_part(x: Array) -> Array:
    """The diagonals of a stack of matrices."""
    return linalg.diagonal(x, axis1=-2, axis2=-1)


def _inv_gaps(w: Array) -> Array:
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it (inf where values repeat)."""
    n = shape_of(w)[-1]
    eye = np.eye(n, dtype=bool)
    gaps = el.subtract(shape.expand_dims(w, -2), shape.expand_dims(w, -1))
    return el.where(eye, 0.0, el.reciprocal(el.where(eye, 1.0, gaps)))


def _trace_of_product(x: Array, y: Array) -> Array:
    """``trace(xᵀ y)`` of each matrix of the stacks: the sum of ``x * y`` over the last two
    axes."""
    return reductions.sum(el.multiply(x, y), axis=(-2, -1))


def _check_square(a: Array, name: str) -> tuple[int, ...]:
    s = shape_of(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(
            f"{name} needs square matrices in the last two axes, got shape {s}"
        )
    return s


def _check_matrix(a: Array, name: str) -> tuple[int, ...]:
    s = shape_of(a)
    if len(s) < 2:
        raise ValueError(f"{name} needs an array of at least 2 axes (matrices), got shape {s}")
    return s


def _float(a: Array) -> Array:
    """``a`` as a floating array (integers become float64, as in numpy.linalg)."""
    return a if is_float(dtype_of(a)) else el.astype(a, np.float64)


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
    return el.unbroadcast(bind(solve_p, _mT(a), g), b)


def _solve_vjp_a(g: Array, ans: Array, a: Array, b: Array) -> Array:
    gb = bind(solve_p, _mT(a), g)
    return el.unbroadcast(el.negative(linalg.matmul(gb, _mT(ans))), a)


# (matrix right-hand sides only; ``solve`` reshapes a vector into one column)
solve_p = Primitive("solve", np.linalg.solve)
defjvp(solve_p,
       lambda t, ans, a, b: el.negative(bind(solve_p, a, linalg.matmul(t, ans))),
       lambda t, ans, a, b: el.broadcast_like(bind(solve_p, a, t), ans))
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
        x = bind(solve_p, a, shape.reshape(b, (-1, 1)))
        return shape.reshape(x, shape_of(x)[:-1])
    if b_shape[-2] != s[-1]:
        raise ValueError(
            f"solve: a has shape {s} but b has shape {b_shape}; b must be (M,) or (..., M, K)"
        )
    return bind(solve_p, a, b)


def _inv_T(a: Array) -> Array:
    return _mT(inv(a))


det_p = Primitive("det", np.linalg.det)
defjvp(det_p, lambda t, ans, a: el.multiply(ans, _trace_of_product(_inv_T(a), t)))
defvjp(det_p, lambda g, ans, a: el.multiply(
    shape.expand_dims(el.multiply(g, ans), (-2, -1)), _inv_T(a)))


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
    return el.multiply(shape.expand_dims(g_logdet, (-2, -1)), _inv_T(a))


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
# cholesky


def _phi(x: Array) -> Array:
    """The lower triangle of ``x`` with its diagonal halved."""
    n = shape_of(x)[-1]
    weights = np.tri(n, k=-1, dtype=dtype_of(x)) + 0.5 * np.eye(n, dtype=dtype_of(x))
    return el.multiply(x, weights)


def _cholesky_jvp(t: Array, ans: Array, a: Array) -> Array:
    l_inv = inv(ans)
    return linalg.matmul(ans, _phi(_mm(l_inv, _sym(t), _mT(l_inv))))


def _cholesky_vjp(g: Array, ans: Array, a: Array) -> Array:
    l_inv = inv(ans)
    p = _phi(linalg.matmul(_mT(ans), g))
    return _sym(_mm(_mT(l_inv), p, l_inv))


cholesky_p = Primitive("cholesky", np.linalg.cholesky)
defjvp(cholesky_p, _cholesky_jvp)
defvjp(cholesky_p, _cholesky_vjp)


def cholesky(a: Array, /, *, upper: bool = False) -> Array:
    """The lower-triangular ``L`` with ``a = L @ Lᵀ`` (``Lᵀ`` when ``upper``) of each symmetric
    positive-definite matrix in ``a``.

    The derivative treats ``a`` as symmetric (a tangent ``dA`` acts as ``(dA + dAᵀ)/2``).
    """
    _check_square(a, "cholesky")
    out = bind(cholesky_p, _float(a))
    return _mT(out) if upper else out


# ---------------------------------------------------------------------------------------------
# eigh


def _eigh_jvp(primals: list[Array], tangents: list[Array], *, UPLO: str) -> Any:  # noqa: N803
    (a,), (t,) = primals, tangents
    w, v = bind(eigh_p, a, UPLO=UPLO)
    m = _mm(_mT(v), _sym(t), v)
    return (w, v), (_diag_part(m), linalg.matmul(v, el.multiply(_inv_gaps(w), m)))


def _eigh_vjp(g: tuple[Array, Array], ans: Any, a: Array, *, UPLO: str) -> Array:  # noqa: N803
    gw, gv = g
    w, v = ans
    inner = None if gw is None else _diag_embed(gw)
    if gv is not None:
        term = el.multiply(_inv_gaps(w), linalg.matmul(_mT(v), gv))
        inner = term if inner is None else el.add(inner, term)
    return _sym(_mm(v, inner, _mT(v)))


eigh_p = Primitive("eigh", lambda a, *, UPLO: tuple(np.linalg.eigh(a, UPLO)),
                   multiple_results=True)
jvp_rules[eigh_p] = _eigh_jvp
defvjp(eigh_p, _eigh_vjp)


def eigh(a: Array, UPLO: str = "L") -> EighResult:  # noqa: N803  (NumPy's parameter name)
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix in ``a``,
    read from its lower ("L") or upper ("U") triangle.

    The derivative treats ``a`` as symmetric, and that of the eigenvectors assumes distinct
    eigenvalues (inf/NaN where two coincide); eigenvectors are defined up to sign.
    """
    _check_square(a, "eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    if not is_tracer(a):
        return _la.eigh(a, UPLO)  # type: ignore[no-any-return]
    return EighResult(*bind(eigh_p, a, UPLO=UPLO))


def eigvalsh(a: Array, UPLO: str = "L") -> Array:  # noqa: N803
    """The eigenvalues (ascending) of each symmetric matrix in ``a``; their derivative
    ``diag(Vᵀ dA V)`` needs no distinct eigenvalues."""
    if not is_tracer(a):
        return _la.eigvalsh(a, UPLO)
    return eigh(a, UPLO)[0]


# ---------------------------------------------------------------------------------------------
# svd


def _svd_jvp(primals: list[Array], tangents: list[Array], *, hermitian: bool) -> Any:
    (a,), (t,) = primals, tangents
    u, s, vh = bind(svd_p, a, hermitian=hermitian)
    if hermitian:
        t = _sym(t)
    v = _mT(vh)
    dp = _mm(_mT(u), t, v)
    f = _inv_gaps(el.square(s))
    s_row = shape.expand_dims(s, -2)  # [i, j] = s[j]: x * s_row is x @ diag(s)
    s_col = shape.expand_dims(s, -1)
    dps = el.multiply(dp, s_row)
    sdp = el.multiply(s_col, dp)
    du = linalg.matmul(u, el.multiply(f, el.add(dps, _mT(dps))))
    dv = linalg.matmul(v, el.multiply(f, el.add(sdp, _mT(sdp))))
    m, n = shape_of(a)[-2:]
    if m > n:  # the part of dA V outside the span of U
        tv = linalg.matmul(t, v)
        du = el.add(du, el.divide(el.subtract(tv, _mm(u, _mT(u), tv)), s_row))
    if n > m:
        tu = linalg.matmul(_mT(t), u)
        dv = el.add(dv, el.divide(el.subtract(tu, _mm(v, vh, tu)), s_row))
    return (u, s, vh), (du, _diag_part(dp), _mT(dv))


def _svd_vjp(g: tuple[Array, Array, Array], ans: Any, a: Array, *, hermitian: bool) -> Array:
    gu, gs, gvh = g
    u, s, vh = ans
    s_row = shape.expand_dims(s, -2)
    s_col = shape.expand_dims(s, -1)
    terms = [] if gs is None else [_diag_embed(gs)]
    if gu is not None or gvh is not None:
        f = _inv_gaps(el.square(s))
    if gu is not None:
        j = el.multiply(f, linalg.matmul(_mT(u), gu))
        terms.append(el.multiply(el.add(j, _mT(j)), s_row))
    if gvh is not None:
        gv = _mT(gvh)
        k = el.multiply(f, linalg.matmul(vh, gv))
        terms.append(el.multiply(s_col, el.add(k, _mT(k))))
    inner = terms[0]
    for term in terms[1:]:
        inner = el.add(inner, term)
    ga = _mm(u, inner, vh)
    m, n = shape_of(a)[-2:]
    if gu is not None and m > n:
        outside = el.subtract(gu, _mm(u, _mT(u), gu))
        ga = el.add(ga, linalg.matmul(el.divide(outside, s_row), vh))
    if gvh is not None and n > m:
        outside = el.subtract(gv, _mm(_mT(vh), vh, gv))
        ga = el.add(ga, linalg.matmul(u, el.divide(_mT(outside), s_col)))
    return _sym(ga) if hermitian else ga


def _svd_impl(a: Array, *, hermitian: bool) -> tuple[Array, ...]:
    return tuple(np.linalg.svd(a, full_matrices=False, hermitian=hermitian))


# The reduced SVD, the one with a unique derivative.
svd_p = Primitive("svd", _svd_impl, multiple_results=True)
jvp_rules[svd_p] = _svd_jvp
defvjp(svd_p, _svd_vjp)


def _svdvals_jvp(t: Array, ans: Array, a: Array, *, hermitian: bool) -> Array:
    u, _, vh = bind(svd_p, a, hermitian=hermitian)
    return _diag_part(_mm(_mT(u), _sym(t) if hermitian else t, _mT(vh)))


def _svdvals_vjp(g: Array, ans: Array, a: Array, *, hermitian: bool) -> Array:
    u, _, vh = bind(svd_p, a, hermitian=hermitian)
    ga = _mm(u, _diag_embed(g), vh)
    return _sym(ga) if hermitian else ga


# Singular values alone: their first derivative needs no distinct values.
svdvals_p = Primitive(
    "svdvals", lambda a, *, hermitian: np.linalg.svd(a, compute_uv=False, hermitian=hermitian)
)
defjvp(svdvals_p, _svdvals_jvp)
defvjp(svdvals_p, _svdvals_vjp)


def svd(a: Array, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """Singular value decomposition ``a = U @ diag(S) @ Vh`` of each matrix in ``a``
    (singular values descending); only ``S`` when ``compute_uv`` is False.

    Differentiable with ``full_matrices=False``, or for square matrices (where both agree);
    ``full_matrices=True`` on a non-square traced matrix raises, since its extra columns have
    no unique derivative. The derivative of U and Vh assumes distinct, nonzero singular values;
    singular vectors are defined up to sign. ``hermitian=True`` treats ``a`` as symmetric.
    """
    m, n = _check_matrix(a, "svd")[-2:]
    if not is_tracer(a):
        return _la.svd(a, full_matrices=full_matrices, compute_uv=compute_uv,
                             hermitian=hermitian)
    if not compute_uv:
        return bind(svdvals_p, a, hermitian=bool(hermitian))
    if full_matrices and m != n:
        raise ValueError(
            f"svd with full_matrices=True of a traced {m}x{n} matrix: the extra singular "
            "vectors are not unique and have no derivative; pass full_matrices=False"
        )
    return SVDResult(*bind(svd_p, a, hermitian=bool(hermitian)))


def svdvals(x: Array, /) -> Array:
    """The singular values (descending) of each matrix in ``x``."""
    return svd(x, compute_uv=False)


# ---------------------------------------------------------------------------------------------
# pinv


def _pinv_jvp(t: Array, ans: Array, a: Array, **params: Any) -> Array:
    """d(A⁺) = -A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I - AA⁺) + (I - A⁺A) dAᵀ A⁺ᵀA⁺ (constant rank)."""
    if params["hermitian"]:
        t = _sym(t)
    p, tt = ans, _mT(t)
    term1 = el.negative(_mm(p, t, p))
    term2 = linalg.matmul(linalg.matmul(p, _mT(p)), el.subtract(tt, _mm(tt, a, p)))
    term3 = linalg.matmul(el.subtract(tt, _mm(p, a, tt)), linalg.matmul(_mT(p), p))
    return el.add(el.add(term1, term2), term3)


def _pinv_vjp(g: Array, ans: Array, a: Array, **params: Any) -> Array:
    p, gt = ans, _mT(g)
    term1 = el.negative(_mm(_mT(p), g, _mT(p)))
    x = linalg.matmul(gt, linalg.matmul(p, _mT(p)))
    y = linalg.matmul(linalg.matmul(_mT(p), p), gt)
    ga = el.add(el.add(term1, el.subtract(x, _mm(a, p, x))), el.subtract(y, _mm(y, p, a)))
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
# qr


def _right_solve(x: Array, r: Array) -> Array:
    """``x @ inv(r)``."""
    return _mT(bind(solve_p, _mT(r), _mT(x)))


def _qr_jvp(primals: list[Array], tangents: list[Array]) -> Any:
    (a,), (t,) = primals, tangents
    q, r = bind(qr_p, a)
    x = _right_solve(t, r)
    c = linalg.matmul(_mT(q), x)
    low = linalg.tril(c, -1)
    omega = el.subtract(low, _mT(low))  # skew-symmetric: Qᵀ dQ on the span of Q
    dq = el.add(linalg.matmul(q, el.subtract(omega, c)), x)
    dr = linalg.matmul(el.subtract(c, omega), r)
    return (q, r), (dq, dr)


def _qr_vjp(g: tuple[Array, Array], ans: Any, a: Array) -> Array:
    gq, gr = g
    q, r = ans
    if gr is None:
        m = el.negative(linalg.matmul(_mT(q), gq))
    else:
        m = linalg.matmul(gr, _mT(r))
        if gq is not None:
            m = el.subtract(m, linalg.matmul(_mT(q), gq))
    gc = el.subtract(m, linalg.tril(el.subtract(m, _mT(m)), -1))
    gx = linalg.matmul(q, gc)
    if gq is not None:
        gx = el.add(gx, gq)
    return _mT(bind(solve_p, r, _mT(gx)))  # gx @ inv(r)ᵀ


# The reduced QR of matrices with at least as many rows as columns.
qr_p = Primitive("qr", lambda a: tuple(np.linalg.qr(a)), multiple_results=True)
jvp_rules[qr_p] = _qr_jvp
defvjp(qr_p, _qr_vjp)


def qr(a: Array, mode: str = "reduced") -> Any:
    """QR decomposition ``a = Q @ R`` (Q with orthonormal columns, R upper-triangular) of each
    matrix in ``a``.

    Differentiable (for full-rank inputs) in modes "reduced" and "r" for any shape, and in
    "complete" when m <= n (where it is the reduced one); "raw" and "complete" with m > n
    raise for traced inputs. A wide matrix is factored as ``[A1 | A2] = Q [R1 | Qᵀ A2]``.
    """
    m, n = _check_matrix(a, "qr")[-2:]
    if mode not in ("reduced", "complete", "r", "raw"):
        raise ValueError(f"qr: unknown mode {mode!r}; use 'reduced', 'complete', 'r' or 'raw'")
    if not is_tracer(a):
        return _la.qr(a, mode=mode)
    if mode == "raw" or (mode == "complete" and m > n):
        raise ValueError(
            f"qr: mode {mode!r} is not differentiable for a {m}x{n} matrix (its extra columns "
            "are not unique); use mode='reduced'"
        )
    if m >= n:
        q, r = bind(qr_p, a)
    else:
        q, r1 = bind(qr_p, indexing.getitem(a, (Ellipsis, slice(None, m))))
        a2 = indexing.getitem(a, (Ellipsis, slice(m, None)))
        r = shape.concatenate([r1, linalg.matmul(_mT(q), a2)], axis=-1)
    return r if mode == "r" else QRResult(q, r)


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
        z = a if z is None else linalg.matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else linalg.matmul(result, z)
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


def lstsq(a: Array, b: Array, rcond: Any = None) -> tuple[Array, Array, Any, Array]:
    """Least-squares solution ``x`` of ``a @ x ≈ b`` (minimum norm), with the residual sums of
    squares, the rank of ``a`` and its singular values.

    Traced, ``x = pinv(a) @ b``: the derivative holds where the rank is constant (no singular
    value near the cutoff ``rcond * max(s)``, default ``eps * max(M, N)``).
    """
    if not is_tracer(a) and not is_tracer(b):
        return _la.lstsq(a, b, rcond=rcond)  # type: ignore[no-any-return]
    a_shape, b_shape = shape_of(a), shape_of(b)
    if len(a_shape) != 2 or len(b_shape) not in (1, 2) or b_shape[0] != a_shape[0]:
        raise ValueError(f"lstsq: a must be (M, N) and b (M,) or (M, K), got {a_shape}, {b_shape}")
    m, n = a_shape
    a, b = _float(a), _float(b)
    if rcond is None:
        rcond = np.finfo(np.result_type(dtype_of(a), dtype_of(b))).eps * max(m, n)
    s = svdvals(a)
    rank = bind(singular_rank_p, s, rcond) if min(m, n) else np.int32(0)
    x = linalg.matmul(pinv(a, rcond=rcond), b)
    if m > n and _full_rank(rank, n):
        r = el.subtract(b, linalg.matmul(a, x))
        residuals = reductions.sum(el.square(r), axis=0)
        residuals = shape.reshape(residuals, (1,)) if len(b_shape) == 1 else residuals
    else:
        residuals = np.zeros((0,), dtype=dtype_of(x))
    return x, residuals, rank, s


def _full_rank(rank: Any, n: int) -> bool:
    """Whether a tall lstsq problem has full column rank (NumPy then returns residuals).

    The result's layout depends on the answer, so under vmap every example must agree; the
    ranks are read from the batch (they carry no derivative) and a mix of ranks raises.
    """
    full = np.asarray(concrete(rank)) == n
    if full.all():
        return True
    if not full.any():
        return False
    raise ValueError(
        f"lstsq under vmap: {int(full.sum())} of {full.size} examples have full column rank "
        f"({n}) and the others do not. NumPy returns residuals only at full rank, so their "
        "results cannot share one layout. For the solution alone, use "
        "fjac.numpy.linalg.pinv(a) @ b, which is what lstsq computes"
    )


# Ranks have no derivative; as primitives (not reads of concrete values) they batch per example.
matrix_rank_p = Primitive(
    "matrix_rank",
    lambda a, tol, rtol, *, hermitian: np.linalg.matrix_rank(a, tol, hermitian, rtol=rtol),
    nondiff=True,
)
singular_rank_p = Primitive(
    "singular_rank",
    lambda s, cutoff: np.sum(s > cutoff * s[..., :1], axis=-1).astype(np.int32),
    nondiff=True,
)


def matrix_rank(A: Array, tol: Any = None, hermitian: bool = False, *,  # noqa: N803
                rtol: Any = None) -> Any:
    """The number of singular values above the tolerance (an integer: no derivative)."""
    return bind(matrix_rank_p, A, tol, rtol, hermitian=bool(hermitian))


# ---------------------------------------------------------------------------------------------
# norms


def _safe_two_norm(x: Array, axis: tuple[int, ...]) -> Array:
    """``sqrt(sum(x**2))`` over ``axis``, with derivative 0 (not NaN) where the norm is 0."""
    sq = reductions.sum(el.multiply(x, x), axis=axis)
    positive = el.greater(sq, 0.0)
    return el.where(positive, el.sqrt(el.where(positive, sq, 1.0)), 0.0)


def _vector_norm(x: Array, ord: Any, axis: tuple[int, ...]) -> Array:  # noqa: A002
    if ord is None or ord == 2:
        return _safe_two_norm(x, axis)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is only for matrices; vectors take numbers")
    ax = axis[0] if len(axis) == 1 else axis
    if ord == np.inf:
        return reductions.max(el.absolute(x), axis=ax)
    if ord == -np.inf:
        return reductions.min(el.absolute(x), axis=ax)
    if ord == 0:
        return el.astype(reductions.sum(el.not_equal(x, 0), axis=axis), dtype_of(x))
    if ord == 1:
        return reductions.sum(el.absolute(x), axis=axis)
    p = float(ord)
    total = reductions.sum(el.power(el.absolute(x), p), axis=axis)
    positive = el.greater(total, 0.0)
    return el.where(positive, el.power(el.where(positive, total, 1.0), 1.0 / p), 0.0)


def _matrix_norm(x: Array, ord: Any, row: int, col: int) -> Array:  # noqa: A002
    if ord is None or ord in ("fro", "f"):
        return _safe_two_norm(x, (row, col))
    if ord in (1, -1):
        sums = reductions.sum(el.absolute(x), axis=row)
        col = col - 1 if col > row else col
        return (reductions.max if ord == 1 else reductions.min)(sums, axis=col)
    if ord in (np.inf, -np.inf):
        sums = reductions.sum(el.absolute(x), axis=col)
        row = row - 1 if row > col else row
        return (reductions.max if ord == np.inf else reductions.min)(sums, axis=row)
    if ord in ("nuc", 2, -2):
        s = svdvals(shape.moveaxis(x, (row, col), (-2, -1)))
        if ord == "nuc":
            return reductions.sum(s, axis=-1)
        return s[..., 0] if ord == 2 else s[..., -1]
    raise ValueError(
        f"norm: invalid ord {ord!r} for matrices; use None, 'fro', 'nuc', 1, -1, 2, -2, inf "
        "or -inf"
    )


def norm(x: Array, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Array:  # noqa: A002
    """Vector or matrix norm, with NumPy's choice of which by ``ord`` and ``axis``.

    Vectors (an int ``axis``, or a 1-D ``x``): ``ord`` None/2, 1, inf, -inf, 0 (a count, no
    derivative) or any p. Matrices (a pair ``axis``, or a 2-D ``x`` with ``ord`` given): None
    or 'fro', 'nuc', 1, -1, 2, -2, inf, -inf. At 0 the 2-norm, the Frobenius norm and the
    p-norms have derivative 0 (not NaN).
    """
    if not is_tracer(x):
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    x_shape = shape_of(x)
    nd = len(x_shape)
    if axis is None:
        two = ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1)
        if two:
            out = _safe_two_norm(x, tuple(range(nd)))
            return shape.reshape(out, (1,) * nd) if keepdims else out
        axis = tuple(range(nd))
    axes = reductions.normalize_axis(axis, nd) if not isinstance(axis, tuple) else tuple(
        reductions.normalize_axis(a, nd)[0] for a in axis)
    if len(axes) == 1:
        out = _vector_norm(x, ord, axes)
    elif len(axes) == 2:
        if axes[0] == axes[1]:
            raise ValueError(f"norm: duplicate axes given: {axis}")
        out = _matrix_norm(x, ord, axes[0], axes[1])
    else:
        raise ValueError(f"norm: axis must name one or two axes, got {axis}")
    if keepdims:
        out = shape.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x_shape)))
    return out


def vector_norm(x: Array, /, *, axis: Any = None, keepdims: bool = False,
                ord: Any = 2) -> Array:  # noqa: A002
    """The vector norm of ``x`` over ``axis`` (all axes, as one vector, when None)."""
    x_shape = shape_of(x)
    axes = reductions.normalize_axis(axis, len(x_shape))
    moved = shape.moveaxis(x, axes, tuple(range(-len(axes), 0))) if axes else x
    flat = shape.reshape(moved, shape_of(moved)[: len(x_shape) - len(axes)] + (-1,))
    out = _vector_norm(flat, ord, (len(shape_of(flat)) - 1,))
    if keepdims:
        out = shape.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x_shape)))
    return out


def matrix_norm(x: Array, /, *, keepdims: bool = False, ord: Any = "fro") -> Array:  # noqa: A002
    """The matrix norm of each matrix in the last two axes of ``x``."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


# ---------------------------------------------------------------------------------------------
# numpy.linalg's versions of array-API functions (last axes)


def matmul(x1: Array, x2: Array, /) -> Array:
    """Matrix product (as ``numpy.matmul``)."""
    return linalg.matmul(x1, x2)


def tensordot(x1: Array, x2: Array, /, *, axes: Any = 2) -> Array:
    """Sum of products over ``axes`` (as ``numpy.tensordot``)."""
    return linalg.tensordot(x1, x2, axes)


def outer(x1: Array, x2: Array, /) -> Array:
    """Outer product of two vectors."""
    return linalg.outer(x1, x2)


def vecdot(x1: Array, x2: Array, /, *, axis: int = -1) -> Array:
    """Dot product of vectors along ``axis`` (broadcasting the rest; real inputs)."""
    return reductions.sum(el.multiply(x1, x2), axis=axis)


def matrix_transpose(x: Array, /) -> Array:
    """Each matrix of the stack transposed (the last two axes swapped)."""
    return _mT(x)


def trace(x: Array, /, *, offset: int = 0, dtype: Any = None) -> Array:
    """Sum along diagonal ``offset`` of each matrix in the last two axes."""
    return linalg.trace(x, offset, axis1=-2, axis2=-1, dtype=dtype)


def diagonal(x: Array, /, *, offset: int = 0) -> Array:
    """Diagonal ``offset`` of each matrix in the last two axes."""
    return linalg.diagonal(x, offset, axis1=-2, axis2=-1)


_FUNCTIONS: list[tuple[Any, Any]] = [
    (np.linalg.inv, inv), (np.linalg.solve, solve), (np.linalg.det, det),
    (np.linalg.slogdet, slogdet), (np.linalg.cholesky, cholesky), (np.linalg.eigh, eigh),
    (np.linalg.eigvalsh, eigvalsh), (np.linalg.svd, svd), (np.linalg.pinv, pinv),
    (np.linalg.qr, qr), (np.linalg.matrix_power, matrix_power), (np.linalg.lstsq, lstsq),
    (np.linalg.norm, norm), (np.linalg.matrix_rank, matrix_rank),
    (np.linalg.multi_dot, multi_dot),
]
_ARRAY_API: list[tuple[str, Any]] = [
    ("svdvals", svdvals), ("vector_norm", vector_norm), ("matrix_norm", matrix_norm),
    ("matmul", matmul), ("tensordot", tensordot), ("outer", outer), ("vecdot", vecdot),
    ("matrix_transpose", matrix_transpose), ("trace", trace), ("diagonal", diagonal),
]
for _np_fn, _fn in _FUNCTIONS:
    register_function(_np_fn, _fn)
for _name, _fn in _ARRAY_API:  # present in NumPy >= 2.0
    if hasattr(np.linalg, _name):
        register_function(getattr(np.linalg, _name), _fn)


# NumPy's linear algebra maps over leading axes (stacks of matrices), so each decomposition
# batches by putting the batch axis in front and calling it once.
for _prim in (inv_p, solve_p, det_p, slogdet_p, cholesky_p, eigh_p, svd_p, svdvals_p, pinv_p, qr_p,
              matrix_rank_p, singular_rank_p):
    batch_leading(_prim)
