"""Complex values through every transform, with JAX's convention.

A cotangent ``g`` pairs with a tangent ``t`` as ``Re(sum(g * t))``: linear maps transpose
without conjugation, the gradient of a real function of ``z = x + iy`` is ``df/dx - i df/dy``,
and ``holomorphic=True`` gives the complex derivative ``f'(z)``. Checked here by hand-derived
values and against the explicit real Jacobian of the map on (Re, Im) parts; tests/test_oracle.py
checks each operation against JAX. A primitive whose rules are not declared right for complex
values is still refused, never differentiated wrongly.
"""

from __future__ import annotations

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
from fjac import extend
from fjac.errors import UnsupportedOperationError

ONES = np.ones(3)
Z = np.array([1.0 + 2.0j, -0.5 + 0.3j, 2.0 - 1.0j])


# --- the repros: once silently wrong, now right -------------------------------------


@pytest.mark.parametrize("f, truth", [
    (lambda a: np.sum(np.abs(a * (1 + 2j))), np.sqrt(5.0)),
    (lambda x: np.sum(np.abs(np.exp(1j * x))), 0.0),
    (lambda a: np.sum(np.real(a * (1 + 2j) ** 2)), -3.0),
    (lambda a: np.sum(fnp.real(fnp.astype(a, complex))), 1.0),
], ids=["abs-of-scaled", "abs-of-exp-ix", "real-part", "astype-round-trip"])
def test_the_repros_give_the_true_gradient(f, truth):
    np.testing.assert_allclose(fjac.grad(f)(ONES), np.full(3, truth), atol=1e-15)


def test_astype_to_real_keeps_the_real_part_and_warns_as_numpy_does():
    f = lambda a: np.sum(fnp.astype(a * (1 + 2j) ** 2, float))  # noqa: E731
    with pytest.warns(np.exceptions.ComplexWarning):
        np.testing.assert_allclose(fjac.grad(f)(ONES), np.full(3, -3.0))


# --- JAX's convention, by hand ---------------------------------------------------------------


def test_grad_of_a_real_function_of_complex_input_is_df_dx_minus_i_df_dy():
    # f(z) = |z|^2 = x^2 + y^2: df/dx - i df/dy = 2x - 2iy = 2 conj(z)
    g = fjac.grad(lambda z: fnp.sum(fnp.abs(z) ** 2))(Z)
    np.testing.assert_allclose(g, 2 * np.conj(Z))
    assert g.dtype == np.complex128
    np.testing.assert_allclose(fjac.grad(fnp.abs)(np.array(3 + 4j)), 0.6 - 0.8j)
    # f(z) = Re(z) Im(z) = xy: y - ix
    g = fjac.grad(lambda z: fnp.sum(fnp.real(z) * fnp.imag(z)))(Z)
    np.testing.assert_allclose(g, Z.imag - 1j * Z.real)


def test_holomorphic_grad_is_the_complex_derivative():
    z = np.array(1.0 + 2.0j)
    np.testing.assert_allclose(fjac.grad(lambda z: z ** 3, holomorphic=True)(z), 3 * z ** 2)
    value, g = fjac.value_and_grad(fnp.sin, holomorphic=True)(z)
    np.testing.assert_allclose((value, g), (np.sin(z), np.cos(z)))
    np.testing.assert_allclose(fjac.jacobian(fnp.exp, holomorphic=True)(Z), np.diag(np.exp(Z)))
    np.testing.assert_allclose(fjac.jacfwd(fnp.exp, holomorphic=True)(Z), np.diag(np.exp(Z)))
    np.testing.assert_allclose(
        fjac.hessian(lambda z: fnp.sum(z ** 3), holomorphic=True)(Z), np.diag(6 * Z)
    )
    np.testing.assert_allclose(
        fjac.grad(fjac.grad(lambda z: z ** 3, holomorphic=True), holomorphic=True)(z), 6 * z
    )


def test_vjp_and_jvp_of_complex_outputs():
    out, vjp_fn = fjac.vjp(lambda z: z * (2 - 1j), Z)
    np.testing.assert_allclose(vjp_fn(np.ones(3, complex))[0], np.full(3, 2 - 1j))
    np.testing.assert_allclose(vjp_fn(np.full(3, 1j))[0], np.full(3, (2 - 1j) * 1j))
    # a real input's cotangent is real: the real part, the transpose of the embedding
    _, vjp_fn = fjac.vjp(lambda x: x * (2 - 1j), ONES)
    ct = vjp_fn(np.full(3, 1j))[0]
    assert ct.dtype == np.float64
    np.testing.assert_allclose(ct, np.full(3, 1.0))
    out, t = fjac.jvp(lambda z: z ** 2, (Z,), (np.full(3, 1j),))
    np.testing.assert_allclose(t, 2 * Z * 1j)
    _, t = fjac.jvp(lambda z: z ** 2, (Z,), (ONES,))  # a real tangent of a complex primal
    np.testing.assert_allclose(t, 2 * Z)
    assert t.dtype == np.complex128


