"""Reverse mode: a tape of the traced operations, walked backwards with one loop.

Each traced operation appends a node ``(primitive, params, primals, ans, parents)`` to the tape
of its main trace, where ``parents`` pairs each traced argument's position with the node that
made it. Creation order is a topological order, so the backward pass walks the list from the end
with no recursion. Absent cotangents are symbolic zeros (``None``): a node that receives none is
skipped, and so is every argument that is not traced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fjac import _transform_io
from fjac._core import MainTrace, Primitive, Tracer, add_any, bind, convert, new_main, shape_of
from fjac._dtypes import (
    REAL_SCALARS,
    any_complex,
    dtype_of,
    float0,
    is_float,
    is_inexact,
    kind_name,
)
from fjac._rules import (
    JointVJP,
    check_complex,
    defvjp,
    real_closed,
    residual_policy,
    vjp_fwd_rules,
    vjp_rules,
)
from fjac.tree import PyTreeDef, keystr, tree_flatten, tree_flatten_with_path, tree_unflatten

__all__ = [
    "VJPTracer",
    "VJPTrace",
    "Aval",
    "backward",
    "vjp_flat",
    "unwrap_output",
    "vjp",
]


class VJPTracer(Tracer):
    """A value in reverse mode: ``primal`` and the index of the tape node that made it."""

    __slots__ = ("node",)

    def __init__(self, main: MainTrace, primal: Any, node: int) -> None:
        self._main = main
        self.primal = primal
        self.node = node


Node = tuple[Primitive, dict[str, Any], tuple[Any, ...], Any, tuple[tuple[int, int], ...]]


class VJPTrace(MainTrace):
    """Reverse-mode interpretation: compute the primal output and record a tape node."""

    __slots__ = ("tape", "complex")
    kind = "vjp"

    def __init__(self, level: int, transform: str) -> None:
        super().__init__(level, transform)
        self.tape: list[Node | None] = []
        #: Has a complex value reached this trace? Until one has, its tracers are real, and a
        #: call to a real-closed primitive with real constants needs no dtype check; after,
        #: the backward pass keeps the cotangents of real values real.
        self.complex = False

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        if not prim.multiple_results:
            if len(args) == 1:
                return self._process_unary(prim, args[0], params)
            if len(args) == 2:
                return self._process_binary(prim, args[0], args[1], params)
        primals = list(args)
        parents: tuple[tuple[int, int], ...] = ()
        nested = False  # is any value traced by a lower level too? then bind again, else NumPy
        for i, x in enumerate(args):
            if type(x) is VJPTracer and x._main is self:
                p = primals[i] = x.primal
                parents += ((i, x.node),)
                nested = nested or isinstance(p, Tracer)
            elif isinstance(x, Tracer):
                nested = True
        if prim.multiple_results and prim in vjp_fwd_rules:
            ans, residuals = vjp_fwd_rules[prim](*primals, **params)
            primals = [residuals]
        else:
            ans = bind(prim, *primals, **params) if nested else prim.impl(*primals, **params)
        if prim.nondiff:
            return ans
        check_complex(self, prim, primals, ans)
        node = self._record(prim, params, tuple(primals), ans, parents)
        if prim.multiple_results:
            return self._project(ans, node)
        return VJPTracer(self, ans, node)

    def _process_unary(self, prim: Primitive, x: VJPTracer, params: dict[str, Any]) -> Any:
        """``process`` for one argument (which is then a tracer of this trace), unrolled."""
        p = x.primal
        ans = bind(prim, p, **params) if isinstance(p, Tracer) else prim.impl(p, **params)
        if prim.nondiff:
            return ans
        # (while no complex value has reached this trace its tracers are real, so only a
        # primitive not known to keep real values real can make one complex)
        if self.complex or prim not in real_closed:
            check_complex(self, prim, (p,), ans)
        return VJPTracer(self, ans, self._record(prim, params, (p,), ans, ((0, x.node),)))

    def _process_binary(self, prim: Primitive, x: Any, y: Any, params: dict[str, Any]) -> Any:
        """``process`` for two arguments (a tracer of this trace among them), unrolled: the
        general loop costs a third of a multiplication by a constant."""
        parents: tuple[tuple[int, int], ...] = ()
        if type(x) is VJPTracer and x._main is self:
            parents = ((0, x.node),)
            x = x.primal
        if type(y) is VJPTracer and y._main is self:
            parents += ((1, y.node),)
            y = y.primal
        if isinstance(x, Tracer) or isinstance(y, Tracer):  # traced by a lower level too
            ans = bind(prim, x, y, **params)
        else:
            ans = prim.impl(x, y, **params)
        if prim.nondiff:
            return ans
        # (while no complex value has reached this trace, only a constant argument or a
        # primitive not known to keep real values real can make a complex result)
        constant = None if len(parents) == 2 else y if parents[0][0] == 0 else x
        if self.complex or prim not in real_closed or (
            constant is not None and type(constant) not in REAL_SCALARS
        ):
            check_complex(self, prim, (x, y), ans)
        return VJPTracer(self, ans, self._record(prim, params, (x, y), ans, parents))

    def _record(
        self, prim: Primitive, params: dict[str, Any], primals: tuple[Any, ...], ans: Any,
        parents: tuple[tuple[int, int], ...],
    ) -> int:
        """Append a node keeping what ``prim``'s vjp rule reads; return its index. Nodes are
        tuples, not lists: 10% less memory per node on a long tape."""
        policy = residual_policy.get(prim)
        if policy is not None:
            if policy != "inputs":  # "output" or "shapes": the arguments' shapes and dtypes
                primals = tuple([Aval.of(p) for p in primals])
            if policy != "output":  # "inputs" or "shapes": the result's shape and dtype
                ans = Aval.of(ans)
        tape = self.tape
        tape.append((prim, params, primals, ans, parents))
        return len(tape) - 1

    def _project(self, outs: tuple[Any, ...], node: int) -> tuple[VJPTracer, ...]:
        """One tracer per result of a multiple-result node, each through a projection node."""
        tape = self.tape
        tracers = []
        count = len(outs)
        for j, out in enumerate(outs):
            tape.append((project_p, {"index": j, "count": count}, (), out, ((0, node),)))
            tracers.append(VJPTracer(self, out, len(tape) - 1))
        return tuple(tracers)

    def new_input(self, primal: Any) -> VJPTracer:
        """A tracer for an input of the traced function (a node with no operation)."""
        self.tape.append(None)
        return VJPTracer(self, primal, len(self.tape) - 1)




class Aval:
    """What a tape node keeps of a value whose data its vjp rule does not read: shape, dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @staticmethod
    def of(x: Any) -> Any:
        """``x``'s shape and dtype (anything that is not an array is kept as it is).

        Interned: one shared object per (shape, dtype), so keeping it costs a tape node no
        memory even when the value itself stays alive anyway (a chain's next input). Scalars
        and small arrays are kept as they are: that is cheaper than looking up their shape.
        """
        if type(x) is np.ndarray:
            if x.nbytes <= 512:
                return x
        elif not isinstance(x, Tracer):
            return x
        key = (tuple(x.shape), x.dtype)
        aval = _AVALS.get(key)
        if aval is None:
            if len(_AVALS) > 4096:  # programs with ever-new shapes: start again
                _AVALS.clear()
            aval = _AVALS[key] = Aval(*key)
        return aval


