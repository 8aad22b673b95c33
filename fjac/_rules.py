"""The rule tables of every interpretation, and the functions that fill them.

A primitive is a name and an implementation (``fjac._core``); what each interpretation does with
it is an entry in one of these tables, keyed by the primitive. The tables are data, kept apart
from the interpreters that read them (``fjac._jvp``, ``fjac._vjp``, ``fjac._vmap``,
``fjac._jit``), so that the primitives layer (``fjac._primitives``) can fill them without
importing any interpreter, and the interpreters can use the structural primitives without
importing back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fjac._core import Primitive, add_any, bind
from fjac._dtypes import any_complex, refuse_complex

__all__ = [
    "jvp_rules",
    "PartialsJVP",
    "defjvp",
    "defjvp_argnum",
    "vjp_rules",
    "VJPPartial",
    "JointVJP",
    "defvjp",
    "defvjp_argnum",
    "defvjp_joint",
    "vjp_fwd_rules",
    "residual_policy",
    "keep_residuals",
    "batch_rules",
    "BatchRule",
    "basis_rules",
    "value_shaped",
    "real_closed",
    "declare_real_closed",
    "complex_rules",
    "declare_complex",
    "check_complex",
]


# ---------------------------------------------------------------------------------------------
# forward mode (read by fjac._jvp)


class PartialsJVP:
    """A jvp rule made of one partial rule per argument (see ``defjvp``)."""

    __slots__ = ("prim", "partials")

    def __init__(self, prim: Primitive, partials: tuple[Callable[..., Any] | None, ...]) -> None:
        self.prim = prim
        self.partials = partials

    def tangent(self, ans: Any, primals: list[Any], tangents: list[Any], params: Any) -> Any:
        """The output tangent: the partials' contributions summed (``None`` when all are zero)."""
        out_t = None
        for partial, t in zip(self.partials, tangents):
            if t is None or partial is None:
                continue
            contribution = partial(t, ans, *primals, **params)
            out_t = contribution if out_t is None else add_any(out_t, contribution)
        return out_t

    def __call__(self, primals: list[Any], tangents: list[Any], **params: Any) -> tuple[Any, Any]:
        ans = bind(self.prim, *primals, **params)
        return ans, self.tangent(ans, primals, tangents, params)


JVPRule = Callable[..., tuple[Any, Any]]
#: The forward-mode rule table: ``rule(primals, tangents, **params) -> (out, tangent_out)``.
#: A primitive with multiple results returns a tuple of outputs and a tuple of tangents (or
#: ``None`` when all are zero); ``defjvp`` is for single-result primitives.
jvp_rules: dict[Primitive, JVPRule] = {}


def defjvp(prim: Primitive, *partials: Callable[..., Any] | None) -> None:
    """Define ``prim``'s jvp from one partial rule per argument, summed over nonzero tangents.

    Each partial is ``partial(t, ans, *primals, **params)`` and returns the contribution of
    argument i's tangent ``t`` to the output tangent; ``None`` marks an argument with no
    derivative (its tangent is ignored).
    """
    jvp_rules[prim] = PartialsJVP(prim, partials)


def defjvp_argnum(prim: Primitive, partial: Callable[..., Any]) -> None:
    """Like ``defjvp`` for primitives with any number of arguments: ``partial(i, t, ans, ...)``."""

    def rule(primals: list[Any], tangents: list[Any], **params: Any) -> tuple[Any, Any]:
        ans = bind(prim, *primals, **params)
        out_t = None
        for i, t in enumerate(tangents):
            if t is None:
                continue
            contribution = partial(i, t, ans, *primals, **params)
            out_t = contribution if out_t is None else add_any(out_t, contribution)
        return ans, out_t

    jvp_rules[prim] = rule


# ---------------------------------------------------------------------------------------------
# reverse mode (read by fjac._vjp)


VJPPartial = Callable[..., Any]


#: What a primitive's vjp rule reads, when not everything: "shapes" (linear operations: only
#: the shapes and dtypes of arguments and result), "output" (the result's values and the
#: arguments' shapes: exp, tanh, sqrt) or "inputs" (the arguments' values and the result's
#: shape: multiply, matmul, sin). Keeping less lets memory fall as soon as the forward pass no
#: longer needs a value, instead of at the end of the backward pass.
residual_policy: dict[Primitive, str] = {}


