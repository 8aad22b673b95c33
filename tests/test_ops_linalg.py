"""Products, einsum, matrix structure and numpy.linalg: one table row per operation and case.

Each row ``(id, f, args)`` names a function ``f(m, *args)`` written against a module ``m``,
which is either ``fjac.numpy`` or ``numpy``. Every row is checked three ways: its value against
NumPy, its derivatives to order 2 in both modes (``check_grads``), and the same computation
through NumPy's own functions on tracers (dispatch) giving the same gradient.

Decompositions are differentiated at well-conditioned inputs (symmetric positive-definite
``X Xᵀ + n I``, distinct eigenvalues and singular values) and through functions that do not
depend on the sign of eigenvectors or singular vectors.
"""

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
from fjac.testing import check_grads

_rng = np.random.default_rng(0)


def rand(*shape, dtype=np.float64):
    return _rng.normal(size=shape).astype(dtype)


def spd(m, x):
    """A symmetric positive-definite matrix (stack) from any square ``x``."""
    return m.matmul(x, m.swapaxes(x, -1, -2)) + x.shape[-1] * np.eye(x.shape[-1])


def _vv(pair):
    """Sign-invariant function of an eigendecomposition: eigenvalues and squared vectors."""
    w, v = pair
    return w, v * v


def _svd_invariants(usv):
    u, s, vh = usv
    return s, u * u, vh * vh, (u * s[..., None, :]) @ vh


def _qr_invariants(qr):
    q, r = qr
    return q * q, r * r, q @ r


A33, B233, A34, A43 = rand(3, 3), rand(2, 3, 3), rand(3, 4), rand(4, 3)

