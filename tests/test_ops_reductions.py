"""Reductions and cumulative operations: one table row per operation and axis choice, checked
for values against NumPy, for derivatives to order 2 in both modes and through NumPy's own
functions; then the subtle rules by hand (ties, zeros in products, ddof, std at 0)."""

import itertools

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
from fjac.testing import check_grads

RNG = np.random.default_rng(0)
X = RNG.uniform(-1.5, 1.5, (2, 3, 4))
# Products of many factors have large higher derivatives: keep the factors near 1 in size.
X_PROD = RNG.choice([-1.0, 1.0], (2, 3, 4)) * RNG.uniform(0.6, 1.4, (2, 3, 4))
X_ZEROS = X_PROD.copy()
X_ZEROS[0, 1, 2] = 0.0  # one zero in some reductions, two in others
X_ZEROS[0, 1, 0] = 0.0
X_ZEROS[1, 2, 3] = 0.0
X_ZEROS[1, 0, 3] = 0.0

AXES = [
    {},
    {"axis": 0},
    {"axis": -1},
    {"axis": (0, 2)},
    {"axis": (-1, 0, 1)},
    {"axis": 1, "keepdims": True},
    {"axis": None, "keepdims": True},
]
CUMULATIVE_AXES = [{}, {"axis": 0}, {"axis": 1}, {"axis": -1}]

# (name, fjac.numpy function, NumPy reference, argument, keyword-argument sets)
ROWS = [
    ("sum", fnp.sum, np.sum, X, AXES),
    ("sum_initial", lambda x, **k: fnp.sum(x, initial=2.0, **k),
     lambda x, **k: np.sum(x, initial=2.0, **k), X, AXES[:3]),
    ("prod", fnp.prod, np.prod, X_PROD, AXES),
    ("prod_zeros", fnp.prod, np.prod, X_ZEROS, AXES),
    ("mean", fnp.mean, np.mean, X, AXES),
    ("var", fnp.var, np.var, X, AXES),
    ("var_ddof1", lambda x, **k: fnp.var(x, ddof=1, **k),
     lambda x, **k: np.var(x, ddof=1, **k), X, AXES),
    ("std", fnp.std, np.std, X, AXES),
    ("std_ddof1", lambda x, **k: fnp.std(x, ddof=1, **k),
     lambda x, **k: np.std(x, ddof=1, **k), X, AXES),
    ("max", fnp.max, np.max, X, AXES),
    ("min", fnp.min, np.min, X, AXES),
    ("amax", fnp.amax, np.amax, X, AXES),
    ("amin", fnp.amin, np.amin, X, AXES),
    ("max_initial", lambda x, **k: fnp.max(x, initial=0.5, **k),
     lambda x, **k: np.max(x, initial=0.5, **k), X, AXES[:3]),
    ("ptp", fnp.ptp, np.ptp, X, AXES),
    ("average", fnp.average, np.average, X, AXES),
    ("average_weights", lambda x, **k: fnp.average(x, weights=np.abs(X) + 0.5, **k),
     lambda x, **k: np.average(x, weights=np.abs(X) + 0.5, **k), X, AXES),
    ("average_1d_weights", lambda x: fnp.average(x, axis=1, weights=[1.0, 2.0, 0.5]),
     lambda x: np.average(x, axis=1, weights=[1.0, 2.0, 0.5]), X, [{}]),
    ("cumsum", fnp.cumsum, np.cumsum, X, CUMULATIVE_AXES),
    ("cumprod", fnp.cumprod, np.cumprod, X_PROD, CUMULATIVE_AXES),
    ("cumprod_zeros", fnp.cumprod, np.cumprod, X_ZEROS, CUMULATIVE_AXES),
    ("cumulative_sum", fnp.cumulative_sum, np.cumulative_sum, X, CUMULATIVE_AXES[1:]),
    ("cumulative_prod", lambda x, **k: fnp.cumulative_prod(x, include_initial=True, **k),
     lambda x, **k: np.cumulative_prod(x, include_initial=True, **k), X_PROD,
     CUMULATIVE_AXES[1:]),
]
CASES = [
    pytest.param(fn, ref, x, kwargs, id=f"{name}-{kwargs}")
    for name, fn, ref, x, kwarg_sets in ROWS
    for kwargs in kwarg_sets
]


