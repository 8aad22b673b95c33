"""make_graph: a readable record of the primitives a call applies, for debugging and teaching.

A graph tracer carries a concrete value and a variable name. Each primitive applied to one is
computed as usual and written down as an equation ``v3: float64[3] = multiply(v1, v2)``. Used on
``grad(f)`` or ``jacobian(f)``, the record includes the backward pass: the VJPs themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from fjac import _transform_io
from fjac._core import MainTrace, Primitive, Tracer, bind, new_main, shape_of
from fjac._dtypes import dtype_of
from fjac.tree import tree_flatten, tree_unflatten

__all__ = ["make_graph", "Graph", "Equation"]


class GraphTracer(Tracer):
    """A value under make_graph: its concrete value (``primal``) and its variable name."""

    __slots__ = ("var",)

    def __init__(self, main: MainTrace, primal: Any, var: str) -> None:
        self._main = main
        self.primal = primal
        self.var = var


def _type_of(x: Any) -> str:
    dims = ",".join(str(d) for d in shape_of(x))
    return f"{dtype_of(x)}[{dims}]"


def _show_param(value: Any) -> str:
    if callable(value):
        return getattr(value, "__name__", "function")
    if isinstance(value, np.ndarray):
        return f"array({_type_of(value)})"
    if isinstance(value, tuple):
        inner = ", ".join(_show_param(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, np.dtype):
        return str(value)
    return repr(value)


class Equation:
    """One primitive application: ``outputs = name(inputs, **params)``."""

    __slots__ = ("primitive", "inputs", "outputs", "params")

    def __init__(
        self, primitive: str, inputs: list[str], outputs: list[tuple[str, str]],
        params: dict[str, Any],
    ) -> None:
        self.primitive = primitive
        self.inputs = inputs
        self.outputs = outputs  # (variable, type) pairs
        self.params = params

    def __str__(self) -> str:
        lhs = ", ".join(f"{v}: {t}" for v, t in self.outputs)
        args = list(self.inputs) + [f"{k}={_show_param(v)}" for k, v in self.params.items()]
        return f"{lhs} = {self.primitive}({', '.join(args)})"


class Graph:
    """The record ``make_graph`` returns: inputs, equations in order, outputs. Print it."""

    def __init__(
        self, inputs: list[tuple[str, str]], equations: list[Equation], outputs: list[str],
        out_tree: Any,
    ) -> None:
        self.inputs = inputs
        self.equations = equations
        self.outputs = outputs
        self.out_tree = out_tree

    def primitives(self) -> list[str]:
        """The primitive names, in the order they were applied."""
        return [e.primitive for e in self.equations]

    def __iter__(self) -> Iterator[Equation]:
        return iter(self.equations)

    def __len__(self) -> int:
        return len(self.equations)

    def __str__(self) -> str:
        head = ", ".join(f"{v}: {t}" for v, t in self.inputs)
        lines = [f"graph({head}):"]
        lines += [f"    {e}" for e in self.equations]
        lines.append(f"    return {', '.join(self.outputs)}")
        return "\n".join(lines)

    __repr__ = __str__


class GraphTrace(MainTrace):
    """Graph-recording interpretation: compute each primitive and append an equation."""

    __slots__ = ("equations", "count", "constants")
    kind = "make_graph"

    def __init__(self, level: int, transform: str) -> None:
        super().__init__(level, transform)
        self.equations: list[Equation] = []
        self.count = 0
        self.constants = 0

    def fresh(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def name_of(self, x: Any) -> str:
        """A graph tracer's variable, or a readable literal for a constant."""
        if isinstance(x, GraphTracer) and x._main is self:
            return x.var
        if isinstance(x, Tracer):
            return f"<{_type_of(x)} traced outside>"
        if shape_of(x) == () and not isinstance(x, (list, tuple)):
            return repr(x.item()) if isinstance(x, (np.ndarray, np.generic)) else repr(x)
        return f"const:{_type_of(x)}"

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        primals = [x.primal if isinstance(x, GraphTracer) and x._main is self else x
                   for x in args]
        out = bind(prim, *primals, **params)
        inputs = [self.name_of(x) for x in args]
        if prim.multiple_results:
            tracers = tuple(GraphTracer(self, o, self.fresh()) for o in out)
            self.equations.append(
                Equation(prim.name, inputs, [(t.var, _type_of(t.primal)) for t in tracers], params)
            )
            return tracers
        tracer = GraphTracer(self, out, self.fresh())
        self.equations.append(Equation(prim.name, inputs, [(tracer.var, _type_of(out))], params))
        return tracer


def make_graph(fun: Callable[..., Any]) -> Callable[..., Graph]:
    """A function that runs ``fun`` and returns the record of the primitives it applied.

    Every array leaf of the arguments becomes a named input (``x0``, ``x1``, ...); each
    primitive becomes an equation with its parameters, output shape and dtype, and the names of
    the values it reads. Works on transformed functions too: ``make_graph(grad(f))`` shows the
    forward pass followed by the backward pass, one VJP per primitive.

    Example:
        >>> import numpy as np, fjac, fjac.numpy as fnp
        >>> print(fjac.make_graph(lambda x: fnp.sum(fnp.sin(x) * x))(np.ones(3)))
        graph(x0: float64[3]):
            v1: float64[3] = sin(x0)
            v2: float64[3] = multiply(v1, x0)
            v3: float64[] = sum(v2, axis=(0,), keepdims=False)
            return v3
    """

    @functools.wraps(fun)
    def graph_fun(*args: Any, **kwargs: Any) -> Graph:
        leaves, tree = tree_flatten(args)
        with new_main(GraphTrace, "make_graph") as main:
            tracers: list[Any] = []
            inputs = []
            for i, x in enumerate(leaves):
                x = _transform_io.as_input(x, _transform_io._leaf_name(args, i), "make_graph")
                t = GraphTracer(main, x, f"x{i}")
                tracers.append(t)
                inputs.append((t.var, _type_of(x)))
            out = fun(*tree_unflatten(tree, tracers), **kwargs)
            out_leaves, out_tree = tree_flatten(out)
            outputs = [main.name_of(y) for y in out_leaves]
        return Graph(inputs, main.equations, outputs, out_tree)

    return graph_fun
