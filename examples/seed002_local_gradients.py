"""Seed 002: the chain rule step by step, from scalars to a map R³ → R².

1. Scalars: y = 2x and L = 3y. Going backwards from dL/dL = 1, each step multiplies by its
   local derivative: dL/dy = 3, then dL/dx = dL/dy · dy/dx = 3 · 2 = 6.
2. Vectors: y = f(x) with y₀ = x₀ + 2x₁ and y₁ = x₁ + 2x₂, and L = y₀ + y₁. The gradient at
   x is the Jacobian, transposed, applied to the gradient at y: ∂L/∂x = Jᵀ ∂L/∂y, and with
   ∂L/∂y = (1, 1) that is (1, 3, 2).
3. Local gradients: in any chain … → x → y = f(x) → … → L, a step only needs its own Jacobian
   and the gradient arriving at its output: ∂L/∂x = Jᵀ ∂L/∂y.

A note on layout. Some texts write the matrix of partial derivatives with one row per *input*
(the transpose of ours) so that ∂L/∂x is that matrix times ∂L/∂y. fjac follows the other
common convention: ``jacobian(f)(x)[i, j] = ∂yᵢ/∂xⱼ``, one row per output. The numbers are the
same, transposed.

    python examples/seed002_local_gradients.py
"""

import numpy as np
from side_by_side import check_jacobians, render

import fjac
import fjac.numpy as fnp

np.set_printoptions(precision=4, suppress=True)


def scalar_chain():
    x = 5.0
    dL = 1.0  # dL/dL
    dy = 3 * dL  # dL/dy: L = 3y
    dx = 2 * dy  # dL/dx: y = 2x
    g = fjac.grad(lambda x: 3 * (2 * x))(x)
    print(f"== scalar chain y = 2x, L = 3y at x = {x}")
    print(f"by hand: dL/dx = 3 · 2 = {dx}    fjac.grad: {g}\n")
    assert dx == g == 6.0
    # The same as a 1 x 1 Jacobian and a VJP with v = dL/dL = 1.
    check_jacobians("x ↦ 3(2x)", np.array(6.0), lambda x: 3 * (2 * x), np.array(x), np.array(1.0))


def f(x):
    """y₀ = x₀ + 2x₁, y₁ = x₁ + 2x₂, built from its two components."""
    return fnp.stack([x[0] + 2 * x[1], x[1] + 2 * x[2]])


def f_by_assignment(x):
    """The same f written by filling an array, as one would in NumPy. Traced arrays are
    immutable, so ``y[0] = ...`` raises; ``fnp.at(y)[0].set(v)`` returns a new array instead
    (``y.at[0].set(v)`` is the same on a traced y; a NumPy array has no ``.at``)."""
    y = np.zeros(2)
    y = fnp.at(y)[0].set(x[0] + 2 * x[1])
    y = fnp.at(y)[1].set(x[1] + 2 * x[2])
    return y


def vector_chain():
    x = np.array([1.0, 2.0, 3.0])
    J = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 2.0]])  # ∂yᵢ/∂xⱼ, one row per output
    dL_dy = np.array([1.0, 1.0])  # L = y₀ + y₁
    check_jacobians("y₀ = x₀ + 2x₁, y₁ = x₁ + 2x₂", J, f, x, dL_dy)
    check_jacobians("the same f, written with .at[].set", J, f_by_assignment, x, dL_dy)

    dL_dx = J.T @ dL_dy
    g = fjac.grad(lambda x: fnp.sum(f(x)))(x)
    print("∂L/∂x = Jᵀ ∂L/∂y for L = y₀ + y₁, and the input-by-output matrix of other texts:")
    print(render({"Jᵀ (rows: x)": J.T, "∂L/∂y": dL_dy, "Jᵀ ∂L/∂y": dL_dx, "fjac.grad": g}), "\n")
    np.testing.assert_array_equal(dL_dx, [1.0, 3.0, 2.0])
    np.testing.assert_array_equal(g, dL_dx)


def local_gradient():
    # A longer chain: x → y = f(x) → z = sin(y) → L = Σ z². Only f's own Jacobian and ∂L/∂y,
    # the gradient arriving at f's output, are needed to get ∂L/∂x.
    x = np.array([0.3, -0.1, 0.4])
    y = np.array([x[0] + 2 * x[1], x[1] + 2 * x[2]])
    dL_dy = 2 * np.sin(y) * np.cos(y)  # by hand, through z = sin(y) and L = Σ z²
    rest = lambda y: fnp.sum(fnp.sin(y) ** 2)
    np.testing.assert_allclose(fjac.grad(rest)(y), dL_dy, rtol=1e-14)
    J = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 2.0]])
    check_jacobians("local step y = f(x), with v = ∂L/∂y from the rest of the chain", J, f, x,
                    dL_dy)
    g = fjac.grad(lambda x: rest(f(x)))(x)
    print("∂L/∂x = Jᵀ ∂L/∂y:", J.T @ dL_dy, "   fjac.grad of the whole chain:", g)
    np.testing.assert_allclose(g, J.T @ dL_dy, rtol=1e-14)


def main():
    scalar_chain()
    vector_chain()
    local_gradient()
    print("every local gradient matches fjac.")


if __name__ == "__main__":
    main()
