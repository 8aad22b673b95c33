"""Hypothesis strategies for property-testing derivatives: arrays within a domain, broadcastable
shapes, pytrees, and random differentiable programs.

Needs ``hypothesis`` (``pip install hypothesis``); ``fjac.testing`` itself does not.

``differentiable_functions`` draws ``(f, args)``: ``f`` is a random composition of
``fjac.numpy`` operations, ``args`` a point where every operation is smooth and its
finite-difference check well conditioned. ``repr(f)`` prints the program
(``lambda x0, x1: sum(sin(x0) * exp(x1))``) and hypothesis shrinks a failing program toward a
short one. The operations come from ``OPERATIONS``, a table with one row per operation: to fuzz
a new operation, add a row.

How the domains are kept: every value in a drawn program has a known interval (interval
arithmetic over the rows' ``bound``), and every operation declares the interval its arguments
must lie in (``domain``). When a drawn argument's interval does not fit, it is passed through a
short *adapter* made of table operations that maps any value into the domain — ``sin(e)``,
``tanh(e)`` or ``exp(sin(e))`` (positive) — so ``log`` is only ever applied to values >= 0.3,
denominators stay >= 0.3, ``exp`` sees at most 2 in magnitude, and no value exceeds ``LIMIT``.
Bounded values with bounded derivatives are what keep central differences accurate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fjac.numpy as fnp
from fjac.tree import tree_leaves

__all__ = [
    "DOMAINS",
    "LIMIT",
    "OPERATIONS",
    "Operation",
    "Program",
    "Pair",
    "arrays",
    "broadcastable_shapes",
    "pytrees",
    "differentiable_functions",
]

Array = Any
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

#: No value in a program drawn by ``differentiable_functions`` exceeds this in magnitude.
LIMIT = 20.0


# ---------------------------------------------------------------------------------------------
# arrays, shapes, pytrees


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


# ---------------------------------------------------------------------------------------------
# the operation table


def _monotone(fn: Callable[[float], float]) -> Callable[..., Interval]:
    return lambda a, **_: (fn(a[0]), fn(a[1]))


def _corners(fn: Callable[[float, float], float]) -> Callable[..., Interval]:
    def bound(a: Interval, b: Interval, **_: Any) -> Interval:
        values = [fn(x, y) for x in a for y in b]
        return (min(values), max(values))

    return bound


def _square_bound(a: Interval, **_: Any) -> Interval:
    lo, hi = a
    top = max(lo * lo, hi * hi)
    return (0.0, top) if lo <= 0 <= hi else (min(lo * lo, hi * hi), top)


def _scale(k: float, a: Interval) -> Interval:
    return (min(k * a[0], k * a[1]), max(k * a[0], k * a[1]))


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


_REAL: Interval = (-LIMIT, LIMIT)
_POSITIVE: Interval = (0.3, LIMIT)


@dataclass(frozen=True)
class Operation:
    """One row of the table ``differentiable_functions`` draws from.

    Attributes:
        name: the ``fjac.numpy`` function it tests (rows whose name fjac.numpy lacks are
            skipped, so the table can run ahead of the library).
        kind: ``"unary"`` and ``"binary"`` (elementwise, with broadcasting of scalar operands),
            ``"reduce"`` (to a scalar, or with ``axis=-1, keepdims=True``), or a structural
            kind: ``"where"``, ``"matmul"`` (``a @ transpose(b) @ c``, shape-preserving on
            matrices), ``"inner"`` (``ravel(a) @ ravel(b)``), ``"permute"``
            (``reshape(transpose(a), shape)``).
        template: how it prints, ``{0}``, ``{1}``... standing for the arguments.
        apply: computes it from traced or concrete arrays (``**params`` for reductions).
        domain: the interval each argument must lie in; a function of the operand shape
            (``domain(shape) -> tuple of intervals``) where it depends on sizes.
        bound: the output interval from the argument intervals (keyword ``shape``: the
            operand shape), by interval arithmetic.
        precedence: Python's operator precedence for printing (100: a call).
        min_ndim: the operand needs at least this many dimensions (``flip(x, axis=-1)``: 1).
        keepdims: a reduction that also has the ``axis=-1, keepdims=True`` form.
    """

    name: str
    kind: str
    template: str
    apply: Callable[..., Array]
    domain: tuple[Interval, ...] | Callable[[tuple[int, ...]], tuple[Interval, ...]]
    bound: Callable[..., Interval]
    precedence: int = 100
    min_ndim: int = 0
    keepdims: bool = True

    def domains(self, shape: tuple[int, ...]) -> tuple[Interval, ...]:
        return self.domain(shape) if callable(self.domain) else self.domain


def _unary(name: str, domain: Interval | Callable[[tuple[int, ...]], tuple[Interval, ...]],
           bound: Callable[..., Interval], apply: Callable[..., Array] | None = None,
           template: str | None = None, precedence: int = 100, min_ndim: int = 0) -> Operation:
    fn = apply if apply is not None else (lambda x: getattr(fnp, name)(x))
    domains = domain if callable(domain) else (domain,)
    return Operation(name, "unary", template or f"{name}({{0}})", fn, domains, bound,
                     precedence, min_ndim)


def _binary(name: str, symbol: str | None, precedence: int,
            domains: tuple[Interval, Interval], bound: Callable[..., Interval]) -> Operation:
    """An elementwise binary row: an operator (``symbol``) or, without one, a call."""
    template = f"{{0}} {symbol} {{1}}" if symbol else f"{name}({{0}}, {{1}})"
    return Operation(name, "binary", template, lambda x, y: getattr(fnp, name)(x, y), domains,
                     bound, precedence if symbol else 100)


def _reduction(name: str, domain: Any, bound: Callable[..., Interval], min_ndim: int = 0,
               keepdims: bool = True) -> Operation:
    """A reduction row: ``name(x)`` to a scalar, or ``name(x, axis=-1, keepdims=True)``."""

    def apply(x: Array, keepdims: bool = False) -> Array:
        fn = getattr(fnp, name)
        return fn(x, axis=-1, keepdims=True) if keepdims else fn(x)

    return Operation(name, "reduce", f"{name}({{0}})", apply, domain, bound,
                     min_ndim=min_ndim, keepdims=keepdims)


def _last(shape: tuple[int, ...]) -> int:
    return shape[-1] if shape else 1


def _scan_domain(shape: tuple[int, ...]) -> tuple[Interval, ...]:
    k = LIMIT / _last(shape)  # prefix sums of up to n terms
    return ((-k, k),)


def _root_domain(n: int) -> tuple[Interval, ...]:
    k = LIMIT ** (1 / max(n, 1))  # products of up to n factors
    return ((-k, k),)


def _power_bound(a: Interval, n: int) -> Interval:
    """Any product of 1..n factors from ``a``: within ±max(|a|, |a|ⁿ)."""
    m = max(abs(a[0]), abs(a[1]))
    top = max(m, m**n)
    return (-top, top)


def _cosh_bound(a: Interval, **_: Any) -> Interval:
    low = 0.0 if a[0] <= 0 <= a[1] else min(abs(a[0]), abs(a[1]))
    return (math.cosh(low), math.cosh(max(abs(a[0]), abs(a[1]))))


def _var_bound(a: Interval, **_: Any) -> Interval:
    return (0.0, (a[1] - a[0]) ** 2 / 4)


def _keep_zero(a: Interval, **_: Any) -> Interval:
    return (min(a[0], 0.0), max(a[1], 0.0))


def _reduce_domain(shape: tuple[int, ...]) -> tuple[Interval, ...]:
    k = LIMIT / max(_size(shape), 1)
    return ((-k, k),)


def _matmul_domain(shape: tuple[int, ...]) -> tuple[Interval, ...]:
    k = (LIMIT / max(_size(shape), 1)) ** (1 / 3)  # |a @ bᵀ @ c| <= m·n·k³
    return ((-k, k),) * 3


def _inner_domain(shape: tuple[int, ...]) -> tuple[Interval, ...]:
    k = math.sqrt(LIMIT / max(_size(shape), 1))
    return ((-k, k),) * 2


def _product(a: Interval, b: Interval) -> Interval:
    values = [x * y for x in a for y in b]
    return (min(values), max(values))


def _matmul_bound(a: Interval, b: Interval, c: Interval, shape: tuple[int, ...]) -> Interval:
    """Entries of a @ bᵀ @ c for (m, n) operands: n products summed, then m more."""
    m, n = shape
    return _scale(m, _product(_scale(n, _product(a, b)), c))


def _hull(*intervals: Interval) -> Interval:
    return (min(i[0] for i in intervals), max(i[1] for i in intervals))


def _sum_bound(a: Interval, *, shape: tuple[int, ...], keepdims: bool = False) -> Interval:
    return _scale(_last(shape) if keepdims else _size(shape), a)


def _prod_bound(a: Interval, *, shape: tuple[int, ...], keepdims: bool = False) -> Interval:
    return _power_bound(a, _last(shape) if keepdims else _size(shape))


def _ravel(x: Array) -> Array:
    return fnp.reshape(x, (-1,))


#: One row per operation. Order matters for shrinking: hypothesis shrinks toward earlier rows.
OPERATIONS: tuple[Operation, ...] = (
    _unary("sin", _REAL, lambda a, **_: (-1.0, 1.0)),
    _unary("cos", _REAL, lambda a, **_: (-1.0, 1.0)),
    _unary("tanh", _REAL, _monotone(math.tanh)),
    _unary("exp", (-2.0, 2.0), _monotone(math.exp)),
    _unary("log", _POSITIVE, _monotone(math.log)),
    _unary("negative", _REAL, lambda a, **_: (-a[1], -a[0]), template="-{0}", precedence=13),
    _unary("square", (-4.0, 4.0), _square_bound),
    _unary("sqrt", _POSITIVE, _monotone(math.sqrt)),
    _unary("reciprocal", _POSITIVE, lambda a, **_: (1 / a[1], 1 / a[0])),
    _unary("log1p", (-0.5, LIMIT), _monotone(math.log1p)),
    _unary("expm1", (-2.0, 2.0), _monotone(math.expm1)),
    _unary("tan", (-1.2, 1.2), _monotone(math.tan)),
    _unary("power", (-2.5, 2.5), _monotone(lambda v: v**3), apply=lambda x: fnp.power(x, 3),
           template="{0} ** 3", precedence=14),
    _unary("power", (0.3, 7.0), _monotone(lambda v: v**1.5), apply=lambda x: fnp.power(x, 1.5),
           template="{0} ** 1.5", precedence=14),
    _binary("add", "+", 11, ((-10.0, 10.0),) * 2, lambda a, b, **_: (a[0] + b[0], a[1] + b[1])),
    _binary("multiply", "*", 12, ((-4.0, 4.0),) * 2, lambda a, b, **_: _product(a, b)),
    _binary("subtract", "-", 11, ((-10.0, 10.0),) * 2,
            lambda a, b, **_: (a[0] - b[1], a[1] - b[0])),
    _binary("divide", "/", 12, ((-6.0, 6.0), _POSITIVE), _corners(lambda x, y: x / y)),
    _binary("power", "**", 14, ((0.3, 4.0), (-2.0, 2.0)),
            _corners(lambda x, y: math.exp(y * math.log(x)))),
    _reduction("sum", _reduce_domain, _sum_bound),
    _reduction("mean", (_REAL,), lambda a, **_: a),
    Operation("where", "where", "where({mask}, {0}, {1})", fnp.where, (_REAL, _REAL),
              lambda a, b, **_: _hull(a, b)),
    Operation("matmul", "matmul", "{0} @ transpose({1}) @ {2}",
              lambda a, b, c: fnp.matmul(fnp.matmul(a, fnp.transpose(b)), c), _matmul_domain,
              lambda a, b, c, *, shape: _matmul_bound(a, b, c, shape),
              precedence=12),
    Operation("matmul", "inner", "ravel({0}) @ ravel({1})",
              lambda a, b: fnp.matmul(_ravel(a), _ravel(b)), _inner_domain,
              lambda a, b, *, shape: _scale(_size(shape), _product(a, b)), precedence=12),
    Operation("transpose", "permute", "reshape(transpose({0}), {target})",
              lambda a, target: fnp.reshape(fnp.transpose(a), target), (_REAL,),
              lambda a, **_: a),
    # inverse trigonometric and hyperbolic functions
    _unary("arctan", _REAL, _monotone(math.atan)),
    _unary("arcsin", (-0.9, 0.9), _monotone(math.asin)),
    _unary("arccos", (-0.9, 0.9), lambda a, **_: (math.acos(a[1]), math.acos(a[0]))),
    _unary("arcsinh", _REAL, _monotone(math.asinh)),
    _unary("arctanh", (-0.8, 0.8), _monotone(math.atanh)),
    _unary("sinh", (-3.0, 3.0), _monotone(math.sinh)),
    _unary("cosh", (-3.0, 3.0), _cosh_bound),
    _unary("sinc", (-5.0, 5.0), lambda a, **_: (-1.0, 1.0)),
    # more exponentials, logarithms and roots
    _unary("exp2", (-3.0, 3.0), _monotone(lambda v: 2.0**v)),
    _unary("log2", _POSITIVE, _monotone(math.log2)),
    _unary("log10", _POSITIVE, _monotone(math.log10)),
    _unary("cbrt", _POSITIVE, _monotone(lambda v: v ** (1 / 3))),
    _unary("deg2rad", _REAL, _monotone(math.radians)),
    # smooth binary functions (kept off their singular points)
    _binary("arctan2", None, 100, ((-10.0, 10.0), _POSITIVE), lambda a, b, **_: (-1.6, 1.6)),
    _binary("hypot", None, 100, (_POSITIVE, (-10.0, 10.0)),
            lambda a, b, **_: (a[0], math.hypot(max(map(abs, a)), max(map(abs, b))))),
    _binary("logaddexp", None, 100, ((-10.0, 10.0),) * 2,
            lambda a, b, **_: (max(a[0], b[0]), max(a[1], b[1]) + math.log(2))),
    _binary("logaddexp2", None, 100, ((-10.0, 10.0),) * 2,
            lambda a, b, **_: (max(a[0], b[0]), max(a[1], b[1]) + 1.0)),
    # shape-preserving along the last axis, and more reductions
    _unary("cumsum", _scan_domain,
           lambda a, *, shape, **_: _hull(a, _scale(_last(shape), a)),
           apply=lambda x: fnp.cumsum(x, axis=-1), template="cumsum({0}, axis=-1)",
           min_ndim=1),
    _unary("cumprod", lambda shape: _root_domain(_last(shape)),
           lambda a, *, shape, **_: _power_bound(a, _last(shape)),
           apply=lambda x: fnp.cumprod(x, axis=-1), template="cumprod({0}, axis=-1)",
           min_ndim=1),
    _unary("flip", _REAL, lambda a, **_: a, apply=lambda x: fnp.flip(x, axis=-1),
           template="flip({0}, axis=-1)", min_ndim=1),
    _unary("roll", _REAL, lambda a, **_: a, apply=lambda x: fnp.roll(x, 1, axis=-1),
           template="roll({0}, 1, axis=-1)", min_ndim=1),
    _unary("tril", _REAL, _keep_zero, min_ndim=2),
    _unary("triu", _REAL, _keep_zero, min_ndim=2),
    _reduction("prod", lambda shape: _root_domain(_size(shape)), _prod_bound),
    _reduction("var", ((-4.0, 4.0),), _var_bound),
    _reduction("trace", lambda shape: ((-LIMIT / min(shape), LIMIT / min(shape)),),
               lambda a, *, shape, **_: _scale(min(shape), a), min_ndim=2, keepdims=False),
)

# Adapters: chains of unary rows (applied right to left) that map any value into a domain.
_ADAPTERS: tuple[tuple[str, ...], ...] = (
    ("sin",), ("tanh",), ("exp", "sin"), ("exp", "tanh"), ("tanh", "sin"),
)
_CONSTANTS = (2.0, 0.5, -1.5, 3.0)


def _available(ops: Sequence[Operation]) -> list[Operation]:
    return [op for op in ops if hasattr(fnp, op.name)]


# ---------------------------------------------------------------------------------------------
# programs


@dataclass(frozen=True)
class _Node:
    """A node of a drawn program: an operation over child nodes, an input, or a constant."""

    op: Operation | None  # None: an input (index in ``arg``) or a constant (``value``)
    children: tuple[_Node, ...]
    shape: tuple[int, ...]
    interval: Interval
    arg: int = -1
    value: float = 0.0
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def evaluate(self, args: Sequence[Array]) -> Array:
        if self.op is None:
            return args[self.arg] if self.arg >= 0 else self.value
        values = [c.evaluate(args) for c in self.children]
        if self.op.kind == "where":
            return self.op.apply(self.params["mask"], *values)
        if self.op.kind == "permute":
            return self.op.apply(values[0], target=self.params["target"])
        if self.op.kind == "reduce":
            return self.op.apply(values[0], keepdims=self.params.get("keepdims", False))
        return self.op.apply(*values)

    def source(self) -> tuple[str, int]:
        """The node as Python source, and its precedence (for parentheses)."""
        if self.op is None:
            return (f"x{self.arg}", 100) if self.arg >= 0 else (repr(self.value), 100 if
                                                                   self.value >= 0 else 13)
        op = self.op
        parts = []
        for i, child in enumerate(self.children):
            text, prec = child.source()
            # left operands need parentheses below the operator's precedence, right ones at it
            # too (a - (b - c)); ** binds its left operand tighter than unary minus
            limit = op.precedence + (i > 0 or op.precedence == 14)
            bare = _is_bare(op.template, i)
            parts.append(f"({text})" if bare and prec < limit else text)
        if op.kind == "reduce" and self.params.get("keepdims"):
            return f"{op.name}({parts[0]}, axis=-1, keepdims=True)", 100
        params = {"mask": self.params.get("mask", np.zeros(0)).tolist(),
                  "target": self.params.get("target")}
        return op.template.format(*parts, **params), op.precedence


def _is_bare(template: str, i: int) -> bool:
    """Whether argument ``{i}`` stands outside any call's parentheses in ``template``."""
    at = template.index(f"{{{i}}}")
    return template[:at].count("(") == template[:at].count(")")


