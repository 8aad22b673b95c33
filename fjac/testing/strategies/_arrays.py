"""Strategies for inputs: arrays within a domain, broadcastable shapes, and pytrees."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fjac.tree import tree_leaves

Interval = tuple[float, float]

#: Named element domains for ``arrays``: closed intervals kept away from singular points, so a
#: central-difference step of 1e-2 or less stays inside (``"nonzero"`` is two intervals).
DOMAINS: dict[str, tuple[Interval, ...]] = {
    "real": ((-3.0, 3.0),),
    "positive": ((0.2, 5.0),),
    "nonzero": ((-3.0, -0.2), (0.2, 3.0)),
    "unit": ((0.05, 0.95),),
    "symmetric_unit": ((-0.95, 0.95),),
}


def _elements(domain: str | Interval, dtype: np.dtype[Any]) -> st.SearchStrategy[Any]:
    if isinstance(domain, str):
        if domain == "finite":
            return hnp.from_dtype(dtype, allow_nan=False, allow_infinity=False)
        if domain not in DOMAINS:
            raise ValueError(
                f"arrays: unknown domain {domain!r}; use one of {sorted(DOMAINS) + ['finite']} "
                "or a (low, high) tuple"
            )
        intervals = DOMAINS[domain]
    else:
        lo, hi = (float(v) for v in domain)
        if not lo <= hi:
            raise ValueError(f"arrays: domain {domain!r} must be a (low, high) pair, low <= high")
        intervals = ((lo, hi),)
    return st.one_of(*[_floats_within(lo, hi, dtype) for lo, hi in intervals])


def _floats_within(lo: float, hi: float, dtype: np.dtype[Any]) -> st.SearchStrategy[Any]:
    """Floats of ``dtype`` in [lo, hi], the bounds rounded inward to representable values."""
    lo_r, hi_r = dtype.type(lo), dtype.type(hi)
    if lo_r < lo:
        lo_r = np.nextafter(lo_r, dtype.type(np.inf))
    if hi_r > hi:
        hi_r = np.nextafter(hi_r, dtype.type(-np.inf))
    return hnp.from_dtype(dtype, min_value=float(lo_r), max_value=float(hi_r),
                          allow_nan=False, allow_infinity=False, allow_subnormal=False)


def arrays(
    shape: int | tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: Any = np.float64,
    domain: str | Interval = "real",
    elements: st.SearchStrategy[Any] | None = None,
) -> st.SearchStrategy[np.ndarray[Any, Any]]:
    """Arrays of floats within a domain (``hypothesis.extra.numpy.arrays`` underneath).

    Args:
        shape: a shape, an int, or a strategy of shapes; by default 0-d to 3-d arrays with sides
            up to 4.
        dtype: a floating dtype.
        domain: ``"real"`` ([-3, 3]), ``"positive"`` ([0.2, 5]), ``"nonzero"`` (±[0.2, 3]),
            ``"unit"`` ([0.05, 0.95]), ``"symmetric_unit"`` ([-0.95, 0.95]), ``"finite"`` (every
            finite value of the dtype), or a ``(low, high)`` tuple. The named domains stay
            clear of singular points by more than a finite-difference step.
        elements: a strategy of elements, used instead of ``domain``.

    Returns:
        A strategy of NumPy arrays.

    Example:
        >>> import numpy as np, fjac.numpy as fnp
        >>> from hypothesis import given
        >>> @given(arrays(shape=(3,), domain="positive"))
        ... def test_log_is_finite(x):
        ...     assert np.isfinite(fnp.log(x)).all()
        >>> test_log_is_finite()
    """
    dt = np.dtype(dtype)
    if shape is None:
        shape = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
    elems = _elements(domain, dt) if elements is None else elements
    return hnp.arrays(dt, shape, elements=elems)


def broadcastable_shapes(
    num_shapes: int = 2, *, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
    max_side: int = 4,
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (NumPy's rules).

    Built on ``hypothesis.extra.numpy.mutually_broadcastable_shapes``; dimensions of size 1 and
    missing leading dimensions are both drawn.

    Example:
        >>> import numpy as np, fjac.numpy as fnp
        >>> from hypothesis import given
        >>> @given(broadcastable_shapes())
        ... def test_add_broadcasts(shapes):
        ...     a, b = np.ones(shapes[0]), np.ones(shapes[1])
        ...     assert fnp.add(a, b).shape == np.broadcast_shapes(*shapes)
        >>> test_add_broadcasts()
    """
    strategy = hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side,
    )
    return strategy.map(lambda b: tuple(b.input_shapes))


class Pair(NamedTuple):
    """The namedtuple node that ``pytrees`` draws."""

    first: Any
    second: Any


def pytrees(
    leaves: st.SearchStrategy[Any] | None = None,
    max_depth: int = 3,
    max_width: int = 3,
    min_leaves: int = 1,
) -> st.SearchStrategy[Any]:
    """Pytrees of tuples, lists, dicts (string keys), ``None`` and namedtuples (``Pair``).

    Args:
        leaves: a strategy of leaves; by default small float64 arrays in the "real" domain.
        max_depth: the deepest nesting of containers (0: a bare leaf).
        max_width: the most children of one container.
        min_leaves: trees with fewer leaves are not drawn (``None`` and empty containers hold
            none).

    Example:
        >>> import fjac
        >>> from hypothesis import given
        >>> @given(pytrees(max_depth=2))
        ... def test_flatten_round_trips(tree):
        ...     leaves, treedef = fjac.tree.tree_flatten(tree)
        ...     assert fjac.tree.tree_structure(treedef.unflatten(leaves)) == treedef
        >>> test_flatten_round_trips()
    """
    if leaves is None:
        leaves = arrays(shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    tree = _trees(leaves, max_depth, max_width)
    if min_leaves > 0:
        tree = tree.filter(lambda t: len(tree_leaves(t)) >= min_leaves)
    return tree


@st.composite
def _trees(draw: Any, leaves: st.SearchStrategy[Any], depth: int, width: int) -> Any:
    """A leaf, or (while ``depth`` lasts) a container of smaller trees; leaves shrink first."""
    # drawn from one list at every depth (then a leaf at the limit), so that hypothesis can
    # shrink a tree by replacing it with one of its subtrees
    kind = draw(st.sampled_from(["leaf", "tuple", "list", "dict", "namedtuple", "none"]))
    if depth <= 0:
        kind = "leaf"
    if kind == "leaf":
        return draw(leaves)
    if kind == "none":
        return None
    if kind == "namedtuple":
        return Pair(draw(_trees(leaves, depth - 1, width)), draw(_trees(leaves, depth - 1, width)))
    if kind == "dict":
        keys = draw(st.lists(st.sampled_from("abcdefgh"), max_size=width, unique=True))
        return {k: draw(_trees(leaves, depth - 1, width)) for k in keys}
    children = draw(st.lists(_trees(leaves, depth - 1, width), max_size=width))
    return tuple(children) if kind == "tuple" else children
