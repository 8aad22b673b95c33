"""Semantics of the transforms: argnums, has_aux, kwargs, nesting, dtypes and errors."""

import collections
import math

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
from fjac.errors import TracerConversionError, TracerLeakError

# ------------------------------------------------------------------------------------------
# grad and value_and_grad


def test_grad_of_polynomial_and_trig():
    f = lambda x: x**3 + 2 * fnp.sin(x)
    for x in [-1.5, 0.0, 0.3, 2.0]:
        assert fjac.grad(f)(x) == pytest.approx(3 * x**2 + 2 * math.cos(x), rel=1e-14)


def test_python_float_input_gives_0d_float64():
    g = fjac.grad(lambda x: x * x)(3.0)
    assert isinstance(g, np.ndarray) and g.shape == () and g.dtype == np.float64
    assert g == 6.0


def test_float32_is_preserved_everywhere():
    x = np.array([1.0, 2.0], dtype=np.float32)
    f = lambda x: fnp.sum(fnp.tanh(x) * 2.0)
    assert fjac.grad(f)(x).dtype == np.float32
    out, t = fjac.jvp(lambda x: fnp.tanh(x) * 2.0, (x,), (np.ones(2, np.float32),))
    assert out.dtype == np.float32 and t.dtype == np.float32
    assert fjac.jacobian(lambda x: fnp.exp(x))(x).dtype == np.float32
    assert fjac.hessian(f)(x).dtype == np.float32


def test_mixed_precision_gradient_keeps_the_input_dtype():
    x = np.array([1.0, 2.0], dtype=np.float32)
    w = np.array([0.5, 3.0], dtype=np.float64)
    g = fjac.grad(lambda x: fnp.sum(x * w))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, w)


def test_argnums_int_tuple_and_negative():
    f = lambda x, y, z: x * y**2 + z
    assert fjac.grad(f, argnums=1)(2.0, 3.0, 1.0) == 12.0
    gx, gz = fjac.grad(f, argnums=(0, 2))(2.0, 3.0, 1.0)
    assert (gx, gz) == (9.0, 1.0)
    assert fjac.grad(f, argnums=-1)(2.0, 3.0, 1.0) == 1.0
    (gy,) = fjac.grad(f, argnums=(1,))(2.0, 3.0, 1.0)
    assert gy == 12.0


def test_kwargs_pass_through_undifferentiated():
    f = lambda x, scale=1.0: scale * x**2
    assert fjac.grad(f)(3.0, scale=10.0) == 60.0


def test_has_aux_returns_aux_unwrapped():
    def f(x):
        y = fnp.sin(x)
        return fnp.sum(y), {"y": y, "label": "hello"}

    g, aux = fjac.grad(f, has_aux=True)(np.array([0.0, 1.0]))
    np.testing.assert_allclose(g, np.cos([0.0, 1.0]))
    assert isinstance(aux["y"], np.ndarray) and aux["label"] == "hello"
    np.testing.assert_allclose(aux["y"], np.sin([0.0, 1.0]))
    (value, aux2), g2 = fjac.value_and_grad(f, has_aux=True)(np.array([0.0, 1.0]))
    assert value == pytest.approx(np.sin(1.0))
    np.testing.assert_allclose(g2, g)


def test_pytree_inputs_give_pytree_gradients():
    Params = collections.namedtuple("Params", "w b")
    params = {"layer": Params(w=np.array([1.0, 2.0]), b=0.5), "scale": [np.array(3.0)]}

    def loss(p):
        w, b = p["layer"].w, p["layer"].b
        return p["scale"][0] * fnp.sum(w * w) + b

    g = fjac.grad(loss)(params)
    assert isinstance(g["layer"], Params)
    np.testing.assert_allclose(g["layer"].w, [6.0, 12.0])
    assert g["layer"].b == 1.0
    assert g["scale"][0] == 5.0
    # the input was not mutated
    np.testing.assert_array_equal(params["layer"].w, [1.0, 2.0])
    assert params["layer"].b == 0.5