_AVALS: dict[tuple[tuple[int, ...], Any], Aval] = {}


def _project_impl(*args: Any, index: int, count: int) -> Any:
    raise AssertionError("projection nodes exist only on the tape")


# The tape node for result ``index`` of a multiple-result primitive: its cotangent becomes
# entry ``index`` of a tuple cotangent (``None`` elsewhere) for the primitive's own node.
project_p = Primitive("project", _project_impl)
defvjp(project_p, lambda g, ans, *, index, count: _one_hot_tuple(g, index, count))


def _one_hot_tuple(g: Any, index: int, count: int) -> tuple[Any, ...]:
    return (None,) * index + (g,) + (None,) * (count - index - 1)


def _accumulate_tuple(prev: tuple[Any, ...], ct: tuple[Any, ...]) -> tuple[Any, ...]:
    """Sum two tuple cotangents of a multiple-result node, entry by entry (None: zero)."""
    return tuple(a if b is None else b if a is None else add_any(a, b) for a, b in zip(prev, ct))


def backward(
    tape: list[Node | None], seeds: Sequence[tuple[int, Any]], num_inputs: int, *, free: bool,
    keep_real: bool = False,
) -> list[Any]:
    """Propagate the seed cotangents ``(node, g)`` to the first ``num_inputs`` nodes.

    Returns one cotangent per input node, ``None`` for a symbolic zero. With ``free``, each
    node's residuals are dropped as soon as it has run (for a tape used only once). With
    ``keep_real`` (the tape holds complex values), a complex cotangent reaching a real value
    is replaced by its real part: the transpose of a real value's embedding in the complex
    numbers (an argument NumPy promoted) under JAX's convention. The input nodes' cotangents
    are cast to the inputs' dtypes by the caller.
    """
    cts: list[Any] = [None] * len(tape)
    start = -1
    for node, g in seeds:
        prev = cts[node]
        cts[node] = g if prev is None else add_any(prev, g)
        start = max(start, node)
    for i in range(start, num_inputs - 1, -1):
        g = cts[i]
        if g is None:
            continue
        cts[i] = None
        entry = tape[i]
        if free:
            tape[i] = None
        assert entry is not None, "an input node sits past the inputs"
        prim, params, primals, ans, parents = entry
        rules: Any = vjp_rules[prim]  # partials, an argnum rule or a JointVJP
        kind = type(rules)
        joint = rules.fn(g, ans, *primals, **params) if kind is JointVJP else None
        for pos, parent in parents:
            if kind is tuple:
                partial = rules[pos]
                if partial is None:
                    continue
                ct = partial(g, ans, *primals, **params)
            elif joint is not None:
                ct = joint[pos]
            else:
                ct = rules(pos, g, ans, *primals, **params)
            if ct is None:
                continue
            if keep_real and parent >= num_inputs and type(ct) is not tuple:
                ct = _real_for(ct, tape[parent])
            prev = cts[parent]
            if prev is None:
                cts[parent] = ct
            elif type(ct) is np.ndarray and type(prev) is np.ndarray:
                cts[parent] = prev + ct  # what add_any would do, without the dispatch
            elif type(ct) is tuple:
                cts[parent] = _accumulate_tuple(prev, ct)
            else:
                cts[parent] = add_any(prev, ct)
    return cts[:num_inputs]