ROWS = [
    # matmul: every combination of 1-D and stacked operands
    ("matmul-vec-vec", lambda m, a, b: m.matmul(a, b), (rand(3), rand(3))),
    ("matmul-vec-mat", lambda m, a, b: m.matmul(a, b), (rand(3), rand(3, 4))),
    ("matmul-mat-vec", lambda m, a, b: m.matmul(a, b), (rand(2, 3), rand(3))),
    ("matmul-mat-mat", lambda m, a, b: m.matmul(a, b), (rand(2, 3), rand(3, 4))),
    ("matmul-stack-mat", lambda m, a, b: m.matmul(a, b), (rand(5, 2, 3), rand(3, 4))),
    ("matmul-mat-stack", lambda m, a, b: m.matmul(a, b), (rand(2, 3), rand(5, 3, 4))),
    ("matmul-vec-stack", lambda m, a, b: m.matmul(a, b), (rand(3), rand(5, 3, 4))),
    ("matmul-stack-vec", lambda m, a, b: m.matmul(a, b), (rand(5, 2, 3), rand(3))),
    ("matmul-broadcast", lambda m, a, b: m.matmul(a, b), (rand(5, 1, 2, 3), rand(4, 3, 2))),
    ("matmul-broadcast-1", lambda m, a, b: m.matmul(a, b), (rand(1, 2, 3), rand(5, 3, 2))),
    ("matmul-operator", lambda m, a, b: a @ b, (rand(2, 3), rand(3, 4))),
    ("matmul-float32", lambda m, a, b: m.matmul(a, b),
     (rand(2, 3, dtype=np.float32), rand(3, 4, dtype=np.float32))),
    ("dot-scalar", lambda m, a, b: m.dot(a, b), (rand(), rand(3))),
    ("dot-vec", lambda m, a, b: m.dot(a, b), (rand(3), rand(3))),
    ("dot-mat-vec", lambda m, a, b: m.dot(a, b), (rand(2, 3), rand(3))),
    ("dot-nd", lambda m, a, b: m.dot(a, b), (rand(2, 3, 4), rand(5, 4, 2))),
    ("dot-nd-vec", lambda m, a, b: m.dot(a, b), (rand(2, 3, 4), rand(4))),
    ("vdot", lambda m, a, b: m.vdot(a, b), (rand(2, 3), rand(6))),
    ("inner-vec", lambda m, a, b: m.inner(a, b), (rand(3), rand(3))),
    ("inner-nd", lambda m, a, b: m.inner(a, b), (rand(2, 3), rand(4, 3))),
    ("inner-scalar", lambda m, a, b: m.inner(a, b), (rand(), rand(2, 3))),
    ("outer", lambda m, a, b: m.outer(a, b), (rand(3), rand(4))),
    ("outer-flattens", lambda m, a, b: m.outer(a, b), (rand(2, 2), rand(3))),
    ("tensordot-2", lambda m, a, b: m.tensordot(a, b), (rand(2, 3, 4), rand(3, 4, 5))),
    ("tensordot-1", lambda m, a, b: m.tensordot(a, b, 1), (rand(2, 3), rand(3, 4))),
    ("tensordot-0", lambda m, a, b: m.tensordot(a, b, 0), (rand(2), rand(3))),
    ("tensordot-pairs", lambda m, a, b: m.tensordot(a, b, axes=([1, 0], [0, 1])),
     (rand(3, 2, 4), rand(2, 3, 5))),
    ("tensordot-negative", lambda m, a, b: m.tensordot(a, b, axes=(-1, 0)),
     (rand(2, 3), rand(3, 4))),
    # einsum
    ("einsum-trace", lambda m, a: m.einsum("ii->", a), (A33,)),
    ("einsum-diag", lambda m, a: m.einsum("ii->i", a), (A33,)),
    ("einsum-trace-implicit", lambda m, a: m.einsum("ii", a), (A33,)),
    ("einsum-matmul-implicit", lambda m, a, b: m.einsum("ij,jk", a, b), (A34, A43)),
    ("einsum-matmul", lambda m, a, b: m.einsum("ij,jk->ik", a, b), (A34, A43)),
    ("einsum-batched-ellipsis", lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
     (rand(2, 1, 3, 4), rand(5, 4, 2))),
    ("einsum-ellipsis-implicit", lambda m, a, b: m.einsum("...i,i", a, b),
     (rand(2, 3, 4), rand(4))),
    ("einsum-ellipsis-sum", lambda m, a: m.einsum("i...->...", a), (rand(2, 3),)),
    ("einsum-transpose-implicit", lambda m, a: m.einsum("ji", a), (A34,)),
    ("einsum-sum-all", lambda m, a: m.einsum("ij->", a), (A34,)),
    ("einsum-inner", lambda m, a, b: m.einsum("i,i->", a, b), (rand(3), rand(3))),
    ("einsum-outer", lambda m, a, b: m.einsum("i,j->ij", a, b), (rand(3), rand(2))),
    ("einsum-three", lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c),
     (rand(2, 3), rand(3, 4), rand(4, 2))),
    ("einsum-batch", lambda m, a, b: m.einsum("bij,bjk->bik", a, b),
     (rand(2, 2, 3), rand(2, 3, 4))),
    ("einsum-diag-times", lambda m, a, b: m.einsum("ii,i->i", a, b), (A33, rand(3))),
    ("einsum-partial-diag", lambda m, a: m.einsum("iij->j", a), (rand(3, 3, 2),)),
    ("einsum-size1-broadcast", lambda m, a, b: m.einsum("ij,ij->ij", a, b), (rand(1, 3), A33)),
    ("einsum-sublists", lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2]), (A34, A43)),
    ("einsum-float32", lambda m, a, b: m.einsum("ij,j->i", a, b),
     (rand(2, 3, dtype=np.float32), rand(3, dtype=np.float32))),
    # matrix structure
    ("kron-2d", lambda m, a, b: m.kron(a, b), (rand(2, 3), rand(3, 2))),
    ("kron-1d", lambda m, a, b: m.kron(a, b), (rand(2), rand(3))),
    ("kron-mixed", lambda m, a, b: m.kron(a, b), (rand(2, 2), rand(3))),
    ("trace", lambda m, a: m.trace(a), (A33,)),
    ("trace-offset", lambda m, a: m.trace(a, 1), (A34,)),
    ("trace-axes", lambda m, a: m.trace(a, -1, axis1=1, axis2=2), (rand(2, 3, 4),)),
    ("diagonal-offset", lambda m, a: m.diagonal(a, 1), (A34,)),
    ("diagonal-axes", lambda m, a: m.diagonal(a, 0, 0, 2), (rand(2, 3, 4),)),
    ("diagonal-negative-axes", lambda m, a: m.diagonal(a, -1, -1, -2), (rand(2, 3, 4),)),
    ("diagonal-empty", lambda m, a: m.diagonal(a, 5), (A34,)),
    ("diag-make", lambda m, v: m.diag(v), (rand(3),)),
    ("diag-make-k", lambda m, v: m.diag(v, 1), (rand(3),)),
    ("diag-make-k-neg", lambda m, v: m.diag(v, -2), (rand(3),)),
    ("diag-take", lambda m, a: m.diag(a, 1), (A34,)),
    ("tril", lambda m, a: m.tril(a), (A34,)),
    ("tril-k", lambda m, a: m.tril(a, -1), (A34,)),
    ("triu", lambda m, a: m.triu(a), (A43,)),
    ("triu-k-stack", lambda m, a: m.triu(a, 1), (B233,)),
    ("triu-1d", lambda m, a: m.triu(a), (rand(3),)),
    # numpy.linalg
    ("inv", lambda m, a: m.linalg.inv(a), (A33,)),
    ("inv-stack", lambda m, a: m.linalg.inv(a), (B233,)),
    ("solve-vector", lambda m, a, b: m.linalg.solve(a, b), (A33, rand(3))),
    ("solve-matrix", lambda m, a, b: m.linalg.solve(a, b), (A33, rand(3, 2))),
    ("solve-batched", lambda m, a, b: m.linalg.solve(a, b), (B233, rand(2, 3, 4))),
    ("solve-batched-a", lambda m, a, b: m.linalg.solve(a, b), (B233, rand(3, 2))),
    ("solve-batched-vector", lambda m, a, b: m.linalg.solve(a, b), (B233, rand(3))),
    ("solve-broadcast-b", lambda m, a, b: m.linalg.solve(a, b), (A33, rand(2, 3, 2))),
    ("det", lambda m, a: m.linalg.det(a), (A33,)),
    ("det-stack", lambda m, a: m.linalg.det(a), (B233,)),
    ("slogdet", lambda m, a: m.linalg.slogdet(a), (B233,)),
    ("cholesky", lambda m, x: m.linalg.cholesky(spd(m, x)), (A33,)),
    ("cholesky-upper-stack", lambda m, x: m.linalg.cholesky(spd(m, x), upper=True), (B233,)),
    ("eigh", lambda m, x: _vv(m.linalg.eigh(spd(m, x))), (A33,)),
    ("eigh-upper-stack", lambda m, x: _vv(m.linalg.eigh(spd(m, x), UPLO="U")), (B233,)),
    ("eigvalsh", lambda m, x: m.linalg.eigvalsh(spd(m, x)), (B233,)),
    ("svd-tall", lambda m, a: _svd_invariants(m.linalg.svd(a, full_matrices=False)), (A43,)),
    ("svd-wide", lambda m, a: _svd_invariants(m.linalg.svd(a, full_matrices=False)), (A34,)),
    ("svd-square-full", lambda m, a: _svd_invariants(m.linalg.svd(a)), (B233,)),
    ("svd-values", lambda m, a: m.linalg.svd(a, compute_uv=False), (rand(2, 4, 3),)),
    ("svd-hermitian", lambda m, x: _svd_invariants(
        m.linalg.svd(spd(m, x), hermitian=True)), (A33,)),
    ("pinv-tall", lambda m, a: m.linalg.pinv(a), (A43,)),
    ("pinv-wide-stack", lambda m, a: m.linalg.pinv(a), (rand(2, 3, 5),)),
    ("pinv-hermitian", lambda m, x: m.linalg.pinv(spd(m, x), hermitian=True), (A33,)),
    ("qr-tall", lambda m, a: _qr_invariants(m.linalg.qr(a)), (A43,)),
    ("qr-wide", lambda m, a: _qr_invariants(m.linalg.qr(a)), (A34,)),
    ("qr-stack-r", lambda m, a: m.linalg.qr(a, mode="r") ** 2, (rand(2, 4, 3),)),
    ("qr-complete-wide", lambda m, a: _qr_invariants(m.linalg.qr(a, mode="complete")), (A34,)),
    ("matrix_power-0", lambda m, a: m.linalg.matrix_power(a, 0) + a, (A33,)),
    ("matrix_power-1", lambda m, a: m.linalg.matrix_power(a, 1), (A33,)),
    ("matrix_power-3", lambda m, a: m.linalg.matrix_power(a, 3), (B233,)),
    ("matrix_power-6", lambda m, a: m.linalg.matrix_power(a, 6) * 0.1, (A33 * 0.5,)),
    ("matrix_power-neg", lambda m, a: m.linalg.matrix_power(a, -2), (A33,)),
    ("lstsq-vector", lambda m, a, b: m.linalg.lstsq(a, b)[:2], (rand(5, 3), rand(5))),
    ("lstsq-matrix", lambda m, a, b: m.linalg.lstsq(a, b)[:2], (rand(5, 3), rand(5, 2))),
    ("lstsq-wide", lambda m, a, b: m.linalg.lstsq(a, b)[0], (A34, rand(3))),
    ("norm-default", lambda m, x: m.linalg.norm(x), (A34,)),
    ("norm-vector-2", lambda m, x: m.linalg.norm(x, 2), (rand(5),)),
    ("norm-vector-1", lambda m, x: m.linalg.norm(x, 1), (rand(5),)),
    ("norm-vector-inf", lambda m, x: m.linalg.norm(x, np.inf), (rand(5),)),
    ("norm-vector--inf", lambda m, x: m.linalg.norm(x, -np.inf), (rand(5),)),
    ("norm-vector-p", lambda m, x: m.linalg.norm(x, 3), (rand(5),)),
    ("norm-axis-keepdims", lambda m, x: m.linalg.norm(x, axis=1, keepdims=True), (A34,)),
    ("norm-axis-neg", lambda m, x: m.linalg.norm(x, 1, axis=-2), (A34,)),
    ("norm-fro", lambda m, x: m.linalg.norm(x, "fro"), (A34,)),
    ("norm-nuc", lambda m, x: m.linalg.norm(x, "nuc"), (A34,)),
    ("norm-matrix-2", lambda m, x: m.linalg.norm(x, 2), (A43,)),
    ("norm-matrix--2", lambda m, x: m.linalg.norm(x, -2), (A43,)),
    ("norm-matrix-1", lambda m, x: m.linalg.norm(x, 1), (A34,)),
    ("norm-matrix--1", lambda m, x: m.linalg.norm(x, -1), (A34,)),
    ("norm-matrix-inf", lambda m, x: m.linalg.norm(x, np.inf), (A34,)),
    ("norm-matrix--inf", lambda m, x: m.linalg.norm(x, -np.inf), (A34,)),
    ("norm-matrix-axes", lambda m, x: m.linalg.norm(x, "fro", axis=(2, 0), keepdims=True),
     (rand(2, 3, 4),)),
    ("norm-stack-nuc", lambda m, x: m.linalg.norm(x, "nuc", axis=(1, 2)), (rand(2, 3, 4),)),
    ("multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), (rand(3), A34, rand(4))),
    ("linalg-vector_norm", lambda m, x: m.linalg.vector_norm(x, axis=(0, 2), ord=3),
     (rand(2, 3, 4),)),
    ("linalg-matrix_norm", lambda m, x: m.linalg.matrix_norm(x, ord="nuc"), (rand(2, 3, 4),)),
    ("linalg-trace", lambda m, x: m.linalg.trace(x, offset=1), (rand(2, 3, 4),)),
    ("linalg-diagonal", lambda m, x: m.linalg.diagonal(x), (rand(2, 3, 4),)),
    ("linalg-vecdot", lambda m, a, b: m.linalg.vecdot(a, b), (rand(2, 3), rand(3))),
    ("linalg-matrix_transpose", lambda m, a: m.linalg.matrix_transpose(a), (rand(2, 3, 4),)),
    ("linalg-outer", lambda m, a, b: m.linalg.outer(a, b), (rand(3), rand(2))),
    ("linalg-svdvals", lambda m, a: m.linalg.svdvals(a), (A34,)),
]