def test_unused_inputs_and_constant_outputs_have_zero_gradients():
    g = fjac.grad(lambda x, y: x * 2.0, argnums=(0, 1))(1.0, np.ones(3))
    assert g[0] == 2.0
    np.testing.assert_array_equal(g[1], np.zeros(3))
    assert fjac.grad(lambda x: 7.0)(np.array(1.5)) == 0.0
    np.testing.assert_array_equal(fjac.jacobian(lambda x: np.ones(2))(np.ones(3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(fjac.jacfwd(lambda x: np.ones(2))(np.ones(3)), np.zeros((2, 3)))


def test_same_input_used_many_times_accumulates():
    # x appears 4 times: the cotangents of every use must add up
    f = lambda x: x * x + fnp.sin(x) * x
    x = 0.7
    assert fjac.grad(f)(x) == pytest.approx(2 * x + math.cos(x) * x + math.sin(x), rel=1e-14)


def test_allow_int_gives_float0_zero():
    g = fjac.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert g[0] == 3.0
    assert g[1].dtype == fjac.float0 and g[1].shape == ()


# ------------------------------------------------------------------------------------------
# nesting, higher order, perturbation confusion


def test_higher_derivatives_of_sin_to_fourth_order():
    d = fnp.sin
    expected = [math.cos, lambda x: -math.sin(x), lambda x: -math.cos(x), math.sin]
    for want in expected:
        d = fjac.grad(d)
        for x in [0.0, 0.4, 2.0]:
            assert d(x) == pytest.approx(want(x), abs=1e-14)


def test_fifth_derivative_of_a_polynomial():
    f = lambda x: x**6
    d = f
    for _ in range(5):
        d = fjac.grad(d)
    assert d(2.0) == pytest.approx(720 * 2.0, rel=1e-14)


def test_perturbation_confusion_is_avoided():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1, never 2
    f = lambda x: x * fjac.grad(lambda y: x + y)(1.0)
    assert fjac.grad(f)(1.0) == 1.0
    g = lambda x: fjac.jvp(lambda y: x * y, (2.0,), (1.0,))[1]
    # jvp of y -> x*y along 1 is x, so d/dx is 1
    assert fjac.grad(g)(3.0) == 1.0


def test_hessian_vector_products_agree_in_all_mode_combinations():
    A = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 1.0]])

    def f(x):
        return fnp.sum(fnp.sin(A @ x) * x)

    x = np.array([0.1, -0.4, 0.8])
    v = np.array([1.0, 2.0, -1.0])
    H = fjac.hessian(f)(x)
    fwd_over_rev = fjac.jvp(fjac.grad(f), (x,), (v,))[1]
    rev_over_fwd = fjac.grad(lambda x: fjac.jvp(f, (x,), (v,))[1])(x)
    rev_over_rev = fjac.grad(lambda x: fnp.sum(fjac.grad(f)(x) * v))(x)
    _, vjp_fn = fjac.vjp(fjac.grad(f), x)
    for hv in [fwd_over_rev, rev_over_fwd, rev_over_rev, vjp_fn(v)[0]]:
        np.testing.assert_allclose(hv, H @ v, rtol=1e-12)
    np.testing.assert_allclose(H, H.T, rtol=1e-12)
    np.testing.assert_allclose(fjac.jacfwd(fjac.jacfwd(f))(x), H, rtol=1e-12)
    np.testing.assert_allclose(fjac.jacobian(fjac.jacobian(f))(x), H, rtol=1e-12)


def test_hessian_by_hand():
    # f = x0^2 x1 + x1^3: H = [[2 x1, 2 x0], [2 x0, 6 x1]]
    f = lambda x: x[0] ** 2 * x[1] + x[1] ** 3
    x = np.array([1.5, -2.0])
    np.testing.assert_allclose(fjac.hessian(f)(x), [[-4.0, 3.0], [3.0, -12.0]])


def test_vjp_of_vjp():
    f = lambda x: fnp.sin(x) * x
    x = np.array([0.3, 1.2])

    def pullback(x, v):
        return fjac.vjp(f, x)[1](v)[0]

    v = np.array([1.0, -0.5])
    _, vjp2 = fjac.vjp(pullback, x, v)
    dx, dv = vjp2(np.ones(2))
    # pullback = v * f'(x); d/dx = v f''(x), d/dv = f'(x)
    fp = np.cos(x) * x + np.sin(x)
    fpp = -np.sin(x) * x + 2 * np.cos(x)
    np.testing.assert_allclose(dx, v * fpp, rtol=1e-14)
    np.testing.assert_allclose(dv, fp, rtol=1e-14)


# ------------------------------------------------------------------------------------------
# vjp, jvp, jacobian layouts


def test_vjp_fn_is_reusable_and_linear():
    f = lambda x: fnp.stack([x[0] * x[1], fnp.exp(x[1])])
    x = np.array([2.0, 0.5])
    out, vjp_fn = fjac.vjp(f, x)
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    (ga,), (gb,) = vjp_fn(a), vjp_fn(b)
    (gab,) = vjp_fn(2 * a + 3 * b)
    np.testing.assert_allclose(gab, 2 * ga + 3 * gb)
    np.testing.assert_allclose(vjp_fn(a)[0], ga)  # again, the same


