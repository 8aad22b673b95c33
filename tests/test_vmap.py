"""vmap: JAX's in_axes/out_axes semantics, composition with every transform, errors, and the
vectorized Jacobians (vectorized == chunked == loop == jacfwd == explicit)."""

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
import fjac.testing
from fjac import vmap

rng = np.random.default_rng(0)


def test_vmap_matches_a_python_loop():
    xs = rng.normal(size=(5, 3))
    f = lambda x: fnp.sum(fnp.tanh(x) * x) + x[0]
    np.testing.assert_allclose(vmap(f)(xs), [f(x) for x in xs])


def test_in_axes_none_negative_and_prefix_trees():
    W = rng.normal(size=(2, 3))
    xs = rng.normal(size=(3, 4))  # batch along the last axis
    out = vmap(lambda W, x: W @ x, in_axes=(None, -1))(W, xs)
    np.testing.assert_allclose(out, (W @ xs).T)
    params = {"w": rng.normal(size=(4, 3)), "b": np.array(0.5)}
    out = vmap(lambda p, x: fnp.sum(p["w"] * x) + p["b"], in_axes=({"w": 0, "b": None}, 0))(
        params, rng.normal(size=(4, 3))
    )
    assert out.shape == (4,)


def test_out_axes_and_axis_size():
    xs = rng.normal(size=(4, 3))
    out = vmap(lambda x: x * 2.0, out_axes=1)(xs)
    np.testing.assert_allclose(out, (xs * 2).T)
    out = vmap(lambda x: (x, 1.0), out_axes=(0, None))(xs)
    np.testing.assert_allclose(out[0], xs)
    assert out[1] == 1.0
    # nothing mapped: axis_size gives the batch, unmapped outputs are broadcast
    out = vmap(lambda c: c * 2.0, in_axes=None, axis_size=3)(np.array(1.5))
    np.testing.assert_allclose(out, [3.0, 3.0, 3.0])


def test_keyword_arguments_are_not_mapped():
    xs = rng.normal(size=(3, 2))
    out = vmap(lambda x, scale: x * scale)(xs, scale=np.array([1.0, 10.0]))
    np.testing.assert_allclose(out, xs * [1.0, 10.0])


def test_vmap_of_grad_gives_per_example_gradients():
    X = rng.normal(size=(8, 3))
    y = (rng.random(8) > 0.5).astype(float)
    w = rng.normal(size=3)

    def loss(w, x, y):
        p = 1 / (1 + fnp.exp(-fnp.dot(x, w)))
        return -(y * fnp.log(p) + (1 - y) * fnp.log(1 - p))

    per_example = vmap(fjac.grad(loss), in_axes=(None, 0, 0))(w, X, y)
    loop = np.stack([fjac.grad(loss)(w, x, t) for x, t in zip(X, y)])
    np.testing.assert_allclose(per_example, loop, rtol=1e-12)
    # and by hand: (p - y) x
    p = 1 / (1 + np.exp(-X @ w))
    np.testing.assert_allclose(per_example, (p - y)[:, None] * X, rtol=1e-12)


def test_grad_of_vmap_and_vmap_of_vmap():
    xs = rng.normal(size=(4, 3))
    g = fjac.grad(lambda xs: fnp.sum(vmap(lambda x: fnp.sin(x) * x)(xs)))(xs)
    np.testing.assert_allclose(g, np.cos(xs) * xs + np.sin(xs))
    outer = vmap(vmap(lambda a, b: a * b, in_axes=(0, None)), in_axes=(None, 0))
    a, b = rng.normal(size=3), rng.normal(size=5)
    np.testing.assert_allclose(outer(a, b), b[:, None] * a[None, :])


def test_vmap_of_jvp_and_vjp():
    xs = rng.normal(size=(4, 3))
    ts = rng.normal(size=(4, 3))
    _, tout = vmap(lambda x, t: fjac.jvp(fnp.sin, (x,), (t,)))(xs, ts)
    np.testing.assert_allclose(tout, np.cos(xs) * ts)
    (g,) = vmap(lambda x, v: fjac.vjp(fnp.exp, x)[1](v))(xs, ts)
    np.testing.assert_allclose(g, np.exp(xs) * ts)


def test_vmap_of_jacobian_and_jacobian_of_vmap():
    xs = rng.normal(size=(3, 2))
    f = lambda x: fnp.stack([x[0] * x[1], fnp.sin(x[0])])
    Js = vmap(fjac.jacobian(f))(xs)
    for x, J in zip(xs, Js):
        np.testing.assert_allclose(J, [[x[1], x[0]], [np.cos(x[0]), 0.0]])
    Jv = fjac.jacobian(vmap(f))(xs)  # block diagonal over the batch
    assert Jv.shape == (3, 2, 3, 2)
    for i in range(3):
        np.testing.assert_allclose(Jv[i, :, i, :], Js[i])
        for j in set(range(3)) - {i}:
            np.testing.assert_array_equal(Jv[i, :, j, :], 0.0)


