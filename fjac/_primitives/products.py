"""Product primitives: ``matmul`` (all of NumPy's broadcasting and 1-D cases, and the rule that
keeps a basis batch's structure through it) and ``einsum``. dot, tensordot, outer, kron and
the other matrix-structure functions are compositions, in ``fjac.numpy``; ``tril``, ``triu``
and the diagonal of stacked matrices are here, since rules use them.

``einsum`` is one primitive over a canonical subscript string (ellipses expanded, output
explicit, operands broadcast to full size): its forward rule is an einsum of the tangent, and
its reverse rule for each operand is again an einsum, with identity matrices placing the
cotangent on the diagonal where an operand repeats an index (``'ii->'``).
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from fjac._core import Primitive, bind, shape_of
from fjac._dtypes import dtype_of
from fjac._primitives import base, base_indexing, elementwise
from fjac._primitives.base import (
    move_batch_axis,
    unbroadcast,
)
from fjac._rules import (
    basis_rules,
    batch_rules,
    declare_complex,
    declare_real_closed,
    defjvp,
    defjvp_argnum,
    defvjp,
    defvjp_argnum,
    keep_residuals,
)
from fjac._vmap import BasisTracer, BatchTracer

Array = Any

__all__ = ["matmul_p", "matmul", "einsum_p", "matrix_diagonal", "tril", "triu"]


def _mT(x: Array) -> Array:
    """Transpose of the last two axes."""
    return base.swapaxes(x, -1, -2)


def _as_matrices(x: Array, y: Array, g: Array) -> tuple[Array, Array, Array]:
    """The operands and cotangent of a matmul with 1-D operands promoted to matrices, as
    NumPy does: a 1-D ``x`` is a row (1, n), a 1-D ``y`` a column (n, 1)."""
    x_1d = len(shape_of(x)) == 1
    y_1d = len(shape_of(y)) == 1
    if x_1d:
        x = base.reshape(x, (1, -1))
        g = base.expand_dims(g, -2 if not y_1d else 0)
    if y_1d:
        y = base.reshape(y, (-1, 1))
        g = base.expand_dims(g, -1)
    return x, y, g


def _matmul_vjp_x(g: Array, ans: Array, x: Array, y: Array) -> Array:
    x2, y2, g2 = _as_matrices(x, y, g)
    ct = unbroadcast(matmul(g2, _mT(y2)), x2)
    return base.reshape(ct, shape_of(x))


def _matmul_vjp_y(g: Array, ans: Array, x: Array, y: Array) -> Array:
    x2, y2, g2 = _as_matrices(x, y, g)
    ct = unbroadcast(matmul(_mT(x2), g2), y2)
    return base.reshape(ct, shape_of(y))


matmul_p = Primitive("matmul", np.matmul)
defjvp(matmul_p, lambda t, ans, x, y: matmul(t, y), lambda t, ans, x, y: matmul(x, t))
defvjp(matmul_p, _matmul_vjp_x, _matmul_vjp_y)
keep_residuals("inputs", matmul_p)  # the vjp reads the operands, never the product


def _batched_matrix(v: Array, d: int | None, vector_axis: int, rank: int) -> Array:
    """An operand of a batched matmul: a vector promoted to a matrix (a row for the first
    operand, a column for the second), the batch axis in front, padded to ``rank`` + 1 axes."""
    is_vector = len(shape_of(v)) - (d is not None) == 1
    if d is None:
        return base.expand_dims(v, vector_axis) if is_vector else v
    v = move_batch_axis(v, d, 0)
    if is_vector:
        v = base.expand_dims(v, vector_axis)
    s = shape_of(v)
    return base.reshape(v, s[:1] + (1,) * (rank - len(s) + 1) + s[1:])


def _batch_matmul(vals: list[Array], dims: list[int | None]) -> tuple[Array, int]:
    (x, y), (dx, dy) = vals, dims
    x_rank = len(shape_of(x)) - (dx is not None)
    y_rank = len(shape_of(y)) - (dy is not None)
    # One matrix product instead of a stack of them, when one side is a single matrix:
    if dx is None and x_rank == 2 and y_rank <= 2:
        # M @ y for every example: the examples become columns of one right-hand side
        y = move_batch_axis(y, dy, 1 if y_rank == 2 else 0)
        ys = shape_of(y)
        if y_rank == 1:  # (B, n) -> M @ yᵀ is (k, B): the batch axis is 1
            return bind(matmul_p, x, base.swapaxes(y, 0, 1)), 1
        out = bind(matmul_p, x, base.reshape(y, (ys[0], ys[1] * ys[2])))
        return base.reshape(out, (shape_of(x)[0], ys[1], ys[2])), 1
    if dy is None and y_rank == 2 and x_rank >= 1:
        # x @ M for every example: the examples become rows of one left-hand side
        x = move_batch_axis(x, dx, 0)
        xs = shape_of(x)
        out = bind(matmul_p, base.reshape(x, (-1, xs[-1])), y)
        return base.reshape(out, xs[:-1] + shape_of(y)[-1:]), 0
    rank = max(2, len(shape_of(x)) - (dx is not None), len(shape_of(y)) - (dy is not None))
    out = bind(matmul_p, _batched_matrix(x, dx, -2, rank), _batched_matrix(y, dy, -1, rank))
    s = shape_of(out)
    x_vec = len(shape_of(x)) - (dx is not None) == 1
    y_vec = len(shape_of(y)) - (dy is not None) == 1
    keep = s[:-2] + (() if x_vec else s[-2:-1]) + (() if y_vec else s[-1:])
    return base.reshape(out, keep), 0


batch_rules[matmul_p] = _batch_matmul


def _basis_matmul(main: Any, args: tuple[Any, ...]) -> Any:
    """A matrix that is not batched times a batch of scaled basis vectors (a vector, or a
    column or row matrix): each example selects one column (row) of the matrix, so the batch
    is a scaled slice of it, with no product computed."""
    x, y = args
    if type(y) is BasisTracer and y._main is main and _plain_matrix(x, main):
        if not (len(y.shape) == 1 or (len(y.shape) == 2 and y.shape[1] == 1)):
            return None
        # example r: x @ (s_r e_i) = s_r * column i of x, i = start + r
        picked = base_indexing.getitem(x, (slice(None), slice(y.start, y.start + y.rows)))
        scales = y.scale_rows()
        if scales is not None:
            picked = base.multiply(picked, scales)
        out = base.swapaxes(picked, 0, 1)
        basis, matrix = y, x
    elif type(x) is BasisTracer and x._main is main and _plain_matrix(y, main):
        if not (len(x.shape) == 1 or (len(x.shape) == 2 and x.shape[0] == 1)):
            return None
        # example r: (s_r e_j) @ y = s_r * row j of y, j = start + r
        out = base_indexing.getitem(y, slice(x.start, x.start + x.rows))
        scales = x.scale_rows()
        if scales is not None:
            out = base.multiply(out, base.reshape(scales, (x.rows, 1)))
        basis, matrix = x, y
    else:
        return None
    out = base.reshape(out, (basis.rows,) + _matmul_shape(shape_of(x), shape_of(y)))
    dtype = np.result_type(dtype_of(matrix), basis.dtype)
    if dtype_of(out) != dtype:
        out = base.astype(out, dtype)
    return BatchTracer(main, out, 0)


def _plain_matrix(v: Any, main: Any) -> bool:
    """``v`` is a matrix not batched by ``main``."""
    return not (isinstance(v, BatchTracer) and v._main is main) and len(shape_of(v)) == 2


def _matmul_shape(s1: tuple[int, ...], s2: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of ``matmul`` of 1-D or 2-D operands of shapes ``s1`` and ``s2``."""
    return s1[:-1] + s2[1:]