_IDS = [row[0] for row in ROWS]
_CASES = [row[1:] for row in ROWS]


def _leaves(out):
    return fjac.tree.tree_leaves(out)


def _traced_primal(f, args):
    """The output of ``f(fjac.numpy, ...)`` computed on tracers (forward mode)."""
    tangents = tuple(np.zeros_like(a) for a in args)
    return fjac.jvp(lambda *a: f(fnp, *a), args, tangents)[0]


@pytest.mark.parametrize("f, args", _CASES, ids=_IDS)
def test_value_matches_numpy(f, args):
    expected = _leaves(f(np, *args))
    for got in (_leaves(f(fnp, *args)), _leaves(_traced_primal(f, args))):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            e = np.asarray(e)
            assert np.shape(g) == e.shape
            assert np.asarray(g).dtype == e.dtype
            tol = 1e-5 if e.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(g, e, rtol=tol, atol=tol)


@pytest.mark.parametrize("f, args", _CASES, ids=_IDS)
def test_derivatives_to_order_2(f, args):
    check_grads(lambda *a: f(fnp, *a), args, order=2, modes=("fwd", "rev"))


def _weighted_sum(out, seed=1):
    """A scalar from every floating output leaf, with fixed random weights."""
    rng = np.random.default_rng(seed)
    total = 0.0
    for leaf in _leaves(out):
        if np.asarray(fjac._core.concrete(leaf)).dtype.kind == "f":
            total = total + fnp.sum(leaf * rng.normal(size=np.shape(leaf)))
    return total


