"""Seed 000: the chain rule for vector functions is a product of Jacobians.

A network at training time maps an input vector x to a scalar loss l(f(x)). The Jacobian of a
vector function f has one row per output and one column per input: J[i, j] = ∂fᵢ/∂xⱼ. When
x feeds h and h feeds f (x → h → f), every path from xⱼ to fᵢ passes through some hₖ, so

    ∂fᵢ/∂xⱼ = Σₖ ∂fᵢ/∂hₖ · ∂hₖ/∂xⱼ,

which is row i of ∂f/∂h times column j of ∂h/∂x: the whole Jacobian is the matrix product
(∂f/∂h)(∂h/∂x). This script builds both factors by hand for a concrete x → h → f, multiplies
them (once with the sum over k written out, once with @), and checks fjac's Jacobians and
VJP against the product.

    python examples/seed000_jacobian_chain_rule.py
"""

import numpy as np
from side_by_side import check_jacobians, render

import fjac
import fjac.numpy as fnp

np.set_printoptions(precision=4, suppress=True)

A = np.array([[0.5, -1.0, 0.2], [0.3, 0.8, -0.6], [-0.7, 0.1, 0.4], [0.2, 0.2, 0.9]])
B = np.array([[1.0, -0.5, 0.3, 0.0], [0.2, 0.4, -1.0, 0.6]])


def h_of_x(x):
    """The first stage, R³ → R⁴: h = tanh(A x)."""
    return fnp.tanh(A @ x)


def f_of_h(h):
    """The second stage, R⁴ → R²: fᵢ = Σₖ Bᵢₖ hₖ²."""
    return B @ h**2


def f_of_x(x):
    return f_of_h(h_of_x(x))


def main():
    x = np.array([0.4, -0.3, 1.1])
    h = np.tanh(A @ x)

    # The two factors, by hand: d tanh(u)/du = 1 - tanh(u)², and d(hₖ²)/dhₖ = 2hₖ.
    dh_dx = np.diag(1 - h**2) @ A  # 4 x 3
    df_dh = B @ np.diag(2 * h)  # 2 x 4

    # The chain rule entry by entry: a sum over the intermediate variables hₖ.
    df_dx = np.zeros((2, 3))
    for i in range(2):
        for j in range(3):
            df_dx[i, j] = sum(df_dh[i, k] * dh_dx[k, j] for k in range(4))
    print("∂f/∂x entry by entry (Σₖ ∂fᵢ/∂hₖ ∂hₖ/∂xⱼ) and as the matrix product (∂f/∂h)(∂h/∂x):")
    print(render({"sum over k": df_dx, "df_dh @ dh_dx": df_dh @ dh_dx}), "\n")
    np.testing.assert_allclose(df_dx, df_dh @ dh_dx, rtol=1e-14)

    # Each stage's Jacobian, and the whole, against fjac. For the VJPs take the loss
    # l = ½‖f‖²: its gradient ∂l/∂f = f is the v of stage 2, and stage 2's VJP, ∂l/∂h, is the
    # v of stage 1. Passing v backwards one stage at a time is backpropagation.
    f = B @ h**2
    J2 = check_jacobians("stage 2: f = B h²  (R⁴ → R²)", df_dh, f_of_h, h, f)
    dl_dh = f @ J2
    check_jacobians("stage 1: h = tanh(A x)  (R³ → R⁴)", dh_dx, h_of_x, x, dl_dh)
    J = check_jacobians("whole: f(h(x))  (R³ → R²)", df_dx, f_of_x, x, f)

    # Backpropagation: the gradient of the scalar loss is the VJP with v = ∂l/∂f.
    loss = lambda x: 0.5 * fnp.sum(f_of_x(x) ** 2)
    g = fjac.grad(loss)(x)
    print("∂l/∂x for l = ½‖f‖²:  fᵀ J =", f @ J, "  fjac.grad:", g)
    np.testing.assert_allclose(g, f @ df_dx, rtol=1e-12)
    np.testing.assert_allclose(g, dl_dh @ dh_dx, rtol=1e-12)
    print("the chain rule's product of Jacobians matches fjac.")


if __name__ == "__main__":
    main()