basis_rules[matmul_p] = _basis_matmul


def matmul(x1: Array, x2: Array) -> Array:
    """Matrix product with NumPy's rules: stacks of matrices broadcast; a 1-D operand is a
    vector (its axis is removed from the result)."""
    s1, s2 = shape_of(x1), shape_of(x2)
    if not s1 or not s2:
        raise ValueError("matmul: operands must not be 0-d (scalars); use multiply")
    k1 = s1[-1]
    k2 = s2[0] if len(s2) == 1 else s2[-2]
    if k1 != k2:
        raise ValueError(
            f"matmul: shapes {s1} and {s2} do not align: {k1} (last axis of the first) "
            f"!= {k2} ({'the' if len(s2) == 1 else 'second-to-last'} axis of the second)"
        )
    return bind(matmul_p, x1, x2)


# ---------------------------------------------------------------------------------------------
# einsum


def _einsum_impl(*xs: Array, subscripts: str) -> Array:
    # With two or more operands, let NumPy pick a contraction order that can use BLAS.
    return np.einsum(subscripts, *xs, optimize=len(xs) > 1)


def _split_spec(subscripts: str) -> tuple[list[str], str]:
    lhs, out = subscripts.split("->")
    return lhs.split(","), out


def _einsum_jvp(i: int, t: Array, ans: Array, *xs: Array, subscripts: str) -> Array:
    return bind(einsum_p, *xs[:i], t, *xs[i + 1:], subscripts=subscripts)


