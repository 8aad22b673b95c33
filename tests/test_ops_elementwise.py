"""Elementwise operations: one table row per operation, checked for values against NumPy, for
derivatives to order 2 in both modes, and through NumPy's own functions (dispatch); then
hand-checked tests of the conventions (ties, kinks, remainders, clip, zero derivatives)."""

import math

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
from fjac._core import Tracer
from fjac.testing import check_grads

# ------------------------------------------------------------------------------------------
# domains: functions (rng, shape) -> float64 array


def uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def away_from_zero(lo, hi):
    return lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(lo, hi, shape)


REAL = uniform(-2.0, 2.0)
POS = uniform(0.2, 3.0)
UNIT = uniform(-0.9, 0.9)
NONZERO = away_from_zero(0.2, 2.0)


def not_near_integer_ratio(x, y):
    """x/y at least 0.02 from an integer (remainders jump there)."""
    q = np.asarray(x / y)
    return bool(np.all(np.abs(q - np.round(q)) > 0.02))


def separated(x, y):
    """no near-ties (selections switch there)."""
    return bool(np.all(np.abs(np.asarray(x - y)) > 0.02))


# ------------------------------------------------------------------------------------------
# the tables

# (name, fjac.numpy function, NumPy reference, domain)
UNARY = [
    ("negative", fnp.negative, np.negative, REAL),
    ("positive", fnp.positive, np.positive, REAL),
    ("exp", fnp.exp, np.exp, REAL),
    ("exp2", fnp.exp2, np.exp2, REAL),
    ("expm1", fnp.expm1, np.expm1, REAL),
    ("log", fnp.log, np.log, POS),
    ("log2", fnp.log2, np.log2, POS),
    ("log10", fnp.log10, np.log10, POS),
    ("log1p", fnp.log1p, np.log1p, uniform(-0.5, 2.0)),
    ("sqrt", fnp.sqrt, np.sqrt, POS),
    ("cbrt", fnp.cbrt, np.cbrt, NONZERO),
    ("square", fnp.square, np.square, REAL),
    ("reciprocal", fnp.reciprocal, np.reciprocal, NONZERO),
    ("sin", fnp.sin, np.sin, REAL),
    ("cos", fnp.cos, np.cos, REAL),
    ("tan", fnp.tan, np.tan, uniform(-1.2, 1.2)),
    ("arcsin", fnp.arcsin, np.arcsin, UNIT),
    ("arccos", fnp.arccos, np.arccos, UNIT),
    ("arctan", fnp.arctan, np.arctan, REAL),
    ("sinh", fnp.sinh, np.sinh, REAL),
    ("cosh", fnp.cosh, np.cosh, REAL),
    ("tanh", fnp.tanh, np.tanh, REAL),
    ("arcsinh", fnp.arcsinh, np.arcsinh, REAL),
    ("arccosh", fnp.arccosh, np.arccosh, uniform(1.2, 3.0)),
    ("arctanh", fnp.arctanh, np.arctanh, UNIT),
    ("deg2rad", fnp.deg2rad, np.deg2rad, uniform(-200.0, 200.0)),
    ("rad2deg", fnp.rad2deg, np.rad2deg, REAL),
    ("degrees", fnp.degrees, np.degrees, REAL),
    ("radians", fnp.radians, np.radians, uniform(-200.0, 200.0)),
    ("sinc", fnp.sinc, np.sinc, uniform(-3.0, 3.0)),
    ("sinc_near_0", fnp.sinc, np.sinc, uniform(-0.05, 0.05)),
    ("absolute", fnp.absolute, np.absolute, NONZERO),
    ("abs", fnp.abs, np.abs, NONZERO),
    ("fabs", fnp.fabs, np.fabs, NONZERO),
]

