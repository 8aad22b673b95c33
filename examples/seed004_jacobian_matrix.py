"""Seed 004: the Jacobian matrix, and the Jacobian of a small dense network.

1. For f: Rⁿ → Rᵐ the Jacobian is the m x n matrix J[i, j] = ∂fᵢ/∂xⱼ: row i is the gradient of
   the i-th output. With f(x, y) = 3x²y and g(x, y) = 2x + y⁸, stacking the two gradients gives
   J = [[6xy, 3x²], [2, 8y⁷]].
2. A network with inputs x ∈ R³, a hidden layer z ∈ R² and one output y: by the chain rule
   dy/dx = dy/dz · dz/dx, a 1 x 2 row times a 2 x 3 matrix.

    python examples/seed004_jacobian_matrix.py
"""

import numpy as np
from side_by_side import check_jacobians

import fjac
import fjac.numpy as fnp

np.set_printoptions(precision=4, suppress=True)


def f(x, y):
    return 3 * x**2 * y


def g(x, y):
    return 2 * x + y**8


def stacked(p):
    """(f, g) as one function of the point p = (x, y)."""
    return fnp.stack([f(p[0], p[1]), g(p[0], p[1])])


def jacobian_of_two_functions():
    x, y = 1.5, -0.5
    J = np.array([[6 * x * y, 3 * x**2], [2.0, 8 * y**7]])
    check_jacobians("f = 3x²y, g = 2x + y⁸", J, stacked, np.array([x, y]), np.array([1.0, 0.0]))

    # Row by row: each row is one output's gradient, fjac.grad with argnums=(0, 1).
    grad_f = fjac.grad(f, argnums=(0, 1))(x, y)
    grad_g = fjac.grad(g, argnums=(0, 1))(x, y)
    print("∇f =", np.array(grad_f), "  ∇g =", np.array(grad_g), "  (the rows of J)\n")
    np.testing.assert_allclose(np.array([grad_f, grad_g]), J, rtol=1e-14)

    # With two separate arguments, jacobian(argnums=(0, 1)) returns the columns separately:
    # for each output, one entry per argument.
    by_argument = fjac.jacobian(lambda x, y: fnp.stack([f(x, y), g(x, y)]), argnums=(0, 1))
    col_x, col_y = by_argument(x, y)
    np.testing.assert_allclose(np.stack([col_x, col_y], axis=1), J, rtol=1e-14)


rng = np.random.default_rng(4)
W1, b1 = rng.normal(size=(2, 3)), rng.normal(size=2)  # 3 inputs → 2 hidden neurons
w2, b2 = rng.normal(size=2), 0.1  # 2 hidden neurons → 1 output


def hidden(x):
    return fnp.tanh(W1 @ x + b1)


def net(x):
    return w2 @ hidden(x) + b2


def dense_network():
    x = np.array([0.2, -0.3, 0.4])
    z = np.tanh(W1 @ x + b1)
    dy_dz = w2  # a 1 x 2 row
    dz_dx = np.diag(1 - z**2) @ W1  # a 2 x 3 matrix
    dy_dx = dy_dz @ dz_dx  # a 1 x 3 row
    check_jacobians("hidden layer z = tanh(W1 x + b1)", dz_dx, hidden, x, w2)
    check_jacobians("network y = w2 · z + b2: dy/dx = dy/dz · dz/dx", dy_dx, net, x,
                    np.array(1.0))
    np.testing.assert_allclose(fjac.grad(net)(x), dy_dx, rtol=1e-13)


def main():
    jacobian_of_two_functions()
    dense_network()
    print("the stacked gradients and the product of layer Jacobians match fjac.")


if __name__ == "__main__":
    main()