def _real_map(f):
    """f: C^n -> C^m as the real map (Re z, Im z) -> (Re f, Im f)."""
    def g(xy):
        n = xy.shape[0] // 2
        out = f(xy[:n] + 1j * xy[n:])
        return fnp.concatenate([fnp.real(out), fnp.imag(out)])
    return g


@pytest.mark.parametrize("f", [
    lambda z: fnp.sin(z) * fnp.conj(z),
    lambda z: fnp.abs(z) + 1j * fnp.angle(z),
    lambda z: fnp.exp(z) @ np.array([[1.0, 2j], [0.5, 1], [1j, 0]]),
    lambda z: fnp.cumprod(z) / (1 + fnp.real(z) ** 2),
], ids=["sin*conj", "abs,angle", "matmul", "cumprod"])
def test_jvp_and_vjp_agree_with_the_explicit_real_jacobian(f):
    n = Z.shape[0]
    xy = np.concatenate([Z.real, Z.imag])
    JR = fjac.jacfwd(_real_map(f))(xy)  # all real: no convention involved
    m = JR.shape[0] // 2
    rng = np.random.default_rng(0)
    t = rng.normal(size=n) + 1j * rng.normal(size=n)
    _, tout = fjac.jvp(f, (Z,), (t,))
    np.testing.assert_allclose(np.concatenate([tout.real, tout.imag]),
                               JR @ np.concatenate([t.real, t.imag]), atol=1e-12)
    ct = rng.normal(size=m) + 1j * rng.normal(size=m)
    (ct_z,) = fjac.vjp(f, Z)[1](ct)
    # Re(ct * dout) = [Re ct, -Im ct] . JR [dx, dy]
    # Re(ct_z * dz) = [Re ct_z, -Im ct_z] . [dx, dy]
    expected = np.concatenate([ct.real, -ct.imag]) @ JR
    np.testing.assert_allclose(np.concatenate([ct_z.real, -ct_z.imag]), expected, atol=1e-12)
    # and jacobian of a real function of z, row by row: d Re(f_k)
    rows = fjac.jacobian(lambda z: fnp.real(f(z)))(Z)
    np.testing.assert_allclose(np.concatenate([rows.real, -rows.imag], axis=1), JR[:m],
                               atol=1e-12)


def test_complex_sign_is_z_over_abs_z_and_differentiable():
    np.testing.assert_allclose(fnp.sign(Z), Z / np.abs(Z))
    assert fnp.sign(np.array(0j)) == 0
    f = lambda z: fnp.real(fnp.sign(z) * (2 + 1j))  # noqa: E731
    g = fjac.grad(f)(Z[0])
    h = 1e-6
    fd = [(f(Z[0] + d * h) - f(Z[0] - d * h)) / (2 * h) for d in (1, 1j)]
    np.testing.assert_allclose(g, fd[0] - 1j * fd[1], rtol=1e-7)


def test_var_and_std_of_complex_data_are_real():
    v = fnp.var(Z)
    assert v.dtype == np.float64
    np.testing.assert_allclose(v, np.var(Z))
    np.testing.assert_allclose(fjac.grad(fnp.var)(Z), 2 * np.conj(Z - Z.mean()) / 3)
    np.testing.assert_allclose(fjac.grad(fnp.std)(Z),
                               np.conj(Z - Z.mean()) / 3 / np.std(Z))


def test_tracer_attributes_and_methods():
    def f(z):
        return fnp.sum(z.real * 2 + z.imag * 3 + fnp.real(z.conj() * z.conjugate()))
    g = fjac.grad(f)(Z)
    np.testing.assert_allclose(g, 2 - 3j + 2 * np.conj(np.conj(Z)))


# --- every transform ----------------------------------------------------------------------------


