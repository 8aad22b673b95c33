"""NumPy's protocols: unmodified NumPy code on tracers, mixed operands, ufunc methods, and the
errors for what fjac does not support (named as users write them)."""

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
from fjac.errors import UnsupportedOperationError
from fjac.numpy._dispatch import _numpy_name

X = np.array([[-1.0, 0.5, 2.0], [0.25, -0.75, 1.5]])


# ------------------------------------------------------------------------------------------
# mixed operands


@pytest.mark.parametrize("other", [np.array([2.0, 3.0, 4.0]), np.float64(2.5), np.float32(2.5),
                                   np.array(2.5), 2.5, 2], ids=repr)
def test_mixed_operands_in_either_order(other):
    x = np.array([1.0, 2.0, 3.0])

    def f(x):
        terms = [other + x, x + other, other * x, x * other, other - x, x - other,
                 other / x, x / other, x**other, np.add(other, x), np.multiply(x, other),
                 np.maximum(other, x), np.minimum(x, other)]
        return fnp.sum(fnp.stack([fnp.broadcast_to(t, (3,)) for t in terms]))

    def f_numpy(x):  # the same computed with NumPy alone, for the central difference
        terms = [other + x, x + other, other * x, x * other, other - x, x - other,
                 other / x, x / other, x**other, np.add(other, x), np.multiply(x, other),
                 np.maximum(other, x), np.minimum(x, other)]
        return np.sum([np.broadcast_to(t, (3,)) for t in terms])

    eps = 1e-6
    numerical = [(f_numpy(x + eps * e) - f_numpy(x - eps * e)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(fjac.grad(f)(x), numerical, rtol=1e-6)


def test_mixed_operands_keep_numpy_promotion():
    x = np.array([1.0, 2.0], np.float32)

    def f(x):
        assert (np.float32(2) * x).dtype == np.float32
        assert (2.0 * x).dtype == np.float32
        assert (np.float64(2) * x).dtype == np.float64  # a NumPy float64 scalar is not weak
        assert (np.ones(2) + x).dtype == np.float64
        return fnp.sum(x * 2.0)

    assert fjac.grad(f)(x).dtype == np.float32


# ------------------------------------------------------------------------------------------
# unmodified NumPy code


def test_unmodified_numpy_code_traces():
    def f(x):
        h = np.maximum(x, 0) + np.clip(x, 0, 1) + np.exp(-np.abs(x))
        s = np.sum(h, axis=0) + np.var(x) + np.max(x) + np.mean(x, axis=-1).sum()
        idx = np.argmax(x)
        assert not np.any(np.isnan(x)) and isinstance(idx, (int, np.integer))
        return np.sum(s) + np.std(x, ddof=1) + np.prod(np.tanh(x)) + x.ravel()[idx]

    def f_fnp(x):
        h = fnp.maximum(x, 0) + fnp.clip(x, 0, 1) + fnp.exp(-fnp.abs(x))
        s = fnp.sum(h, axis=0) + fnp.var(x) + fnp.max(x) + fnp.mean(x, axis=-1).sum()
        idx = int(fnp.argmax(x))
        return fnp.sum(s) + fnp.std(x, ddof=1) + fnp.prod(fnp.tanh(x)) + fnp.ravel(x)[idx]

    x = X.copy()
    assert f(x) == pytest.approx(f_fnp(x), rel=1e-14)
    np.testing.assert_allclose(fjac.grad(f)(x), fjac.grad(f_fnp)(x), rtol=1e-14)
    np.testing.assert_allclose(fjac.hessian(f)(x), fjac.hessian(f_fnp)(x), rtol=1e-13)


def test_nondifferentiable_numpy_functions_return_plain_values_under_grad():
    def f(x):
        for value in (np.isnan(x), np.argmax(x), np.argsort(x), np.zeros_like(x),
                      np.isclose(x, 0.5), np.sign(x), np.floor(x), x > 0):
            assert isinstance(value, (np.ndarray, np.generic))
        assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6
        assert np.result_type(x, 1.0) == np.float64 and np.allclose(x, x)
        return fnp.sum(x)

    fjac.grad(f)(X)


def test_sinc_round_and_where_dispatch():
    f = lambda x: np.sum(np.sinc(x) + np.round(x, 1) * x + np.where(x > 0, x, 0.0))  # noqa: E731
    g = lambda x: fnp.sum(fnp.sinc(x) + fnp.round(x, 1) * x + fnp.where(x > 0, x, 0.0))  # noqa: E731
    np.testing.assert_allclose(fjac.grad(f)(X), fjac.grad(g)(X), rtol=1e-14)


# ------------------------------------------------------------------------------------------
# ufunc methods


@pytest.mark.parametrize("method, fn", [
    (lambda x, **k: np.add.reduce(x, **k), fnp.sum),
    (lambda x, **k: np.multiply.reduce(x, **k), fnp.prod),
    (lambda x, **k: np.maximum.reduce(x, **k), fnp.max),
    (lambda x, **k: np.minimum.reduce(x, **k), fnp.min),
], ids=["add", "multiply", "maximum", "minimum"])
@pytest.mark.parametrize("kwargs", [{}, {"axis": 1}, {"axis": None}, {"axis": (0, 1)},
                                    {"axis": -1, "keepdims": True}], ids=str)
def test_ufunc_reduce_maps_to_the_reduction(method, fn, kwargs):
    expected_kwargs = {"axis": 0, **kwargs}  # ufunc.reduce reduces axis 0 by default
    np.testing.assert_allclose(method(X, **kwargs), fn(X, **expected_kwargs), rtol=1e-15)
    f = lambda x: fnp.sum(method(x, **kwargs))  # noqa: E731
    g = lambda x: fnp.sum(fn(x, **expected_kwargs))  # noqa: E731
    np.testing.assert_allclose(fjac.grad(f)(X), fjac.grad(g)(X), rtol=1e-15)
    np.testing.assert_allclose(fjac.hessian(f)(X), fjac.hessian(g)(X), rtol=1e-14)


@pytest.mark.parametrize("method, fn", [
    (np.add.accumulate, fnp.cumsum), (np.multiply.accumulate, fnp.cumprod),
], ids=["add", "multiply"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_ufunc_accumulate_maps_to_the_cumulative_operation(method, fn, axis):
    kwargs = {} if axis is None else {"axis": axis}
    ax = 0 if axis is None else axis
    np.testing.assert_allclose(method(X, **kwargs), fn(X, axis=ax), rtol=1e-15)
    f = lambda x: fnp.sum(fnp.sin(method(x, **kwargs)))  # noqa: E731
    g = lambda x: fnp.sum(fnp.sin(fn(x, axis=ax)))  # noqa: E731
    np.testing.assert_allclose(fjac.grad(f)(X), fjac.grad(g)(X), rtol=1e-15)


def test_ufunc_reduce_options():
    f = lambda x: np.add.reduce(x, axis=None, dtype=np.float32)  # noqa: E731
    assert fjac.value_and_grad(f)(X)[0].dtype == np.float32
    assert fjac.grad(lambda x: np.add.reduce(x, axis=None, initial=3.0))(X).shape == X.shape
    assert fjac.value_and_grad(lambda x: np.add.reduce(x, None, None, None, False, 3.0))(X)[
        0] == pytest.approx(X.sum() + 3.0)


# ------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("call, name", [
    (lambda x: np.add.reduceat(x, [0, 1]), "numpy.add.reduceat"),
    (lambda x: np.add.outer(x, x), "numpy.add.outer"),
    (lambda x: np.add.at(x, [0], 1.0), "numpy.add.at"),
    (lambda x: np.maximum.accumulate(x), "numpy.maximum.accumulate"),
    (lambda x: np.subtract.reduce(x), "numpy.subtract.reduce"),
    (lambda x: np.heaviside(x, 0.5), "numpy.heaviside"),
    (lambda x: np.ldexp(x, 2), "numpy.ldexp"),
    (lambda x: np.unwrap(x), "numpy.unwrap"),
    (lambda x: np.fft.fft(x), "numpy.fft.fft"),
    (lambda x: np.polyval(x, 2.0), "numpy.polyval"),
])
def test_unsupported_operations_name_the_function(call, name):
    with pytest.raises(UnsupportedOperationError, match=f"no derivative rule for {name}\\."):
        fjac.grad(lambda x: fnp.sum(call(x)))(np.array([0.5, 1.0, 2.0]))


def test_numpy_names_are_the_ones_users_write():
    assert _numpy_name(np.unwrap) == "numpy.unwrap"
    assert _numpy_name(np.linalg.eig) == "numpy.linalg.eig"
    assert _numpy_name(np.fft.rfft) == "numpy.fft.rfft"
    assert _numpy_name(np.lib.stride_tricks.sliding_window_view) == (
        "numpy.lib.stride_tricks.sliding_window_view"
    )


def test_non_numpy_ufunc_is_named_as_such():
    scipy_special = pytest.importorskip("scipy.special")
    with pytest.raises(UnsupportedOperationError, match="ufunc gammaln"):
        fjac.grad(lambda x: scipy_special.gammaln(x))(1.5)


@pytest.mark.parametrize("call, words", [
    (lambda x: np.sin(x, out=np.empty(3)), "numpy.sin with out="),
    (lambda x: np.add(x, 1.0, out=np.empty(3)), "numpy.add with out="),
    (lambda x: np.sin(x, where=x > 0.6), "numpy.sin with where="),
    (lambda x: np.add(x, 1, dtype=np.int64), "numpy.add with dtype=int64"),
    (lambda x: np.add(x, 1, casting="unsafe"), "numpy.add with casting="),
    (lambda x: np.add.reduce(x, out=np.empty(())), "numpy.add.reduce with out="),
    (lambda x: np.add.reduce(x, where=x > 0.6), "numpy.add.reduce: where="),
    (lambda x: np.add.accumulate(x, out=np.empty(3)), "numpy.add.accumulate with out="),
    (lambda x: np.clip(x, 0, 1, out=np.empty(3)), "clip: out="),
    (lambda x: np.round(x, out=np.empty(3)), "round: out="),
    (lambda x: np.sum(x, out=np.empty(())), "sum: out="),
    (lambda x: np.max(x, where=x > 0.6, initial=0.0), "max: where="),
    (lambda x: np.argmax(x, out=np.empty((), np.int64)), "argmax: out="),
    (lambda x: np.argsort(x, order="f"), "argsort: order="),
])
def test_unsupported_options_raise_clear_errors(call, words):
    with pytest.raises(TypeError) as info:
        fjac.grad(lambda x: fnp.sum(call(x)))(np.array([0.5, 1.0, 2.0]))
    assert words in str(info.value)


def test_supported_ufunc_options():
    x = np.array([0.5, 1.0, 2.0])
    f = lambda x: np.sin(x, dtype=np.float32)  # noqa: E731
    out, t = fjac.jvp(f, (x,), (np.ones(3),))
    assert out.dtype == np.float32 and t.dtype == np.float32
    g = fjac.grad(lambda x: fnp.sum(np.add(x, 1.0, casting="same_kind", where=True)))(x)
    np.testing.assert_array_equal(g, 1.0)
