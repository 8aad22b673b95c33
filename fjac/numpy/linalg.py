"""NumPy's ``numpy.linalg`` names for fjac's traced operations: ``fjac.numpy.linalg``.

Every function accepts NumPy arrays and tracers and works on stacks of matrices. Derivative
conventions (symmetric inputs of ``cholesky`` and ``eigh``, distinct eigenvalues and singular
values for vectors, the differentiable ``svd`` and ``qr`` modes, constant rank for ``pinv`` and
``lstsq``, norms at zero) are described in each function's docstring. The primitives and their
rules are in ``fjac._primitives.linalg_solves`` and ``linalg_spectral``; ``lstsq``,
``matrix_power``, ``multi_dot`` and the norms are compositions.

Norms: the 2-norm and Frobenius norm have derivative 0 at 0 (not NaN), as do p-norms;
``ord=0`` (a count) has no derivative; ``inf``/``-inf``/``1``/``-1`` use max/min, whose
derivative at ties is that of ``fjac.numpy.max``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from fjac._core import bind, is_tracer, shape_of, try_concrete
from fjac._dtypes import dtype_of
from fjac._primitives import base, products
from fjac._primitives import elementwise as el
from fjac._primitives import nondiff as nd
from fjac._primitives.base import normalize_axis
from fjac._primitives.base_indexing import getitem
from fjac._primitives.linalg_common import _check_matrix, _check_square, _float, _la, _mm, _mT
from fjac._primitives.linalg_solves import det_p, inv, matrix_rank_p, pinv_p, slogdet_p, solve_p
from fjac._primitives.linalg_spectral import (
    cholesky_p,
    eigh_p,
    qr_p,
    singular_rank_p,
    svd_p,
    svdvals_p,
)
from fjac._primitives.shape import concatenate
from fjac.numpy import _products
from fjac.numpy import _reductions as reductions
from fjac.numpy._dispatch import implements

Array = Any

__all__ = [
    "inv", "solve", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals",
    "pinv", "qr", "matrix_power", "multi_dot", "lstsq", "matrix_rank", "norm", "vector_norm",
    "matrix_norm", "matmul", "tensordot", "outer", "vecdot", "matrix_transpose", "trace",
    "diagonal", "SlogdetResult", "EighResult", "SVDResult", "QRResult",
]


def _array_api(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``implements`` for a function of NumPy 2's ``numpy.linalg`` array-API names (absent from
    older NumPy, where nothing is registered)."""
    target = getattr(np.linalg, name, None)
    return implements(target) if target is not None else implements()


inv = implements(np.linalg.inv)(inv)
class SlogdetResult(NamedTuple):
    """``slogdet``'s result: ``det = sign * exp(logabsdet)``."""

    sign: Array
    logabsdet: Array


@implements(np.linalg.solve)
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


@implements(np.linalg.det)
def det(a: Array) -> Array:
    """The determinant of each square matrix in ``a`` (derivative ``det(a) inv(a)ᵀ``: inf or
    NaN at singular matrices)."""
    _check_square(a, "det")
    return bind(det_p, _float(a))


@implements(np.linalg.slogdet)
def slogdet(a: Array) -> SlogdetResult:
    """``(sign, logabsdet)`` of the determinant of each square matrix in ``a``; only
    ``logabsdet`` has a derivative (``inv(a)ᵀ``)."""
    _check_square(a, "slogdet")
    if not is_tracer(a):
        return _la.slogdet(a)  # type: ignore[no-any-return]
    return SlogdetResult(*bind(slogdet_p, a))