def test_vmap_jit_and_custom_rules_compose_with_complex_values():
    f = lambda z: fnp.sum(fnp.abs(fnp.exp(1j * z) * z) ** 2)  # noqa: E731
    g = fjac.grad(f)
    batch = np.stack([Z, 2 * Z])
    np.testing.assert_allclose(fjac.vmap(g)(batch), np.stack([g(Z), g(2 * Z)]))
    np.testing.assert_allclose(fjac.jit(g)(Z), g(Z))
    np.testing.assert_allclose(fjac.grad(fjac.jit(f))(Z), g(Z))

    @fjac.custom_vjp
    def twice(z):
        return 2 * z

    twice.defvjp(lambda z: (2 * z, None), lambda res, ct: (2 * ct,))
    np.testing.assert_allclose(
        fjac.grad(lambda z: fnp.sum(fnp.abs(twice(z)) ** 2))(Z), 8 * np.conj(Z)
    )

    @fjac.custom_jvp
    def cube(z):
        return z ** 3

    cube.defjvp(lambda p, t: (p[0] ** 3, 3 * p[0] ** 2 * t[0]))
    np.testing.assert_allclose(fjac.jvp(cube, (Z,), (ONES,))[1], 3 * Z ** 2)


# --- JAX's errors --------------------------------------------------------------------------------


def test_errors_for_the_convention():
    with pytest.raises(TypeError, match="grad needs a real-valued output.*holomorphic=True"):
        fjac.grad(lambda z: z * 2)(Z[0])
    with pytest.raises(TypeError, match="holomorphic=True differentiates complex inputs"):
        fjac.grad(lambda z: z * 2, holomorphic=True)(1.0)
    with pytest.raises(TypeError, match="holomorphic=True differentiates a complex output"):
        fjac.grad(fnp.abs, holomorphic=True)(Z[0])
    with pytest.raises(TypeError, match="jacfwd needs real inputs.*holomorphic=True"):
        fjac.jacfwd(fnp.abs)(Z)
    with pytest.raises(TypeError, match="jacobian needs real outputs.*holomorphic=True"):
        fjac.jacobian(lambda z: z * 2)(Z)
    with pytest.raises(TypeError, match="holomorphic=True differentiates complex outputs"):
        fjac.jacfwd(fnp.abs, holomorphic=True)(Z)
    with pytest.raises(TypeError, match="pass a real floating-point cotangent"):
        fjac.vjp(fnp.abs, Z)[1](np.ones(3, complex))
    with pytest.raises(TypeError, match="tangent of a floating primal must be real"):
        fjac.jvp(fnp.sin, (ONES,), (Z,))


# --- what is not right for complex values yet is refused ------------------------------------------


def test_a_primitive_not_declared_for_complex_values_is_refused():
    rotate_p = extend.Primitive("rotate", lambda x: x * 1j)
    extend.defvjp(rotate_p, lambda g, ans, x: g)
    extend.defjvp(rotate_p, lambda t, ans, x: t)
    with pytest.raises(UnsupportedOperationError, match="the result of 'rotate' is complex"):
        fjac.grad(lambda a: fnp.sum(fnp.abs(extend.bind(rotate_p, a))))(ONES)
    modulus_p = extend.Primitive("modulus", np.abs)  # a real result of a complex argument
    extend.defjvp(modulus_p, lambda t, ans, x: t * fnp.sign(x))
    with pytest.raises(UnsupportedOperationError, match="argument 0 of 'modulus' is complex"):
        fjac.jvp(lambda z: extend.bind(modulus_p, z), (Z,), (Z,))
    message = "does not differentiate 'rotate' on complex values"
    with pytest.raises(UnsupportedOperationError, match=message):
        fjac.vjp(lambda z: extend.bind(rotate_p, z), Z)
    # a complex value whose derivative is cut is a constant, as any other
    f = lambda a: fnp.sum(a * fnp.abs(extend.bind(rotate_p, fjac.stop_gradient(a))))  # noqa: E731
    np.testing.assert_allclose(fjac.grad(f)(ONES), ONES)


def test_a_primitive_declared_for_complex_values_is_differentiated():
    rotate_p = extend.Primitive("rotate_declared", lambda x: x * 1j)
    extend.defvjp(rotate_p, lambda g, ans, x: g * 1j)
    extend.defjvp(rotate_p, lambda t, ans, x: t * 1j)
    extend.declare_complex(rotate_p)
    g = fjac.grad(lambda z: fnp.sum(fnp.real(extend.bind(rotate_p, z))))(Z)
    np.testing.assert_allclose(g, np.full(3, 1j))  # Re(iz) = -y: d/dx - i d/dy = i


def test_complex_values_without_derivatives_follow_numpy():
    expected = ONES * (1 + 2j)
    np.testing.assert_array_equal(fjac.vmap(lambda a: a * (1 + 2j))(ONES), expected)
    np.testing.assert_array_equal(fjac.jit(lambda a: a * (1 + 2j))(ONES), expected)
    assert fjac.vmap(lambda a: fnp.astype(a, complex))(ONES).dtype == np.complex128
