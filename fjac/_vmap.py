"""Batching: a tracer carries (value, batch axis); each primitive's batch rule calls it once.

A batched value holds every example of the batch along its axis ``bdim``. A batch rule receives
the values and their batch axes (``None`` for an unbatched argument) and returns the output and
its batch axis, usually by moving batch axes to the front and applying the primitive to all
examples at once. Primitives without a rule fall back to a loop over the examples.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from fjac import _transform_io
from fjac._core import MainTrace, Primitive, Tracer, new_main, shape_of
from fjac._primitives.base import move_batch_axis, multiply, reshape
from fjac._primitives.base_indexing import batch_loop, getitem
from fjac._rules import basis_rules, batch_rules
from fjac.tree import tree_flatten, tree_unflatten

__all__ = [
    "BatchTracer",
    "BatchTrace",
    "BasisTracer",
    "basis_tracers",
    "vmap",
]

Array = Any


class BatchTracer(Tracer):
    """A batched value: ``primal`` holds all examples along axis ``bdim``."""

    __slots__ = ("bdim",)

    def __init__(self, main: MainTrace, primal: Any, bdim: int) -> None:
        self._main = main
        self.primal = primal
        self.bdim = bdim

    @property
    def shape(self) -> tuple[int, ...]:
        full = shape_of(self.primal)
        return full[: self.bdim] + full[self.bdim + 1 :]

    def __bool__(self) -> bool:
        raise TypeError(
            "the truth value of a value batched by vmap is ambiguous: it differs from example "
            "to example. Use fjac.numpy.where instead of Python control flow on it"
        )


class BatchTrace(MainTrace):
    """Batching interpretation: apply each primitive's batch rule to (values, batch axes)."""

    __slots__ = ("axis_size",)
    kind = "vmap"

    def __init__(self, level: int, transform: str) -> None:
        super().__init__(level, transform)
        self.axis_size = 0

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        vals = []
        dims: list[int | None] = []
        for x in args:
            if isinstance(x, BatchTracer) and x._main is self:
                if type(x) is BasisTracer:
                    rule = basis_rules.get(prim)
                    structured = None if rule is None else rule(self, args, **params)
                    if structured is not None:
                        return structured
                vals.append(x.primal)  # a BasisTracer's dense batch is made here, if at all
                dims.append(x.bdim)
            else:
                vals.append(x)
                dims.append(None)
        rule = batch_rules.get(prim)
        if rule is None:
            out, out_dim = batch_loop(prim, vals, dims, self.axis_size, **params)
        else:
            out, out_dim = rule(vals, dims, **params)
        if prim.multiple_results:
            return tuple(
                o if d is None else BatchTracer(self, o, d) for o, d in zip(out, out_dim)
            )
        if out_dim is None:
            return out
        return BatchTracer(self, out, out_dim)


class BasisTracer(BatchTracer):
    """A batch of scaled standard basis vectors, stored as the scales alone.

    Example ``r`` (of ``rows``) is ``scale.flat[start + r]`` times the one-hot array of shape
    ``shape`` whose 1 sits at flat (C-order) index ``start + r``; ``scale`` is ``None`` for
    ones. The vectorized Jacobians seed their pass with it. The operations that meet it first
    keep the structure (scaling by a value that is not batched, reshaping) or use it (a matrix
    product with a matrix that is not batched selects rows or columns of that matrix instead of
    multiplying by the identity): the Jacobian of ``tanh(W @ x)`` then costs a scaling of ``W``,
    not an n³ product. Every other operation reads ``primal``, the dense batch, made on first
    use; the results are the same either way.
    """

    __slots__ = ("scale", "start", "rows", "_shape", "_dtype", "_dense")

    def __init__(
        self, main: MainTrace, shape: tuple[int, ...], dtype: Any, start: int, rows: int,
        scale: Any = None,
    ) -> None:
        self._main = main
        self.bdim = 0
        self._shape = shape
        self._dtype = np.dtype(dtype)
        self.start = start
        self.rows = rows
        self.scale = scale
        self._dense: Any = None

    @property
    def primal(self) -> Any:
        """The dense batch, shaped ``(rows,) + shape``."""
        if self._dense is None:
            self._dense = self._densify()
        return self._dense

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._dtype  # type: ignore[no-any-return]

    def scale_rows(self) -> Any:
        """The scales of the batch's examples, in order (``None`` for ones)."""
        if self.scale is None:
            return None
        flat = reshape(self.scale, (-1,))
        return getitem(flat, slice(self.start, self.start + self.rows))

    def with_scale(self, scale: Any, shape_: tuple[int, ...] | None = None) -> BasisTracer:
        """The same basis vectors with new scales (and, after a reshape, a new shape)."""
        new_shape = self._shape if shape_ is None else shape_
        return BasisTracer(
            self._main, new_shape, _dtype_of(scale, self._dtype), self.start, self.rows, scale
        )

    def _densify(self) -> Any:
        n = math.prod(self._shape)
        block = dense_basis([n], [(n,)], [self._dtype], self.start, self.start + self.rows)[0]
        rows_scale = self.scale_rows()
        dense: Any = block
        if rows_scale is not None:
            dense = multiply(block, reshape(rows_scale, (self.rows, 1)))
        return reshape(dense, (self.rows,) + self._shape)