# (name, fjac.numpy function, NumPy reference, domain of x, domain of y, validity of (x, y))
BINARY = [
    ("add", fnp.add, np.add, REAL, REAL, None),
    ("subtract", fnp.subtract, np.subtract, REAL, REAL, None),
    ("multiply", fnp.multiply, np.multiply, REAL, REAL, None),
    ("divide", fnp.divide, np.divide, REAL, NONZERO, None),
    ("true_divide", fnp.true_divide, np.true_divide, REAL, NONZERO, None),
    ("power", fnp.power, np.power, POS, REAL, None),
    ("float_power", fnp.float_power, np.float_power, POS, REAL, None),
    ("maximum", fnp.maximum, np.maximum, REAL, REAL, separated),
    ("minimum", fnp.minimum, np.minimum, REAL, REAL, separated),
    ("fmax", fnp.fmax, np.fmax, REAL, REAL, separated),
    ("fmin", fnp.fmin, np.fmin, REAL, REAL, separated),
    ("arctan2", fnp.arctan2, np.arctan2, NONZERO, NONZERO, None),
    ("hypot", fnp.hypot, np.hypot, NONZERO, NONZERO, None),
    ("logaddexp", fnp.logaddexp, np.logaddexp, REAL, REAL, None),
    ("logaddexp2", fnp.logaddexp2, np.logaddexp2, REAL, REAL, None),
    ("remainder", fnp.remainder, np.remainder, uniform(-4.0, 4.0), NONZERO,
     not_near_integer_ratio),
    ("mod", fnp.mod, np.mod, uniform(-4.0, 4.0), NONZERO, not_near_integer_ratio),
    ("fmod", fnp.fmod, np.fmod, uniform(-4.0, 4.0), NONZERO, not_near_integer_ratio),
    ("copysign", fnp.copysign, np.copysign, NONZERO, NONZERO, None),
]

# Operations with a zero derivative: (name, fjac.numpy function, NumPy reference, arity)
ZERO_DERIVATIVE = [
    ("sign", fnp.sign, np.sign, 1),
    ("floor", fnp.floor, np.floor, 1),
    ("ceil", fnp.ceil, np.ceil, 1),
    ("trunc", fnp.trunc, np.trunc, 1),
    ("rint", fnp.rint, np.rint, 1),
    ("fix", fnp.fix, np.fix, 1),
    ("round", fnp.round, np.round, 1),
    ("around", fnp.around, np.around, 1),
    ("round_1", lambda x: fnp.round(x, 1), lambda x: np.round(x, 1), 1),
    ("round_-1", lambda x: fnp.round(x, decimals=-1), lambda x: np.round(x, decimals=-1), 1),
    ("floor_divide", fnp.floor_divide, np.floor_divide, 2),
    ("equal", fnp.equal, np.equal, 2),
    ("not_equal", fnp.not_equal, np.not_equal, 2),
    ("less", fnp.less, np.less, 2),
    ("less_equal", fnp.less_equal, np.less_equal, 2),
    ("greater", fnp.greater, np.greater, 2),
    ("greater_equal", fnp.greater_equal, np.greater_equal, 2),
    ("isnan", fnp.isnan, np.isnan, 1),
    ("isfinite", fnp.isfinite, np.isfinite, 1),
    ("isinf", fnp.isinf, np.isinf, 1),
    ("signbit", fnp.signbit, np.signbit, 1),
    ("logical_not", fnp.logical_not, np.logical_not, 1),
    ("logical_and", fnp.logical_and, np.logical_and, 2),
    ("logical_or", fnp.logical_or, np.logical_or, 2),
    ("logical_xor", fnp.logical_xor, np.logical_xor, 2),
]

UNARY_SHAPES = [(), (3,), (2, 3)]
BINARY_SHAPES = [((3,), (3,)), ((3, 1), (4,)), ((), (2, 3)), ((2, 3), ()), ((2, 1, 3), (1, 4, 1))]


def _ids(table):
    return [row[0] for row in table]


def _unary_arg(domain, shape, seed=0, dtype=np.float64):
    return np.asarray(domain(np.random.default_rng(seed), shape)).astype(dtype)


def _binary_args(row, shapes, seed=0, dtype=np.float64):
    _, _, _, dom_x, dom_y, valid = row
    rng = np.random.default_rng(seed)
    for _ in range(200):
        x = np.asarray(dom_x(rng, shapes[0])).astype(dtype)
        y = np.asarray(dom_y(rng, shapes[1])).astype(dtype)
        if valid is None or valid(x, y):
            return x, y
    raise AssertionError(f"no valid arguments for {row[0]}")


