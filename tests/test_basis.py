"""The vectorized Jacobians' structured seed: a batch of scaled basis vectors kept as its scales.

Every Jacobian here is checked against its hand-derived matrix and against the plain loop of
one VJP (JVP) per basis vector, which never sees the structure; one test checks that the
structure is really used (no identity-sized matrix product is computed).
"""

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
from fjac._primitives.products import matmul_p

rng = np.random.default_rng(7)
W = rng.normal(size=(5, 4)) / 2
x4 = rng.normal(size=4)
x5 = rng.normal(size=5)


def all_jacobians(f, x, **kwargs):
    """jacobian and jacfwd, vectorized, chunked and looped: all must agree."""
    return {
        "rev": fjac.jacobian(f, **kwargs)(x),
        "rev chunked": fjac.jacobian(f, chunk_size=2, **kwargs)(x),
        "rev loop": fjac.jacobian(f, vectorize=False, **kwargs)(x),
        "fwd": fjac.jacfwd(f, **kwargs)(x),
        "fwd chunked": fjac.jacfwd(f, chunk_size=3, **kwargs)(x),
        "fwd loop": fjac.jacfwd(f, vectorize=False, **kwargs)(x),
    }


def assert_all_equal(results, expected, dtype=None):
    for name, J in results.items():
        np.testing.assert_allclose(J, expected, rtol=1e-12, atol=1e-14, err_msg=name)
        if dtype is not None:
            assert J.dtype == dtype, (name, J.dtype)


CASES = {
    # name: (function, input, the hand-derived Jacobian)
    "tanh(W @ x)": (
        lambda x: fnp.tanh(W @ x), x4, (1 - np.tanh(W @ x4) ** 2)[:, None] * W,
    ),
    "x @ W (a row)": (lambda x: x @ W, x5, W.T),
    "W @ column": (lambda x: W @ x.reshape(4, 1), x4, W.reshape(5, 1, 4)),
    "row @ W": (lambda x: x.reshape(1, 5) @ W, x5, W.T.reshape(1, 4, 5)),
    "-(W @ x) / 3": (lambda x: -(W @ x) / 3.0, x4, -W / 3),
    "scaled by a broadcast constant, reshaped": (
        lambda x: (x * np.array([1.0, 2.0])[:, None].repeat(2, 1).ravel()).reshape(2, 2),
        x4, np.diag([1.0, 1.0, 2.0, 2.0]).reshape(2, 2, 4),
    ),
    "the identity": (lambda x: x, x4, np.eye(4)),
    "elementwise exp (a diagonal)": (fnp.exp, x4, np.diag(np.exp(x4))),
    "W @ sin(x)": (lambda x: W @ fnp.sin(x), x4, W * np.cos(x4)),
}


@pytest.mark.parametrize("name", CASES)
def test_structured_jacobians_match_the_hand_derived_matrix_and_the_loop(name):
    f, x, expected = CASES[name]
    assert_all_equal(all_jacobians(f, x), expected)


def test_no_identity_sized_product_is_computed(monkeypatch):
    n = 30
    M = rng.normal(size=(n, n))
    calls = []

    def recording_matmul(a, b):
        calls.append((np.shape(a), np.shape(b)))
        return np.matmul(a, b)

    monkeypatch.setattr(matmul_p, "impl", recording_matmul)
    x = rng.normal(size=n)
    J = fjac.jacobian(lambda x: fnp.tanh(M @ x))(x)
    np.testing.assert_allclose(J, (1 - np.tanh(M @ x) ** 2)[:, None] * M)
    assert calls == [((n, n), (n,))]  # the forward product only
    calls.clear()
    J = fjac.jacfwd(lambda x: fnp.tanh(M @ x))(x)
    np.testing.assert_allclose(J, (1 - np.tanh(M @ x) ** 2)[:, None] * M)
    assert calls == [((n, n), (n,))]


def test_dtypes_follow_numpy_promotion():
    W32 = W.astype(np.float32)
    x32 = x4.astype(np.float32)
    # float32 input, float64 matrix (output): as in JAX, jacobian's result has the input's
    # dtype (cotangents are cast to it), jacfwd's the output's (tangents are pushed forward)
    results = all_jacobians(lambda x: W @ x, x32)
    for mode, dtype in (("rev", np.float32), ("fwd", np.float64)):
        same_mode = {k: v for k, v in results.items() if k.startswith(mode)}
        assert_all_equal(same_mode, same_mode[f"{mode} loop"], dtype=dtype)
    np.testing.assert_allclose(results["fwd"], W, rtol=1e-15)
    # all float32
    results = all_jacobians(lambda x: fnp.tanh(W32 @ x), x32)
    for name, J in results.items():
        assert J.dtype == np.float32, name
        np.testing.assert_allclose(J, results["rev loop"], rtol=1e-6, err_msg=name)
    # a cast inside the function
    results = all_jacobians(lambda x: W @ x.astype(np.float32), x4)
    for name, J in results.items():
        np.testing.assert_allclose(J, W, rtol=1e-6, err_msg=name)


