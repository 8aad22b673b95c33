"""Complex values under the differentiating transforms: refused, never a wrong derivative.

fjac's derivative rules are written for real values. Until they are right for complex ones, a
complex value met by ``grad``, ``vjp``, ``jvp``, the Jacobians or a custom rule raises an
``UnsupportedOperationError`` that names the operation. Transforms that do not differentiate
(``vmap``, ``jit`` alone) follow NumPy on complex values as before.
"""

from __future__ import annotations

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
from fjac.errors import UnsupportedOperationError

ONES = np.ones(3)
REFUSED = "does not yet differentiate through complex values"


# The three functions whose gradients were silently wrong (the truth in each comment).
SILENTLY_WRONG = [
    pytest.param(lambda a: np.sum(np.abs(a * (1 + 2j))), "multiply", id="abs-of-scaled"),  # √5
    pytest.param(lambda x: np.sum(np.abs(np.exp(1j * x))), "multiply", id="abs-of-exp-ix"),  # 0
    pytest.param(
        lambda a: np.sum(fnp.astype(a * (1 + 2j) ** 2, float)), "multiply", id="astype-real"
    ),  # -3
    pytest.param(
        lambda a: np.sum(fnp.astype(fnp.astype(a, complex), float)), "convert_element_type",
        id="astype-round-trip",
    ),  # 1: the cast to complex dropped the derivative
]


@pytest.mark.parametrize("f, prim", SILENTLY_WRONG)
def test_grad_through_a_complex_intermediate_raises_naming_the_operation(f, prim):
    with pytest.raises(UnsupportedOperationError, match=f"grad: the result of '{prim}'"):
        fjac.grad(f)(ONES)


@pytest.mark.parametrize("f, prim", SILENTLY_WRONG)
def test_every_differentiating_transform_refuses(f, prim):
    vec = lambda a: fnp.abs(a * (1 + 2j))  # noqa: E731
    for transform, call in [
        ("value_and_grad", lambda: fjac.value_and_grad(f)(ONES)),
        ("vjp", lambda: fjac.vjp(vec, ONES)),
        ("jvp", lambda: fjac.jvp(vec, (ONES,), (ONES,))),
        ("jacobian", lambda: fjac.jacobian(vec)(ONES)),
        ("jacfwd", lambda: fjac.jacfwd(vec)(ONES)),
        ("jacfwd", lambda: fjac.hessian(f)(ONES)),
        ("grad", lambda: fjac.jit(fjac.grad(f))(ONES)),
        ("grad", lambda: fjac.vmap(fjac.grad(f))(np.ones((2, 3)))),
    ]:
        with pytest.raises(UnsupportedOperationError, match=transform) as info:
            call()
        assert REFUSED in str(info.value)


def test_the_message_says_what_to_do():
    with pytest.raises(UnsupportedOperationError) as info:
        fjac.grad(SILENTLY_WRONG[0].values[0])(ONES)
    message = str(info.value)
    assert "complex128" in message
    assert "stop_gradient" in message
    assert "real" in message


def test_complex_inputs_of_vjp_and_jvp_raise_instead_of_getting_zero_derivatives():
    z = np.array([1 + 1j, 2.0])
    with pytest.raises(UnsupportedOperationError, match="vjp: argument 0 is complex"):
        fjac.vjp(lambda z: z * 2, z)
    with pytest.raises(UnsupportedOperationError, match=r"jvp: primal \[0\] is complex"):
        fjac.jvp(lambda z: z * 2, (z,), (np.zeros(2, fjac.float0),))


def test_custom_rules_returning_complex_values_raise():
    @fjac.custom_vjp
    def rotate(x):
        return x * 1j

    rotate.defvjp(lambda x: (x * 1j, None), lambda res, g: (g,))

    with pytest.raises(UnsupportedOperationError, match="complex"):
        fjac.grad(lambda x: fnp.sum(fnp.abs(rotate(x))))(ONES)


def test_a_complex_constant_whose_derivative_is_cut_is_fine():
    f = lambda a: fnp.sum(a * fnp.abs(fjac.stop_gradient(a) * (1 + 2j)))  # noqa: E731
    np.testing.assert_allclose(fjac.grad(f)(ONES), np.full(3, np.sqrt(5.0)))


def test_complex_values_without_derivatives_still_follow_numpy():
    expected = ONES * (1 + 2j)
    np.testing.assert_array_equal(fjac.vmap(lambda a: a * (1 + 2j))(ONES), expected)
    np.testing.assert_array_equal(fjac.jit(lambda a: a * (1 + 2j))(ONES), expected)
    assert fjac.vmap(lambda a: fnp.astype(a, complex))(ONES).dtype == np.complex128
    # A complex value that no differentiated input reaches is a constant, as any other.
    out = fjac.grad(lambda a: fnp.sum(a) + fnp.sum(fnp.abs(np.array([1j]) * 2.0)))(ONES)
    np.testing.assert_array_equal(out, ONES)


@pytest.mark.parametrize("constant", [1j, np.complex128(1j), np.array([1j, 2.0, 0.5j])])
def test_a_complex_constant_of_any_kind_is_seen(constant):
    # the traces check only a call's constants when the primitive keeps real values real
    for op in (lambda a: a * constant, lambda a: constant - a, lambda a: fnp.sin(a) + constant):
        f = lambda a, op=op: fnp.sum(fnp.abs(op(a)))  # noqa: E731
        with pytest.raises(UnsupportedOperationError, match=REFUSED):
            fjac.grad(f)(ONES)
        with pytest.raises(UnsupportedOperationError, match=REFUSED):
            fjac.jvp(op, (ONES,), (ONES,))


def test_a_primitive_not_declared_real_closed_is_checked_on_its_result():
    from fjac import extend

    rotate_p = extend.Primitive("rotate", lambda x: x * 1j)
    extend.defvjp(rotate_p, lambda g, ans, x: g)
    extend.defjvp(rotate_p, lambda t, ans, x: t)
    with pytest.raises(UnsupportedOperationError, match="'rotate'"):
        fjac.grad(lambda a: fnp.sum(fnp.abs(extend.bind(rotate_p, a))))(ONES)
    with pytest.raises(UnsupportedOperationError, match="'rotate'"):
        fjac.jvp(lambda a: extend.bind(rotate_p, a), (ONES,), (ONES,))