def _dtype_of(x: Any, default: Any) -> Any:
    return default if x is None else getattr(x, "dtype", default)


def basis_tracers(
    main: BatchTrace, sizes: Sequence[int], shapes: Sequence[tuple[int, ...]],
    dtypes: Sequence[Any], start: int, stop: int,
) -> list[BatchTracer | None]:
    """Rows ``start:stop`` of the identity over the concatenated leaves, as batched tracers of
    ``main``, one per leaf (``None`` where no row falls in the leaf): a ``BasisTracer`` when
    the rows all fall in one leaf, else the dense rows."""
    offset = 0
    for k, size in enumerate(sizes):
        if offset <= start < stop <= offset + size:
            out: list[BatchTracer | None] = [None] * len(sizes)
            out[k] = BasisTracer(main, tuple(shapes[k]), dtypes[k], start - offset, stop - start)
            return out
        offset += size
    dense = dense_basis(sizes, shapes, dtypes, start, stop)
    return [None if e is None else BatchTracer(main, e, 0) for e in dense]


# ---------------------------------------------------------------------------------------------
# helpers for writing batch rules


# ---------------------------------------------------------------------------------------------
# the transform


def _flat_axes(axes: Any, tree: Any, what: str) -> list[Any]:
    """Broadcast an axes spec (an int, None, or a pytree prefix of ``tree``) to its leaves."""
    if axes is None or isinstance(axes, int):
        return [axes] * len(tree_flatten(tree)[0])
    try:
        per_subtree = tree_flatten(axes, is_leaf=lambda a: a is None)[0]
        subtrees = tree_flatten(axes, is_leaf=lambda a: a is None)[1].flatten_up_to(tree)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"vmap: {what} must be an int, None, or a pytree prefix of the "
            f"{'arguments' if what == 'in_axes' else 'outputs'}; {exc}"
        ) from None
    out: list[Any] = []
    for a, sub in zip(per_subtree, subtrees):
        if a is not None and not isinstance(a, int):
            raise TypeError(f"vmap: {what} entries must be ints or None, got {a!r}")
        out.extend([a] * len(tree_flatten(sub)[0]))
    return out


def _check_in_axes(
    leaves: list[Any], axes: list[Any], args: tuple[Any, ...], axis_size: int | None
) -> int:
    """The batch size, after checking every mapped axis is in range and of one length."""
    sizes = {}
    for i, (x, a) in enumerate(zip(leaves, axes)):
        if a is None:
            continue
        ndim = len(shape_of(x))
        name = _transform_io._leaf_name(args, i)
        if not -ndim <= a < ndim:
            raise ValueError(
                f"vmap: in_axes={a} is out of range for {name}, which has {ndim} dimension(s) "
                f"(shape {shape_of(x)}); use an axis in [{-ndim}, {ndim}) or None"
            )
        sizes[name] = shape_of(x)[a]
    if not sizes:
        if axis_size is None:
            raise ValueError(
                "vmap: no argument is mapped (in_axes is None everywhere), so the batch size "
                "is unknown; pass axis_size"
            )
        return axis_size
    distinct = set(sizes.values())
    if len(distinct) > 1 or (axis_size is not None and distinct != {axis_size}):
        listing = ", ".join(f"{name} has size {n}" for name, n in sizes.items())
        extra = f" and axis_size={axis_size}" if axis_size is not None else ""
        raise ValueError(
            f"vmap: the mapped axes must all have one length, but {listing}{extra}"
        )
    return int(distinct.pop())


def _unbatch_output(x: Any, main: BatchTrace, out_axis: int | None, size: int) -> Any:
    """An output leaf with its batch axis at ``out_axis`` (broadcast if it is unbatched)."""
    batched = isinstance(x, BatchTracer) and x._main is main
    if out_axis is None:
        if batched:
            raise ValueError(
                "vmap: out_axes is None for an output that depends on the mapped inputs; "
                "it has a different value per example, so give it an out_axes axis"
            )
        return _transform_io.as_output(x)
    if batched:
        value, bdim = x.primal, x.bdim
    else:
        value, bdim = _transform_io.as_output(x), None
    ndim = len(shape_of(value)) + (bdim is None)
    if not -ndim <= out_axis < ndim:
        raise ValueError(
            f"vmap: out_axes={out_axis} is out of range for an output with {ndim} dimension(s) "
            "(including the batch axis)"
        )
    return move_batch_axis(value, bdim, out_axis % ndim, size)


