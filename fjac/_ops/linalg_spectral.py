"""``numpy.linalg``'s decompositions: cholesky, eigh, eigvalsh, svd, svdvals and qr, with
their derivatives; and lstsq, which is computed from the SVD.

Every function works on stacks of matrices (the last two axes), as NumPy's do. The rules are
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

from typing import Any, NamedTuple

import numpy as np

from fjac._core import Primitive, bind, concrete, is_tracer
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
from fjac._ops.linalg_solves import inv, pinv, solve_p
from fjac._primitives import base, base_indexing, products, shape
from fjac._primitives import elementwise as el
from fjac._primitives.base import batch_leading
from fjac._rules import defjvp, defvjp, jvp_rules
from fjac.numpy import _products
from fjac.numpy import _reductions as reductions

# The names fjac.numpy.linalg exports from this family.
__all__ = [
    "cholesky",
    "eigh",
    "eigvalsh",
    "svd",
    "svdvals",
    "qr",
    "lstsq",
    "EighResult",
    "SVDResult",
    "QRResult",
]


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


def _diag_embed(v: Array) -> Array:
    """A stack of diagonal matrices with the last axis of ``v`` on their diagonals."""
    n = shape_of(v)[-1]
    return base.multiply(base.expand_dims(v, -1), np.eye(n, dtype=dtype_of(v)))


def _diag_part(x: Array) -> Array:
    """The diagonals of a stack of matrices."""
    return _products.diagonal(x, axis1=-2, axis2=-1)


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
# qr


def _right_solve(x: Array, r: Array) -> Array:
    """``x @ inv(r)``."""
    return _mT(bind(solve_p, _mT(r), _mT(x)))


def _qr_jvp(primals: list[Array], tangents: list[Array]) -> Any:
    (a,), (t,) = primals, tangents
    q, r = bind(qr_p, a)
    x = _right_solve(t, r)
    c = products.matmul(_mT(q), x)
    low = _products.tril(c, -1)
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
    gc = el.subtract(m, _products.tril(el.subtract(m, _mT(m)), -1))
    gx = products.matmul(q, gc)
    if gq is not None:
        gx = base.add(gx, gq)
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
        q, r1 = bind(qr_p, base_indexing.getitem(a, (Ellipsis, slice(None, m))))
        a2 = base_indexing.getitem(a, (Ellipsis, slice(m, None)))
        r = shape.concatenate([r1, products.matmul(_mT(q), a2)], axis=-1)
    return r if mode == "r" else QRResult(q, r)


# ---------------------------------------------------------------------------------------------
# lstsq (from the SVD)


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
    x = products.matmul(pinv(a, rcond=rcond), b)
    if m > n and _full_rank(rank, n):
        r = el.subtract(b, products.matmul(a, x))
        residuals = reductions.sum(el.square(r), axis=0)
        residuals = base.reshape(residuals, (1,)) if len(b_shape) == 1 else residuals
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


# A rank has no derivative; as a primitive (not a read of concrete values) it batches per
# example.
singular_rank_p = Primitive(
    "singular_rank",
    lambda s, cutoff: np.sum(s > cutoff * s[..., :1], axis=-1).astype(np.int32),
    nondiff=True,
)


_FUNCTIONS: list[tuple[Any, Any]] = [
    (np.linalg.cholesky, cholesky), (np.linalg.eigh, eigh), (np.linalg.eigvalsh, eigvalsh),
    (np.linalg.svd, svd), (np.linalg.qr, qr), (np.linalg.lstsq, lstsq),
]
_ARRAY_API: list[tuple[str, Any]] = [
    ("svdvals", svdvals),
]
for _np_fn, _fn in _FUNCTIONS:
    register_function(_np_fn, _fn)
for _name, _fn in _ARRAY_API:  # present in NumPy >= 2.0
    if hasattr(np.linalg, _name):
        register_function(getattr(np.linalg, _name), _fn)


# NumPy's linear algebra maps over leading axes (stacks of matrices), so each decomposition
# batches by putting the batch axis in front and calling it once.
for _prim in (cholesky_p, eigh_p, svd_p, svdvals_p, qr_p, singular_rank_p):
    batch_leading(_prim)