def f_and_g(p):
    return fnp.stack([3 * p[0] ** 2 * p[1], 2 * p[0] + p[1] ** 8])


@pytest.mark.parametrize("x,y", [(1.0, 2.0), (-0.5, 0.75)])
def test_all_jacobian_modes_equal_the_explicit_matrix(x, y):
    explicit = np.array([[6 * x * y, 3 * x**2], [2.0, 8 * y**7]])
    p = np.array([x, y])
    for jac in (fjac.jacobian, fjac.jacfwd):
        for options in ({}, {"vectorize": False}, {"chunk_size": 1}, {"chunk_size": 3}):
            np.testing.assert_allclose(jac(f_and_g, **options)(p), explicit, rtol=1e-13)


def test_jacobian_modes_agree_on_pytrees():
    def f(p, scale):
        return {"a": fnp.sin(p["x"]) * p["y"][0] * scale, "b": (fnp.sum(p["x"] ** 2), p["y"])}

    p = {"x": rng.normal(size=(2, 2)), "y": rng.normal(size=3)}
    results = []
    for jac in (fjac.jacobian, fjac.jacfwd):
        for options in ({}, {"vectorize": False}, {"chunk_size": 2}):
            J = jac(f, argnums=(0, 1), **options)(p, 2.0)
            assert J["a"][0]["x"].shape == (2, 2, 2, 2) and J["a"][1].shape == (2, 2)
            assert J["b"][1][0]["y"].shape == (3, 3)
            results.append(fjac.tree.ravel_pytree(J)[0])
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-13, atol=1e-15)


def test_hessian_is_symmetric_and_matches_by_hand():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    f = lambda x: 0.5 * x @ A @ x + fnp.sum(fnp.sin(x))
    x = np.array([0.3, -0.7])
    np.testing.assert_allclose(fjac.hessian(f)(x), A - np.diag(np.sin(x)), rtol=1e-13)


# errors ------------------------------------------------------------------------------------


def test_inconsistent_sizes_name_the_arguments():
    with pytest.raises(ValueError, match=r"argument 0 has size 3, argument 1 has size 4"):
        vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))


def test_axis_out_of_range_names_the_argument():
    with pytest.raises(ValueError, match=r"in_axes=2 is out of range for argument 0.*\(3, 4\)"):
        vmap(lambda a: a, in_axes=2)(np.ones((3, 4)))


def test_out_axes_none_for_a_mapped_output():
    with pytest.raises(ValueError, match="out_axes is None for an output that depends"):
        vmap(lambda a: a * 2.0, out_axes=None)(np.ones(3))


def test_nothing_mapped_needs_axis_size():
    with pytest.raises(ValueError, match="pass axis_size"):
        vmap(lambda a: a, in_axes=None)(np.ones(3))


def test_in_axes_length_must_match_the_arguments():
    with pytest.raises(ValueError, match="in_axes has 1 entries but .* 2 positional"):
        vmap(lambda a, b: a, in_axes=(0,))(np.ones(3), np.ones(3))


def test_python_control_flow_on_a_batched_value_is_an_error():
    def f(x):
        if x > 0:  # a boolean array per example: ambiguous under vmap
            return x
        return -x

    with pytest.raises((TypeError, ValueError), match="ambiguous"):
        vmap(f)(np.array([1.0, -1.0]))


# --- traced integer indices: vmap makes them (a mapped label, argmax per example) -------------