@pytest.mark.parametrize("f, args", _CASES, ids=_IDS)
def test_numpy_dispatch_gives_the_same_gradient(f, args):
    argnums = tuple(range(len(args)))
    g_np = fjac.grad(lambda *a: _weighted_sum(f(np, *a)), argnums=argnums)(*args)
    g_fnp = fjac.grad(lambda *a: _weighted_sum(f(fnp, *a)), argnums=argnums)(*args)
    for a, b in zip(g_np, g_fnp):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# hand-written checks


def test_einsum_explicit_values_and_gradients():
    a = rand(3, 3)
    assert fjac.grad(lambda x: fnp.einsum("ii->", x))(a).tolist() == np.eye(3).tolist()
    # 'ii->i': the cotangent lands on the diagonal only
    g = fjac.vjp(lambda x: fnp.einsum("ii->i", x), a)[1](np.array([1.0, 2.0, 3.0]))[0]
    np.testing.assert_array_equal(g, np.diag([1.0, 2.0, 3.0]))
    b = rand(3, 2)
    _, vjp_fn = fjac.vjp(lambda x, y: fnp.einsum("ij,jk", x, y), a, b)
    ga, gb = vjp_fn(np.ones((3, 2)))
    np.testing.assert_allclose(ga, np.ones((3, 2)) @ b.T)
    np.testing.assert_allclose(gb, a.T @ np.ones((3, 2)))


