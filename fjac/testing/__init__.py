"""Tools to test derivatives: finite-difference checkers and (optional) hypothesis strategies.

``check_grads`` compares fjac's forward and reverse derivatives of a function, to any order,
with central differences; ``numerical_jacobian`` and ``check_jacobian`` do the same for whole
Jacobians. ``fjac.testing.strategies`` (which needs ``hypothesis``) generates arrays, pytrees
and random differentiable programs for property-based tests.

Example:
    >>> import numpy as np, fjac.numpy as fnp
    >>> from fjac.testing import check_grads
    >>> check_grads(lambda x: fnp.sum(fnp.exp(x) * x), (np.array([0.1, 0.2]),), order=2)
"""

from fjac.testing._check import check_grads, check_jacobian, numerical_jacobian

__all__ = ["check_grads", "numerical_jacobian", "check_jacobian"]
