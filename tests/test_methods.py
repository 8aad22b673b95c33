"""Tracers behave like ndarrays: each method gives NumPy's value and a checked derivative."""

import numpy as np
import pytest

import fjac
from fjac.extend import is_tracer
from fjac.testing import check_grads

X = np.array([[0.3, -1.2, 2.0], [1.1, 0.7, -0.4]])

# (method call, differentiable?) -- each applied to a tracer and to the ndarray itself
METHODS = [
    (lambda x: x.sum(axis=0), True),
    (lambda x: x.mean(), True),
    (lambda x: x.prod(axis=1), True),
    (lambda x: x.var(axis=0, ddof=1), True),
    (lambda x: x.std(), True),
    (lambda x: x.max(axis=1), True),
    (lambda x: x.min(), True),
    (lambda x: x.cumsum(axis=1), True),
    (lambda x: x.cumprod(), True),
    (lambda x: x.clip(-1.0, 1.0), True),
    (lambda x: x.reshape(3, 2), True),
    (lambda x: x.reshape((-1,)), True),
    (lambda x: x.transpose(), True),
    (lambda x: x.transpose(1, 0), True),
    (lambda x: x.T, True),
    (lambda x: x.mT, True),
    (lambda x: x.ravel(), True),
    (lambda x: x.flatten(), True),
    (lambda x: x[None].squeeze(0), True),
    (lambda x: x.swapaxes(0, 1), True),
    (lambda x: x.dot(np.ones(3)), True),
    (lambda x: x.take([0, 2, 2]), True),
    (lambda x: x.repeat(2, axis=0), True),
    (lambda x: x[:, :2].diagonal(), True),
    (lambda x: x[:, :2].trace(), True),
    (lambda x: x.astype(np.float32), True),
    (lambda x: x % 0.9, True),
    (lambda x: abs(x), True),
    (lambda x: -x + (+x) * 2.0 - 1.0 / (x + 3.0) ** 2, True),
    (lambda x: 2.0 ** x, True),
    (lambda x: x @ np.ones((3, 2)), True),
    (lambda x: np.ones((4, 2)) @ x, True),
    (lambda x: x // 0.9, False),
    (lambda x: x.round(1), False),
    (lambda x: x.argmax(axis=1), False),
    (lambda x: x.argmin(), False),
    (lambda x: x.argsort(axis=0), False),
    (lambda x: (x > 0).all(), False),
    (lambda x: (x > 0).any(axis=0), False),
]


@pytest.mark.parametrize("method, differentiable", METHODS, ids=range(len(METHODS)))
def test_method_value_matches_ndarray(method, differentiable):
    traced = fjac.jvp(lambda x: method(x), (X,), (np.ones_like(X),))[0]
    expected = method(X)
    np.testing.assert_allclose(np.asarray(traced, dtype=float), np.asarray(expected, dtype=float))
    assert np.asarray(traced).dtype == np.asarray(expected).dtype


@pytest.mark.parametrize("method, differentiable", METHODS, ids=range(len(METHODS)))
def test_method_derivative(method, differentiable):
    if differentiable:
        check_grads(lambda x: method(x), (X,), order=2)
    else:  # no derivative: under a differentiating transform the result is a constant, a plain
        # array (not a tracer) equal to the method applied to the ndarray itself
        expected = method(X)
        for name, transform in NONDIFF_TRANSFORMS.items():
            seen = []
            transform(lambda x, seen=seen: seen.append(method(x)) or (x * x).sum())
            assert seen, name
            for out in seen:
                assert not is_tracer(out), f"under {name}, the result is traced"
                assert isinstance(out, (np.ndarray, np.generic)), f"under {name}: {type(out)}"
                assert out.dtype == np.asarray(expected).dtype, name
                np.testing.assert_array_equal(out, expected, err_msg=name)


# Differentiating transforms, each applied to a scalar function of X.
NONDIFF_TRANSFORMS = {
    "grad": lambda f: fjac.grad(f)(X),
    "jvp": lambda f: fjac.jvp(f, (X,), (np.ones_like(X),)),
    "vjp": lambda f: fjac.vjp(f, X),
    "jacfwd": lambda f: fjac.jacfwd(f)(X),
    "hessian": lambda f: fjac.hessian(f)(X),  # nested: reverse over forward
}


def test_sort_method_points_to_the_functional_form():
    with pytest.raises(TypeError, match=r"fjac.numpy.sort\(x\)"):
        fjac.grad(lambda x: x.sort())(X)


def test_divmod_and_reflected_operators():
    q, r = fjac.jvp(lambda x: divmod(x, 0.7), (X,), (np.ones_like(X),))[0]
    np.testing.assert_allclose(q, X // 0.7)
    np.testing.assert_allclose(r, X % 0.7)
    np.testing.assert_allclose(fjac.grad(lambda x: (5.0 % (x + 3.0)).sum())(X), -(5.0 // (X + 3.0)))