def test_indexing_with_a_mapped_index_matches_numpy():
    X = rng.normal(size=(4, 3))
    Y = np.array([0, 2, 1, 1])
    rows = np.arange(4)
    np.testing.assert_array_equal(vmap(lambda x, y: x[y])(X, Y), X[rows, Y])
    np.testing.assert_array_equal(vmap(lambda x, y: fnp.take(x, y))(X, Y), X[rows, Y])
    np.testing.assert_array_equal(vmap(lambda x, y: x.at[y].get())(X, Y), X[rows, Y])
    np.testing.assert_array_equal(vmap(lambda x: x[fnp.argmax(x)])(X), X.max(axis=1))
    # an unmapped array indexed by a mapped index: NumPy's own indexing cannot see a tracer,
    # fnp.take can, and the error says so
    np.testing.assert_array_equal(vmap(lambda y: fnp.take(X, y, axis=0))(Y), X[Y])
    with pytest.raises(fjac.errors.TracerConversionError, match=r"fjac.numpy.take\(array, index\)"):
        vmap(lambda y: X[y])(Y)
    # index arrays per example of rank 2, next to an unmapped one and an integer
    Z = rng.normal(size=(4, 5, 6))
    Ix = rng.integers(0, 5, size=(4, 2, 3))
    J = rng.integers(0, 6, size=(3,))
    np.testing.assert_array_equal(vmap(lambda z, i: z[i, J])(Z, Ix),
                                  np.stack([z[i, J] for z, i in zip(Z, Ix)]))
    np.testing.assert_array_equal(vmap(lambda z, j: z[1, j])(Z, Ix[:, 0, :]),
                                  np.stack([z[1, j] for z, j in zip(Z, Ix[:, 0, :])]))
    # a slice before the index array: NumPy's layout rules differ, the rule loops instead
    np.testing.assert_array_equal(vmap(lambda z, j: z[:, j])(Z, Ix[:, 0, :]),
                                  np.stack([z[:, j] for z, j in zip(Z, Ix[:, 0, :])]))
    # nested vmap
    K = rng.integers(0, 6, size=(4, 5))
    out = vmap(vmap(lambda z, k: z[k]))(Z, K)
    np.testing.assert_array_equal(out, np.take_along_axis(Z, K[..., None], 2)[..., 0])


def test_derivatives_through_a_mapped_index():
    X = rng.normal(size=(4, 3)) ** 2 + 0.5
    Y = np.array([0, 2, 1, 1])
    # per-example gradient of log(x[y]): 1/x[y] at y, zero elsewhere
    g = vmap(fjac.grad(lambda x, y: fnp.log(x[y])))(X, Y)
    expected = np.zeros_like(X)
    expected[np.arange(4), Y] = 1 / X[np.arange(4), Y]
    np.testing.assert_allclose(g, expected)
    # grad of a vmapped loss, repeated indices accumulate
    R = np.array([[0, 0, 2], [1, 1, 1], [2, 0, 2], [0, 1, 2]])
    g = fjac.grad(lambda X: fnp.sum(vmap(lambda x, r: x[r] ** 2)(X, R)))(X)
    expected = np.zeros_like(X)
    for b, r in enumerate(R):
        for k in r:
            expected[b, k] += 2 * X[b, k]
    np.testing.assert_allclose(g, expected)
    # forward mode, the Jacobian, and second order
    J = fjac.jacfwd(lambda X: vmap(lambda x, y: x[y])(X, Y))(X)
    Jr = fjac.jacobian(lambda X: vmap(lambda x, y: x[y])(X, Y))(X)
    E = np.zeros((4, 4, 3))
    E[np.arange(4), np.arange(4), Y] = 1
    np.testing.assert_array_equal(J, E)
    np.testing.assert_array_equal(Jr, E)
    H = vmap(fjac.hessian(lambda x, y: x[y] ** 3))(X, Y)
    for b in range(4):
        expected = np.zeros((3, 3))
        expected[Y[b], Y[b]] = 6 * X[b, Y[b]]
        np.testing.assert_allclose(H[b], expected)


def test_take_along_axis_with_mapped_indices_matches_numpy():
    Y = np.array([2, 0, 1, 2])
    X = rng.normal(size=(4, 3))
    # the cross-entropy idiom: each example's log-probability at its label
    picked = vmap(lambda lp, y: fnp.take_along_axis(lp, y[None], axis=0))(X, Y)
    np.testing.assert_array_equal(picked[:, 0], X[np.arange(4), Y])
    Z = rng.normal(size=(4, 5, 3))
    Iz = rng.integers(0, 3, size=(4, 5, 2))
    for axis in (1, -1):
        np.testing.assert_array_equal(
            vmap(lambda z, i, a=axis: fnp.take_along_axis(z, i, axis=a))(Z, Iz),
            np.take_along_axis(Z, Iz, axis=2))
    order = vmap(fnp.argsort)(X)  # per-example sort order, then the sorted rows
    np.testing.assert_array_equal(
        vmap(lambda x, o: fnp.take_along_axis(x, o, axis=None))(X, order), np.sort(X, axis=1))
    # derivative: d/dx of sum(x[y]^2) is 2 x[y] at y; forward mode agrees
    g = vmap(fjac.grad(lambda x, y: fnp.sum(fnp.take_along_axis(x, y[None], 0) ** 2)))(X, Y)
    expected = np.zeros_like(X)
    expected[np.arange(4), Y] = 2 * X[np.arange(4), Y]
    np.testing.assert_allclose(g, expected)
    J = fjac.jacfwd(lambda X: vmap(lambda x, y: fnp.take_along_axis(x, y[None], 0))(X, Y))(X)
    np.testing.assert_array_equal(J[:, 0].reshape(4, 12), np.eye(12)[np.arange(4) * 3 + Y])


