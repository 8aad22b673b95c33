"""Seed 003: backpropagation through a regression, through several paths, and without J.

1. A one-weight sigmoid regression: z = wx + b, ŷ = σ(z), L = ½(y − ŷ)². The chain rule gives
   dL/dw = (ŷ − y) · σ′(z) · x, one local derivative per step.
2. Several paths: when t reaches f through x(t) and y(t), the contributions add:
   df/dt = ∂f/∂x · dx/dt + ∂f/∂y · dy/dt. In general ∂L/∂xᵢ = Σⱼ ∂L/∂yⱼ · ∂yⱼ/∂xᵢ, which is
   "error at x = Jᵀ · error at y".
3. Elementwise functions: y = exp(x) has the diagonal Jacobian diag(exp x), so Jᵀv is just
   v ⊙ exp(x), an elementwise product. No matrix is needed.
4. A layer mapping an N x p array to an N x m array has a Jacobian of N·m·N·p entries, but
   its VJP is an N x p array computed from an N x m one. examples/explicit_vs_vjp.py measures
   this as N grows; here it is checked on a small case.

    python examples/seed003_regression_backprop.py
"""

import numpy as np
from side_by_side import check_jacobians

import fjac
import fjac.numpy as fnp

np.set_printoptions(precision=4, suppress=True)


def sigmoid(z):
    return 1 / (1 + fnp.exp(-z))


def regression():
    x, y = 2.0, 1.0

    def loss(params):
        w, b = params[0], params[1]
        y_hat = sigmoid(w * x + b)
        return 0.5 * (y - y_hat) ** 2

    params = np.array([0.3, -0.1])  # (w, b)
    z = params[0] * x + params[1]
    y_hat = 1 / (1 + np.exp(-z))
    dL_dyhat, dyhat_dz = y_hat - y, y_hat * (1 - y_hat)  # σ′(z) = σ(z)(1 − σ(z))
    dL_dw = dL_dyhat * dyhat_dz * x  # dz/dw = x
    dL_db = dL_dyhat * dyhat_dz * 1.0  # dz/db = 1
    print("== sigmoid regression: dL/dw = (ŷ − y) σ′(z) x")
    print(f"(ŷ − y) = {dL_dyhat:.4f}, σ′(z) = {dyhat_dz:.4f}, x = {x}")
    # L is a scalar, so its Jacobian is the gradient (a 1 x 2 matrix) and its VJP with v = 1
    # is the gradient again.
    check_jacobians("(w, b) ↦ L", np.array([dL_dw, dL_db]), loss, params, np.array(1.0))
    np.testing.assert_allclose(fjac.grad(loss)(params), [dL_dw, dL_db], rtol=1e-13)


def two_paths():
    # f(x, y) = x·y with x(t) = cos t and y(t) = t²: df/dt = y·(−sin t) + x·2t.
    t = 0.7
    f_of_t = lambda t: fnp.cos(t) * t**2
    by_hand = t**2 * -np.sin(t) + np.cos(t) * 2 * t
    g = fjac.grad(f_of_t)(t)
    _, tangent = fjac.jvp(f_of_t, (t,), (1.0,))  # forward mode: push dt = 1 through
    print("== two paths from t to f = x(t)·y(t)")
    print(f"by hand {by_hand:.6f}   fjac.grad {g:.6f}   fjac.jvp {tangent:.6f}\n")
    np.testing.assert_allclose([g, tangent], [by_hand, by_hand], rtol=1e-14)

    # x ∈ R² feeds three children y ∈ R³, and L = ½ Σ yⱼ²: the error at x is Jᵀ (error at y).
    def children(x):
        return fnp.stack([x[0] * x[1], x[0] ** 2, fnp.sin(x[1])])

    x = np.array([0.5, -1.2])
    y = np.array([x[0] * x[1], x[0] ** 2, np.sin(x[1])])
    J = np.array([[x[1], x[0]], [2 * x[0], 0.0], [0.0, np.cos(x[1])]])  # ∂yⱼ/∂xᵢ
    check_jacobians("three children of x: (x₀x₁, x₀², sin x₁)", J, children, x, y)
    loss = lambda x: 0.5 * fnp.sum(children(x) ** 2)
    np.testing.assert_allclose(fjac.grad(loss)(x), J.T @ y, rtol=1e-14)


def elementwise_exp():
    x = np.array([-1.0, 0.0, 0.5, 1.0])
    v = np.array([1.0, 2.0, 3.0, 4.0])
    check_jacobians("y = exp(x): J = diag(exp x)", np.diag(np.exp(x)), fnp.exp, x, v)
    _, vjp_fn = fjac.vjp(fnp.exp, x)
    print("vᵀJ without J, v ⊙ exp(x):", v * np.exp(x), "\n")
    np.testing.assert_allclose(vjp_fn(v)[0], v * np.exp(x), rtol=1e-15)


def batch_layer():
    # Y = X W maps N x p to N x m. Y[n, i] = Σⱼ X[n, j] W[j, i], so ∂Y[n, i]/∂X[n', j] is W[j, i]
    # when n = n' and 0 otherwise: N·m·N·p entries, most of them zero.
    N, p, m = 2, 3, 2
    rng = np.random.default_rng(3)
    X, W = rng.normal(size=(N, p)), rng.normal(size=(p, m))
    J = np.zeros((N, m, N, p))
    for n in range(N):
        J[n, :, n, :] = W.T
    V = rng.normal(size=(N, m))  # the gradient arriving at Y
    layer = lambda X: X @ W
    check_jacobians("Y = X W, N x p → N x m (rows: Y's N·m entries, columns: X's N·p)", J,
                    layer, X, V)
    _, vjp_fn = fjac.vjp(layer, X)
    print(f"J has {J.size} = N·m·N·p entries; the VJP is V Wᵀ, an N x p array:")
    print(vjp_fn(V)[0], "\n")
    np.testing.assert_allclose(vjp_fn(V)[0], V @ W.T, rtol=1e-14)


def main():
    regression()
    two_paths()
    elementwise_exp()
    batch_layer()
    print("every hand-derived derivative matches fjac.")


if __name__ == "__main__":
    main()