def test_several_outputs_and_inputs_fall_back_to_the_dense_basis():
    f = lambda x, y: (W @ x, fnp.sin(y) * 2.0)
    J = fjac.jacobian(f, argnums=(0, 1))(x4, x5)
    Jl = fjac.jacobian(f, argnums=(0, 1), vectorize=False)(x4, x5)
    Jf = fjac.jacfwd(f, argnums=(0, 1))(x4, x5)
    np.testing.assert_allclose(J[0][0], W)
    np.testing.assert_allclose(J[1][1], np.diag(2 * np.cos(x5)))
    for a, b, c in zip(fjac.tree.tree_leaves(J), fjac.tree.tree_leaves(Jl),
                       fjac.tree.tree_leaves(Jf)):
        np.testing.assert_allclose(a, b)
        np.testing.assert_allclose(a, c)


def test_the_matrix_argument_is_differentiated_too():
    # with respect to W the seed meets the matrix product as the left (column) operand: dense
    J = fjac.jacobian(lambda M: fnp.tanh(M @ x4))(W)
    d = 1 - np.tanh(W @ x4) ** 2
    expected = np.einsum("i,ij,k->ijk", d, np.eye(5), x4)
    np.testing.assert_allclose(J, expected)
    np.testing.assert_allclose(fjac.jacfwd(lambda M: fnp.tanh(M @ x4))(W), expected)


def test_hessian_and_nested_jacobians():
    f = lambda x: fnp.sum(fnp.tanh(W @ x))
    t = np.tanh(W @ x4)
    expected = W.T @ np.diag(-2 * t * (1 - t**2)) @ W
    np.testing.assert_allclose(fjac.hessian(f)(x4), expected, rtol=1e-12)
    g = lambda x: fnp.tanh(W @ x)
    nested = fjac.jacobian(fjac.jacobian(g))(x4)
    looped = fjac.jacfwd(fjac.jacfwd(g, vectorize=False), vectorize=False)(x4)
    np.testing.assert_allclose(nested, looped, rtol=1e-12)
    third = fjac.jacfwd(fjac.hessian(f))(x4)
    looped3 = fjac.jacobian(fjac.jacobian(fjac.jacobian(f, vectorize=False), vectorize=False),
                            vectorize=False)(x4)
    np.testing.assert_allclose(third, looped3, rtol=1e-12)


def test_inside_vmap_and_grad():
    Ws = rng.normal(size=(3, 5, 4))
    # the matrix is batched by an outer vmap: the basis rule sees it as a constant
    out = fjac.vmap(lambda M: fjac.jacobian(lambda x: M @ x)(x4))(Ws)
    np.testing.assert_allclose(out, Ws)
    out = fjac.vmap(lambda M: fjac.jacfwd(lambda x: fnp.tanh(M @ x))(x4))(Ws)
    d = 1 - np.tanh(Ws @ x4) ** 2
    np.testing.assert_allclose(out, d[:, :, None] * Ws)
    # a gradient through a Jacobian: d/dM of sum(J) for J = M, which is all ones
    g = fjac.grad(lambda M: fnp.sum(fjac.jacobian(lambda x: M @ x)(x4)))(W)
    np.testing.assert_allclose(g, np.ones_like(W))
    g = fjac.grad(lambda M: fnp.sum(fjac.jacfwd(lambda x: M @ x)(x4) ** 2))(W)
    np.testing.assert_allclose(g, 2 * W)


def test_infinities_in_the_matrix_stay_where_they_are():
    # J of M @ x is M exactly: the structured seed selects rows, where a product with the
    # identity would turn 0 * inf into NaN across whole columns (as the loop of VJPs does)
    M = W.copy()
    M[1, 2] = np.inf
    np.testing.assert_array_equal(fjac.jacobian(lambda x: M @ x)(x4), M)
    np.testing.assert_array_equal(fjac.jacfwd(lambda x: M @ x)(x4), M)


def test_structured_values_are_readable_as_dense_batches():
    # operations without a structured rule see the dense batch: here sum and an add
    f = lambda x: fnp.sum((W @ x).reshape(5, 1) * np.ones((1, 3)), axis=1) + x[0]
    e0 = np.zeros(4)
    e0[0] = 1
    expected = 3 * W + e0
    assert_all_equal(all_jacobians(f, x4), expected)


@pytest.mark.parametrize("x_shape, m", [
    ((1, 4, 1), np.array([[0.2]])),  # a stack of column vectors, not one row matrix
    ((2, 1, 3), np.ones((3, 2))),
    ((1, 3), np.ones((3, 2))),
])
def test_a_stack_of_row_matrices_times_a_matrix_is_not_taken_for_one_row(x_shape, m):
    # issue 24: the structured product took x of shape (1, 4, 1) for a single row matrix
    x = np.ones(x_shape)
    f = lambda x: x @ m  # noqa: E731
    dense = fjac.jacfwd(f, vectorize=False)(x)
    np.testing.assert_allclose(fjac.jacfwd(f)(x), dense)
    np.testing.assert_allclose(fjac.jacobian(f)(x), dense)
