"""custom_jvp and custom_vjp under every transform, nested, batched, and their errors."""

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp


@fjac.custom_jvp
def softplus(x):
    return fnp.log(1.0 + fnp.exp(x))


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t * fjac.numpy.reciprocal(1.0 + fnp.exp(-x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("x", [-3.0, 0.0, 0.7, 2.5])
def test_custom_jvp_in_both_modes_and_second_order(x):
    s = sigmoid(x)
    assert fjac.grad(softplus)(x) == pytest.approx(s, rel=1e-13)
    assert fjac.jvp(softplus, (x,), (2.0,))[1] == pytest.approx(2 * s, rel=1e-13)
    # second derivative: s (1 - s), through the rule's own operations
    assert fjac.grad(fjac.grad(softplus))(x) == pytest.approx(s * (1 - s), rel=1e-12)
    assert fjac.jvp(fjac.grad(softplus), (x,), (1.0,))[1] == pytest.approx(s * (1 - s), rel=1e-12)


def test_custom_jvp_rule_is_used_not_the_function():
    # the rule claims derivative 3 where the function's own derivative is 1
    @fjac.custom_jvp
    def f(x):
        return x * 1.0

    f.defjvp(lambda p, t: (f(p[0]), 3.0 * t[0]))
    assert fjac.grad(f)(2.0) == 3.0
    assert fjac.jvp(f, (2.0,), (1.0,))[1] == 3.0
    np.testing.assert_allclose(fjac.jacobian(f)(np.ones(2)), 3 * np.eye(2))
    np.testing.assert_allclose(fjac.jacfwd(f)(np.ones(2)), 3 * np.eye(2))


def test_custom_jvp_stable_where_the_plain_formula_is_not():
    plain = lambda x: fnp.log(1.0 + fnp.exp(x))
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(fjac.grad(plain)(1000.0))
        assert fjac.grad(softplus)(1000.0) == 1.0


def test_custom_jvp_under_vmap_and_vmap_of_grad():
    xs = np.linspace(-2, 2, 5)
    np.testing.assert_allclose(fjac.vmap(softplus)(xs), np.log1p(np.exp(xs)))
    np.testing.assert_allclose(fjac.vmap(fjac.grad(softplus))(xs), sigmoid(xs), rtol=1e-13)
    np.testing.assert_allclose(
        fjac.grad(lambda xs: fnp.sum(fjac.vmap(softplus)(xs)))(xs), sigmoid(xs), rtol=1e-13
    )
    np.testing.assert_allclose(
        fjac.jvp(fjac.vmap(softplus), (xs,), (np.ones(5),))[1], sigmoid(xs), rtol=1e-13
    )


def test_custom_jvp_with_pytrees_and_nondiff_argnums():
    @fjac.custom_jvp
    def scaled_norm2(power, p):
        return fnp.sum(p["a"] ** 2) * power + p["b"]

    scaled_norm2.nondiff_argnums = (0,)

    @scaled_norm2.defjvp
    def _rule(power, primals, tangents):
        (p,), (t,) = primals, tangents
        return scaled_norm2(power, p), power * fnp.sum(2 * p["a"] * t["a"]) + t["b"]

    p = {"a": np.array([1.0, 2.0]), "b": np.array(0.5)}
    g = fjac.grad(lambda p: scaled_norm2(3.0, p))(p)
    np.testing.assert_allclose(g["a"], [6.0, 12.0])
    assert g["b"] == 1.0


@fjac.custom_vjp
def clip_gradient(lo, hi, x):
    return x


def _clip_fwd(lo, hi, x):
    return x, None


def _clip_bwd(lo, hi, res, g):
    return (fnp.where(g < lo, lo, fnp.where(g > hi, hi, g)),)


clip_gradient.nondiff_argnums = (0, 1)
clip_gradient.defvjp(_clip_fwd, _clip_bwd)


def test_custom_vjp_bwd_is_used_in_reverse_mode():
    assert fjac.grad(lambda x: 5.0 * clip_gradient(-1.0, 1.0, x))(2.0) == 1.0
    assert fjac.grad(lambda x: 0.5 * clip_gradient(-1.0, 1.0, x))(2.0) == 0.5
    assert clip_gradient(-1.0, 1.0, 3.0) == 3.0


@fjac.custom_vjp
def cube(x):
    return x**3


def _cube_fwd(x):
    return x**3, x


def _cube_bwd(x, g):
    return (3.0 * x**2 * g,)


cube.defvjp(_cube_fwd, _cube_bwd)


@pytest.mark.parametrize("x", [-1.5, 0.5, 2.0])
def test_custom_vjp_in_every_mode_and_order(x):
    assert fjac.grad(cube)(x) == pytest.approx(3 * x**2)
    assert fjac.jvp(cube, (x,), (2.0,))[1] == pytest.approx(6 * x**2)  # transposed bwd
    assert fjac.grad(fjac.grad(cube))(x) == pytest.approx(6 * x)  # differentiates bwd
    assert fjac.grad(fjac.grad(fjac.grad(cube)))(x) == pytest.approx(6.0)
    assert fjac.jvp(fjac.grad(cube), (x,), (1.0,))[1] == pytest.approx(6 * x)
    assert fjac.hessian(cube)(x) == pytest.approx(6 * x)


def test_custom_vjp_jacobians_and_vmap():
    xs = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(fjac.jacobian(cube)(xs), np.diag(3 * xs**2))
    np.testing.assert_allclose(fjac.jacfwd(cube)(xs), np.diag(3 * xs**2))
    np.testing.assert_allclose(fjac.vmap(fjac.grad(cube))(xs), 3 * xs**2)
    np.testing.assert_allclose(fjac.grad(lambda v: fnp.sum(fjac.vmap(cube)(v)))(xs), 3 * xs**2)


def test_custom_vjp_none_cotangent_means_zero():
    @fjac.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (x * y, y), lambda y, g: (g * y, None))
    gx, gy = fjac.grad(f, argnums=(0, 1))(2.0, 3.0)
    assert (gx, gy) == (3.0, 0.0)
    assert fjac.jvp(f, (2.0, 3.0), (1.0, 1.0))[1] == 3.0


def test_errors_name_the_function_and_the_fix():
    @fjac.custom_vjp
    def nothing(x):
        return x

    with pytest.raises(AttributeError, match=r"nothing has no VJP rule.*nothing.defvjp"):
        nothing(1.0)

    @fjac.custom_jvp
    def nojvp(x):
        return x

    with pytest.raises(AttributeError, match=r"nojvp has no JVP rule.*@nojvp.defjvp"):
        nojvp(1.0)

    @fjac.custom_vjp
    def bad(x):
        return x

    bad.defvjp(lambda x: (x, None), lambda res, g: g)  # not a tuple
    with pytest.raises(TypeError, match="bwd of bad must return a tuple with one cotangent"):
        fjac.grad(bad)(1.0)


def test_traced_nondiff_arguments_the_rules_cannot_see_are_refused():
    # the rules close over nondiff_argnums values: a value batched by the vmap that applies
    # them, or traced above the transform that does, once gave wrong numbers or leaked
    scale = fjac.custom_jvp(lambda s, x: x * s, nondiff_argnums=(0,))
    scale.defjvp(lambda s, p, t: (scale(s, p[0]), t[0] * s))
    xs, s = np.ones((2, 2)), np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=r"an argument in nondiff_argnums is traced by vmap"):
        fjac.vmap(lambda x, s: scale(s, x))(xs, s)
    with pytest.raises(TypeError, match=r"nondiff_argnums is traced by grad"):
        fjac.vmap(fjac.grad(lambda s, x: fnp.sum(scale(s, x))))(s, xs)  # was [0, 0]
    with pytest.raises(TypeError, match=r"nondiff_argnums is traced by vmap"):
        fjac.grad(lambda x: fnp.sum(fjac.vmap(lambda s: scale(s, x))(s)))(np.ones(2))
    # what the rules can see still works: unbatched, the only traced value, or at the level
    # of the differentiating transform
    np.testing.assert_array_equal(
        fjac.vmap(lambda x, s: scale(s, x), in_axes=(0, None))(xs, np.array(3.0)), 3 * xs)
    np.testing.assert_array_equal(fjac.vmap(lambda s: scale(s, np.ones(2)))(s), [[1, 1], [2, 2]])
    assert float(fjac.grad(lambda s: fnp.sum(scale(s, np.ones(2))))(np.array(3.0))) == 2.0