def vmap(
    fun: Callable[..., Any],
    in_axes: Any = 0,
    out_axes: Any = 0,
    axis_size: int | None = None,
) -> Callable[..., Any]:
    """Vectorize ``fun`` over an axis of its arguments: one call computes every example.

    Args:
        fun: a function of pytrees of arrays, written for one example.
        in_axes: the axis of each argument to map over: an int (every argument), None (not
            mapped), or a tuple with one entry per positional argument, each an int, None or a
            pytree prefix of that argument. Negative axes count from the end. Keyword arguments
            are never mapped.
        out_axes: where the batch axis goes in each output: an int, None (only for outputs that
            do not depend on mapped inputs), or a pytree prefix of the output.
        axis_size: the batch size, needed only when no argument is mapped.

    Returns:
        A function with the same arguments as ``fun`` whose outputs have the batch axis added.

    Raises:
        ValueError: mapped axes of different lengths (naming each argument and its size), an
            axis out of range, ``out_axes=None`` for a mapped output, or nothing mapped without
            ``axis_size``.

    Example:
        >>> import numpy as np, fjac, fjac.numpy as fnp
        >>> fjac.vmap(lambda x, w: fnp.dot(w, x), in_axes=(0, None))(np.eye(2), np.array([3., 4.]))
        array([3., 4.])
    """

    @functools.wraps(fun)
    def vmapped(*args: Any, **kwargs: Any) -> Any:
        if isinstance(in_axes, list):
            spec: Any = tuple(in_axes)
        else:
            spec = in_axes
        if isinstance(spec, tuple) and len(spec) != len(args):
            raise ValueError(
                f"vmap: in_axes has {len(spec)} entries but the function was called with "
                f"{len(args)} positional argument(s); give one entry per argument"
            )
        leaves, in_tree = tree_flatten(args)
        axes = _flat_axes(spec, args, "in_axes")
        leaves = [
            x if a is None else _transform_io.as_input(x, _transform_io._leaf_name(args, i), "vmap")
            for i, (x, a) in enumerate(zip(leaves, axes))
        ]
        size = _check_in_axes(leaves, axes, args, axis_size)
        with new_main(BatchTrace, "vmap") as main:
            main.axis_size = size
            tracers = [
                x if a is None else BatchTracer(main, x, a % len(shape_of(x)))
                for x, a in zip(leaves, axes)
            ]
            out = fun(*tree_unflatten(in_tree, tracers), **kwargs)
            out_leaves, out_tree = tree_flatten(out)
            out_spec = _flat_axes(out_axes, out, "out_axes")
            results = [
                _unbatch_output(x, main, a, size) for x, a in zip(out_leaves, out_spec)
            ]
        return tree_unflatten(out_tree, results)

    return vmapped


def dense_basis(
    sizes: Sequence[int], shapes: Sequence[tuple[int, ...]], dtypes: Sequence[Any],
    start: int, stop: int,
) -> list[np.ndarray[Any, Any] | None]:
    """Rows ``start:stop`` of the identity over the concatenated leaves, split per leaf.

    Leaf k gets an array shaped ``(stop - start,) + shapes[k]`` (``None`` when no row of the
    chunk falls in that leaf): the standard basis vectors of the whole space, one per row.
    """
    out: list[np.ndarray[Any, Any] | None] = []
    offset = 0
    rows = stop - start
    for size, shape_, dtype in zip(sizes, shapes, dtypes):
        lo, hi = max(start, offset), min(stop, offset + size)
        if lo >= hi:
            out.append(None)
        else:
            block = np.zeros((rows, size), dtype=dtype)
            block[np.arange(lo - start, hi - start), np.arange(lo - offset, hi - offset)] = 1
            out.append(block.reshape((rows,) + tuple(shape_)))
        offset += size
    return out


def batch_front(x: Any, main: BatchTrace, rows: int) -> Any:
    """The batched value ``x`` of ``main`` with its batch axis first (broadcast if constant)."""
    if isinstance(x, BatchTracer) and x._main is main:
        return move_batch_axis(x.primal, x.bdim, 0)
    return move_batch_axis(x, None, 0, rows)


@contextmanager
def open_batch(transform: str, size: int) -> Iterator[BatchTrace]:
    """Open a batch main trace of ``size`` examples (for the vectorized Jacobians)."""
    with new_main(BatchTrace, transform) as main:
        main.axis_size = size
        yield main