def test_einsum_through_numpy_in_unmodified_code():
    a, x = rand(3, 4), rand(4)
    g = fjac.grad(lambda x: np.sum(np.einsum("ij,j->i", a, x) ** 2))(x)
    np.testing.assert_allclose(g, 2 * a.T @ (a @ x))


def test_inv_derivative_is_minus_inv_da_inv():
    a, da = rand(3, 3), rand(3, 3)
    _, t = fjac.jvp(fnp.linalg.inv, (a,), (da,))
    ai = np.linalg.inv(a)
    np.testing.assert_allclose(t, -ai @ da @ ai, rtol=1e-12)


def test_solve_agrees_with_inv():
    a, b = rand(3, 3), rand(3)
    f1 = lambda a, b: fnp.sum(fnp.linalg.solve(a, b) ** 2)
    f2 = lambda a, b: fnp.sum((fnp.linalg.inv(a) @ b) ** 2)
    for g1, g2 in zip(fjac.grad(f1, (0, 1))(a, b), fjac.grad(f2, (0, 1))(a, b)):
        np.testing.assert_allclose(g1, g2, rtol=1e-10)


def test_det_gradient_is_det_times_inverse_transpose():
    a = rand(3, 3)
    np.testing.assert_allclose(fjac.grad(fnp.linalg.det)(a),
                               np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-12)


