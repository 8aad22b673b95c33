"""fjac.numpy's products: ``matmul`` (also the ``@`` operator), dot, vdot, inner, outer,
tensordot, einsum (with NumPy's subscript forms: implicit output, ellipses, sublists), kron;
and the matrix-structure functions built on them (trace, diag, diagonal, tril, triu).

``matmul`` and ``einsum`` are primitives (``fjac._primitives.products``); everything else is a
composition of them and of the structural primitives.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from fjac._core import bind, shape_of
from fjac._primitives import base as B
from fjac._primitives import products as P
from fjac._primitives.base import normalize_axis
from fjac._primitives.base_indexing import scatter_add
from fjac._primitives.complex_parts import conj
from fjac.numpy import _reductions as reductions
from fjac.numpy._dispatch import implements, refuse_out

Array = Any

__all__ = [
    "matmul", "tensordot", "dot", "outer", "vdot", "inner", "einsum", "kron", "trace",
    "diagonal", "diag", "tril", "triu",
]

matmul = implements(np.matmul, method="__matmul__", reflected="__rmatmul__")(P.matmul)
tril = implements(np.tril)(P.tril)
triu = implements(np.triu)(P.triu)


@implements(np.tensordot)
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
    a2 = B.reshape(B.transpose(a, free_a + axes_a), (-1, k))
    b2 = B.reshape(B.transpose(b, axes_b + free_b), (k, -1))
    out_shape = tuple(sa[i] for i in free_a) + tuple(sb[i] for i in free_b)
    return B.reshape(matmul(a2, b2), out_shape)


@implements(np.dot, method="dot")
def dot(a: Array, b: Array) -> Array:
    """NumPy's ``dot``: a product for scalars, ``matmul`` up to 2-D, else a sum over the last
    axis of ``a`` and the second-to-last of ``b``."""
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 0 or nb == 0:
        return B.multiply(a, b)
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([na - 1], [max(nb - 2, 0)]))


@implements(np.outer)
def outer(a: Array, b: Array) -> Array:
    """Outer product of two vectors (inputs are flattened first)."""
    return B.multiply(B.reshape(a, (-1, 1)), B.reshape(b, (1, -1)))


@implements(np.vdot)
def vdot(a: Array, b: Array) -> Array:
    """Dot product of two arrays flattened to vectors, conjugating the first:
    ``sum(conj(a) * b)``."""
    return reductions.sum(B.multiply(conj(B.ravel(a)), B.ravel(b)))


@implements(np.inner)
def inner(a: Array, b: Array) -> Array:
    """Inner product over the last axes of ``a`` and ``b`` (a product when either is 0-d)."""
    if not shape_of(a) or not shape_of(b):
        return B.multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


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


@implements(np.einsum)
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
        xs[k] = B.broadcast_to(x, full)
    return bind(P.einsum_p, *xs, subscripts=",".join(terms) + "->" + output)


@implements(np.kron)
def kron(a: Array, b: Array) -> Array:
    """Kronecker product: blocks ``a[i, j] * b`` (the operand with fewer axes gets leading 1s)."""
    sa, sb = shape_of(a), shape_of(b)
    nd = max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + sa
    sb = (1,) * (nd - len(sb)) + sb
    a2 = B.reshape(a, tuple(d for x in sa for d in (x, 1)))
    b2 = B.reshape(b, tuple(d for x in sb for d in (1, x)))
    return B.reshape(B.multiply(a2, b2), tuple(x * y for x, y in zip(sa, sb)))


@implements(np.diagonal, method="diagonal")
def diagonal(a: Array, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Array:
    """The diagonal ``offset`` of the 2-D slices over ``axis1`` and ``axis2`` (appended last)."""
    ndim = len(shape_of(a))
    if ndim < 2:
        raise ValueError(f"diagonal needs an array of at least 2 axes, got {ndim}")
    ax1 = normalize_axis(axis1, ndim)[0]
    ax2 = normalize_axis(axis2, ndim)[0]
    if ax1 == ax2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2}")
    return P.matrix_diagonal(B.moveaxis(a, (ax1, ax2), (-2, -1)), offset)


@implements(np.trace, method="trace")
def trace(a: Array, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
          out: Any = None) -> Array:
    """Sum along the diagonal ``offset`` of the 2-D slices over ``axis1`` and ``axis2``."""
    refuse_out("trace", out)
    return reductions.sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


@implements(np.diag)
def diag(v: Array, k: int = 0) -> Array:
    """For 1-D ``v``, a 2-D array with ``v`` on diagonal ``k``; for 2-D ``v``, its diagonal k."""
    v_shape = shape_of(v)
    if len(v_shape) == 2:
        return diagonal(v, k)
    if len(v_shape) != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got {len(v_shape)}-D")
    n = v_shape[0] + abs(int(k))
    return scatter_add(v, P._diagonal_index(n, n, int(k)), (n, n))


