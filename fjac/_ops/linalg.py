"""Products: matmul (all of NumPy's broadcasting and 1-D cases), dot, tensordot, outer, einsum;
and the matrix-structure operations built on them (trace, diag, diagonal, triu, tril, kron).

``einsum`` is one primitive over a canonical subscript string (ellipses expanded, output
explicit, operands broadcast to full size): its forward rule is an einsum of the tangent, and
its reverse rule for each operand is again an einsum, with identity matrices placing the
cotangent on the diagonal where an operand repeats an index (``'ii->'``).
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from fjac._core import Primitive, bind
from fjac._dispatch import register_function, register_ufunc
from fjac._dtypes import dtype_of
from fjac._edge import shape_of
from fjac._primitives import base, base_indexing, elementwise
from fjac._primitives.base import (
    move_batch_axis,
    normalize_axis,
    unbroadcast,
)
from fjac._primitives.base_indexing import (
    scatter_add,
)
from fjac._rules import (
    basis_rules,
    batch_rules,
    defjvp,
    defjvp_argnum,
    defvjp,
    defvjp_argnum,
    keep_residuals,
)
from fjac._vmap import BasisTracer, BatchTracer
from fjac.numpy import _reductions as reductions

Array = Any

# The names fjac.numpy exports from this family.
__all__ = [
    "matmul",
    "tensordot",
    "dot",
    "outer",
    "vdot",
    "inner",
    "einsum",
    "kron",
    "trace",
    "diagonal",
    "diag",
    "triu",
    "tril",
]


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
        if not (len(y.shape) == 1 or y.shape[1:] == (1,)):
            return None
        # example r: x @ (s_r e_i) = s_r * column i of x, i = start + r
        picked = base_indexing.getitem(x, (slice(None), slice(y.start, y.start + y.rows)))
        scales = y.scale_rows()
        if scales is not None:
            picked = base.multiply(picked, scales)
        out = base.swapaxes(picked, 0, 1)
        basis, matrix = y, x
    elif type(x) is BasisTracer and x._main is main and _plain_matrix(y, main):
        if not (len(x.shape) == 1 or x.shape[:1] == (1,)):
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


def tensordot(a: Array, b: Array, axes: Any = 2) -> Array:
    """Sum of products over ``axes``: an int N (the last N of ``a`` with the first N of ``b``)
    or a pair of axis sequences."""
    sa, sb = shape_of(a), shape_of(b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        axes_a: Sequence[int] = list(range(len(sa) - n, len(sa)))
        axes_b: Sequence[int] = list(range(n))
    else:
        axes_a, axes_b = ([int(i)] if np.ndim(i) == 0 else [int(j) for j in i] for i in axes)
    axes_a = [i % len(sa) for i in axes_a]
    axes_b = [i % len(sb) for i in axes_b]
    if [sa[i] for i in axes_a] != [sb[i] for i in axes_b]:
        raise ValueError(f"tensordot: shape mismatch for sum over axes {axes}: {sa} and {sb}")
    free_a = [i for i in range(len(sa)) if i not in axes_a]
    free_b = [i for i in range(len(sb)) if i not in axes_b]
    k = math.prod([sa[i] for i in axes_a])
    a2 = base.reshape(base.transpose(a, free_a + axes_a), (-1, k))
    b2 = base.reshape(base.transpose(b, axes_b + free_b), (k, -1))
    out_shape = tuple(sa[i] for i in free_a) + tuple(sb[i] for i in free_b)
    return base.reshape(matmul(a2, b2), out_shape)


def dot(a: Array, b: Array) -> Array:
    """NumPy's ``dot``: a product for scalars, ``matmul`` up to 2-D, else a sum over the last
    axis of ``a`` and the second-to-last of ``b``."""
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 0 or nb == 0:
        return base.multiply(a, b)
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([na - 1], [max(nb - 2, 0)]))


def outer(a: Array, b: Array) -> Array:
    """Outer product of two vectors (inputs are flattened first)."""
    return base.multiply(base.reshape(a, (-1, 1)), base.reshape(b, (1, -1)))


def vdot(a: Array, b: Array) -> Array:
    """Dot product of two arrays flattened to vectors (real inputs)."""
    return reductions.sum(base.multiply(base.ravel(a), base.ravel(b)))


def inner(a: Array, b: Array) -> Array:
    """Inner product over the last axes of ``a`` and ``b`` (a product when either is 0-d)."""
    if not shape_of(a) or not shape_of(b):
        return base.multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


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


def _sublist_subscripts(args: Sequence[Any]) -> tuple[str, list[Any]]:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` (the interleaved form) as a subscript string."""
    args = list(args)
    out_list = args.pop() if len(args) % 2 else None
    operands, terms = args[0::2], args[1::2]

    def letters(sub: Sequence[Any]) -> str:
        return "".join("..." if s is Ellipsis else string.ascii_letters[int(s)] for s in sub)

    spec = ",".join(letters(t) for t in terms)
    if out_list is not None:
        spec += "->" + letters(out_list)
    return spec, operands