@pytest.mark.parametrize("fn, ref, x, kwargs", CASES)
def test_value_matches_numpy(fn, ref, x, kwargs):
    for dtype in (np.float64, np.float32):
        xd = x.astype(dtype)
        got, want = fn(xd, **kwargs), ref(xd, **kwargs)
        assert np.shape(got) == np.shape(want)
        assert np.result_type(got) == np.result_type(want)
        np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("fn, ref, x, kwargs", CASES)
def test_derivatives(fn, ref, x, kwargs):
    check_grads(lambda x: fn(x, **kwargs), (x,), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("fn, ref, x, kwargs", CASES)
def test_numpy_dispatch_matches_fjac_numpy(fn, ref, x, kwargs):
    f = lambda x: fn(x, **kwargs)  # noqa: E731
    g = lambda x: ref(x, **kwargs)  # noqa: E731
    np.testing.assert_allclose(fjac.jacobian(f)(x), fjac.jacobian(g)(x), rtol=1e-13)
    np.testing.assert_allclose(fjac.jacfwd(f)(x), fjac.jacfwd(g)(x), rtol=1e-13)
    hf = fjac.hessian(lambda x: fnp.sum(f(x)))(x)
    np.testing.assert_allclose(hf, fjac.hessian(lambda x: fnp.sum(g(x)))(x), rtol=1e-13)


@pytest.mark.parametrize("fn, ref, x, kwargs", CASES)
def test_float32_is_preserved(fn, ref, x, kwargs):
    x = x.astype(np.float32)
    f = lambda x: fn(x, **kwargs)  # noqa: E731
    assert fjac.grad(lambda x: fnp.sum(f(x)))(x).dtype == np.float32
    out, t = fjac.jvp(f, (x,), (np.ones_like(x),))
    want = np.result_type(ref(x, **kwargs))  # float64 weights promote average to float64
    assert np.result_type(out) == want and np.result_type(t) == want


def test_average_is_differentiable_in_the_weights_and_returns_their_sum():
    w = np.array([1.0, 2.0, 0.5, 0.25])
    check_grads(lambda x, w: fnp.average(x, axis=-1, weights=w), (X, w), order=2)
    check_grads(lambda x, w: fnp.average(x, axis=-1, weights=w, returned=True), (X, w), order=2)
    avg, scale = fnp.average(X, axis=-1, weights=w, returned=True)
    want_avg, want_scale = np.average(X, axis=-1, weights=w, returned=True)
    np.testing.assert_allclose(avg, want_avg, rtol=1e-14)
    np.testing.assert_array_equal(scale, want_scale)
    _, scale = fnp.average(X, axis=(0, 2), returned=True)
    np.testing.assert_array_equal(scale, np.average(X, axis=(0, 2), returned=True)[1])
    with pytest.raises(ZeroDivisionError, match="weights sum to zero"):
        fnp.average(X, axis=-1, weights=np.zeros(4))
    with pytest.raises(TypeError, match="axis must be given"):
        fnp.average(X, weights=w)


# ------------------------------------------------------------------------------------------
# max and min: ties


@pytest.mark.parametrize("fn", [fnp.max, fnp.min, fnp.amax, fnp.amin, np.max, np.min])
def test_ties_share_the_derivative_equally(fn):
    x = np.array([[3.0, -3.0, 3.0, -3.0], [1.0, 1.0, 1.0, 1.0]])
    g = fjac.grad(lambda x: fnp.sum(fn(x, axis=1)))(x)
    first = [0.5, 0.0, 0.5, 0.0] if fn(x)[()] == 3.0 else [0.0, 0.5, 0.0, 0.5]
    np.testing.assert_array_equal(g, [first, [0.25, 0.25, 0.25, 0.25]])
    _, t = fjac.jvp(lambda x: fn(x, axis=1), (x,), (np.ones_like(x),))
    np.testing.assert_array_equal(t, [1.0, 1.0])
    g = fjac.grad(lambda x: fn(x))(x)
    assert np.sum(g) == 1.0 and np.all(np.isfinite(g))
    assert np.all(np.isfinite(fjac.hessian(lambda x: fn(x))(x)))


def test_max_with_nan_gives_finite_derivative_to_the_nan():
    g = fjac.grad(lambda x: fnp.max(x))(np.array([1.0, np.nan, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


def test_ptp_and_ufunc_reductions_of_ties():
    g = fjac.grad(lambda x: fnp.ptp(x))(np.array([2.0, 0.0, 2.0, 0.0, 1.0]))
    np.testing.assert_array_equal(g, [0.5, -0.5, 0.5, -0.5, 0.0])
    g = fjac.grad(lambda x: fnp.sum(np.maximum.reduce(x)))(np.array([[1.0, 2.0], [1.0, 0.0]]))
    np.testing.assert_array_equal(g, [[0.5, 1.0], [0.5, 0.0]])


# ------------------------------------------------------------------------------------------
# products with zeros


def test_prod_gradient_with_one_and_two_zeros():
    g = fjac.grad(fnp.prod)(np.array([2.0, 0.0, 3.0, 4.0]))
    np.testing.assert_array_equal(g, [0.0, 24.0, 0.0, 0.0])  # the product of the others
    g = fjac.grad(fnp.prod)(np.array([2.0, 0.0, 3.0, 0.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 0.0])
    _, t = fjac.jvp(fnp.prod, (np.array([2.0, 0.0, 3.0, 4.0]),), (np.ones(4),))
    assert t == 24.0


def _explicit_prod_hessian(x):
    n = len(x)
    h = np.zeros((n, n))
    for i, j in itertools.permutations(range(n), 2):
        h[i, j] = np.prod([x[k] for k in range(n) if k not in (i, j)])
    return h


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 4.0], [2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 5.0],
                               [1.5, -2.0, 0.5, 3.0]])
def test_prod_hessian_is_exact_with_zeros(x):
    x = np.array(x)
    np.testing.assert_array_equal(fjac.hessian(fnp.prod)(x), _explicit_prod_hessian(x))
    np.testing.assert_array_equal(fjac.jacfwd(fjac.grad(fnp.prod))(x), _explicit_prod_hessian(x))


def _explicit_cumprod_jacobian(x):
    n = len(x)
    jac = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            jac[i, j] = np.prod([x[k] for k in range(i + 1) if k != j])
    return jac


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 4.0, 0.5], [2.0, 0.0, 3.0, 0.0, 1.5],
                               [0.0, 1.0, 2.0, 3.0, 4.0], [1.5, -2.0, 0.5, 3.0, 0.7]])
