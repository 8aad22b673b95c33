"""The worked examples of the notes fjac grew from, each against its hand-derived derivative.

Every Jacobian is checked three ways: ``jacobian`` (rows eᵢᵀJ by reverse mode), ``jacfwd``
(columns J eⱼ by forward mode) and VJPs stacked by hand, all against the explicit matrix.
"""

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp


def stacked_vjps(f, x):
    """The Jacobian built row by row from vjp_fn(eᵢ), the textbook formulation."""
    out, vjp_fn = fjac.vjp(f, x)
    rows = [vjp_fn(e.reshape(out.shape))[0] for e in np.eye(out.size)]
    return np.stack(rows).reshape(out.shape + np.shape(x))


def stacked_jvps(f, x):
    cols = [fjac.jvp(f, (x,), (e.reshape(x.shape),))[1] for e in np.eye(x.size)]
    out_shape = np.shape(cols[0])
    return np.moveaxis(np.stack(cols), 0, -1).reshape(out_shape + x.shape)


def assert_all_jacobians(f, x, explicit):
    np.testing.assert_allclose(fjac.jacobian(f)(x), explicit, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fjac.jacfwd(f)(x), explicit, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(stacked_vjps(f, x), explicit, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(stacked_jvps(f, x), explicit, rtol=1e-12, atol=1e-12)


def test_scalar_chain():
    # y = 2x, L = 3y: dL/dy = 3, dL/dx = dL/dy * dy/dx = 6 at any x (the notes use x = 5).
    def loss(x):
        y = 2 * x
        return 3 * y

    assert fjac.grad(loss)(5.0) == 6.0
    out, vjp_fn = fjac.vjp(loss, 5.0)
    assert out == 30.0
    assert vjp_fn(1.0) == (6.0,)
    assert fjac.jvp(loss, (5.0,), (1.0,)) == (30.0, 6.0)


def vector_fn(x):
    # y0 = x0 + 2 x1, y1 = x1 + 2 x2
    return fnp.stack([x[0] + 2 * x[1], x[1] + 2 * x[2]])


def test_three_to_two_jacobian_and_gradient():
    x = np.array([1.0, 2.0, 3.0])
    J = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 2.0]])
    assert_all_jacobians(vector_fn, x, J)
    # L = y0 + y1: dL/dx = Jᵀ dL/dy = Jᵀ [1, 1] = [1, 3, 2]
    g = fjac.grad(lambda x: fnp.sum(vector_fn(x)))(x)
    np.testing.assert_array_equal(g, [1.0, 3.0, 2.0])
    np.testing.assert_array_equal(g, J.T @ np.ones(2))


def test_elementwise_exp_has_a_diagonal_jacobian_and_a_cheap_vjp():
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    assert_all_jacobians(fnp.exp, x, np.diag(np.exp(x)))
    # The VJP never builds the diagonal matrix: it is the elementwise product dL/dy ⊙ exp(x).
    v = np.array([1.0, -2.0, 3.0, 0.5])
    _, vjp_fn = fjac.vjp(np.exp, x)  # plain NumPy, traced through __array_ufunc__
    np.testing.assert_allclose(vjp_fn(v)[0], v * np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(vjp_fn(v)[0], v @ np.diag(np.exp(x)), rtol=1e-15)


def f_and_g(p):
    x, y = p[0], p[1]
    return fnp.stack([3 * x**2 * y, 2 * x + y**8])


@pytest.mark.parametrize("x,y", [(1.0, 2.0), (-0.5, 0.75), (2.0, -1.0)])
def test_f_3x2y_g_2x_plus_y8(x, y):
    J = np.array([[6 * x * y, 3 * x**2], [2.0, 8 * y**7]])
    assert_all_jacobians(f_and_g, np.array([x, y]), J)
    # the same with the two variables as separate arguments
    jx, jy = fjac.jacobian(lambda x, y: f_and_g(fnp.stack([x, y])), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(np.stack([jx, jy], axis=1), J)


def sigmoid(z):
    return 1 / (1 + fnp.exp(-z))


@pytest.mark.parametrize("w,b,x,y", [(0.3, -0.1, 2.0, 1.0), (-1.2, 0.4, 0.5, 0.0)])
def test_sigmoid_regression(w, b, x, y):
    def loss(w, b):
        z = w * x + b
        y_hat = sigmoid(z)
        return 0.5 * (y - y_hat) ** 2

    z = w * x + b
    s = 1 / (1 + np.exp(-z))
    ds = s * (1 - s)
    # dL/dw = dL/dŷ · dŷ/dz · dz/dw = (ŷ - y) σ'(z) x ; dL/db the same with dz/db = 1
    dw, db = fjac.grad(loss, argnums=(0, 1))(w, b)
    np.testing.assert_allclose(dw, (s - y) * ds * x, rtol=1e-13)
    np.testing.assert_allclose(db, (s - y) * ds, rtol=1e-13)


def test_dense_net_jacobian_is_the_product_of_layer_jacobians():
    rng = np.random.default_rng(0)
    W1, b1 = rng.normal(size=(2, 3)), rng.normal(size=2)
    W2, b2 = rng.normal(size=(1, 2)), rng.normal(size=1)
    x = rng.normal(size=3)

    def hidden(x):
        return fnp.tanh(W1 @ x + b1)

    def net(x):
        return W2 @ hidden(x) + b2

    z = np.tanh(W1 @ x + b1)
    dz_dx = np.diag(1 - z**2) @ W1  # 2x3
    dy_dz = W2  # 1x2
    explicit = dy_dz @ dz_dx  # the chain rule as a product of Jacobians
    assert_all_jacobians(net, x, explicit)
    np.testing.assert_allclose(fjac.jacobian(hidden)(x), dz_dx, rtol=1e-13)
    np.testing.assert_allclose(
        fjac.jacobian(net)(x), fjac.jacobian(lambda z: W2 @ z + b2)(z) @ fjac.jacobian(hidden)(x)
    )