class Program:
    """A function drawn by ``differentiable_functions``; ``repr`` prints it as a lambda.

    ``eval(repr(f), vars(fjac.numpy))`` rebuilds the same function. ``f.operations`` lists the
    table rows it uses.
    """

    def __init__(self, root: _Node, num_args: int) -> None:
        self._root = root
        self.num_args = num_args

    def __call__(self, *args: Array) -> Array:
        if len(args) != self.num_args:
            raise TypeError(f"{self!r} takes {self.num_args} argument(s), got {len(args)}")
        return self._root.evaluate(args)

    @property
    def source(self) -> str:
        """The body of the lambda."""
        return self._root.source()[0]

    @property
    def operations(self) -> list[str]:
        """The names of the operations used, in order of first use (adapters included)."""
        seen: dict[str, None] = {}
        stack = [self._root]
        while stack:
            node = stack.pop()
            if node.op is not None:
                seen.setdefault(node.op.name, None)
            stack.extend(reversed(node.children))
        return list(seen)

    def __repr__(self) -> str:
        names = ", ".join(f"x{i}" for i in range(self.num_args))
        return f"lambda {names}: {self.source}"


def _inside(a: Interval, domain: Interval) -> bool:
    return domain[0] <= a[0] and a[1] <= domain[1]


def _apply(op: Operation, children: Sequence[_Node], shape: tuple[int, ...],
           operand_shape: tuple[int, ...] | None = None, **params: Any) -> _Node:
    bound_params = dict(params)
    bound_params["shape"] = operand_shape if operand_shape is not None else shape
    interval = op.bound(*[c.interval for c in children], **bound_params)
    return _Node(op, tuple(children), shape, interval, params=params)