def _einsum_vjp(i: int, g: Array, ans: Array, *xs: Array, subscripts: str) -> Array:
    """The cotangent of operand ``i``: ``g`` contracted with the other operands; a letter only
    operand ``i`` has is restored by a ones operand, a repeated letter by an identity."""
    ins, out = _split_spec(subscripts)
    term = ins[i]
    dtype = dtype_of(g)
    others = [ins[j] for j in range(len(ins)) if j != i]
    operands = [g] + [xs[j] for j in range(len(xs)) if j != i]
    terms = [out] + others
    present = set(out).union(*others)
    x_shape = shape_of(xs[i])
    size = {c: d for c, d in zip(term, x_shape)}
    missing = "".join(c for c in dict.fromkeys(term) if c not in present)
    if missing:
        terms.append(missing)
        operands.append(np.ones(tuple(size[c] for c in missing), dtype=dtype))
    free = iter(c for c in string.ascii_letters if c not in subscripts)
    target = []
    seen: set[str] = set()
    for c in term:
        if c in seen:  # a repeated letter: a fresh letter tied to the first by an identity
            fresh = next(free)
            terms.append(c + fresh)
            operands.append(np.eye(size[c], dtype=dtype))
            c = fresh
        seen.add(c)
        target.append(c)
    ct = bind(einsum_p, *operands, subscripts=",".join(terms) + "->" + "".join(target))
    return unbroadcast(ct, xs[i])  # casts to the operand's dtype


einsum_p = Primitive("einsum", _einsum_impl)
defjvp_argnum(einsum_p, _einsum_jvp)
defvjp_argnum(einsum_p, _einsum_vjp)


def _batch_einsum(vals: list[Array], dims: list[int | None], *, subscripts: str) -> Any:
    """A fresh letter for the batch axis, in front of every batched operand and the output."""
    ins, out = _split_spec(subscripts)
    b = next(c for c in string.ascii_letters if c not in subscripts)
    terms = [term if d is None else b + term for term, d in zip(ins, dims)]
    args = [v if d is None else move_batch_axis(v, d, 0) for v, d in zip(vals, dims)]
    return bind(einsum_p, *args, subscripts=",".join(terms) + "->" + b + out), 0


batch_rules[einsum_p] = _batch_einsum


# ---------------------------------------------------------------------------------------------
# matrix structure




def _diagonal_index(n1: int, n2: int, offset: int) -> tuple[Any, Any]:
    rows = np.arange(max(0, min(n1 - max(-offset, 0), n2 - max(offset, 0))))
    return rows + max(-offset, 0), rows + max(offset, 0)


def matrix_diagonal(a: Array, offset: int = 0) -> Array:
    """The diagonal ``offset`` of each matrix in the last two axes of ``a``."""
    n1, n2 = shape_of(a)[-2:]
    rows, cols = _diagonal_index(n1, n2, int(offset))
    return base_indexing.getitem(a, (Ellipsis, rows, cols))


def _triangle(m: Array, keep: Any) -> Array:
    """``m`` with the entries of its last two axes outside the mask ``keep`` set to zero."""
    return elementwise.where(keep, m, np.zeros((), dtype=dtype_of(m)))


def tril(m: Array, k: int = 0) -> Array:
    """``m`` (or each matrix of a stack) with the entries above diagonal ``k`` zeroed."""
    s = shape_of(m)
    rows, cols = (s[0], s[0]) if len(s) == 1 else s[-2:]
    return _triangle(m, np.tri(rows, cols, int(k), dtype=bool))


def triu(m: Array, k: int = 0) -> Array:
    """``m`` (or each matrix of a stack) with the entries below diagonal ``k`` zeroed."""
    s = shape_of(m)
    rows, cols = (s[0], s[0]) if len(s) == 1 else s[-2:]
    return _triangle(m, ~np.tri(rows, cols, int(k) - 1, dtype=bool))

# Real arguments give real results.
declare_real_closed(globals())
# Linear and multilinear maps and selections: their rules are right for complex values as
# written (transposes without conjugation, JAX's convention).
declare_complex(*(v for v in list(globals().values()) if isinstance(v, Primitive)))