def _real_for(ct: Any, entry: Node | None) -> Any:
    """``ct`` as the cotangent of the result of tape node ``entry``: its real part when that
    result is real."""
    if entry is not None and any_complex(ct):
        dtype = dtype_of(entry[3])
        if dtype.kind != "c":
            return convert(ct, dtype)
    return ct


class _Pullback:
    """The ``vjp_fn`` returned by ``vjp``: maps an output cotangent to input cotangents."""

    __slots__ = ("_tape", "_in_leaves", "_in_nodes", "_in_tree", "_out_leaves", "_out_nodes",
                 "_out_tree", "_num_inputs", "_complex")

    def __init__(
        self,
        tape: list[Node | None],
        in_leaves: list[Any],
        in_nodes: list[int | None],
        in_tree: PyTreeDef,
        out_leaves: list[Any],
        out_nodes: list[int | None],
        out_tree: PyTreeDef,
        complex_: bool,
    ) -> None:
        self._complex = complex_
        self._tape = tape
        self._in_leaves = in_leaves
        self._in_nodes = in_nodes
        self._in_tree = in_tree
        self._out_leaves = out_leaves
        self._out_nodes = out_nodes
        self._out_tree = out_tree
        self._num_inputs = sum(n is not None for n in in_nodes)

    def __call__(self, cotangent: Any) -> tuple[Any, ...]:
        cts = _check_cotangent(cotangent, self._out_tree, self._out_leaves)
        seeds = [(n, g) for n, g in zip(self._out_nodes, cts) if n is not None]
        in_cts = backward(self._tape, seeds, self._num_inputs, free=False,
                          keep_real=self._complex)
        leaves = _transform_io.input_cotangents(self._in_leaves, self._in_nodes, in_cts)
        return tree_unflatten(self._in_tree, leaves)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<vjp function: cotangent {self._out_tree} -> cotangents {self._in_tree}>"