@dataclass(frozen=True)
class _Context:
    ops: tuple[Operation, ...]
    main_shape: tuple[int, ...]
    arg_shapes: tuple[tuple[int, ...], ...]
    arg_intervals: tuple[Interval, ...]

    def op(self, name: str) -> Operation:
        return next(o for o in OPERATIONS if o.name == name and o.kind == "unary")


def _adapted(ctx: _Context, node: _Node, domain: Interval) -> list[_Node]:
    """``node`` through each adapter whose output interval fits ``domain``."""
    fitting = []
    for chain in _ADAPTERS:
        adapted = node
        for name in reversed(chain):
            adapted = _apply(ctx.op(name), [adapted], node.shape)
        if _inside(adapted.interval, domain):
            fitting.append(adapted)
    return fitting


@st.composite
def _fit(draw: Any, ctx: _Context, node: _Node, domain: Interval) -> _Node:
    """``node``, passed through an adapter when its interval does not fit ``domain``."""
    if _inside(node.interval, domain):
        return node
    fitting = _adapted(ctx, node, domain)
    if not fitting:
        raise ValueError(f"differentiable_functions: no adapter maps into domain {domain}")
    return draw(st.sampled_from(fitting))  # type: ignore[no-any-return]


@st.composite
def _leaf(draw: Any, ctx: _Context, shape: tuple[int, ...]) -> _Node:
    """An input of this shape (or the sum of one, for a scalar when all inputs are arrays)."""
    matching = [i for i, s in enumerate(ctx.arg_shapes) if s == shape]
    if matching:
        i = draw(st.sampled_from(matching))
        return _Node(None, (), shape, ctx.arg_intervals[i], arg=i)
    i = draw(st.sampled_from([i for i, s in enumerate(ctx.arg_shapes) if s == ctx.main_shape]))
    node = _Node(None, (), ctx.main_shape, ctx.arg_intervals[i], arg=i)
    total = next(o for o in OPERATIONS if o.kind == "reduce")
    fitted = draw(_fit(ctx, node, total.domains(ctx.main_shape)[0]))
    return _apply(total, [fitted], (), operand_shape=ctx.main_shape)


