"""Indexing primitives beyond the basic ones of ``base_indexing``: ``gather`` (indexing with
traced integer arrays, which ``getitem``'s index parameter cannot hold) and its transpose,
``scatter_set`` (``x.at[idx].set(v)``), and the non-differentiable winners of ``.at[].min/max``.

NumPy index expressions are parameters of the primitives (integers, slices, Ellipsis, None,
integer and boolean arrays); traced index arrays are operands of ``gather``, placed by a
template. Index arrays carry no derivative.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fjac._core import Primitive, Tracer, as_array, bind, shape_of
from fjac._dtypes import dtype_of
from fjac._primitives import base, elementwise
from fjac._primitives.base import (
    batch_size,
    move_batch_axis,
    unbroadcast,
)
from fjac._primitives.base_indexing import (
    _batched_index,
    _is_basic,
    batch_loop,
    canonical_index,
    getitem,
    indexed_shape,
)
from fjac._rules import (
    batch_rules,
    declare_complex,
    declare_real_closed,
    defjvp,
    defjvp_argnum,
    defvjp,
    defvjp_argnum,
    value_shaped,
)

Array = Any


# ---------------------------------------------------------------------------------------------
# Indexing with traced index arrays. ``getitem`` keeps its index as a parameter, which cannot
# hold a tracer; vmap makes traced integer indices (argmax per example, a mapped label). Those
# index arrays become operands of ``gather``, and the index expression a template in which
# ``_Slot(k)`` stands for operand k. Index arrays carry no derivative.


class _Slot:
    """The place of index operand ``k`` in an index template."""

    __slots__ = ("k",)

    def __init__(self, k: int) -> None:
        self.k = k

    def __repr__(self) -> str:
        return f"<index {self.k}>"


def fill_template(template: tuple[Any, ...], arrays: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(arrays[t.k] if type(t) is _Slot else t for t in template)


def index_template(idx: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[Any]]:
    """An index expression with traced arrays as ``(template, index operands)``."""
    template: list[Any] = []
    arrays: list[Any] = []
    for i in idx:
        if isinstance(i, Tracer):
            if dtype_of(i).kind not in "iub":
                raise IndexError(
                    f"arrays used as indices must be of integer or boolean type, got a traced "
                    f"array of dtype {dtype_of(i)}"
                )
            template.append(_Slot(len(arrays)))
            arrays.append(i)
        else:
            template.append(canonical_index((i,))[0])
    return tuple(template), arrays


def gather(x: Array, idx: tuple[Any, ...]) -> Array:
    template, arrays = index_template(idx)
    return bind(gather_p, x, *arrays, template=template)


def _gather_impl(x: Array, *arrays: Array, template: tuple[Any, ...]) -> Array:
    return x[fill_template(template, arrays)]


def _scatter_gathered_impl(
    g: Array, *arrays: Array, template: tuple[Any, ...], shape: tuple[int, ...]
) -> Array:
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, fill_template(template, arrays), g)
    return out


gather_p = Primitive("gather", _gather_impl)
scatter_gathered_p = Primitive("scatter_gathered", _scatter_gathered_impl)


def _traced_mask(x: Array, *arrays: Array, template: tuple[Any, ...], **params: Any) -> bool:
    """Whether a traced boolean mask is among the index operands (the result's shape then
    depends on how many of its values are true)."""
    return any(isinstance(a, Tracer) and dtype_of(a) == np.bool_ for a in arrays)


value_shaped[gather_p] = value_shaped[scatter_gathered_p] = _traced_mask

# Only argument 0 (the array indexed, or the values scattered) has a derivative.
defjvp_argnum(gather_p, lambda i, t, ans, x, *arrays, template: (
    bind(gather_p, t, *arrays, template=template) if i == 0 else None
))
defvjp_argnum(gather_p, lambda i, g, ans, x, *arrays, template: (
    bind(scatter_gathered_p, g, *arrays, template=template, shape=shape_of(x)) if i == 0 else None
))
defjvp_argnum(scatter_gathered_p, lambda i, t, ans, g, *arrays, template, shape: (
    bind(scatter_gathered_p, t, *arrays, template=template, shape=shape) if i == 0 else None
))
defvjp_argnum(scatter_gathered_p, lambda i, ct, ans, g, *arrays, template, shape: (
    bind(gather_p, ct, *arrays, template=template) if i == 0 else None
))


def _leading_advanced(template: tuple[Any, ...]) -> bool:
    """Whether the index starts with an advanced entry (an index array or an integer), so
    NumPy puts the broadcast index dimensions first both per example and for the batch."""
    first = template[0] if template else None
    if isinstance(first, np.ndarray):
        return first.dtype.kind in "iu"
    return type(first) is _Slot or (isinstance(first, (int, np.integer)) and not isinstance(
        first, (bool, np.bool_)))


def _batched_template(
    vals: list[Any], dims: list[Any], template: tuple[Any, ...], size: int
) -> tuple[list[Any], tuple[Any, ...]] | None:
    """The index operands and template for the batch in front, with ``arange(size)`` as the
    first index; ``None`` where that layout would differ from the examples' (then the rule
    loops over the examples)."""
    arrays, a_dims = vals[1:], dims[1:]
    masks = any(dtype_of(a) == np.bool_ for a in arrays) or any(
        isinstance(t, np.ndarray) and t.dtype == np.bool_ for t in template
    )
    if masks or not _leading_advanced(template):
        return None
    rank = max(
        [len(shape_of(a)) - (d is not None) for a, d in zip(arrays, a_dims)]
        + [np.ndim(t) for t in template if isinstance(t, np.ndarray)]
        + [0]
    )
    new_arrays = [np.arange(size).reshape((size,) + (1,) * rank)]
    for a, d in zip(arrays, a_dims):
        if d is not None:  # batch axis in front, then as many axes as the widest index has
            a = move_batch_axis(a, d, 0)
            a_shape = shape_of(a)
            a = base.reshape(a, a_shape[:1] + (1,) * (rank + 1 - len(a_shape)) + a_shape[1:])
        new_arrays.append(a)
    new_template = (_Slot(0),) + tuple(
        _Slot(t.k + 1) if type(t) is _Slot else t for t in template
    )
    return new_arrays, new_template


def _batched_boolean_index(vals: list[Any], dims: list[Any]) -> None:
    for a, d in zip(vals[1:], dims[1:]):
        if d is not None and dtype_of(a) == np.bool_:
            raise TypeError(
                "vmap: indexing with a boolean mask that differs from example to example would "
                "give each example a different shape; use fjac.numpy.where to select instead"
            )


def _batch_gather(vals: list[Any], dims: list[Any], *, template: tuple[Any, ...]) -> Any:
    _batched_boolean_index(vals, dims)
    size = batch_size(vals, dims)
    lined_up = _batched_template(vals, dims, template, size)
    if lined_up is None:
        return batch_loop(gather_p, vals, dims, size, template=template)
    arrays, new_template = lined_up
    x = move_batch_axis(vals[0], dims[0], 0, size)
    return bind(gather_p, x, *arrays, template=new_template), 0


def _batch_scatter_gathered(
    vals: list[Any], dims: list[Any], *, template: tuple[Any, ...], shape: tuple[int, ...]
) -> Any:
    _batched_boolean_index(vals, dims)
    size = batch_size(vals, dims)
    lined_up = _batched_template(vals, dims, template, size)
    if lined_up is None:
        return batch_loop(scatter_gathered_p, vals, dims, size, template=template, shape=shape)
    arrays, new_template = lined_up
    g = move_batch_axis(vals[0], dims[0], 0, size)  # laid out as the batched gather gives it
    return bind(
        scatter_gathered_p, g, *arrays, template=new_template, shape=(size,) + shape
    ), 0


batch_rules[gather_p] = _batch_gather
batch_rules[scatter_gathered_p] = _batch_scatter_gathered


def _scatter_set_impl(x: Array, v: Array, *, idx: tuple[Any, ...]) -> Array:
    out = np.array(x, copy=True)  # the result keeps x's dtype, whatever v's
    out[idx] = v
    return out


def _set_winners(x_shape: tuple[int, ...], idx: tuple[Any, ...]) -> Array:
    """A mask over ``x[idx]``: True where that write is the one that remains (NumPy's last)."""
    target_shape = indexed_shape(x_shape, idx)
    order = np.arange(math.prod(target_shape)).reshape(target_shape)
    writer = np.full(x_shape, -1, dtype=np.int64)
    writer[idx] = order
    return writer[idx] == order


def _set_vjp_v(g: Array, x: Array, v: Array, idx: tuple[Any, ...]) -> Array:
    picked = getitem(g, idx)
    if not _is_basic(idx):
        picked = elementwise.where(_set_winners(shape_of(x), idx), picked, 0.0)
    return unbroadcast(picked, v)


scatter_set_p = Primitive("scatter_set", _scatter_set_impl)
defjvp(scatter_set_p,
       lambda t, ans, x, v, *, idx: scatter_set(t, np.zeros((), dtype_of(t)), idx),
       lambda t, ans, x, v, *, idx: scatter_set(np.zeros(shape_of(x), dtype_of(t)), t, idx))
defvjp(scatter_set_p,
       lambda g, ans, x, v, *, idx: scatter_set(g, np.zeros((), dtype_of(g)), idx),
       lambda g, ans, x, v, *, idx: _set_vjp_v(g, x, v, idx))


def _batch_scatter_set(vals: list[Any], dims: list[Any], *, idx: tuple[Any, ...]) -> Any:
    size = batch_size(vals, dims)
    (x, v), (dx, dv) = vals, dims
    target = indexed_shape(shape_of(x)[:dx] + shape_of(x)[dx + 1:] if dx is not None
                           else shape_of(x), idx)
    batched, at = _batched_index(idx)
    if dv is None:  # give v the batch axis too, where the batched target has it
        v = move_batch_axis(base.broadcast_to(v, target), None, at, size)
    else:
        v = move_batch_axis(v, dv, 0)
        v_shape = shape_of(v)
        lined_up = v_shape[:1] + (1,) * (len(target) - len(v_shape) + 1) + v_shape[1:]
        v = move_batch_axis(base.reshape(v, lined_up), 0, at)
    return bind(scatter_set_p, move_batch_axis(x, dx, 0, size), v, idx=batched), 0


batch_rules[scatter_set_p] = _batch_scatter_set


def scatter_set(x: Array, v: Array, idx: Any) -> Array:
    """A copy of ``x`` with ``v`` written at ``idx`` (for repeated indices the last write wins,
    as in NumPy)."""
    return bind(scatter_set_p, x, v, idx=canonical_index(idx))


def _same(a: Array, b: Array) -> Array:
    """Elementwise equality that also matches NaN with NaN (for picking an extremum)."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _extremum_winners_impl(x: Array, v: Array, *, pos: Array, ufunc: str) -> Array:
    """For flat ``x`` and the flat values ``v`` written at ``pos``: a boolean array marking,
    per position, the one value that is the result of ``ufunc`` (x's own element if it is,
    else the first such value), as ``concatenate([x_wins, v_wins])``."""
    result = np.array(x, copy=True)
    vc = as_array(v).astype(result.dtype)
    getattr(np, ufunc).at(result, pos, vc)
    x_wins = _same(x, result)
    candidates = np.nonzero(_same(vc, result[pos]) & ~x_wins[pos])[0]
    _, first = np.unique(pos[candidates], return_index=True)
    v_wins = np.zeros(len(pos), dtype=bool)
    v_wins[candidates[first]] = True
    return np.concatenate([x_wins, v_wins])


extremum_winners_p = Primitive("extremum_winners", _extremum_winners_impl, nondiff=True)



# Real arguments give real results.
declare_real_closed(globals())
# Linear and multilinear maps and selections: their rules are right for complex values as
# written (transposes without conjugation, JAX's convention).
declare_complex(*(v for v in list(globals().values()) if isinstance(v, Primitive)))