def _expand_term(term: str, ndim: int, ell: str, where: str) -> str:
    """``term`` with its ellipsis replaced by the last letters of ``ell``; checked against
    ``ndim``."""
    if "..." in term:
        head, _, tail = term.partition("...")
        n = ndim - len(head) - len(tail)
        if n < 0 or "." in head + tail:
            raise ValueError(f"einsum: {where} '{term}' does not fit an operand of {ndim} axes")
        term = head + (ell[len(ell) - n:] if n else "") + tail
    if len(term) != ndim:
        raise ValueError(
            f"einsum: {where} '{term}' names {len(term)} axes, but its operand has {ndim}"
        )
    return term


def _parse_einsum(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Input terms and output with ellipses expanded into letters, the output made explicit."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum: the subscripts '{subscripts}' name {len(terms)} operands, but "
            f"{len(shapes)} were given"
        )
    bad = set(spec) - set(string.ascii_letters) - set(".,->")
    if bad:
        raise ValueError(f"einsum: invalid subscript characters {sorted(bad)} in '{subscripts}'")
    n_ell = max(
        (len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes) if "..." in t),
        default=0,
    )
    ell = "".join([c for c in string.ascii_letters if c not in spec][:n_ell])
    if len(ell) < n_ell:
        raise ValueError("einsum: too many axes under '...' for the unused letters")
    terms = [
        _expand_term(t, len(s), ell, f"term {k}") for k, (t, s) in enumerate(zip(terms, shapes))
    ]
    if arrow:
        out = out.replace("...", ell) if "..." in out else out
    else:
        counts: dict[str, int] = {}
        for c in "".join(terms):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    if len(set(out)) != len(out) or not set(out) <= set("".join(terms)):
        raise ValueError(
            f"einsum: output subscripts '{out}' repeat a letter or name one no input has"
        )
    return terms, out


def _einsum_sizes(terms: list[str], shapes: list[tuple[int, ...]]) -> dict[str, int]:
    """The size of each letter over all operands (1 broadcasts, as in NumPy)."""
    size: dict[str, int] = {}
    for term, s in zip(terms, shapes):
        for c, d in zip(term, s):
            old = size.get(c, 1)
            if old == 1:
                size[c] = d
            elif d not in (1, old):
                raise ValueError(
                    f"einsum: index '{c}' has sizes {old} and {d}, which do not broadcast"
                )
    return size