_ELEMENTWISE = ("unary", "binary", "where")


def _eligible(ctx: _Context, kind: str, shape: tuple[int, ...]) -> list[Operation]:
    """The rows of ``kind`` that can make a node of ``shape`` (by their operand's rank)."""
    operand = shape if kind in _ELEMENTWISE else ctx.main_shape
    return [op for op in ctx.ops if op.kind == kind and len(operand) >= op.min_ndim]


def _kinds(ctx: _Context, shape: tuple[int, ...]) -> list[str]:
    """The kinds of node that can produce ``shape``, simplest first (shrinking goes there)."""
    kinds = list(_ELEMENTWISE)
    if shape == () and ctx.main_shape != ():
        kinds += ["reduce", "inner"]
    if len(shape) == 2 and shape == ctx.main_shape:
        kinds += ["matmul", "permute"]
    return ["leaf"] + [k for k in kinds if _eligible(ctx, k, shape)]


@st.composite
def _expr(
    draw: Any, ctx: _Context, shape: tuple[int, ...], depth: int, root: bool = False
) -> _Node:
    """A random program node of ``shape`` with at most ``depth`` operations on any path (at
    least one at the root: a program that is just an input tests nothing)."""
    # The kind is drawn from the same list whatever the depth, then overridden at the limits:
    # a subprogram's choices then mean the same wherever they sit, so hypothesis can shrink a
    # program by replacing it with any of its subprograms.
    kinds = _kinds(ctx, shape)
    kind = draw(st.sampled_from(kinds))
    if depth <= 0:
        kind = "leaf"
    elif root and kind == "leaf" and len(kinds) > 1:
        kind = kinds[1]
    if kind == "leaf":
        return draw(_leaf(ctx, shape))  # type: ignore[no-any-return]
    op = draw(st.sampled_from(_eligible(ctx, kind, shape)))
    sub = depth - 1
    if kind == "unary":
        child = draw(_fit(ctx, draw(_expr(ctx, shape, sub)), op.domains(shape)[0]))
        return _apply(op, [child], shape)
    if kind == "binary":
        return draw(_binary_node(ctx, op, shape, sub))  # type: ignore[no-any-return]
    if kind == "where":
        mask = draw(hnp.arrays(np.bool_, shape))
        a, b = (draw(_fit(ctx, draw(_expr(ctx, shape, sub)), d)) for d in op.domains(shape))
        return _apply(op, [a, b], shape, mask=mask)
    operand = ctx.main_shape
    domains = op.domains(operand)
    children = [draw(_fit(ctx, draw(_expr(ctx, operand, sub)), d)) for d in domains]
    if kind == "permute":
        return _apply(op, children, shape, target=shape)
    return _apply(op, children, shape, operand_shape=operand)


