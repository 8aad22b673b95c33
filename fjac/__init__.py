"""fjac: pure function transforms for automatic differentiation on NumPy.

``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``jacobian`` (= ``jacrev``), ``jacfwd`` and
``hessian`` each take a function and return a function. Write the function with NumPy (or with
``fjac.numpy``); fjac traces it and differentiates it, to any order. ``jit`` records a call's
primitives once and replays them as plain NumPy calls.
"""

from fjac import numpy as numpy  # defines every primitive and installs the array methods
from fjac import tree as tree
from fjac._api import grad, stop_gradient, value_and_grad
from fjac._custom import custom_jvp, custom_vjp
from fjac._dtypes import float0
from fjac._graph import make_graph
from fjac._jacobian import hessian, jacfwd, jacobian, jacrev
from fjac._jit import jit
from fjac._jvp import jvp
from fjac._vjp import vjp
from fjac._vmap import vmap

__version__ = "0.1.0"

__all__ = [
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "jacobian",
    "jacrev",
    "jacfwd",
    "hessian",
    "stop_gradient",
    "custom_jvp",
    "custom_vjp",
    "make_graph",
    "vmap",
    "jit",
    "float0",
    "numpy",
    "tree",
]