def keep_residuals(policy: str, *prims: Primitive) -> None:
    """Declare what the vjp rules of ``prims`` read: "shapes", "output" or "inputs"."""
    assert policy in ("shapes", "output", "inputs"), policy
    for prim in prims:
        residual_policy[prim] = policy


class JointVJP:
    """A vjp rule computing every argument's cotangent in one call (``None``: zero)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Sequence[Any]]) -> None:
        self.fn = fn


#: The reverse-mode rule table: a tuple with one partial rule per argument,
#: ``partial(g, ans, *primals, **params) -> cotangent of that argument`` (``None`` where an
#: argument has no derivative), a single ``rule(i, g, ans, *primals, **params)``, or a
#: ``JointVJP`` giving every cotangent from one call.
vjp_rules: dict[Primitive, tuple[VJPPartial | None, ...] | VJPPartial | JointVJP] = {}


def defvjp(prim: Primitive, *partials: VJPPartial | None) -> None:
    """Define ``prim``'s vjp with one partial rule per argument (``None``: no derivative)."""
    vjp_rules[prim] = partials


def defvjp_argnum(prim: Primitive, rule: VJPPartial) -> None:
    """Define the vjp of a primitive with any number of arguments: ``rule(i, g, ans, ...)``."""
    vjp_rules[prim] = rule


def defvjp_joint(prim: Primitive, rule: Callable[..., Sequence[Any]]) -> None:
    """Define ``prim``'s vjp as ``rule(g, ans, *primals, **params) -> cotangents``, one per
    argument: for primitives whose cotangents share most of their work."""
    vjp_rules[prim] = JointVJP(rule)


#: Primitives (with multiple results) whose reverse mode runs their own forward pass:
#: ``fwd(*primals, **params) -> (results, residuals)``; the tape node then keeps
#: ``[residuals]`` where it would keep the primals, and the vjp rule receives them.
vjp_fwd_rules: dict[Primitive, Callable[..., tuple[Any, Any]]] = {}


# ---------------------------------------------------------------------------------------------
# batching (read by fjac._vmap)


BatchRule = Callable[..., tuple[Any, Any]]
#: The batching rule table: ``rule(vals, dims, **params) -> (out, out_dim)``.
batch_rules: dict[Primitive, BatchRule] = {}


#: Rules that keep or use the structure of a ``BasisTracer``: ``rule(main, args, **params)``
#: returns the result (a ``BasisTracer`` or a dense ``BatchTracer``), or ``None`` to have the
#: primitive applied to the dense batch as usual.
basis_rules: dict[Primitive, Callable[..., Any]] = {}


# ---------------------------------------------------------------------------------------------
# jit (read by fjac._jit)


#: Primitives whose result's shape can depend on their arguments' values, with a test of the
#: arguments that says when it does: a program recorded under jit cannot contain those.
value_shaped: dict[Primitive, Callable[..., bool]] = {}


# ---------------------------------------------------------------------------------------------
# complex values (read by fjac._jvp and fjac._vjp)


#: Primitives whose result is real whenever their arguments are. While no complex value has
#: reached a differentiating trace, it checks only the constant arguments of a call to one of
#: these instead of reading the result's dtype. A primitive not listed is checked.
real_closed: set[Primitive] = set()

#: Primitives whose derivative rules are right for complex values, under JAX's convention (a
#: cotangent pairs with a tangent as ``Re(sum(ct * t))``: linear maps transpose without
#: conjugation). A differentiating trace refuses a complex argument or result of any other
#: primitive, naming it, rather than return a wrong derivative.
complex_rules: set[Primitive] = set()


def declare_complex(*prims: Primitive) -> None:
    """Declare that the rules of ``prims`` are right for complex values."""
    complex_rules.update(prims)


def check_complex(main: Any, prim: Primitive, primals: Any, out: Any) -> None:
    """Note on ``main`` (a differentiating trace) that complex values have reached it, or
    refuse them where ``prim``'s rules are only right for real values."""
    if prim in complex_rules:
        if not main.complex and any_complex(out):
            main.complex = True
    elif any_complex(out) or any_complex(primals):
        refuse_complex(prim, primals, out, main.transform)


def declare_real_closed(namespace: dict[str, Any], *, except_: tuple[Primitive, ...] = ()) -> None:
    """Mark every primitive of a family module (its ``globals()``) as real-closed, but those
    in ``except_``."""
    real_closed.update(
        v for v in namespace.values() if isinstance(v, Primitive) and v not in except_
    )