@st.composite
def _binary_node(
    draw: Any, ctx: _Context, op: Operation, shape: tuple[int, ...], depth: int
) -> _Node:
    """``a <op> b``: both of ``shape``, or one a broadcast scalar, constant or keepdims sum."""
    forms = ["same", "constant"] + (["scalar"] if shape != () else [])
    reducers = [o for o in _eligible(ctx, "reduce", shape) if o.keepdims and shape != ()]
    if reducers:
        forms.append("keepdims")
    form = draw(st.sampled_from(forms))
    side = draw(st.sampled_from([1, 0]))  # which operand takes the other form
    children: list[_Node] = []
    for i, domain in enumerate(op.domains(shape)):
        constants = [c for c in _CONSTANTS if domain[0] <= c <= domain[1]]
        this = form if i == side else "same"
        if this == "constant" and constants:
            children.append(_constant(draw(st.sampled_from(constants))))
            continue
        if this == "scalar":
            node = draw(_expr(ctx, (), depth))
        elif this == "keepdims":
            reduce_op = draw(st.sampled_from(reducers))
            # the domain of a reduction over the last axis alone
            reduced_domain = reduce_op.domains((shape[-1],))[0]
            inner = draw(_fit(ctx, draw(_expr(ctx, shape, depth)), reduced_domain))
            node = _apply(reduce_op, [inner], shape[:-1] + (1,), operand_shape=shape,
                          keepdims=True)
        else:
            node = draw(_expr(ctx, shape, depth))
        children.append(draw(_fit(ctx, node, domain)))
    return _apply(op, children, shape)