def test_slogdet_sign_has_no_derivative():
    a = rand(3, 3)
    g = fjac.grad(lambda a: fnp.linalg.slogdet(a).sign * 1.0)(a)
    np.testing.assert_array_equal(g, np.zeros((3, 3)))
    g = fjac.grad(lambda a: fnp.linalg.slogdet(a).logabsdet)(a)
    np.testing.assert_allclose(g, np.linalg.inv(a).T, rtol=1e-12)


def test_norm_at_zero_has_zero_derivative():
    z = np.zeros(3)
    for f in (fnp.linalg.norm, lambda x: fnp.linalg.norm(x, 3),
              lambda x: fnp.linalg.norm(fnp.reshape(x, (1, 3)), "fro")):
        g = fjac.grad(f)(z)
        np.testing.assert_array_equal(g, z)
        np.testing.assert_array_equal(fjac.hessian(f)(z), np.zeros((3, 3)))


def test_eigh_reverse_is_symmetric_and_matches_forward():
    x = rand(3, 3)
    a = x @ x.T + 3 * np.eye(3)
    g = fjac.grad(lambda a: fnp.sum(fnp.linalg.eigh(a)[0] ** 3))(a)
    np.testing.assert_allclose(g, g.T)
    w, v = np.linalg.eigh(a)
    np.testing.assert_allclose(g, v @ np.diag(3 * w**2) @ v.T, rtol=1e-10)


def test_matmul_keeps_float32():
    a, b = rand(2, 3, dtype=np.float32), rand(3, dtype=np.float32)
    g = fjac.grad(lambda a: fnp.sum(a @ b))(a)
    assert g.dtype == np.float32


@pytest.mark.parametrize("call, words", [
    (lambda a: fnp.linalg.svd(a), "full_matrices=False"),
    (lambda a: fnp.linalg.qr(a, mode="complete"), "mode='reduced'"),
    (lambda a: fnp.linalg.qr(a, mode="raw"), "not differentiable"),
    (lambda a: fnp.einsum("ij,jk->ik", a, a), "sizes 3 and 4"),
    (lambda a: fnp.matmul(a, a), "do not align"),
])
def test_errors_name_the_problem(call, words):
    with pytest.raises(ValueError, match=words):
        fjac.grad(lambda a: fnp.sum(call(a)[0]))(rand(4, 3))


def test_unsupported_options_raise():
    with pytest.raises(TypeError, match="out"):
        fnp.einsum("ii", rand(2, 2), out=np.zeros(()))
    with pytest.raises(ValueError, match="'\\*'"):
        fnp.einsum("i*", rand(2, 2))


def test_linalg_namespace_exports_each_function_once_and_dispatches_numpys():
    from fjac.numpy._dispatch import FUNCTIONS

    names = fnp.linalg.__all__
    assert len(names) == len(set(names))
    for name in names:
        fn = getattr(fnp.linalg, name)
        target = getattr(np.linalg, name, None)
        if callable(fn) and not isinstance(fn, type) and target is not None:
            assert FUNCTIONS[target] is fn, name