def test_vjp_with_pytree_output_and_several_primals():
    def f(x, y):
        return {"s": fnp.sum(x * y), "p": (x * 2.0, y)}

    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    out, vjp_fn = fjac.vjp(f, x, y)
    assert set(out) == {"p", "s"}
    ct = {"s": np.array(1.0), "p": (np.array([1.0, 1.0]), np.array([0.0, 2.0]))}
    gx, gy = vjp_fn(ct)
    np.testing.assert_allclose(gx, y + 2.0)
    np.testing.assert_allclose(gy, x + np.array([0.0, 2.0]))


def test_vjp_gives_float0_for_integer_primals():
    out, vjp_fn = fjac.vjp(lambda x, n: x * n, 2.0, np.array(3))
    gx, gn = vjp_fn(1.0)
    assert gx == 3.0 and gn.dtype == fjac.float0


def test_jvp_with_pytrees_and_aux():
    def f(p):
        return p["a"] * p["b"], "aux"

    p = {"a": np.array([1.0, 2.0]), "b": np.array([3.0, 4.0])}
    t = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0])}
    out, tout, aux = fjac.jvp(f, (p,), (t,), has_aux=True)
    np.testing.assert_allclose(out, [3.0, 8.0])
    np.testing.assert_allclose(tout, [3.0, 2.0])
    assert aux == "aux"


def test_jacobian_layout_for_pytrees():
    def f(x, y):
        return {"u": x * y[0], "v": fnp.sum(x)}

    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 5.0])
    for jac in (fjac.jacobian, fjac.jacfwd):
        J = jac(f, argnums=(0, 1))(x, y)
        assert J["u"][0].shape == (3, 3) and J["u"][1].shape == (3, 2)
        assert J["v"][0].shape == (3,) and J["v"][1].shape == (2,)
        np.testing.assert_allclose(J["u"][0], 2.0 * np.eye(3))
        np.testing.assert_allclose(J["u"][1], np.stack([x, np.zeros(3)], axis=1))
        np.testing.assert_allclose(J["v"][0], np.ones(3))
        np.testing.assert_allclose(J["v"][1], np.zeros(2))


def test_jacobian_of_matrix_function_shapes():
    W = np.arange(6.0).reshape(2, 3)
    f = lambda X: fnp.tanh(X @ W)  # (4,2) -> (4,3)
    X = np.linspace(-1, 1, 8).reshape(4, 2)
    Jr, Jf = fjac.jacobian(f)(X), fjac.jacfwd(f)(X)
    assert Jr.shape == (4, 3, 4, 2)
    np.testing.assert_allclose(Jr, Jf, rtol=1e-12)
    # explicit: dY[i,j]/dX[k,l] = δik W[l,j] (1 - Y[i,j]^2)
    Y = np.tanh(X @ W)
    explicit = np.einsum("ik,lj,ij->ijkl", np.eye(4), W, 1 - Y**2)
    np.testing.assert_allclose(Jr, explicit, rtol=1e-12)


def test_jacobian_has_aux():
    J, aux = fjac.jacobian(lambda x: (x * 2.0, x.shape), has_aux=True)(np.ones(2))
    np.testing.assert_allclose(J, 2 * np.eye(2))
    assert aux == (2,)
    J2, aux2 = fjac.jacfwd(lambda x: (x * 2.0, x.shape), has_aux=True)(np.ones(2))
    np.testing.assert_allclose(J2, J)
    assert aux2 == (2,)


def test_stop_gradient():
    # value x^2, derivative 1: the checker example of the testing issue
    f = lambda x: x + fjac.stop_gradient(x**2 - x)
    assert f(3.0) == 9.0
    assert fjac.grad(f)(3.0) == 1.0
    assert fjac.jvp(f, (3.0,), (1.0,)) == (9.0, 1.0)
    tree = fjac.stop_gradient({"a": np.ones(2), "b": None})
    assert tree["b"] is None


def test_control_flow_on_values():
    def relu_ish(x):
        if x > 0:
            return x * x
        return -x

    assert fjac.grad(relu_ish)(2.0) == 4.0
    assert fjac.grad(relu_ish)(-2.0) == -1.0


# ------------------------------------------------------------------------------------------
# errors users read