def _constant(value: float) -> _Node:
    return _Node(None, (), (), (value, value), value=value)


_ARG_DOMAINS: tuple[Interval, ...] = ((-2.0, 2.0), (0.5, 2.0))


@st.composite
def _program(
    draw: Any, op_names: tuple[str, ...], max_args: int, max_depth: int,
    shapes: st.SearchStrategy[tuple[int, ...]], dtype: np.dtype[Any],
) -> tuple[Program, tuple[np.ndarray[Any, Any], ...]]:
    main = draw(shapes)
    n = draw(st.integers(1, max_args))
    arg_shapes = (main,) + tuple(draw(st.sampled_from([main, ()])) for _ in range(n - 1))
    intervals = tuple(draw(st.sampled_from(_ARG_DOMAINS)) for _ in range(n))
    ops = tuple(op for op in _available(OPERATIONS) if op.template in op_names)
    ctx = _Context(ops, main, arg_shapes, intervals)
    out_shape = draw(st.sampled_from([main, ()]))
    root = draw(_expr(ctx, out_shape, max_depth, root=True))
    args = tuple(
        draw(arrays(shape=s, dtype=dtype, domain=iv)) for s, iv in zip(arg_shapes, intervals)
    )
    return Program(root, n), args


def differentiable_functions(
    *,
    ops: Sequence[str] | None = None,
    max_args: int = 3,
    max_depth: int = 3,
    shapes: st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: Any = np.float64,
) -> st.SearchStrategy[tuple[Program, tuple[np.ndarray[Any, Any], ...]]]:
    """Pairs ``(f, args)``: a random composition of fjac.numpy operations and a point to
    differentiate it at, where every operation is smooth and away from its singularities.

    The first argument has the drawn "main" shape, the others that shape or ``()`` (broadcast
    scalars). The output has the main shape or is a scalar. ``repr(f)`` is the program, e.g.
    ``lambda x0, x1: sum(sin(x0) * exp(x1))``; failing examples shrink to short programs.
    Inputs are in [-2, 2] or [0.5, 2]; domains are kept by adapters (see the module docstring).

    Args:
        ops: restrict to these ``OPERATIONS`` names. Adapters still use sin, tanh and exp,
            and a scalar is made from an array input with sum when no input is a scalar.
        max_args: the most positional arguments (at least 1 are drawn).
        max_depth: the most operations on a path from an input to the output, not counting
            adapters.
        shapes: a strategy for the main shape; by default 0-d to 2-d with sides up to 3.
        dtype: the floating dtype of the arguments.

    Example:
        >>> from hypothesis import given
        >>> from fjac.testing import check_grads
        >>> @given(differentiable_functions(max_depth=2))
        ... def test_derivatives(program):
        ...     f, args = program
        ...     check_grads(f, args, order=2)
        >>> test_derivatives()
    """
    table = _available(OPERATIONS)
    if ops is not None:
        unknown = sorted(set(ops) - {op.name for op in table})
        if unknown:
            raise ValueError(
                f"differentiable_functions: unknown operation(s) {unknown}; the table has "
                f"{sorted({op.name for op in table})}"
            )
        table = [op for op in table if op.name in set(ops)]
    if shapes is None:
        shapes = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)
    # the rows are passed by template (unique per row), which keeps the strategy's repr short
    return _program(tuple(op.template for op in table), max_args, max_depth, shapes,
                    np.dtype(dtype))