def test_cumprod_jacobian_is_exact_with_zeros(x):
    x = np.array(x)
    want = _explicit_cumprod_jacobian(x)
    np.testing.assert_allclose(fjac.jacobian(fnp.cumprod)(x), want, rtol=1e-15)
    np.testing.assert_allclose(fjac.jacfwd(fnp.cumprod)(x), want, rtol=1e-15)
    check_grads(fnp.cumprod, (x,), order=3)


def test_linear_recurrence_matches_a_loop():
    from fjac._primitives.reductions import linear_recurrence

    a, b = RNG.uniform(-1, 1, (2, 7)), RNG.uniform(-1, 1, (2, 7))
    h_fwd, h_rev = np.zeros_like(b), np.zeros_like(b)
    for i in range(7):
        h_fwd[:, i] = b[:, i] + (a[:, i] * h_fwd[:, i - 1] if i else 0.0)
    for i in reversed(range(7)):
        h_rev[:, i] = b[:, i] + (a[:, i + 1] * h_rev[:, i + 1] if i < 6 else 0.0)
    np.testing.assert_allclose(linear_recurrence(a, b, 1), h_fwd, rtol=1e-14)
    np.testing.assert_allclose(linear_recurrence(a, b, 1, reverse=True), h_rev, rtol=1e-14)


# ------------------------------------------------------------------------------------------
# var and std