@implements(np.linalg.pinv)
def pinv(a: Array, rcond: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Array:
    """The Moore-Penrose pseudo-inverse of each matrix in ``a`` (singular values at most
    ``rcond`` (or ``rtol``) times the largest are treated as zero).

    The derivative holds where the rank is constant, i.e. no singular value is near the cutoff.
    """
    _check_matrix(a, "pinv")
    if rcond is not None and rtol is not None:
        raise ValueError("pinv: give rcond or rtol, not both")
    return bind(pinv_p, _float(a), rcond=rcond, hermitian=bool(hermitian), rtol=rtol)


@implements(np.linalg.matrix_power)
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


@implements(np.linalg.multi_dot)
def multi_dot(arrays: Any, *, out: Any = None) -> Array:
    """The product of a chain of matrices (the first may be a 1-D row vector, the last a 1-D
    column vector), multiplied left to right."""
    if out is not None:
        raise TypeError("multi_dot: out= is not supported (traced arrays are immutable)")
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("multi_dot needs at least two arrays")
    return _mm(*arrays)


@implements(np.linalg.matrix_rank)
def matrix_rank(A: Array, tol: Any = None, hermitian: bool = False, *,  # noqa: N803
                rtol: Any = None) -> Any:
    """The number of singular values above the tolerance (an integer: no derivative)."""
    return bind(matrix_rank_p, A, tol, rtol, hermitian=bool(hermitian))


@_array_api("matmul")
def matmul(x1: Array, x2: Array, /) -> Array:
    """Matrix product (as ``numpy.matmul``)."""
    return products.matmul(x1, x2)


@_array_api("tensordot")
def tensordot(x1: Array, x2: Array, /, *, axes: Any = 2) -> Array:
    """Sum of products over ``axes`` (as ``numpy.tensordot``)."""
    return _products.tensordot(x1, x2, axes)


@_array_api("outer")
def outer(x1: Array, x2: Array, /) -> Array:
    """Outer product of two vectors."""
    return _products.outer(x1, x2)


@_array_api("vecdot")
def vecdot(x1: Array, x2: Array, /, *, axis: int = -1) -> Array:
    """Dot product of vectors along ``axis`` (broadcasting the rest; real inputs)."""
    return reductions.sum(base.multiply(x1, x2), axis=axis)


@_array_api("matrix_transpose")
def matrix_transpose(x: Array, /) -> Array:
    """Each matrix of the stack transposed (the last two axes swapped)."""
    return _mT(x)


@_array_api("trace")
def trace(x: Array, /, *, offset: int = 0, dtype: Any = None) -> Array:
    """Sum along diagonal ``offset`` of each matrix in the last two axes."""
    return _products.trace(x, offset, axis1=-2, axis2=-1, dtype=dtype)


@_array_api("diagonal")
def diagonal(x: Array, /, *, offset: int = 0) -> Array:
    """Diagonal ``offset`` of each matrix in the last two axes."""
    return _products.diagonal(x, offset, axis1=-2, axis2=-1)


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


@implements(np.linalg.cholesky)
def cholesky(a: Array, /, *, upper: bool = False) -> Array:
    """The lower-triangular ``L`` with ``a = L @ Lᵀ`` (``Lᵀ`` when ``upper``) of each symmetric
    positive-definite matrix in ``a``.

    The derivative treats ``a`` as symmetric (a tangent ``dA`` acts as ``(dA + dAᵀ)/2``).
    """
    _check_square(a, "cholesky")
    out = bind(cholesky_p, _float(a))
    return _mT(out) if upper else out


@implements(np.linalg.eigh)
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


@implements(np.linalg.eigvalsh)
def eigvalsh(a: Array, UPLO: str = "L") -> Array:  # noqa: N803
    """The eigenvalues (ascending) of each symmetric matrix in ``a``; their derivative
    ``diag(Vᵀ dA V)`` needs no distinct eigenvalues."""
    if not is_tracer(a):
        return _la.eigvalsh(a, UPLO)
    return eigh(a, UPLO)[0]


@implements(np.linalg.svd)
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


@_array_api("svdvals")
def svdvals(x: Array, /) -> Array:
    """The singular values (descending) of each matrix in ``x``."""
    return svd(x, compute_uv=False)


@implements(np.linalg.qr)
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
        q, r1 = bind(qr_p, getitem(a, (Ellipsis, slice(None, m))))
        a2 = getitem(a, (Ellipsis, slice(m, None)))
        r = concatenate([r1, products.matmul(_mT(q), a2)], axis=-1)
    return r if mode == "r" else QRResult(q, r)


@implements(np.linalg.lstsq)
def lstsq(a: Array, b: Array, rcond: Any = None) -> tuple[Array, Array, Any, Array]:
    """Least-squares solution ``x`` of ``a @ x ≈ b`` (minimum norm), with the residual sums of
    squares, the rank of ``a`` and its singular values.

    Traced, ``x = pinv(a) @ b``: the derivative holds where the rank is constant (no singular
    value near the cutoff ``rcond * max(s)``, default ``eps * max(M, N)``). NumPy returns the
    residuals of a tall ``a`` only at full rank; under ``jit``, where the rank is not known
    when the program is recorded, they are returned at every rank, as JAX does.
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
    if m > n and _full_rank(rank, n):  # (always, under jit: JAX's layout)
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
    known = try_concrete(rank)
    if known is None:  # under jit, where the rank is not known: residuals always, as JAX
        return True
    full = np.asarray(known) == n
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


def _safe_two_norm(x: Array, axis: tuple[int, ...]) -> Array:
    """``sqrt(sum(x**2))`` over ``axis``, with derivative 0 (not NaN) where the norm is 0."""
    sq = reductions.sum(base.multiply(x, x), axis=axis)
    positive = nd.greater(sq, 0.0)
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
        return base.astype(reductions.sum(nd.not_equal(x, 0), axis=axis), dtype_of(x))
    if ord == 1:
        return reductions.sum(el.absolute(x), axis=axis)
    p = float(ord)
    total = reductions.sum(el.power(el.absolute(x), p), axis=axis)
    positive = nd.greater(total, 0.0)
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
        s = svdvals(base.moveaxis(x, (row, col), (-2, -1)))
        if ord == "nuc":
            return reductions.sum(s, axis=-1)
        return s[..., 0] if ord == 2 else s[..., -1]
    raise ValueError(
        f"norm: invalid ord {ord!r} for matrices; use None, 'fro', 'nuc', 1, -1, 2, -2, inf "
        "or -inf"
    )


@implements(np.linalg.norm)
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
            return base.reshape(out, (1,) * nd) if keepdims else out
        axis = tuple(range(nd))
    axes = normalize_axis(axis, nd) if not isinstance(axis, tuple) else tuple(
        normalize_axis(a, nd)[0] for a in axis)
    if len(axes) == 1:
        out = _vector_norm(x, ord, axes)
    elif len(axes) == 2:
        if axes[0] == axes[1]:
            raise ValueError(f"norm: duplicate axes given: {axis}")
        out = _matrix_norm(x, ord, axes[0], axes[1])
    else:
        raise ValueError(f"norm: axis must name one or two axes, got {axis}")
    if keepdims:
        out = base.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x_shape)))
    return out


@_array_api("vector_norm")
def vector_norm(x: Array, /, *, axis: Any = None, keepdims: bool = False,
                ord: Any = 2) -> Array:  # noqa: A002
    """The vector norm of ``x`` over ``axis`` (all axes, as one vector, when None)."""
    x_shape = shape_of(x)
    axes = normalize_axis(axis, len(x_shape))
    moved = base.moveaxis(x, axes, tuple(range(-len(axes), 0))) if axes else x
    flat = base.reshape(moved, shape_of(moved)[: len(x_shape) - len(axes)] + (-1,))
    out = _vector_norm(flat, ord, (len(shape_of(flat)) - 1,))
    if keepdims:
        out = base.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x_shape)))
    return out


@_array_api("matrix_norm")
def matrix_norm(x: Array, /, *, keepdims: bool = False, ord: Any = "fro") -> Array:  # noqa: A002
    """The matrix norm of each matrix in the last two axes of ``x``."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