# ------------------------------------------------------------------------------------------
# unary: values, derivatives, dispatch


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("row", UNARY, ids=_ids(UNARY))
def test_unary_value_matches_numpy(row, shape):
    _, fn, ref, domain = row
    for dtype in (np.float64, np.float32):
        x = _unary_arg(domain, shape, dtype=dtype)
        got, want = fn(x), ref(x)
        assert np.shape(got) == np.shape(want) and np.result_type(got) == np.result_type(want)
        np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("shape", [(), (2, 3)], ids=str)
@pytest.mark.parametrize("row", UNARY, ids=_ids(UNARY))
def test_unary_derivatives(row, shape):
    _, fn, _, domain = row
    check_grads(fn, (_unary_arg(domain, shape),), order=2, modes=("fwd", "rev"))


def _same_derivatives(f, g, args):
    """f and g (the same function written two ways) have identical derivatives to order 2."""
    np.testing.assert_allclose(fjac.jacobian(f)(*args), fjac.jacobian(g)(*args), rtol=1e-13)
    np.testing.assert_allclose(fjac.jacfwd(f)(*args), fjac.jacfwd(g)(*args), rtol=1e-13)
    hf = fjac.hessian(lambda *a: fnp.sum(f(*a)))(*args)
    hg = fjac.hessian(lambda *a: fnp.sum(g(*a)))(*args)
    np.testing.assert_allclose(hf, hg, rtol=1e-13)


@pytest.mark.parametrize("row", UNARY, ids=_ids(UNARY))
def test_unary_numpy_dispatch_matches_fjac_numpy(row):
    _, fn, ref, domain = row
    _same_derivatives(fn, ref, (_unary_arg(domain, (3,)),))


@pytest.mark.parametrize("row", UNARY, ids=_ids(UNARY))
def test_unary_float32_is_preserved(row):
    _, fn, _, domain = row
    x = _unary_arg(domain, (3,), dtype=np.float32)
    assert fn(x).dtype == np.float32
    assert fjac.grad(lambda x: fnp.sum(fn(x)))(x).dtype == np.float32
    out, t = fjac.jvp(fn, (x,), (np.ones(3, np.float32),))
    assert out.dtype == np.float32 and t.dtype == np.float32
    assert fjac.hessian(lambda x: fnp.sum(fn(x)))(x).dtype == np.float32


# ------------------------------------------------------------------------------------------
# binary: values, derivatives, dispatch


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("row", BINARY, ids=_ids(BINARY))
def test_binary_value_matches_numpy(row, shapes):
    _, fn, ref, *_ = row
    for dtype in (np.float64, np.float32):
        x, y = _binary_args(row, shapes, dtype=dtype)
        got, want = fn(x, y), ref(x, y)
        assert np.shape(got) == np.shape(want) and np.result_type(got) == np.result_type(want)
        np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("row", BINARY, ids=_ids(BINARY))
