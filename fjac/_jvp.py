"""Forward mode: a tracer carries (primal, tangent); each primitive's jvp rule pushes tangents.

A tangent of ``None`` is a symbolic zero: no array is made for it, and a primitive all of whose
inputs have zero tangents is not traced at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fjac import _transform_io
from fjac._core import MainTrace, Primitive, Tracer, bind, convert, new_main, shape_of
from fjac._dtypes import (
    REAL_SCALARS,
    any_complex,
    dtype_of,
    float0,
    is_float,
    is_inexact,
    kind_name,
)
from fjac._rules import PartialsJVP, check_complex, jvp_rules, real_closed
from fjac.tree import PyTreeDef, keystr, tree_flatten, tree_flatten_with_path, tree_unflatten

__all__ = [
    "JVPTracer",
    "JVPTrace",
    "jvp_flat",
    "unwrap_output",
    "jvp",
]


class JVPTracer(Tracer):
    """A value in forward mode: ``primal`` and its ``tangent`` (never ``None`` on a tracer)."""

    __slots__ = ("tangent",)

    def __init__(self, main: MainTrace, primal: Any, tangent: Any) -> None:
        self._main = main
        self.primal = primal
        self.tangent = tangent


class JVPTrace(MainTrace):
    """Forward-mode interpretation: apply each primitive's jvp rule to (primals, tangents)."""

    __slots__ = ("complex",)
    kind = "jvp"

    def __init__(self, level: int, transform: str) -> None:
        super().__init__(level, transform)
        #: Has a complex value reached this trace? Until one has, its tracers are real, and a
        #: call to a real-closed primitive with real constants needs no dtype check.
        self.complex = False

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        if len(args) == 1 and not prim.nondiff:
            # One argument (then it is a tracer of this trace) and the common kind of rule:
            # the general loop below, unrolled.
            rule = jvp_rules[prim]
            if type(rule) is PartialsJVP and rule.partials[0] is not None:
                x = args[0]
                p = x.primal
                out = bind(prim, p, **params) if isinstance(p, Tracer) else prim.impl(p, **params)
                if self.complex or prim not in real_closed:
                    check_complex(self, prim, (p,), out)
                return JVPTracer(self, out, rule.partials[0](x.tangent, out, p, **params))
        primals = list(args)
        tangents: list[Any] = [None] * len(args)
        nested = False  # is any value traced by a lower level too? then bind again, else NumPy
        real = prim in real_closed  # and every constant argument known to be real
        for i, x in enumerate(args):
            if type(x) is JVPTracer and x._main is self:
                p = primals[i] = x.primal
                tangents[i] = x.tangent
                nested = nested or isinstance(p, Tracer)
            else:
                nested = nested or isinstance(x, Tracer)
                real = real and type(x) in REAL_SCALARS
        if prim.nondiff:
            return bind(prim, *primals, **params)
        rule = jvp_rules[prim]
        if type(rule) is PartialsJVP:  # the common case, inlined: one partial per argument
            out = bind(prim, *primals, **params) if nested else prim.impl(*primals, **params)
            if self.complex or not real:
                check_complex(self, prim, primals, out)
            tangent = rule.tangent(out, primals, tangents, params)
            return out if tangent is None else JVPTracer(self, out, tangent)
        out, tangent = rule(primals, tangents, **params)
        check_complex(self, prim, primals, out)
        if prim.multiple_results:
            return tuple(
                o if t is None else JVPTracer(self, o, t)
                for o, t in zip(out, tangent or (None,) * len(out))
            )
        if tangent is None:
            return out
        return JVPTracer(self, out, tangent)


def jvp_flat(
    fun: Callable[..., Any], primals: list[Any], tangents: list[Any], in_tree: PyTreeDef,
    transform: str,
) -> tuple[Any, JVPTrace]:
    """Trace ``fun(*args)`` in forward mode; a leaf whose tangent is ``None`` stays constant."""
    with new_main(JVPTrace, transform) as main:
        args = [p if t is None else JVPTracer(main, p, t) for p, t in zip(primals, tangents)]
        main.complex = any_complex([p for p, t in zip(primals, tangents) if t is not None])
        out = fun(*tree_unflatten(in_tree, args))
    return out, main


def unwrap_output(out: Any, main: MainTrace) -> tuple[list[Any], list[Any], PyTreeDef]:
    """Split an output pytree into primal and tangent leaves (zeros where not traced here)."""
    leaves, tree = tree_flatten(out)
    primals = []
    tangents = []
    for leaf in leaves:
        if isinstance(leaf, JVPTracer) and leaf._main is main:
            primals.append(_transform_io.as_output(leaf.primal))
            tangents.append(_transform_io.cast_like(leaf.tangent, leaf.primal))
        else:
            leaf = _transform_io.as_output(leaf)
            primals.append(leaf)
            tangents.append(_transform_io.zeros_for(leaf))
    return primals, tangents, tree


