"""fjac's own property suite: the laws of differentiation, fuzzed with fjac.testing.strategies.

Each law runs over random programs from ``differentiable_functions`` (and pytrees where the law
is about structure). The hypothesis profile comes from conftest.py ("ci": derandomized).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fjac
import fjac.numpy as fnp
from fjac.testing import check_grads, numerical_jacobian
from fjac.testing.strategies import differentiable_functions, pytrees
from fjac.tree import tree_flatten, tree_leaves, tree_map, tree_unflatten

RTOL = 1e-9  # analytic identities hold to rounding

# The fuzzing laws get 5x the profile's examples ("ci": 40 -> 200; "dev": 300 -> 1500).
fuzz = settings(max_examples=5 * settings.default.max_examples)


def _random_like(tree, seed):
    rng = np.random.default_rng(seed)
    return tree_map(lambda x: rng.standard_normal(np.shape(x)), tree)


def _inner(a, b):
    return sum(float(np.vdot(np.asarray(x), np.asarray(y)))
               for x, y in zip(tree_leaves(a), tree_leaves(b)))


def _matrix(jac, out, inp):
    """A nested Jacobian (output outside, input inside) as a 2-D matrix over raveled leaves."""
    out_leaves, in_leaves = tree_leaves(out), tree_leaves(inp)
    blocks = tree_leaves(jac)
    rows = []
    for i, y in enumerate(out_leaves):
        row = blocks[i * len(in_leaves):(i + 1) * len(in_leaves)]
        rows.append(np.concatenate(
            [np.reshape(b, (np.size(y), np.size(x))) for b, x in zip(row, in_leaves)], axis=1))
    return np.concatenate(rows, axis=0)


def _close(a, b, scale=1.0):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * max(scale, 1.0))


def _flat(v):
    return np.concatenate([np.ravel(x) for x in tree_leaves(v)])


def _of_first(f, args):
    """``f`` as a function of its first argument alone (the others held fixed)."""
    return lambda x: f(x, *args[1:])


# ------------------------------------------------------------------------------------------
# duality: ⟨v, J t⟩ = ⟨vjp(v), t⟩ = ⟨v, jvp(t)⟩


def _tree_function(tree):
    """A smooth pytree -> pytree map coupling every leaf to every other."""
    s = sum(fnp.sum(fnp.sin(leaf)) for leaf in tree_leaves(tree))
    return tree_map(lambda leaf: fnp.tanh(leaf) * s + leaf**2, tree)


def _check_duality(f, args, seed=0):
    out = f(*args)
    t = _random_like(args, seed)
    v = _random_like(out, seed + 1)
    _, jt = fjac.jvp(f, args, t)
    _, vjp_fn = fjac.vjp(f, *args)
    vj = vjp_fn(v)
    J = _matrix(fjac.jacobian(f, argnums=tuple(range(len(args))))(*args), out, args)
    v_J_t = float(_flat(v) @ J @ _flat(t))
    scale = float(np.abs(_flat(v)) @ np.abs(J) @ np.abs(_flat(t)))
    _close(_inner(vj, t), v_J_t, scale)
    _close(_inner(v, jt), v_J_t, scale)


@given(pytrees(max_depth=3))
def test_duality_on_pytrees(tree):
    _check_duality(_tree_function, (tree,))


@fuzz
@given(differentiable_functions())
def test_duality_on_programs(program):
    f, args = program
    _check_duality(f, args)


# ------------------------------------------------------------------------------------------
# linearity of vjp_fn in the cotangent and of jvp in the tangent


@given(differentiable_functions(), st.sampled_from([(2.0, -0.5), (0.3, 1.7)]))
def test_linearity(program, coefficients):
    f, args = program
    a, b = coefficients
    out = f(*args)
    v1, v2 = _random_like(out, 1), _random_like(out, 2)
    _, vjp_fn = fjac.vjp(f, *args)
    combined = vjp_fn(tree_map(lambda p, q: a * p + b * q, v1, v2))
    separate = tree_map(lambda p, q: a * p + b * q, vjp_fn(v1), vjp_fn(v2))
    for x, y in zip(tree_leaves(combined), tree_leaves(separate)):
        _close(x, y, float(np.max(np.abs(y), initial=1.0)))
    t1, t2 = _random_like(args, 3), _random_like(args, 4)
    t = tree_map(lambda p, q: a * p + b * q, t1, t2)
    jt = fjac.jvp(f, args, t)[1]
    expected = a * np.asarray(fjac.jvp(f, args, t1)[1]) + b * np.asarray(fjac.jvp(f, args, t2)[1])
    _close(jt, expected, float(np.max(np.abs(expected), initial=1.0)))


# ------------------------------------------------------------------------------------------
# chain rule: jacobian(f ∘ g) = J_f(g(x)) · J_g(x)


@st.composite
def _compositions(draw):
    g, g_args = draw(differentiable_functions(max_args=1, max_depth=2))
    y_shape = np.shape(g(*g_args))
    f, f_args = draw(differentiable_functions(max_args=1, max_depth=2, shapes=st.just(y_shape)))

    def inner(x):  # g squashed into (0.5, 2), where every input of f is in its domain
        return 1.25 + 0.75 * fnp.tanh(g(x))

    inner.__qualname__ = f"1.25 + 0.75 * tanh({g.source})"
    return f, inner, g_args[0]


@given(_compositions())
def test_chain_rule(composition):
    f, g, x = composition
    y = g(x)
    fog = lambda x: f(g(x))
    J_fog = _matrix(fjac.jacobian(fog)(x), fog(x), x)
    J_f = _matrix(fjac.jacobian(f)(y), f(y), y)
    J_g = _matrix(fjac.jacobian(g)(x), y, x)
    product = J_f @ J_g
    _close(J_fog, product, float(np.max(np.abs(J_f), initial=1) * np.max(np.abs(J_g), initial=1)))


# ------------------------------------------------------------------------------------------
# jacobian == jacfwd == stacked VJPs == stacked JVPs == numerical Jacobian


@fuzz
@given(differentiable_functions())
def test_all_jacobians_agree(program):
    f, args = program
    h = _of_first(f, args)
    x = args[0]
    out = h(x)
    J = _matrix(fjac.jacobian(h)(x), out, x)
    scale = float(np.max(np.abs(J), initial=1.0))
    _close(_matrix(fjac.jacfwd(h)(x), out, x), J, scale)
    _, vjp_fn = fjac.vjp(h, x)
    rows = [np.ravel(vjp_fn(np.reshape(e, np.shape(out)))[0]) for e in np.eye(np.size(out))]
    _close(np.reshape(rows, J.shape), J, scale)
    cols = [np.ravel(fjac.jvp(h, (x,), (np.reshape(e, np.shape(x)),))[1])
            for e in np.eye(np.size(x))]
    _close(np.reshape(cols, J.shape[::-1]).T, J, scale)
    numerical = _matrix(numerical_jacobian(h)(x), out, x)
    np.testing.assert_allclose(numerical, J, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------------
# second derivatives: the Hessian is symmetric and equals jacobian(grad)


@given(differentiable_functions())
def test_hessian_is_symmetric(program):
    f, args = program
    scalar = lambda x: fnp.sum(_of_first(f, args)(x))
    x = args[0]
    n = np.size(x)
    H = np.reshape(fjac.hessian(scalar)(x), (n, n))
    scale = float(np.max(np.abs(H), initial=1.0))
    _close(H, H.T, scale)
    _close(np.reshape(fjac.jacobian(fjac.grad(scalar))(x), (n, n)), H, scale)


# ------------------------------------------------------------------------------------------
# every derivative, to order 2, against central differences


@fuzz
@given(differentiable_functions())
def test_check_grads_order_2_on_programs(program):
    f, args = program
    check_grads(f, args, order=2, modes=("fwd", "rev"))


def test_power_mixed_second_derivative_at_zero_exponent():
    # regression: found by test_check_grads_order_2_on_programs as
    # lambda x0: sin(sin(exp(sin(x0)) ** x0)) at x0 = 0, when power's d/dx rule was
    # where(y == 0, 0, y * x ** (y - 1)), whose own derivative in y is 0 there
    d2 = fjac.grad(fjac.grad(lambda x, y: x**y, argnums=0), argnums=1)(2.0, 0.0)
    assert d2 == pytest.approx(0.5)  # ∂²(x^y)/∂x∂y = x^(y-1)(1 + y log x) = 1/x at y = 0


@given(pytrees(max_depth=2))
def test_check_grads_order_2_on_pytrees(tree):
    check_grads(_tree_function, (tree,), order=2)


@given(differentiable_functions(dtype=np.float32, max_depth=2))
def test_check_grads_float32_programs(program):
    f, args = program
    for x in args:
        assert x.dtype == np.float32
    assert all(leaf.dtype == np.float32 for leaf in tree_leaves(f(*args)))
    check_grads(f, args, order=1)


def test_structures_round_trip():
    # the helpers above assume flattening order = ravel order; a sanity anchor for them
    tree = {"b": [np.ones(2), None], "a": np.zeros((1, 2))}
    leaves, treedef = tree_flatten(tree)
    assert tree_unflatten(treedef, leaves)["b"][1] is None
    assert _flat(tree).shape == (4,)
