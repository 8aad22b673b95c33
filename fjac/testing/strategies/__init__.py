"""Hypothesis strategies for property-testing derivatives: arrays within a domain, broadcastable
shapes, pytrees, and random differentiable programs.

Needs ``hypothesis`` (``pip install "fjac[test]"``, or ``pip install hypothesis``);
``fjac.testing`` itself does not.

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

# checked before the submodules import it, so that its absence says how to install it
try:
    import hypothesis  # noqa: F401
except ModuleNotFoundError as error:
    if error.name != "hypothesis":  # hypothesis is there, something it needs is not
        raise
    raise ModuleNotFoundError(
        "fjac.testing.strategies needs hypothesis, which is not installed: "
        'pip install "fjac[test]" (or pip install hypothesis)',
        name="hypothesis",
    ) from error

# the names with a leading underscore are re-exported for fjac's own tests
from fjac.testing.strategies._arrays import DOMAINS, Pair, arrays, broadcastable_shapes, pytrees
from fjac.testing.strategies._operations import LIMIT, OPERATIONS, Operation
from fjac.testing.strategies._operations import _available as _available
from fjac.testing.strategies._programs import Program, differentiable_functions
from fjac.testing.strategies._programs import _adapted as _adapted
from fjac.testing.strategies._programs import _Context as _Context
from fjac.testing.strategies._programs import _Node as _Node

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