def _check_tangents(primals: list[Any], tangents: Any, p_tree: PyTreeDef) -> list[Any]:
    """The tangent leaves, checked against the primals; ``None`` for integer primals."""
    path_leaves, t_tree = tree_flatten_with_path(tuple(tangents))
    if t_tree != p_tree:
        raise TypeError(
            f"jvp: the tangents must have the structure of the primals, {p_tree}; got {t_tree}"
        )
    out = []
    for (path, t), p in zip(path_leaves, primals):
        where = f"tangent {keystr(path)}"
        if shape_of(t) != shape_of(p):
            raise ValueError(
                f"jvp: {where} has shape {shape_of(t)}, but its primal has shape "
                f"{shape_of(p)}; each tangent must have its primal's shape"
            )
        p_dtype, t_dtype = dtype_of(p), dtype_of(t)
        if is_inexact(p_dtype):
            if not (is_float(t_dtype) or (t_dtype.kind == "c" and p_dtype.kind == "c")):
                kind = "complex or real" if p_dtype.kind == "c" else "real"
                raise TypeError(
                    f"jvp: {where} has dtype {t_dtype} ({kind_name(t_dtype)}), but its primal "
                    f"is {p_dtype}; a tangent of a {kind_name(p_dtype)} primal must be "
                    f"{kind} floating-point"
                    + (" (a real primal's tangents are real: take the real part, or make "
                       "the primal complex)" if t_dtype.kind == "c" else "")
                )
            t = _transform_io.as_input(t, where, "jvp")
            out.append(t if t_dtype == p_dtype else convert(t, p_dtype))
        elif t_dtype == float0:
            out.append(None)
        else:
            raise TypeError(
                f"jvp: {where} belongs to a primal of dtype {p_dtype}, which is not "
                "differentiated; its tangent must be a float0 array "
                f"(numpy.zeros({shape_of(p)}, dtype=fjac.float0)), got {t_dtype}"
            )
    return out


def _as_arguments(x: Any, name: str) -> tuple[Any, ...]:
    if not isinstance(x, (tuple, list)):
        raise TypeError(
            f"jvp: {name} must be a tuple or list with one entry per positional argument, got "
            f"a {type(x).__name__}; for a single argument write ({name[:-1]},) -- e.g. "
            "jvp(f, (x,), (t,))"
        )
    return tuple(x)


def jvp(fun: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False) -> Any:
    """Evaluate ``fun`` at ``primals`` and its Jacobian-vector product along ``tangents``.

    Args:
        fun: a function of pytrees of arrays.
        primals: a tuple or list with one pytree per positional argument of ``fun``.
        tangents: a tuple or list of the same structure, each leaf shaped like its primal
            (``fjac.float0`` leaves for integer primals).
        has_aux: ``fun`` returns a pair ``(output, aux)``; ``aux`` is returned, not differentiated.

    Returns:
        ``(out, tangent_out)`` or ``(out, tangent_out, aux)``, where ``tangent_out = J t`` has
        the structure of ``out``, computed in one forward pass without forming ``J``.

    Raises:
        TypeError: primals or tangents not a tuple or list, structures that differ, or a
            tangent dtype that does not fit its primal.
        ValueError: a tangent whose shape differs from its primal's.

    Example:
        >>> import numpy as np, fjac, fjac.numpy as fnp
        >>> fjac.jvp(fnp.sin, (np.array(0.0),), (np.array(2.0),))
        (array(0.), array(2.))
    """
    primals = _as_arguments(primals, "primals")
    tangents = _as_arguments(tangents, "tangents")
    if len(primals) != len(tangents):
        raise TypeError(
            f"jvp: got {len(primals)} primals but {len(tangents)} tangents; give one tangent "
            "per primal"
        )
    p_leaves, p_tree = _transform_io.flatten_inputs(primals, "jvp")
    t_leaves = _check_tangents(p_leaves, tangents, p_tree)
    out, main = jvp_flat(fun, p_leaves, t_leaves, p_tree, "jvp")
    out, aux = _transform_io.split_aux(out, has_aux, "jvp")
    out_primals, out_tangents, out_tree = unwrap_output(out, main)
    result = (tree_unflatten(out_tree, out_primals), tree_unflatten(out_tree, out_tangents))
    if has_aux:
        return (*result, _transform_io.unwrap_aux(aux, main))
    return result
