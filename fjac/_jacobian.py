"""Jacobians: reverse mode over the output basis, forward mode over the input basis.

``jacobian`` traces the function once and then applies the tape's VJP to each standard basis
vector of the output space: row i of J is eᵢᵀJ. ``jacfwd`` pushes each basis vector of the input
space through a JVP: column j of J is J eⱼ. Both give output structure outside, input structure
inside, each leaf shaped ``out_leaf.shape + in_leaf.shape``.

Vectorized (the default), the basis vectors travel together as one batch: the backward pass (or
the forward pass) runs once with a cotangent (tangent) that carries a batch axis, which is
``vmap(vjp_fn)(basis)`` without the per-call overhead. ``vectorize=False`` runs one VJP (JVP) per
basis vector: the explicit, checkable formulation. ``chunk_size`` batches that many basis vectors
at a time, bounding memory.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from fjac import _transform_io
from fjac._api import _name, _substitute, check_argnums, check_float_inputs
from fjac._core import shape_of
from fjac._dtypes import dtype_of, is_float, kind_name
from fjac._jvp import jvp_flat
from fjac._jvp import unwrap_output as unwrap_jvp_output
from fjac._primitives import base, base_indexing, shape
from fjac._vjp import VJPTrace, backward, unwrap_output, vjp_flat
from fjac._vmap import basis_tracers, batch_front, dense_basis, open_batch
from fjac.tree import PyTreeDef, tree_unflatten

__all__ = ["jacobian", "jacrev", "jacfwd", "hessian"]


def _check_float_outputs(
    leaves: list[Any], transform: str, holomorphic: bool, complex_ok: bool
) -> None:
    for x in leaves:
        dtype = dtype_of(x)
        if holomorphic:
            if dtype.kind == "c":
                continue
            raise TypeError(
                f"{transform} with holomorphic=True differentiates complex outputs, but the "
                f"function returned a leaf of dtype {dtype} ({kind_name(dtype)}); return "
                "complex values, or drop holomorphic=True"
            )
        if dtype.kind == "c" and not complex_ok:
            raise TypeError(
                f"{transform} needs real outputs, but the function returned a leaf of dtype "
                f"{dtype}: the rows of a reverse-mode Jacobian are the cotangents of real basis "
                "vectors. For a holomorphic function pass holomorphic=True; otherwise use "
                "jacfwd, or fjac.vjp with the cotangents you need"
            )
        if not is_float(dtype) and dtype.kind != "c":
            raise TypeError(
                f"{transform} needs floating-point outputs, but the function returned a "
                f"leaf of dtype {dtype} ({kind_name(dtype)}); integer and boolean outputs have "
                "no derivative (return them as aux with has_aux=True)"
            )


def _block(pieces: list[Any], lead: tuple[int, ...], trail: tuple[int, ...], dtype: Any) -> Any:
    """Join row chunks (each shaped ``(rows,) + trail``) into a block shaped ``lead + trail``."""
    if not pieces:
        return np.zeros(lead + trail, dtype=dtype)
    joined = pieces[0] if len(pieces) == 1 else shape.concatenate(pieces)
    return base.reshape(joined, lead + trail)


def _split_rows(batched: Any, sizes: list[int], lo: int, hi: int) -> list[Any | None]:
    """The rows ``lo:hi`` of a batch split at the leaf boundaries given by ``sizes``."""
    parts: list[Any | None] = []
    offset = 0
    for size in sizes:
        a, b = max(lo, offset), min(hi, offset + size)
        if a >= b:
            parts.append(None)
        elif (a, b) == (lo, hi):
            parts.append(batched)
        else:
            parts.append(base_indexing.getitem(batched, slice(a - lo, b - lo)))
        offset += size
    return parts


def _reverse_blocks(
    main: VJPTrace, out_leaves: list[Any], out_nodes: list[int | None], leaves: list[Any],
    vectorize: bool, chunk_size: int | None,
) -> list[list[Any]]:
    """The Jacobian blocks [output leaf][input leaf] by VJPs of the output basis vectors."""
    out_shapes = [shape_of(y) for y in out_leaves]
    out_sizes = [_size(s) for s in out_shapes]
    in_shapes = [shape_of(x) for x in leaves]
    pieces: list[list[list[Any]]] = [[[] for _ in leaves] for _ in out_leaves]
    spans = _chunks(sum(out_sizes), vectorize, chunk_size)
    for lo, hi in spans:
        dtypes = [dtype_of(y) for y in out_leaves]
        if vectorize:
            with open_batch("jacobian", hi - lo) as bmain:
                seed_batch = basis_tracers(bmain, out_sizes, out_shapes, dtypes, lo, hi)
                seeds = [
                    (node, e) for node, e in zip(out_nodes, seed_batch)
                    if node is not None and e is not None
                ]
                cts = backward(main.tape, seeds, len(leaves), free=len(spans) == 1,
                               keep_real=main.complex)
                rows = [
                    None if ct is None
                    else _transform_io.cast_like(batch_front(ct, bmain, hi - lo), x)
                    for ct, x in zip(cts, leaves)
                ]
        else:  # one plain VJP with the basis vector e_lo: row lo of J is e_loᵀJ
            basis = dense_basis(out_sizes, out_shapes, dtypes, lo, hi)
            seeds = [
                (node, e[0]) for node, e in zip(out_nodes, basis)
                if node is not None and e is not None
            ]
            cts = backward(main.tape, seeds, len(leaves), free=False, keep_real=main.complex)
            rows = [
                None if ct is None else base.expand_dims(_transform_io.cast_like(ct, x), 0)
                for ct, x in zip(cts, leaves)
            ]
        rows = [
            np.zeros((hi - lo,) + s, dtype=dtype_of(x)) if r is None else r
            for r, x, s in zip(rows, leaves, in_shapes)
        ]
        for i, r in enumerate(rows):
            for k, part in enumerate(_split_rows(r, out_sizes, lo, hi)):
                if part is not None:
                    pieces[k][i].append(part)
    return [
        [
            _block(pieces[k][i], out_shapes[k], in_shapes[i], dtype_of(x))
            for i, x in enumerate(leaves)
        ]
        for k in range(len(out_leaves))
    ]


def _nest(out_tree: PyTreeDef, in_tree: PyTreeDef, blocks: list[list[Any]], single: bool) -> Any:
    """Output structure outside, input structure (one entry per argnum) inside."""
    per_out = []
    for row in blocks:
        inner = tree_unflatten(in_tree, row)
        per_out.append(inner[0] if single else inner)
    return tree_unflatten(out_tree, per_out)


def _prepare(
    fun: Callable[..., Any], argnums: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
    transform: str, holomorphic: bool, complex_ok: bool,
) -> tuple[Callable[..., Any], list[Any], PyTreeDef]:
    """The function of the differentiated arguments alone, and their checked leaves."""
    nums = check_argnums(argnums, len(args), transform)
    diff = tuple(args[i] for i in nums)
    leaves, tree = _transform_io.flatten_inputs(diff, transform)
    check_float_inputs(leaves, diff, transform, allow_int=False, holomorphic=holomorphic,
                       complex_ok=complex_ok)

    def partial(*diff_args: Any) -> Any:
        return fun(*_substitute(args, nums, diff_args), **kwargs)

    return partial, leaves, tree


def _check_chunk(chunk_size: int | None, transform: str) -> None:
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(
            f"{transform}: chunk_size must be a positive int or None, got {chunk_size!r}"
        )


def _chunks(total: int, vectorize: bool, chunk_size: int | None) -> list[tuple[int, int]]:
    step = 1 if not vectorize else (chunk_size or max(total, 1))
    return [(lo, min(lo + step, total)) for lo in range(0, total, step)]


def _size(shape_: tuple[int, ...]) -> int:
    return math.prod(shape_)


def jacobian(
    fun: Callable[..., Any],
    argnums: int | tuple[int, ...] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    *,
    vectorize: bool = True,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """The Jacobian of ``fun`` by reverse mode: one trace, then one VJP per output element.

    Row i of the Jacobian is eᵢᵀJ, the vector-Jacobian product with the i-th standard basis
    vector of the output space, so the result is exactly the explicit matrix of partial
    derivatives ∂outᵢ/∂inⱼ.

    Args:
        fun: a function of pytrees of floating-point arrays.
        argnums: the positional argument(s) to differentiate (an int, or a tuple of ints).
        has_aux: ``fun`` returns ``(output, aux)``; the Jacobian function returns
            ``(jacobian, aux)``.
        holomorphic: ``fun`` is holomorphic, from complex inputs to complex outputs; the
            result is the complex Jacobian. Without it, the outputs must be real; complex
            inputs get rows in JAX's convention (``docs/complex.md``).
        vectorize: run all basis vectors as one batched backward pass (default); with False,
            one backward pass per basis vector.
        chunk_size: with ``vectorize``, at most this many basis vectors per backward pass.

    Returns:
        A function returning the Jacobian nested as the output's structure outside and the
        input's inside (a tuple over argnums when argnums is a tuple), each leaf shaped
        ``out_leaf.shape + in_leaf.shape``.

    Raises:
        TypeError: integer, boolean or non-numeric inputs or outputs.
        ValueError: ``argnums`` out of range or with duplicates; a bad ``chunk_size``.

    Example:
        >>> import numpy as np, fjac
        >>> J = fjac.jacobian(lambda x: np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 2.0]]) @ x)
        >>> J(np.ones(3))
        array([[1., 2., 0.],
               [0., 1., 2.]])
    """
    transform = "jacobian"
    _check_chunk(chunk_size, transform)

    @functools.wraps(fun)
    def jacobian_fun(*args: Any, **kwargs: Any) -> Any:
        partial, leaves, in_tree = _prepare(fun, argnums, args, kwargs, transform, holomorphic,
                                            True)
        out, main, _ = vjp_flat(partial, leaves, in_tree, transform)
        out, aux = _transform_io.split_aux(out, has_aux, transform)
        out_leaves, out_nodes, out_tree = unwrap_output(out, main)
        _check_float_outputs(out_leaves, transform, holomorphic, False)
        blocks = _reverse_blocks(main, out_leaves, out_nodes, leaves, vectorize, chunk_size)
        jac = _nest(out_tree, in_tree, blocks, isinstance(argnums, int))
        if has_aux:
            return jac, _transform_io.unwrap_aux(aux, main)
        return jac

    jacobian_fun.__doc__ = f"Jacobian of {_name(fun)} with respect to argument(s) {argnums}."
    return jacobian_fun


jacrev = jacobian


def jacfwd(
    fun: Callable[..., Any],
    argnums: int | tuple[int, ...] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    *,
    vectorize: bool = True,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """The Jacobian of ``fun`` by forward mode: one JVP per input element.

    Column j of the Jacobian is J eⱼ, the Jacobian-vector product with the j-th standard basis
    vector of the input space. Vectorized (the default), all basis vectors go through one JVP
    as a batch, so the primal computation runs once. Arguments, result layout and errors are
    those of ``jacobian``.

    Example:
        >>> import numpy as np, fjac, fjac.numpy as fnp
        >>> fjac.jacfwd(fnp.exp)(np.zeros(2))
        array([[1., 0.],
               [0., 1.]])
    """
    transform = "jacfwd"
    _check_chunk(chunk_size, transform)

    @functools.wraps(fun)
    def jacfwd_fun(*args: Any, **kwargs: Any) -> Any:
        partial, leaves, in_tree = _prepare(fun, argnums, args, kwargs, transform, holomorphic,
                                            False)
        in_shapes = [shape_of(x) for x in leaves]
        in_sizes = [_size(s) for s in in_shapes]
        spans = _chunks(sum(in_sizes), vectorize, chunk_size) or [(0, 0)]
        pieces: list[list[list[Any]]] = []
        for lo, hi in spans:
            dtypes = [dtype_of(x) for x in leaves]
            if vectorize:
                with open_batch("jacfwd", hi - lo) as bmain:
                    tangents: list[Any] = basis_tracers(bmain, in_sizes, in_shapes, dtypes, lo, hi)
                    out, main = jvp_flat(partial, leaves, tangents, in_tree, transform)
                    out, aux = _transform_io.split_aux(out, has_aux, transform)
                    out_leaves, out_tangents, out_tree = unwrap_jvp_output(out, main)
                    columns = [batch_front(t, bmain, hi - lo) for t in out_tangents]
            else:  # one plain JVP with the basis vector e_lo: column lo of J is J e_lo
                basis = dense_basis(in_sizes, in_shapes, dtypes, lo, hi)
                tangents = [None if e is None else e[0] for e in basis]
                out, main = jvp_flat(partial, leaves, tangents, in_tree, transform)
                out, aux = _transform_io.split_aux(out, has_aux, transform)
                out_leaves, out_tangents, out_tree = unwrap_jvp_output(out, main)
                columns = [base.expand_dims(t, 0) for t in out_tangents]
            if not pieces:
                _check_float_outputs(out_leaves, transform, holomorphic, True)
                pieces = [[[] for _ in leaves] for _ in out_leaves]
            for k, col in enumerate(columns):
                for i, part in enumerate(_split_rows(col, in_sizes, lo, hi)):
                    if part is not None:
                        pieces[k][i].append(part)
        blocks = []
        for k, y in enumerate(out_leaves):
            y_shape = shape_of(y)
            row = []
            for i, x in enumerate(leaves):
                # columns J eⱼ are shaped like y: join them first, then move the input axes last
                block = _block(pieces[k][i], in_shapes[i], y_shape,
                               np.result_type(dtype_of(x), dtype_of(y)))
                row.append(_move_front_to_back(block, len(in_shapes[i]), len(y_shape)))
            blocks.append(row)
        jac = _nest(out_tree, in_tree, blocks, isinstance(argnums, int))
        if has_aux:
            return jac, _transform_io.unwrap_aux(aux, main)
        return jac

    jacfwd_fun.__doc__ = f"Jacobian (forward mode) of {_name(fun)} w.r.t. argument(s) {argnums}."
    return jacfwd_fun


def _move_front_to_back(block: Any, n_front: int, n_back: int) -> Any:
    """Reorder a block shaped ``x_shape + y_shape`` to ``y_shape + x_shape``."""
    perm = list(range(n_front, n_front + n_back)) + list(range(n_front))
    return base.transpose(block, perm)


def hessian(
    fun: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """The Hessian of a scalar function: ``jacfwd(jacobian(fun))``, forward over reverse.

    Each leaf of the result is shaped ``out.shape + in_i.shape + in_j.shape`` (for a scalar
    output: ``in_i.shape + in_j.shape``), nested output / input i / input j.

    Example:
        >>> import numpy as np, fjac
        >>> fjac.hessian(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    return jacfwd(jacobian(fun, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)