def test_binary_derivatives(row, shapes):
    _, fn, *_ = row
    check_grads(fn, _binary_args(row, shapes), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("row", BINARY, ids=_ids(BINARY))
def test_binary_with_python_scalar_operands(row):
    _, fn, ref, *_ = row
    x, y = _binary_args(row, ((3,), ()))
    y = float(y)
    np.testing.assert_allclose(fn(x, y), ref(x, y), rtol=1e-14)
    check_grads(lambda x: fn(x, y), (x,), order=2)
    x0 = float(x[0])
    np.testing.assert_allclose(fn(x0, np.array([y])), ref(x0, np.array([y])), rtol=1e-14)
    check_grads(lambda y: fn(x0, y), (np.array([y]),), order=2)


@pytest.mark.parametrize("row", BINARY, ids=_ids(BINARY))
def test_binary_numpy_dispatch_matches_fjac_numpy(row):
    _, fn, ref, *_ = row
    x, y = _binary_args(row, ((3, 1), (2,)))
    _same_derivatives(lambda x: fn(x, y), lambda x: ref(x, y), (x,))
    _same_derivatives(lambda y: fn(x, y), lambda y: ref(x, y), (y,))


@pytest.mark.parametrize("row", BINARY, ids=_ids(BINARY))
def test_binary_float32_is_preserved(row):
    _, fn, ref, *_ = row
    x, y = _binary_args(row, ((3,), (3,)), dtype=np.float32)
    out_dtype = ref(x, y).dtype  # float32, except float64 for float_power
    assert fn(x, y).dtype == out_dtype
    gx, gy = fjac.grad(lambda x, y: fnp.sum(fn(x, y)), argnums=(0, 1))(x, y)
    assert gx.dtype == np.float32 and gy.dtype == np.float32
    _, t = fjac.jvp(fn, (x, y), (np.ones(3, np.float32), np.ones(3, np.float32)))
    assert t.dtype == out_dtype
    assert fjac.hessian(lambda x: fnp.sum(fn(x, y)))(x).dtype == np.float32


# ------------------------------------------------------------------------------------------
# zero-derivative operations: values, plain results under transforms


EDGES = np.array([-2.5, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.5, 0.25, -3.7, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("row", ZERO_DERIVATIVE, ids=_ids(ZERO_DERIVATIVE))
def test_zero_derivative_values_match_numpy(row):
    _, fn, ref, arity = row
    args = (EDGES,) if arity == 1 else (EDGES, EDGES[::-1] + 0.5)
    with np.errstate(invalid="ignore", divide="ignore"):
        got, want = fn(*args), ref(*args)
    np.testing.assert_array_equal(got, want)
    assert np.result_type(got) == np.result_type(want)


@pytest.mark.parametrize("row", ZERO_DERIVATIVE, ids=_ids(ZERO_DERIVATIVE))
def test_zero_derivative_results_are_plain_under_transforms(row):
    _, fn, ref, arity = row
    x = np.array([-1.3, 0.4, 2.6])
    y = np.array([0.7, 0.4, -1.1])
    expected = ref(x) if arity == 1 else ref(x, y)
    seen = []

    def f(x):
        out = fn(x) if arity == 1 else fn(x, y)
        seen.append(out)
        return fnp.sum(x * fnp.astype(out, np.float64))

    g = fjac.grad(f)(x)
    fjac.jvp(f, (x,), (np.ones(3),))
    fjac.hessian(f)(x)
    for out in seen:
        assert isinstance(out, np.ndarray) and not isinstance(out, Tracer)
        np.testing.assert_array_equal(out, expected)
    # d/dx [x * c(x)] = c(x) when c has a zero derivative; the same through NumPy's function
    np.testing.assert_array_equal(g, expected)
    g = fjac.grad(lambda x: fnp.sum(x * (ref(x) if arity == 1 else ref(x, y))))(x)
    np.testing.assert_array_equal(g, expected)


# ------------------------------------------------------------------------------------------
# hand-checked conventions


@pytest.mark.parametrize("fn", [fnp.maximum, fnp.minimum, fnp.fmax, fnp.fmin, np.maximum,
                                np.minimum, np.fmax, np.fmin])
def test_ties_split_the_derivative_half_half(fn):
    x = np.array([1.0, 2.0, -0.0, 3.0])
    y = np.array([1.0, 2.0, 0.0, 1.0])
    gx, gy = fjac.grad(lambda x, y: fnp.sum(fn(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx[:3], 0.5)
    np.testing.assert_array_equal(gy[:3], 0.5)
    np.testing.assert_array_equal(gx + gy, 1.0)  # never NaN, always sums to one
    _, tx = fjac.jvp(lambda x: fn(x, y), (x,), (np.ones(4),))
    _, ty = fjac.jvp(lambda y: fn(x, y), (y,), (np.ones(4),))
    np.testing.assert_array_equal(tx + ty, 1.0)
    hess = fjac.hessian(lambda x: fnp.sum(fn(x, y)))(x)
    assert np.all(np.isfinite(hess))


def test_relu_at_zero_gets_half():
    g = fjac.grad(lambda x: fnp.sum(np.maximum(x, 0.0)))(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("fn", [fnp.fmax, fnp.fmin])
def test_fmax_fmin_differentiate_the_non_nan_side(fn):
    x = np.array([np.nan, 1.0])
    y = np.array([2.0, np.nan])
    gx, gy = fjac.grad(lambda x, y: fnp.sum(fn(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.0, 1.0])
    np.testing.assert_array_equal(gy, [1.0, 0.0])


@pytest.mark.parametrize("fn, quotient", [
    (fnp.mod, [2.0, -3.0, -3.0, 2.0, 9.0]),  # floor(x / y)
    (fnp.fmod, [2.0, -2.0, -2.0, 2.0, 9.0]),  # trunc(x / y)
    (np.remainder, [2.0, -3.0, -3.0, 2.0, 9.0]),
    (np.fmod, [2.0, -2.0, -2.0, 2.0, 9.0]),
], ids=["mod", "fmod", "np.remainder", "np.fmod"])
def test_remainder_and_fmod_derivatives(fn, quotient):
    x = np.array([5.5, -5.5, 5.5, -5.5, 1.0])
    y = np.array([2.0, 2.0, -2.0, -2.0, 0.1])
    gx, gy = fjac.grad(lambda x, y: fnp.sum(fn(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, 1.0)
    # d/dy = -quotient; for (1.0, 0.1) the quotient is 9, the one consistent with the value
    # (fmod(1, 0.1) = 0.0999...), not trunc(1.0 / 0.1) = 10
    np.testing.assert_array_equal(gy, -np.array(quotient))
    assert np.fmod(1.0, 0.1) == pytest.approx(1.0 - 9 * 0.1)


def test_floor_divide_and_remainder_operators_of_numpy_arrays_dispatch():
    x = np.array([5.5, -5.5])
    g = fjac.grad(lambda x: fnp.sum(np.remainder(x, 2.0) + np.floor_divide(x, 2.0)))(x)
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_copysign_derivative_is_the_sign_agreement():
    x = np.array([2.0, -2.0, 2.0, -2.0, 3.0])
    y = np.array([1.0, 1.0, -1.0, -1.0, -0.0])
    gx, gy = fjac.grad(lambda x, y: fnp.sum(fnp.copysign(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [1.0, -1.0, -1.0, 1.0, -1.0])
    np.testing.assert_array_equal(gy, 0.0)


def test_clip_inside_at_and_outside_the_bounds():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    g = fjac.grad(lambda x: fnp.sum(fnp.clip(x, 0.0, 1.0)))(x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])  # bounds count as inside
    glo, ghi = fjac.grad(lambda lo, hi: fnp.sum(fnp.clip(x, lo, hi)), argnums=(0, 1))(0.0, 1.0)
    assert (glo, ghi) == (1.0, 1.0)  # each bound is chosen once (strictly beyond it)
    np.testing.assert_array_equal(fjac.grad(lambda x: fnp.sum(np.clip(x, 0, 1)))(x), g)


def test_clip_with_array_and_missing_bounds():
    x = np.array([[-1.0, 0.5, 3.0], [0.2, 0.3, 0.4]])
    lo = np.array([0.0, 0.6, 0.0])
    for kwargs in ({"a_min": lo, "a_max": 1.0}, {"a_min": None, "a_max": 0.35},
                   {"a_min": lo, "a_max": None}, {"min": lo, "max": 2.0}):
        np.testing.assert_array_equal(fnp.clip(x, **kwargs), np.clip(x, **kwargs))
    glo = fjac.grad(lambda lo: fnp.sum(fnp.clip(x, lo, 1.0)))(lo)
    np.testing.assert_array_equal(glo, [1.0, 2.0, 0.0])
    check_grads(lambda x, lo: fnp.clip(x, lo, 2.0), (x, lo), order=2)
    assert fnp.clip(x, None, None) is x
    with pytest.raises(TypeError, match="a_min or min"):
        fnp.clip(x, 0.0, 1.0, min=0.0)


def test_clip_with_crossed_bounds_returns_and_differentiates_the_upper_bound():
    x = np.array([-1.0, 0.5, 3.0])
    np.testing.assert_array_equal(fnp.clip(x, 2.0, 1.0), np.clip(x, 2.0, 1.0))
    gx, glo, ghi = fjac.grad(lambda x, lo, hi: fnp.sum(fnp.clip(x, lo, hi)),
                             argnums=(0, 1, 2))(x, 2.0, 1.0)
    np.testing.assert_array_equal(gx, 0.0)
    assert (glo, ghi) == (0.0, 3.0)


def test_kinks_have_finite_derivatives():
    assert fjac.grad(fnp.abs)(0.0) == 0.0
    assert fjac.grad(fnp.fabs)(0.0) == 0.0
    gx, gy = fjac.grad(lambda x, y: fnp.hypot(x, y), argnums=(0, 1))(0.0, 0.0)
    assert (gx, gy) == (0.0, 0.0)
    np.testing.assert_allclose(fjac.grad(lambda x: fnp.hypot(x, 4.0))(3.0), 0.6)


def test_sinc_derivatives_are_exact_at_zero():
    d = fnp.sinc
    for want in [1.0, 0.0, -math.pi**2 / 3, 0.0, math.pi**4 / 5]:  # orders 0 to 4
        np.testing.assert_allclose(d(0.0), want, atol=1e-12)
        d = fjac.grad(d)
    check_grads(fnp.sinc, (np.array([0.0, 1e-3, 0.3, 0.63, 0.65, 1.0, -2.5]),), order=3)


def test_trig_and_hyperbolic_derivatives_by_hand():
    x = 0.3
    assert fjac.grad(fnp.arcsin)(x) == pytest.approx(1 / math.sqrt(1 - x * x))
    assert fjac.grad(fnp.arccos)(x) == pytest.approx(-1 / math.sqrt(1 - x * x))
    assert fjac.grad(fnp.arctanh)(x) == pytest.approx(1 / (1 - x * x))
    assert fjac.grad(fnp.arccosh)(2.0) == pytest.approx(1 / math.sqrt(3.0))
    assert fjac.grad(fnp.exp2)(x) == pytest.approx(2**x * math.log(2))
    assert fjac.grad(fnp.log10)(x) == pytest.approx(1 / (x * math.log(10)))
    assert fjac.grad(fnp.cbrt)(8.0) == pytest.approx(1 / 12)
    assert fjac.grad(fnp.deg2rad)(x) == pytest.approx(math.pi / 180)
    gx, gy = fjac.grad(fnp.arctan2, argnums=(0, 1))(1.0, 2.0)
    assert (gx, gy) == (pytest.approx(2 / 5), pytest.approx(-1 / 5))
    gx, gy = fjac.grad(fnp.logaddexp, argnums=(0, 1))(0.0, 0.0)
    assert (gx, gy) == (0.5, 0.5)


def test_float_power_computes_in_float64_and_differentiates_both():
    x = np.array([1.5, 2.0], np.float32)
    assert fnp.float_power(x, 2).dtype == np.float64
    g = fjac.grad(lambda x: fnp.sum(fnp.float_power(x, 2.0)))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * x)


def test_astype_float_is_differentiable_and_int_is_constant():
    x = np.array([1.25, 2.5])
    g = fjac.grad(lambda x: fnp.sum(fnp.astype(x, np.float32) * 2.0))(x)
    np.testing.assert_array_equal(g, [2.0, 2.0])
    g = fjac.grad(lambda x: fnp.sum(x * fnp.astype(x, np.int64)))(x)
    np.testing.assert_array_equal(g, [1.0, 2.0])


def test_power_derivatives_at_zero_exponent_and_base():
    # ∂²(x^y)/∂x∂y = x^(y-1) (1 + y log x), which is 1/x at y = 0
    d2 = fjac.grad(fjac.grad(lambda x, y: x**y, argnums=0), argnums=1)(2.0, 0.0)
    assert d2 == pytest.approx(0.5)
    gx, gy = fjac.grad(lambda x, y: fnp.power(x, y), argnums=(0, 1))(0.0, 0.0)
    assert (gx, gy) == (0.0, 0.0)  # 0**0: finite, not NaN
    h = fjac.hessian(lambda x: fnp.sum(x ** np.array([0.0, 1.0, 2.0])))(np.zeros(3))
    np.testing.assert_array_equal(h, np.diag([0.0, 0.0, 2.0]))