def einsum(*operands: Any, out: Any = None, dtype: Any = None, optimize: Any = False,
           **kwargs: Any) -> Array:
    """Einstein summation, ``einsum('ij,jk->ik', a, b)``: any subscripts, ``...``, implicit
    output (letters used once, alphabetically), repeated letters (diagonals, traces), size-1
    broadcasting, and the interleaved form ``einsum(a, [0, 1], b, [1, 2])``.

    ``optimize`` is accepted and ignored (fjac chooses the contraction order); ``out``,
    ``dtype``, ``order`` and ``casting`` are not supported.
    """
    if out is not None or dtype is not None or kwargs:
        names = [n for n, v in (("out", out), ("dtype", dtype)) if v is not None] + list(kwargs)
        raise TypeError(f"einsum: fjac does not support the argument(s) {names}")
    if not operands:
        raise TypeError("einsum needs a subscripts string and at least one operand")
    if isinstance(operands[0], str):
        subscripts, xs = operands[0], list(operands[1:])
    else:
        subscripts, xs = _sublist_subscripts(operands)
    shapes = [shape_of(x) for x in xs]
    terms, output = _parse_einsum(subscripts, shapes)
    size = _einsum_sizes(terms, shapes)
    for k, (term, x) in enumerate(zip(terms, xs)):
        full = tuple(size[c] for c in term)
        if len(set(term)) != len(term) and any(size[c] != d for c, d in zip(term, shapes[k])):
            raise ValueError(f"einsum: a repeated index in term '{term}' has unequal sizes")
        xs[k] = base.broadcast_to(x, full)
    return bind(einsum_p, *xs, subscripts=",".join(terms) + "->" + output)


# ---------------------------------------------------------------------------------------------
# matrix structure


def kron(a: Array, b: Array) -> Array:
    """Kronecker product: blocks ``a[i, j] * b`` (the operand with fewer axes gets leading 1s)."""
    sa, sb = shape_of(a), shape_of(b)
    nd = max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + sa
    sb = (1,) * (nd - len(sb)) + sb
    a2 = base.reshape(a, tuple(d for x in sa for d in (x, 1)))
    b2 = base.reshape(b, tuple(d for x in sb for d in (1, x)))
    return base.reshape(base.multiply(a2, b2), tuple(x * y for x, y in zip(sa, sb)))


def _diagonal_index(n1: int, n2: int, offset: int) -> tuple[Any, Any]:
    rows = np.arange(max(0, min(n1 - max(-offset, 0), n2 - max(offset, 0))))
    return rows + max(-offset, 0), rows + max(offset, 0)


def diagonal(a: Array, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Array:
    """The diagonal ``offset`` of the 2-D slices over ``axis1`` and ``axis2`` (appended last)."""
    ndim = len(shape_of(a))
    if ndim < 2:
        raise ValueError(f"diagonal needs an array of at least 2 axes, got {ndim}")
    ax1 = normalize_axis(axis1, ndim)[0]
    ax2 = normalize_axis(axis2, ndim)[0]
    if ax1 == ax2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2}")
    a = base.moveaxis(a, (ax1, ax2), (-2, -1))
    n1, n2 = shape_of(a)[-2:]
    rows, cols = _diagonal_index(n1, n2, int(offset))
    return base_indexing.getitem(a, (Ellipsis, rows, cols))


def trace(a: Array, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
          out: Any = None) -> Array:
    """Sum along the diagonal ``offset`` of the 2-D slices over ``axis1`` and ``axis2``."""
    if out is not None:
        raise TypeError("trace: out= is not supported (traced arrays are immutable)")
    return reductions.sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def diag(v: Array, k: int = 0) -> Array:
    """For 1-D ``v``, a 2-D array with ``v`` on diagonal ``k``; for 2-D ``v``, its diagonal k."""
    v_shape = shape_of(v)
    if len(v_shape) == 2:
        return diagonal(v, k)
    if len(v_shape) != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got {len(v_shape)}-D")
    n = v_shape[0] + abs(int(k))
    return scatter_add(v, _diagonal_index(n, n, int(k)), (n, n))


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


register_ufunc(np.matmul, matmul)
_FUNCTIONS: list[tuple[Any, Any]] = [
    (np.tensordot, tensordot), (np.dot, dot), (np.outer, outer), (np.vdot, vdot),
    (np.inner, inner), (np.einsum, einsum), (np.kron, kron), (np.trace, trace),
    (np.diagonal, diagonal), (np.diag, diag), (np.tril, tril), (np.triu, triu),
]
for _np_fn, _fn in _FUNCTIONS:
    register_function(_np_fn, _fn)