@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_var_and_std_ddof_by_hand(ddof):
    x = np.array([1.0, 2.0, 4.0, 7.0])
    np.testing.assert_allclose(fnp.var(x, ddof=ddof), np.var(x, ddof=ddof), rtol=1e-15)
    np.testing.assert_allclose(fnp.std(x, ddof=ddof), np.std(x, ddof=ddof), rtol=1e-15)
    g = fjac.grad(lambda x: fnp.var(x, ddof=ddof))(x)
    np.testing.assert_allclose(g, 2 * (x - x.mean()) / (4 - ddof), rtol=1e-14)
    g = fjac.grad(lambda x: fnp.std(x, ddof=ddof))(x)
    np.testing.assert_allclose(g, (x - x.mean()) / ((4 - ddof) * np.std(x, ddof=ddof)))


def test_var_correction_and_mean_keywords():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    np.testing.assert_allclose(fnp.var(x, correction=1), np.var(x, ddof=1), rtol=1e-15)
    m = np.mean(x, keepdims=True)
    np.testing.assert_allclose(fnp.var(x, mean=m), np.var(x, mean=m), rtol=1e-15)
    with pytest.raises(ValueError, match="ddof or correction"):
        fnp.var(x, ddof=1, correction=1)


def test_std_at_zero_variance_has_zero_derivative_not_nan():
    x = np.full((2, 3), 1.5)
    assert fnp.std(x) == 0.0
    np.testing.assert_array_equal(fjac.grad(lambda x: fnp.std(x))(x), 0.0)
    np.testing.assert_array_equal(fjac.grad(lambda x: np.std(x))(x), 0.0)
    mixed = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    g = fjac.grad(lambda x: fnp.sum(fnp.std(x, axis=1)))(mixed)
    np.testing.assert_array_equal(g[0], 0.0)
    np.testing.assert_allclose(g[1], fjac.grad(lambda r: fnp.std(r))(mixed[1]))
    assert np.all(np.isfinite(fjac.hessian(lambda x: fnp.std(x))(x)))


# ------------------------------------------------------------------------------------------
# options


def test_dtype_keyword_converts_first():
    x = X.astype(np.float32)
    assert fnp.sum(x, dtype=np.float64).dtype == np.float64
    assert fnp.cumsum(x, dtype=np.float64).dtype == np.float64
    g = fjac.grad(lambda x: fnp.sum(x, dtype=np.float64))(x)
    assert g.dtype == np.float32


@pytest.mark.parametrize("call, word", [
    (lambda x: fnp.sum(x, out=np.empty(())), "out="),
    (lambda x: fnp.sum(x, where=x > 0), "where="),
    (lambda x: fnp.prod(x, where=x > 0), "where="),
    (lambda x: fnp.mean(x, out=np.empty(())), "out="),
    (lambda x: fnp.max(x, where=x > 0), "where="),
    (lambda x: fnp.var(x, where=x > 0), "where="),
    (lambda x: fnp.cumsum(x, out=np.empty(24)), "out="),
    (lambda x: np.sum(x, where=x > 0), "where="),
    (lambda x: np.std(x, out=np.empty(())), "out="),
])
def test_unsupported_options_raise_and_name_the_option(call, word):
    with pytest.raises(TypeError, match=word):
        fjac.grad(call)(X)


def test_bad_axes_raise():
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.sum(X, axis=3)
    with pytest.raises(ValueError, match="duplicate"):
        fnp.max(X, axis=(0, -3))
    with pytest.raises(ValueError, match="axis must be given"):
        fnp.cumulative_sum(X)


def test_max_and_min_of_empty_reductions_with_initial():
    for fn, ref in ((fnp.max, np.max), (fnp.min, np.min)):
        for shape, axis in (((0,), None), ((2, 0), 1), ((0, 3), 0)):
            x = np.zeros(shape, np.float32)
            got, want = fn(x, axis=axis, initial=1.5), ref(x, axis=axis, initial=1.5)
            np.testing.assert_array_equal(got, want)
            assert np.result_type(got) == np.result_type(want)
    assert fjac.grad(lambda m: fnp.max(np.zeros(0), initial=m))(2.0) == 1.0


def test_average_returns_the_weight_sum_in_the_results_dtype():
    x = np.ones((2, 3))
    for w in (np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0], dtype=np.float32)):
        avg, scale = fnp.average(x, axis=1, weights=w, returned=True)
        expected = np.average(x, axis=1, weights=w, returned=True)[1]
        assert scale.dtype == expected.dtype == np.float64
        np.testing.assert_array_equal(scale, expected)