def test_grad_of_non_scalar_output_names_the_shape_and_the_fix():
    with pytest.raises(TypeError, match=r"scalar \(0-d\) output, got shape \(3,\); use jacobian"):
        fjac.grad(lambda x: x * 2.0)(np.ones(3))


def test_grad_of_integer_and_none_outputs():
    with pytest.raises(TypeError, match="floating-point output, got dtype int64"):
        fjac.grad(lambda x: np.int64(3))(1.0)
    with pytest.raises(TypeError, match="got None"):
        fjac.grad(lambda x: None)(1.0)


def test_grad_with_integer_input_names_the_dtype_and_allow_int():
    with pytest.raises(TypeError, match=r"argument 0 has dtype int64 \(integer\).*allow_int=True"):
        fjac.grad(lambda x: x * 1.0)(np.array(3))
    with pytest.raises(TypeError, match=r"argument 1 at \['w'\] has dtype bool"):
        fjac.grad(lambda x, p: x, argnums=(0, 1))(1.0, {"w": np.array(True)})


def test_non_array_input_is_named():
    with pytest.raises(TypeError, match="argument 0 is a str"):
        fjac.grad(lambda x: 1.0)("hello")


def test_argnums_errors():
    f = lambda x, y: x * y
    with pytest.raises(ValueError, match=r"argnums=2 names positional argument 2.*2 positional"):
        fjac.grad(f, argnums=2)(1.0, 2.0)
    with pytest.raises(ValueError, match="more than once"):
        fjac.grad(f, argnums=(0, 0))(1.0, 2.0)
    with pytest.raises(TypeError, match="argnums must be an int or a tuple"):
        fjac.grad(f, argnums=[0])(1.0, 2.0)


def test_has_aux_needs_a_pair():
    with pytest.raises(TypeError, match=r"pair \(output, aux\); it returned a tuple of length 3"):
        fjac.grad(lambda x: (x, 1, 2), has_aux=True)(1.0)
    with pytest.raises(TypeError, match="it returned a ndarray"):
        fjac.grad(lambda x: np.ones(()), has_aux=True)(1.0)


def test_vjp_cotangent_errors():
    _, vjp_fn = fjac.vjp(lambda x: {"a": x * 2.0}, np.ones(3))
    with pytest.raises(TypeError, match="structure of the function's output"):
        vjp_fn(np.ones(3))
    with pytest.raises(ValueError, match=r"cotangent leaf \['a'\] has shape \(2,\).*shape \(3,\)"):
        vjp_fn({"a": np.ones(2)})
    with pytest.raises(TypeError, match=r"dtype int64 \(integer\)"):
        vjp_fn({"a": np.ones(3, dtype=np.int64)})


def test_jvp_argument_errors():
    with pytest.raises(TypeError, match="primals must be a tuple or list"):
        fjac.jvp(fnp.sin, np.ones(2), (np.ones(2),))
    with pytest.raises(TypeError, match="1 primals but 2 tangents"):
        fjac.jvp(fnp.sin, (np.ones(2),), (np.ones(2), np.ones(2)))
    with pytest.raises(ValueError, match=r"tangent \[0\] has shape \(3,\).*has shape \(2,\)"):
        fjac.jvp(fnp.sin, (np.ones(2),), (np.ones(3),))
    with pytest.raises(TypeError, match="structure of the primals"):
        fjac.jvp(lambda a: a, ((1.0, 2.0),), ([1.0, 2.0],))


def test_jacobian_of_integer_output_is_an_error():
    with pytest.raises(TypeError, match="floating-point outputs.*int64"):
        fjac.jacobian(lambda x: np.arange(3))(np.ones(2))


def test_conversion_of_a_tracer_raises():
    with pytest.raises(TracerConversionError, match="drop its derivative.*stop_gradient"):
        fjac.grad(lambda x: float(x))(1.0)
    with pytest.raises(TracerConversionError, match="NumPy array"):
        fjac.grad(lambda x: np.asarray(x).sum())(np.ones(2))
    with pytest.raises(TypeError, match=r"x.at\[idx\].set"):

        def assign(x):
            x[0] = 1.0
            return x.sum()

        fjac.grad(assign)(np.ones(2))


def test_leaked_tracer_is_an_error_not_a_wrong_number():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2.0

    fjac.grad(f)(1.0)
    with pytest.raises(TracerLeakError, match="a tracer of grad"):
        fjac.grad(lambda y: y * leaked[0])(1.0)
    with pytest.raises(TracerLeakError, match="escaped"):
        leaked[0] + 1.0
