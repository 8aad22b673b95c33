"""The random-program generator: ``differentiable_functions`` and the ``Program`` it draws."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fjac.testing.strategies._arrays import Interval, arrays
from fjac.testing.strategies._operations import OPERATIONS, Array, Operation, _available

# Adapters: chains of unary rows (applied right to left) that map any value into a domain.
_ADAPTERS: tuple[tuple[str, ...], ...] = (
    ("sin",), ("tanh",), ("exp", "sin"), ("exp", "tanh"), ("tanh", "sin"),
)
_CONSTANTS = (2.0, 0.5, -1.5, 3.0)


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
    Inputs are in [-2, 2] or [0.5, 2]; domains are kept by adapters (see the
    ``fjac.testing.strategies`` docstring).

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

