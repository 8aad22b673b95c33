"""The worked examples fjac grew from, each as an explicit Jacobian next to fjac's.

For every example the Jacobian is written out by hand (the textbook formulation), then computed by
fjac three ways: ``jacobian`` (reverse mode: row i is the VJP with the i-th basis vector eᵢ),
``jacfwd`` (forward mode: column j is the JVP with eⱼ), and a single VJP vᵀJ that never forms J.
Every pair is asserted equal, so this script is also a test.

    python examples/seeds_walkthrough.py
"""

import numpy as np

import fjac
import fjac.numpy as fnp

np.set_printoptions(precision=4, suppress=True)


def show(title, explicit, f, x, v):
    """Print the hand-written Jacobian beside fjac's, and check vᵀJ without J."""
    by_rows = fjac.jacobian(f)(x)
    by_cols = fjac.jacfwd(f)(x)
    out, vjp_fn = fjac.vjp(f, x)
    (vJ,) = vjp_fn(v)
    print(f"== {title}")
    print("explicit J (by hand):\n", explicit)
    print("fjac.jacobian (rows eᵢᵀJ):\n", by_rows)
    print("fjac.jacfwd (columns J eⱼ):\n", by_cols)
    print(f"vjp with v = {v}: {vJ}   (vᵀJ from the explicit matrix: {v @ explicit})\n")
    np.testing.assert_allclose(by_rows, explicit, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(by_cols, explicit, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vJ, v @ explicit, rtol=1e-12, atol=1e-12)


def main():
    # 1. The scalar chain y = 2x, L = 3y: dL/dx = dL/dy · dy/dx = 3 · 2 = 6.
    loss = lambda x: 3 * (2 * x)
    print("== scalar chain: y = 2x, L = 3y")
    print("dL/dx by hand: 6    fjac.grad:", fjac.grad(loss)(5.0), "\n")
    assert fjac.grad(loss)(5.0) == 6.0

    # 2. A map from R³ to R²: y₀ = x₀ + 2x₁, y₁ = x₁ + 2x₂.
    f = lambda x: fnp.stack([x[0] + 2 * x[1], x[1] + 2 * x[2]])
    J = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 2.0]])
    show("R³ → R²: y₀ = x₀ + 2x₁, y₁ = x₁ + 2x₂", J, f, np.array([1.0, 2.0, 3.0]), np.ones(2))
    # With L = y₀ + y₁, dL/dy = [1, 1], and dL/dx = Jᵀ dL/dy = [1, 3, 2].
    print("dL/dx for L = y₀ + y₁:", fjac.grad(lambda x: fnp.sum(f(x)))(np.array([1.0, 2.0, 3.0])))

    # 3. Elementwise exp: a diagonal Jacobian, whose VJP is just v ⊙ exp(x).
    x = np.array([-1.0, 0.0, 1.0])
    v = np.array([1.0, 2.0, 3.0])
    show("elementwise exp: J = diag(exp(x))", np.diag(np.exp(x)), fnp.exp, x, v)

    # 4. f(x, y) = 3x²y and g(x, y) = 2x + y⁸, stacked into one Jacobian.
    fg = lambda p: fnp.stack([3 * p[0] ** 2 * p[1], 2 * p[0] + p[1] ** 8])
    px, py = 1.0, 2.0
    J = np.array([[6 * px * py, 3 * px**2], [2.0, 8 * py**7]])
    show("f = 3x²y, g = 2x + y⁸", J, fg, np.array([px, py]), np.array([1.0, 0.0]))

    # 5. Sigmoid regression: dL/dw = (ŷ − y) σ′(z) x.
    x_in, y_true, w, b = 2.0, 1.0, 0.3, -0.1

    def reg_loss(w):
        y_hat = 1 / (1 + fnp.exp(-(w * x_in + b)))
        return 0.5 * (y_true - y_hat) ** 2

    s = 1 / (1 + np.exp(-(w * x_in + b)))
    by_hand = (s - y_true) * s * (1 - s) * x_in
    print("== sigmoid regression: dL/dw = (ŷ − y) σ′(z) x")
    print(f"by hand: {by_hand:.6f}    fjac.grad: {fjac.grad(reg_loss)(w):.6f}\n")
    np.testing.assert_allclose(fjac.grad(reg_loss)(w), by_hand, rtol=1e-13)

    # 6. A dense net 3 → 2 → 1: its Jacobian is the product of the layers' Jacobians.
    rng = np.random.default_rng(0)
    W1, W2 = rng.normal(size=(2, 3)), rng.normal(size=(1, 2))
    net = lambda x: W2 @ fnp.tanh(W1 @ x)
    x = np.array([0.5, -1.0, 2.0])
    z = np.tanh(W1 @ x)
    J = W2 @ (np.diag(1 - z**2) @ W1)  # dy/dz · dz/dx
    show("dense net 3-2-1: dy/dx = dy/dz · dz/dx", J, net, x, np.ones(1))
    print("all explicit Jacobians match fjac's.")


if __name__ == "__main__":
    main()
