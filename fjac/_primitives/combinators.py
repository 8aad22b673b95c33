"""Declaring a primitive in one call: its impl and every rule, from the shape of its derivative.

- ``defop``: the general form. The impl and, by keyword, the jvp and vjp partials (one per
  argument, ``None`` for an argument with no derivative), the batch rule (a rule, or the name
  of a common one), what the vjp reads (``residuals``), and jit's value-shaped test.
- ``unary``: an elementwise function of one argument from its derivative ``d(ans, x)``: the
  tangent is ``t * d`` and the cotangent ``g * d``. Returns the primitive and its function.
- ``linear``: a primitive linear in its one argument: its jvp is itself, applied to the
  tangent, and its vjp the ``transpose`` given; its vjp reads shapes only.
- ``nondiff``: a primitive whose result carries no derivative (comparisons, rounding, integer
  results): differentiating interpretations apply it to the primal values and record nothing.

Rules are written with fjac operations (they call ``bind``), so every derivative is
differentiable again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fjac._core import Primitive, bind
from fjac._primitives.base import (
    batch_all_front,
    batch_axis_param,
    batch_elementwise,
    batch_leading,
    batch_unary,
)
from fjac._rules import batch_rules, defjvp, defvjp, keep_residuals, value_shaped

__all__ = ["defop", "unary", "linear", "nondiff", "BATCH"]

Array = Any
Partial = Callable[..., Any] | None

#: The common batch rules, by name: ``"unary"`` (elementwise, one argument: the batch axis stays
#: where it is), ``"elementwise"`` (broadcasting, any number of arguments), ``"axis"`` (an
#: ``axis`` parameter shifts by one), ``"all_front"`` (every argument batched in front, ``axis``
#: shifts) and ``"leading"`` (the primitive maps over leading axes already, as linalg does).
BATCH: dict[str, Callable[[Primitive], None]] = {
    "unary": batch_unary,
    "elementwise": batch_elementwise,
    "axis": batch_axis_param,
    "all_front": batch_all_front,
    "leading": batch_leading,
}


def defop(
    name: str,
    impl: Callable[..., Any],
    *,
    jvp: tuple[Partial, ...] | None = None,
    vjp: tuple[Partial, ...] | None = None,
    batch: str | Callable[..., Any] | None = None,
    residuals: str | None = None,
    nondiff: bool = False,
    multiple_results: bool = False,
    value_shaped_when: Callable[..., bool] | None = None,
) -> Primitive:
    """A primitive with its rules: ``jvp``/``vjp`` partials as for ``defjvp``/``defvjp``,
    ``batch`` a batch rule or a key of ``BATCH`` (None: the loop over examples), ``residuals``
    as for ``keep_residuals``, and ``value_shaped_when`` jit's test of the arguments."""
    prim = Primitive(name, impl, nondiff=nondiff, multiple_results=multiple_results)
    if jvp is not None:
        defjvp(prim, *jvp)
    if vjp is not None:
        defvjp(prim, *vjp)
    if isinstance(batch, str):
        BATCH[batch](prim)
    elif batch is not None:
        batch_rules[prim] = batch
    if residuals is not None:
        keep_residuals(residuals, prim)
    if value_shaped_when is not None:
        value_shaped[prim] = value_shaped_when
    return prim


def _named(fn: Callable[..., Any], name: str, doc: str) -> None:
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc


def unary(
    name: str,
    impl: Callable[..., Any],
    deriv: Callable[[Array, Array], Array],
    doc: str,
    *,
    residuals: str | None = None,
) -> tuple[Primitive, Callable[[Array], Array]]:
    """An elementwise primitive of one argument from its derivative ``deriv(ans, x)``, and the
    function that applies it (named ``name``, documented by ``doc``)."""
    prim = defop(
        name, impl,
        jvp=(lambda t, ans, x: t * deriv(ans, x),),
        vjp=(lambda g, ans, x: g * deriv(ans, x),),
        batch="unary", residuals=residuals,
    )

    def fn(x: Array) -> Array:
        return bind(prim, x)

    _named(fn, name, doc)
    return prim, fn


def linear(
    name: str,
    impl: Callable[..., Any],
    transpose: Callable[..., Array],
    *,
    batch: str | Callable[..., Any] | None = None,
) -> Primitive:
    """A primitive linear in its one argument: the jvp applies it to the tangent with the same
    parameters; the vjp is ``transpose(g, x, **params)``; the vjp reads only shapes."""
    prim = defop(name, impl, batch=batch, residuals="shapes")
    defjvp(prim, lambda t, ans, x, **params: bind(prim, t, **params))
    defvjp(prim, lambda g, ans, x, **params: transpose(g, x, **params))
    return prim


def nondiff(
    name: str, impl: Callable[..., Any], doc: str, *, arity: int = 1
) -> tuple[Primitive, Callable[..., Array]]:
    """An elementwise primitive whose result has no derivative, of one argument or two
    (broadcasting), and the function that applies it (named ``name``, documented by ``doc``)."""
    prim = defop(name, impl, nondiff=True, batch="unary" if arity == 1 else "elementwise")
    fn: Callable[..., Array]
    if arity == 1:
        def fn(x: Array) -> Array:
            return bind(prim, x)
    else:
        def fn(x1: Array, x2: Array) -> Array:
            return bind(prim, x1, x2)

    _named(fn, name, doc)
    return prim, fn