def test_add_at_mapped_indices_accumulates_like_numpy():
    X = rng.normal(size=(4, 3))
    Y = np.array([[0, 0], [1, 2], [2, 2], [1, 1]])  # repeated indices within an example
    V = rng.normal(size=(4, 2))
    out = vmap(lambda x, y, v: x.at[y].add(v))(X, Y, V)
    expected = X.copy()
    for b in range(4):
        np.add.at(expected[b], Y[b], V[b])
    np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(vmap(lambda y, v: fnp.at(np.zeros(3))[y].add(v))(Y, V),
                               expected - X)
    # a one-hot row per label, the scalar broadcast to x[y]
    labels = np.array([2, 0, 1, 2])
    np.testing.assert_array_equal(vmap(lambda y: fnp.at(np.zeros(3))[y].add(1.0))(labels),
                                  np.eye(3)[labels])
    # derivatives: d out[b, k] / d v[b, j] = [Y[b, j] == k]; x passes through unchanged
    def f(X, V):
        return vmap(lambda x, y, v: x.at[y].add(v))(X, Y, V)

    w = rng.normal(size=(4, 3))
    gx, gv = fjac.grad(lambda X, V: fnp.sum(f(X, V) * w), argnums=(0, 1))(X, V)
    np.testing.assert_allclose(gx, w)
    np.testing.assert_allclose(gv, np.take_along_axis(w, Y, axis=1))
    # forward mode: a unit tangent on every value counts how often each index occurs
    _, tangent = fjac.jvp(f, (X, V), (np.zeros_like(X), np.ones_like(V)))
    np.testing.assert_array_equal(tangent, [[2, 0, 0], [0, 1, 1], [0, 0, 2], [0, 2, 0]])
    fjac.testing.check_grads(f, (X, V), order=2)


def test_traced_indices_that_cannot_be_used_say_so():
    X = rng.normal(size=(4, 3))
    with pytest.raises(TypeError, match="boolean mask that differs from example to example"):
        vmap(lambda x: x[x > 0])(X)
    with pytest.raises(TypeError, match=r"x.at\[idx\].set/multiply/min/max do not yet"):
        vmap(lambda x, y: x.at[y].set(0.0))(X, np.array([0, 1, 2, 0]))
    with pytest.raises(TypeError, match=r"fjac.numpy.where\(mask, x \+ v, x\)"):
        vmap(lambda x: x.at[x > 0].add(1.0))(X)
    with pytest.raises(IndexError, match="take_along_axis: indices must be integers"):
        vmap(lambda x, i: fnp.take_along_axis(x, i, axis=0))(X, X > 0)
    with pytest.raises(IndexError, match="integer or boolean"):
        vmap(lambda x, y: x[y])(X, np.ones((4, 2)))


def test_lstsq_batches_when_every_example_has_the_same_rank():
    rng = np.random.default_rng(5)
    A, B = rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 5, 4))
    x, res, rank, s = vmap(fnp.linalg.lstsq)(A, B)
    for i in range(3):  # tall, full rank: NumPy returns residuals, one per column of b
        want = np.linalg.lstsq(A[i], B[i])
        np.testing.assert_allclose(x[i], want[0], atol=1e-12)
        np.testing.assert_allclose(res[i], want[1], atol=1e-12)
        assert rank[i] == want[2] == 2
        np.testing.assert_allclose(s[i], want[3], atol=1e-12)
    # all rank-deficient (a repeated column): no residuals for any example, as NumPy gives
    D = np.concatenate([A[:, :, :1], A[:, :, :1]], axis=2)
    x, res, rank, _ = vmap(fnp.linalg.lstsq)(D, B)
    assert res.shape == (3, 0) and rank.tolist() == [1, 1, 1]
    np.testing.assert_allclose(x[1], np.linalg.lstsq(D[1], B[1])[0], atol=1e-12)


def test_lstsq_of_mixed_ranks_under_vmap_names_the_fix():
    rng = np.random.default_rng(6)
    A, b = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 4))
    A[1, :, 1] = A[1, :, 0]  # example 1 loses a rank: NumPy would give it no residuals
    with pytest.raises(ValueError, match=r"1 of 2 examples have full column rank.*pinv\(a\) @ b"):
        vmap(lambda a, b: fnp.linalg.lstsq(a, b)[0])(A, b)
    x = vmap(lambda a, b: fnp.linalg.pinv(a) @ b)(A, b)
    np.testing.assert_allclose(x[1], np.linalg.lstsq(A[1], b[1])[0], atol=1e-12)
