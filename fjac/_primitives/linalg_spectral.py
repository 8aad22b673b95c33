"""Linear-algebra primitives of the decompositions: cholesky, eigh, svd (and svdvals) and qr,
with their derivatives; and the rank test of lstsq (which ``fjac.numpy.linalg`` computes from
the SVD).

Every primitive works on stacks of matrices (the last two axes), as NumPy's do. The rules are
written with fjac operations (matmul, and solve and inv from ``linalg_solves``), so they
differentiate again.

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
- ``lstsq``: the derivative holds where the rank is constant (no singular value near the
  cutoff).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fjac._core import Primitive, bind, shape_of
from fjac._dtypes import dtype_of
from fjac._primitives import base, products
from fjac._primitives import elementwise as el
from fjac._primitives.base import batch_leading
from fjac._primitives.linalg_common import (
    Array,
    _mm,
    _mT,
    _sym,
)
from fjac._primitives.linalg_solves import inv, solve_p
from fjac._rules import declare_real_closed, defjvp, defvjp, jvp_rules

__all__ = ["cholesky_p", "eigh_p", "svd_p", "svdvals_p", "qr_p", "singular_rank_p"]


# ---------------------------------------------------------------------------------------------
# helpers


def _diag_embed(v: Array) -> Array:
    """A stack of diagonal matrices with the last axis of ``v`` on their diagonals."""
    n = shape_of(v)[-1]
    return base.multiply(base.expand_dims(v, -1), np.eye(n, dtype=dtype_of(v)))


def _diag_part(x: Array) -> Array:
    """The diagonals of a stack of matrices."""
    return products.matrix_diagonal(x)


def _inv_gaps(w: Array) -> Array:
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it (inf where values repeat)."""
    n = shape_of(w)[-1]
    eye = np.eye(n, dtype=bool)
    gaps = el.subtract(base.expand_dims(w, -2), base.expand_dims(w, -1))
    return el.where(eye, 0.0, el.reciprocal(el.where(eye, 1.0, gaps)))


# ---------------------------------------------------------------------------------------------
# cholesky


def _phi(x: Array) -> Array:
    """The lower triangle of ``x`` with its diagonal halved."""
    n = shape_of(x)[-1]
    weights = np.tri(n, k=-1, dtype=dtype_of(x)) + 0.5 * np.eye(n, dtype=dtype_of(x))
    return base.multiply(x, weights)


def _cholesky_jvp(t: Array, ans: Array, a: Array) -> Array:
    l_inv = inv(ans)
    return products.matmul(ans, _phi(_mm(l_inv, _sym(t), _mT(l_inv))))


def _cholesky_vjp(g: Array, ans: Array, a: Array) -> Array:
    l_inv = inv(ans)
    p = _phi(products.matmul(_mT(ans), g))
    return _sym(_mm(_mT(l_inv), p, l_inv))


cholesky_p = Primitive("cholesky", np.linalg.cholesky)
defjvp(cholesky_p, _cholesky_jvp)
defvjp(cholesky_p, _cholesky_vjp)


# ---------------------------------------------------------------------------------------------
# eigh


def _eigh_jvp(primals: list[Array], tangents: list[Array], *, UPLO: str) -> Any:  # noqa: N803
    (a,), (t,) = primals, tangents
    w, v = bind(eigh_p, a, UPLO=UPLO)
    m = _mm(_mT(v), _sym(t), v)
    return (w, v), (_diag_part(m), products.matmul(v, base.multiply(_inv_gaps(w), m)))


def _eigh_vjp(g: tuple[Array, Array], ans: Any, a: Array, *, UPLO: str) -> Array:  # noqa: N803
    gw, gv = g
    w, v = ans
    inner = None if gw is None else _diag_embed(gw)
    if gv is not None:
        term = base.multiply(_inv_gaps(w), products.matmul(_mT(v), gv))
        inner = term if inner is None else base.add(inner, term)
    return _sym(_mm(v, inner, _mT(v)))


eigh_p = Primitive("eigh", lambda a, *, UPLO: tuple(np.linalg.eigh(a, UPLO)),
                   multiple_results=True)
