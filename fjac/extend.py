"""Defining new primitives: the same pieces fjac's own operations are built from.

A primitive is a name and a NumPy implementation; each interpretation has a rule for it::

    import numpy as np
    from fjac import extend

    cube_p = extend.Primitive("cube", lambda x: x ** 3)
    extend.defjvp(cube_p, lambda t, ans, x: t * 3.0 * x ** 2)
    extend.defvjp(cube_p, lambda g, ans, x: g * 3.0 * x ** 2)
    extend.batch_unary(cube_p)

    def cube(x):
        return extend.bind(cube_p, x)

Or in one call each, as fjac declares its own (``defop``, ``unary``, ``linear``, ``nondiff``
declare a primitive with all its rules; ``implements`` declares the function for NumPy's
protocols and, optionally, as a tracer method)::

    cube_p, cube = extend.unary("cube", lambda x: x ** 3, lambda ans, x: 3.0 * x ** 2,
                                "Elementwise ``x**3``.")

Rules must be written with fjac operations (tracers' operators, ``fjac.numpy``), never with
NumPy on values that may be traced: that is what makes the derivative differentiable again.
``register_function(np.some_function, cube)`` makes unmodified NumPy code call it on tracers.
A primitive's rules are taken to be for real values only: a differentiating transform refuses
a complex argument or result of it, until ``declare_complex(prim)`` says its rules are right
for complex values too, in JAX's convention (docs/complex.md).
See docs/extending.md for a worked example.
"""

from fjac._core import Primitive, bind, concrete, is_tracer
from fjac._primitives.base import (
    batch_axis_param,
    batch_elementwise,
    batch_unary,
    broadcast_like,
    move_batch_axis,
    unbroadcast,
)
from fjac._primitives.combinators import defop, linear, nondiff, unary
from fjac._rules import (
    batch_rules,
    declare_complex,
    defjvp,
    defjvp_argnum,
    defvjp,
    defvjp_argnum,
    defvjp_joint,
    jvp_rules,
    value_shaped,
    vjp_rules,
)
from fjac.numpy._dispatch import implements, register_function, register_ufunc

__all__ = [
    "Primitive",
    "bind",
    "is_tracer",
    "concrete",
    "defjvp",
    "defjvp_argnum",
    "jvp_rules",
    "defvjp",
    "defvjp_argnum",
    "defvjp_joint",
    "vjp_rules",
    "value_shaped",
    "batch_rules",
    "batch_unary",
    "batch_elementwise",
    "batch_axis_param",
    "move_batch_axis",
    "register_function",
    "register_ufunc",
    "unbroadcast",
    "broadcast_like",
    "defop",
    "unary",
    "linear",
    "nondiff",
    "implements",
    "declare_complex",
]