def _check_cotangent(cotangent: Any, out_tree: PyTreeDef, out_leaves: list[Any]) -> list[Any]:
    """The cotangent's leaves, after checking structure, shapes and dtypes against the output."""
    path_leaves, tree = tree_flatten_with_path(cotangent)
    if tree != out_tree:
        raise TypeError(
            f"the cotangent passed to the vjp function must have the structure of the "
            f"function's output, {out_tree}; got {tree}"
        )
    result = []
    for (path, ct), out in zip(path_leaves, out_leaves):
        where = f"cotangent leaf {keystr(path)}" if path else "the cotangent"
        ct_dtype = dtype_of(ct)
        out_dtype = dtype_of(out)
        if shape_of(ct) != shape_of(out):
            raise ValueError(
                f"{where} has shape {shape_of(ct)}, but the output it belongs to has shape "
                f"{shape_of(out)}; pass a cotangent shaped like the output"
            )
        if is_inexact(out_dtype):
            if not (is_float(ct_dtype) or (ct_dtype.kind == "c" and out_dtype.kind == "c")):
                kind = "complex or real" if out_dtype.kind == "c" else "real"
                raise TypeError(
                    f"{where} has dtype {ct_dtype} ({kind_name(ct_dtype)}), but the output is "
                    f"{out_dtype}; pass a {kind} floating-point cotangent"
                )
            if ct_dtype != out_dtype:
                ct = convert(ct, out_dtype)
            result.append(ct)
        else:
            if ct_dtype != float0:
                raise TypeError(
                    f"{where} belongs to an output of dtype {out_dtype}, which has no "
                    f"derivative; its cotangent must be a float0 array "
                    f"(numpy.zeros({shape_of(out)}, dtype=fjac.float0)), got {ct_dtype}"
                )
            result.append(None)
    return result


def vjp_flat(
    fun: Callable[..., Any], in_leaves: list[Any], in_tree: PyTreeDef, transform: str
) -> tuple[Any, VJPTrace, list[int | None]]:
    """Trace ``fun(*args)`` in reverse mode; float leaves become tracers, others stay constant.

    Returns the raw output (tracers inside), the dead main trace holding the tape, and each
    input leaf's tape node (``None`` for a leaf that is not differentiated).
    """
    with new_main(VJPTrace, transform) as main:
        args: list[Any] = []
        nodes: list[int | None] = []
        for x in in_leaves:
            dtype = dtype_of(x)
            if is_inexact(dtype):
                main.complex = main.complex or dtype.kind == "c"
                t = main.new_input(x)
                args.append(t)
                nodes.append(t.node)
            else:
                args.append(x)
                nodes.append(None)
        out = fun(*tree_unflatten(in_tree, args))
    return out, main, nodes


def unwrap_output(out: Any, main: MainTrace) -> tuple[list[Any], list[int | None], PyTreeDef]:
    """Split an output pytree into primal leaves and tape nodes (``None``: not traced here)."""
    leaves, tree = tree_flatten(out)
    primals = []
    nodes: list[int | None] = []
    for leaf in leaves:
        if isinstance(leaf, VJPTracer) and leaf._main is main:
            primals.append(_transform_io.as_output(leaf.primal))
            nodes.append(leaf.node)
        else:
            primals.append(_transform_io.as_output(leaf))
            nodes.append(None)
    return primals, nodes, tree


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """Evaluate ``fun(*primals)`` and return its vector-Jacobian product function.

    Args:
        fun: a function of pytrees of arrays.
        *primals: the point to differentiate at, one pytree per positional argument of ``fun``.
        has_aux: ``fun`` returns a pair ``(output, aux)``; ``aux`` is returned, not differentiated.

    Returns:
        ``(out, vjp_fn)`` or ``(out, vjp_fn, aux)``. ``vjp_fn(cotangent)`` takes a cotangent with
        the structure, shapes and floating dtypes of ``out`` and returns a tuple with one
        cotangent per primal, each shaped like its primal: ``vᵀJ`` without ever forming ``J``.
        Integer and boolean inputs get zero cotangents of dtype ``fjac.float0``. ``vjp_fn``
        may be called any number of times.

    Raises:
        TypeError: a cotangent of the wrong structure or dtype; ``has_aux`` with an output that
            is not a pair; a leaf that is not an array or number.
        ValueError: a cotangent leaf of the wrong shape.

    Example:
        >>> import numpy as np, fjac, fjac.numpy as fnp
        >>> out, vjp_fn = fjac.vjp(lambda x: fnp.sin(x) * 2.0, np.array([0.0, 1.0]))
        >>> vjp_fn(np.array([1.0, 1.0]))[0]
        array([2.        , 1.08060461])
    """
    in_leaves, in_tree = _transform_io.flatten_inputs(primals, "vjp")
    out, main, in_nodes = vjp_flat(fun, in_leaves, in_tree, "vjp")
    out, aux = _transform_io.split_aux(out, has_aux, "vjp")
    out_leaves, out_nodes, out_tree = unwrap_output(out, main)
    pullback = _Pullback(main.tape, in_leaves, in_nodes, in_tree, out_leaves, out_nodes, out_tree,
                         main.complex)
    primal_out = tree_unflatten(out_tree, out_leaves)
    if has_aux:
        return primal_out, pullback, _transform_io.unwrap_aux(aux, main)
    return primal_out, pullback