jvp_rules[eigh_p] = _eigh_jvp
defvjp(eigh_p, _eigh_vjp)


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
    s_row = base.expand_dims(s, -2)  # [i, j] = s[j]: x * s_row is x @ diag(s)
    s_col = base.expand_dims(s, -1)
    dps = base.multiply(dp, s_row)
    sdp = base.multiply(s_col, dp)
    du = products.matmul(u, base.multiply(f, base.add(dps, _mT(dps))))
    dv = products.matmul(v, base.multiply(f, base.add(sdp, _mT(sdp))))
    m, n = shape_of(a)[-2:]
    if m > n:  # the part of dA V outside the span of U
        tv = products.matmul(t, v)
        du = base.add(du, el.divide(el.subtract(tv, _mm(u, _mT(u), tv)), s_row))
    if n > m:
        tu = products.matmul(_mT(t), u)
        dv = base.add(dv, el.divide(el.subtract(tu, _mm(v, vh, tu)), s_row))
    return (u, s, vh), (du, _diag_part(dp), _mT(dv))


def _svd_vjp(g: tuple[Array, Array, Array], ans: Any, a: Array, *, hermitian: bool) -> Array:
    gu, gs, gvh = g
    u, s, vh = ans
    s_row = base.expand_dims(s, -2)
    s_col = base.expand_dims(s, -1)
    terms = [] if gs is None else [_diag_embed(gs)]
    if gu is not None or gvh is not None:
        f = _inv_gaps(el.square(s))
    if gu is not None:
        j = base.multiply(f, products.matmul(_mT(u), gu))
        terms.append(base.multiply(base.add(j, _mT(j)), s_row))
    if gvh is not None:
        gv = _mT(gvh)
        k = base.multiply(f, products.matmul(vh, gv))
        terms.append(base.multiply(s_col, base.add(k, _mT(k))))
    inner = terms[0]
    for term in terms[1:]:
        inner = base.add(inner, term)
    ga = _mm(u, inner, vh)
    m, n = shape_of(a)[-2:]
    if gu is not None and m > n:
        outside = el.subtract(gu, _mm(u, _mT(u), gu))
        ga = base.add(ga, products.matmul(el.divide(outside, s_row), vh))
    if gvh is not None and n > m:
        outside = el.subtract(gv, _mm(_mT(vh), vh, gv))
        ga = base.add(ga, products.matmul(u, el.divide(_mT(outside), s_col)))
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


# ---------------------------------------------------------------------------------------------
# qr


def _right_solve(x: Array, r: Array) -> Array:
    """``x @ inv(r)``."""
    return _mT(bind(solve_p, _mT(r), _mT(x)))


def _qr_jvp(primals: list[Array], tangents: list[Array]) -> Any:
    (a,), (t,) = primals, tangents
    q, r = bind(qr_p, a)
    x = _right_solve(t, r)
    c = products.matmul(_mT(q), x)
    low = products.tril(c, -1)
    omega = el.subtract(low, _mT(low))  # skew-symmetric: Qᵀ dQ on the span of Q
    dq = base.add(products.matmul(q, el.subtract(omega, c)), x)
    dr = products.matmul(el.subtract(c, omega), r)
    return (q, r), (dq, dr)


def _qr_vjp(g: tuple[Array, Array], ans: Any, a: Array) -> Array:
    gq, gr = g
    q, r = ans
    if gr is None:
        m = el.negative(products.matmul(_mT(q), gq))
    else:
        m = products.matmul(gr, _mT(r))
        if gq is not None:
            m = el.subtract(m, products.matmul(_mT(q), gq))
    gc = el.subtract(m, products.tril(el.subtract(m, _mT(m)), -1))
    gx = products.matmul(q, gc)
    if gq is not None:
        gx = base.add(gx, gq)
    return _mT(bind(solve_p, r, _mT(gx)))  # gx @ inv(r)ᵀ


# The reduced QR of matrices with at least as many rows as columns.
qr_p = Primitive("qr", lambda a: tuple(np.linalg.qr(a)), multiple_results=True)
jvp_rules[qr_p] = _qr_jvp
defvjp(qr_p, _qr_vjp)


# ---------------------------------------------------------------------------------------------
# lstsq (from the SVD)


# A rank has no derivative; as a primitive (not a read of concrete values) it batches per
# example.
singular_rank_p = Primitive(
    "singular_rank",
    lambda s, cutoff: np.sum(s > cutoff * s[..., :1], axis=-1).astype(np.int32),
    nondiff=True,
)


# NumPy's linear algebra maps over leading axes (stacks of matrices), so each decomposition
# batches by putting the batch axis in front and calling it once.
for _prim in (cholesky_p, eigh_p, svd_p, svdvals_p, qr_p, singular_rank_p):
    batch_leading(_prim)

# Real arguments give real results.
declare_real_closed(globals())
