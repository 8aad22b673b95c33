"""Tests of fjac.testing: the checkers must fail on wrong derivatives and pass on right ones."""

import collections
import importlib
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import fjac
import fjac.numpy as fnp
from fjac._core import Primitive, bind
from fjac._rules import defjvp, defvjp
from fjac.testing import check_grads, check_jacobian, numerical_jacobian
from fjac.testing.strategies import (
    DOMAINS,
    LIMIT,
    OPERATIONS,
    Operation,
    Pair,
    _adapted,
    _available,
    _Context,
    _Node,
    arrays,
    broadcastable_shapes,
    differentiable_functions,
    pytrees,
)

sg = fjac.stop_gradient
X = np.array([0.3, -0.7, 1.2])


def wrong_first(x):
    """Value x², traced derivative 1 (stop_gradient hides the x² - x part)."""
    return x + sg(x**2 - x)


def wrong_second(x):
    """Value x², first derivative 2x (right) as a function whose own derivative is 0 (wrong):
    the tangent is 2·sg(x)·t, constant in x."""
    return 2.0 * x * sg(x) - sg(x) ** 2


# ------------------------------------------------------------------------------------------
# check_grads passes on correct derivatives


@pytest.mark.parametrize(
    "f, args",
    [
        (lambda x: fnp.sum(fnp.sin(x) * fnp.exp(x)), (X,)),
        (lambda x: fnp.tanh(x) * x, (X,)),
        (lambda x, y: x * y + fnp.cos(y), (X, 0.5)),
        (lambda x: fnp.log(x**2 + 1.0), (X,)),
        (lambda a, b: a @ b, (np.arange(6.0).reshape(2, 3) / 7, np.arange(3.0) - 1)),
        (lambda x: 2.0 * x, (np.float64(1.5),)),
    ],
)
@pytest.mark.parametrize("order", [1, 2])
def test_check_grads_passes_on_correct_functions(f, args, order):
    check_grads(f, args, order=order, modes=("fwd", "rev"))


def test_check_grads_order_3_and_single_modes():
    f = lambda x: fnp.sin(x) * fnp.exp(x)
    check_grads(f, (X,), order=3)
    check_grads(f, (X,), order=2, modes=("fwd",))
    check_grads(f, (X,), order=2, modes=("rev",))
    check_grads(f, (X,), order=2, modes="rev")


def test_check_grads_pytrees_integers_and_non_float_outputs():
    Point = collections.namedtuple("Point", "x y")

    def f(params, p, n):
        return {"a": fnp.sin(params["w"]) * p.x ** n, "b": [p.y * params["b"], n]}

    params = {"w": X, "b": np.float64(0.5)}
    check_grads(f, (params, Point(X[::-1].copy(), 2.0), 3), order=2)
    check_grads(f, [params, Point(X, 2.0), 2], order=1)


def test_check_grads_float32():
    x = X.astype(np.float32)
    check_grads(lambda x: fnp.tanh(x) * fnp.exp(x), (x,), order=2)
    with pytest.raises(AssertionError, match=r"JVP, order 1"):
        check_grads(wrong_first, (x,), order=1)


# ------------------------------------------------------------------------------------------
# check_grads fails on wrong derivatives, naming the check, the order and the argument


@pytest.mark.parametrize("mode, name", [("fwd", "JVP"), ("rev", "VJP")])
@pytest.mark.parametrize("order", [1, 2])
def test_check_grads_fails_on_wrong_first_derivative(mode, name, order):
    match = rf"check_grads: {name}, order 1 failed for argument 0"
    with pytest.raises(AssertionError, match=match):
        check_grads(wrong_first, (X,), order=order, modes=(mode,))


@pytest.mark.parametrize(
    "modes, name",
    [
        (("fwd",), "JVP of JVP"),
        (("rev",), "VJP of VJP"),
        (("fwd", "rev"), "JVP of JVP"),
        (("rev", "fwd"), "VJP of VJP"),
    ],
)
def test_check_grads_fails_on_wrong_second_derivative_as_order_2(modes, name):
    check_grads(wrong_second, (X,), order=1, modes=modes)  # first order is right
    with pytest.raises(AssertionError, match=rf"{name}, order 2 failed for primal argument 0"):
        check_grads(wrong_second, (X,), order=2, modes=modes)


def _square_with_bad_helper(helper_jvp, helper_vjp):
    """x² as a primitive whose rules use a helper "double" primitive (2x) with the given rules:
    first derivatives are right; a wrong helper rule shows up only at order 2."""
    double_p = Primitive("double_for_test", lambda x: 2.0 * x)
    defjvp(double_p, helper_jvp)
    defvjp(double_p, helper_vjp)
    square_p = Primitive("square_for_test", np.square)
    defjvp(square_p, lambda t, ans, x: t * bind(double_p, x))
    defvjp(square_p, lambda g, ans, x: g * bind(double_p, x))
    return lambda x: bind(square_p, x)


def test_order_2_names_vjp_of_jvp():
    # the helper's vjp is wrong, its jvp right: "JVP of JVP" passes, "VJP of JVP" fails
    f = _square_with_bad_helper(lambda t, ans, x: 2.0 * t, lambda g, ans, x: 3.0 * g)
    check_grads(f, (X,), order=1)
    with pytest.raises(AssertionError, match=r"VJP of JVP, order 2 failed for primal argument 0"):
        check_grads(f, (X,), order=2, modes=("fwd", "rev"))


def test_order_2_names_jvp_of_vjp():
    # the helper's jvp is wrong, its vjp right: "VJP of VJP" passes, "JVP of VJP" fails
    f = _square_with_bad_helper(lambda t, ans, x: 3.0 * t, lambda g, ans, x: 2.0 * g)
    check_grads(f, (X,), order=1)
    with pytest.raises(AssertionError, match=r"JVP of VJP, order 2 failed for primal argument 0"):
        check_grads(f, (X,), order=2, modes=("rev", "fwd"))


def test_failure_message_names_argument_numbers_and_tolerances():
    f = lambda a, b: a * 2.0 + wrong_first(b["v"])
    with pytest.raises(AssertionError) as info:
        check_grads(f, (X, {"v": X + 1.0}), order=1, modes=("fwd",))
    msg = str(info.value)
    assert "JVP, order 1 failed for argument 1['v']" in msg
    assert re.search(r"analytic\s+= -?\d", msg) and re.search(r"numerical\s+= -?\d", msg)
    assert "atol=1e-05" in msg and "rtol=1e-05" in msg and "eps=1e-05" in msg
    with pytest.raises(AssertionError, match=r"VJP, order 1 failed for argument 1\['v'\]"):
        check_grads(f, (X, {"v": X + 1.0}), order=1, modes=("rev",))


def test_wrong_primal_output_of_a_transform_is_caught():
    # jvp/vjp return the primal value; check_grads compares it with f(x). A function whose
    # value changes between calls is the simplest way to make the two differ.
    calls = []

    def f(x):
        calls.append(1)
        return x * len(calls)

    with pytest.raises(AssertionError, match="primal output"):
        check_grads(f, (X,), order=1, modes=("fwd",))


def test_check_grads_is_deterministic_and_seeded():
    def message(seed):
        with pytest.raises(AssertionError) as info:
            check_grads(wrong_first, (X,), order=1, modes=("fwd",), seed=seed)
        return str(info.value)

    assert message(0) == message(0)
    assert message(0) != message(1)


def test_tolerances_can_be_loosened():
    f = lambda x: x + sg(0.001 * x**2)  # derivative off by 0.002·x
    with pytest.raises(AssertionError):
        check_grads(f, (X,), order=1)
    check_grads(f, (X,), order=1, atol=1e-2, rtol=1e-2)


def test_check_grads_argument_errors():
    with pytest.raises(TypeError, match="tuple or list"):
        check_grads(fnp.sin, X)
    with pytest.raises(TypeError, match="floating-point"):
        check_grads(lambda n: n * 2, (3,))
    with pytest.raises(ValueError, match="order"):
        check_grads(fnp.sin, (X,), order=0)
    with pytest.raises(ValueError, match="modes"):
        check_grads(fnp.sin, (X,), modes=("forward",))


# ------------------------------------------------------------------------------------------
# numerical_jacobian and check_jacobian


def _assert_same_nesting(a, b, rtol=1e-6):
    la, ta = fjac.tree.tree_flatten(a)
    lb, tb = fjac.tree.tree_flatten(b)
    assert ta == tb
    for x, y in zip(la, lb):
        assert x.shape == y.shape and x.dtype == y.dtype
        np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-8)


@pytest.mark.parametrize("argnums", [0, 1, (0,), (1, 0)])
def test_numerical_jacobian_nests_like_jacobian(argnums):
    def f(x, p):
        return {"s": fnp.sum(x * p["w"]), "v": [fnp.sin(x) * p["b"], p["w"] ** 2]}

    args = (X, {"w": np.array([[1.0, 2.0, 3.0]]) / 3, "b": np.float64(2.0)})
    _assert_same_nesting(numerical_jacobian(f, argnums)(*args), fjac.jacobian(f, argnums)(*args))


def test_numerical_jacobian_float32_and_errors():
    x = X.astype(np.float32)
    _assert_same_nesting(numerical_jacobian(fnp.exp)(x), fjac.jacobian(fnp.exp)(x), rtol=1e-3)
    with pytest.raises(TypeError, match="floating-point"):
        numerical_jacobian(lambda n: n * 1.0)(np.arange(3))
    with pytest.raises(ValueError, match="argnums"):
        numerical_jacobian(fnp.sin, argnums=2)(X)


def test_check_jacobian_passes_with_correct_explicit_matrix():
    A = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]])
    check_jacobian(lambda x: A @ x, (X,), explicit=A)
    check_jacobian(fnp.sin, (X,), explicit=np.diag(np.cos(X)))
    # two arguments, a pytree output: columns are [x | y], rows are [out['a'] | out['b']]
    f = lambda x, y: {"a": x * y, "b": fnp.sum(x)}
    explicit = np.array([[2.0, 0.0, 0.0, 0.3], [0.0, 2.0, 0.0, -0.7], [0.0, 0.0, 2.0, 1.2],
                         [1.0, 1.0, 1.0, 0.0]])
    check_jacobian(f, (X, 2.0), explicit=explicit)
    check_jacobian(f, (X, 2.0))


def test_check_jacobian_fails_with_wrong_explicit_matrix_or_wrong_derivative():
    A = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]])
    with pytest.raises(AssertionError, match=r"explicit differ at entry \(row 1, column 2\)"):
        check_jacobian(lambda x: A @ x, (X,), explicit=A + np.array([[0, 0, 0], [0, 0, 1.0]]))
    with pytest.raises(AssertionError, match="shape"):
        check_jacobian(lambda x: A @ x, (X,), explicit=A.T)
    with pytest.raises(AssertionError, match="numerical_jacobian"):
        check_jacobian(wrong_first, (X,))


# ------------------------------------------------------------------------------------------
# fjac.testing works without hypothesis; only the strategies module needs it


def test_fjac_testing_imports_without_hypothesis():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import numpy as np, fjac.testing\n"
        "fjac.testing.check_grads(lambda x: x * x, (np.ones(2),))\n"
        "try:\n"
        "    import fjac.testing.strategies\n"
        "except ImportError:\n"
        "    print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.stdout.strip() == "ok", done.stderr


def test_strategies_without_hypothesis_say_how_to_install_it(monkeypatch):
    # a fresh import of the package with hypothesis made unimportable; monkeypatch puts the
    # modules back afterwards, so the other tests keep the strategies already imported
    for name in [n for n in sys.modules if n.startswith("fjac.testing.strategies")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    with pytest.raises(ImportError, match=re.escape('pip install "fjac[test]"')) as info:
        importlib.import_module("fjac.testing.strategies")
    assert info.value.name == "hypothesis"
    assert "fjac.testing.strategies" not in sys.modules


# ------------------------------------------------------------------------------------------
# strategies: arrays, broadcastable_shapes, pytrees

FIND = settings(database=None, derandomize=True, max_examples=2000)


@given(st.data(), st.sampled_from(sorted(DOMAINS)), st.sampled_from([np.float64, np.float32]))
def test_arrays_stay_in_their_domain(data, domain, dtype):
    x = data.draw(arrays(dtype=dtype, domain=domain))
    assert x.dtype == dtype and x.ndim <= 3
    inside = np.zeros(x.shape, bool)
    for lo, hi in DOMAINS[domain]:
        inside |= (lo <= x) & (x <= hi)
    assert inside.all()


@given(arrays(shape=(2, 3), domain=(-0.5, 0.25)), arrays(shape=st.just(()), domain="finite"),
       arrays(shape=4, elements=st.just(1.5)))
def test_arrays_shapes_tuples_and_elements(a, b, c):
    assert a.shape == (2, 3) and ((-0.5 <= a) & (a <= 0.25)).all()
    assert b.shape == () and np.isfinite(b)
    assert c.tolist() == [1.5] * 4


def test_arrays_reject_unknown_domains():
    with pytest.raises(ValueError, match="unknown domain 'postive'"):
        arrays(domain="postive")
    with pytest.raises(ValueError, match="low <= high"):
        arrays(domain=(1.0, 0.0))


@given(broadcastable_shapes(), broadcastable_shapes(num_shapes=3, max_dims=2))
def test_broadcastable_shapes_broadcast(pair, triple):
    assert len(pair) == 2 and len(triple) == 3
    np.broadcast_shapes(*pair)
    assert all(len(s) <= 2 for s in triple)
    assert fnp.add(np.ones(pair[0]), np.ones(pair[1])).shape == np.broadcast_shapes(*pair)


@given(pytrees())
def test_pytrees_have_leaves_and_round_trip(tree):
    leaves, treedef = fjac.tree.tree_flatten(tree)
    assert leaves and all(isinstance(x, np.ndarray) for x in leaves)
    assert fjac.tree.tree_structure(treedef.unflatten(leaves)) == treedef


@given(pytrees(leaves=st.just(np.float64(1.0)), max_depth=0))
def test_pytrees_depth_0_is_a_leaf(tree):
    assert isinstance(tree, np.float64)


def _contains(tree, predicate):
    if predicate(tree):
        return True
    if isinstance(tree, dict):
        return any(_contains(v, predicate) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return any(_contains(v, predicate) for v in tree)
    return False


@pytest.mark.parametrize("predicate", [
    lambda t: isinstance(t, Pair),
    lambda t: isinstance(t, dict) and len(t) > 1,
    lambda t: t is None,
    lambda t: type(t) is list,
    lambda t: type(t) is tuple,
    lambda t: isinstance(t, (list, tuple, dict)) and len(t) == 0,
])
def test_pytrees_draw_every_kind_of_node(predicate):
    find(pytrees(), lambda t: _contains(t, predicate), settings=FIND)


# ------------------------------------------------------------------------------------------
# strategies: differentiable_functions


def _nodes(node):
    yield node
    for child in node.children:
        yield from _nodes(child)


@given(differentiable_functions())
def test_programs_print_as_the_lambda_they_are(program):
    f, args = program
    assert repr(f).startswith("lambda x0")
    rebuilt = eval(repr(f), dict(vars(fnp)))  # noqa: S307 - our own program text
    np.testing.assert_array_equal(rebuilt(*args), f(*args))


@given(differentiable_functions())
def test_programs_keep_every_value_in_its_interval_and_domain(program):
    # the design promise: each node's value lies in its interval, within LIMIT, and inside
    # the domain of the operation that consumes it
    f, args = program
    for node in _nodes(f._root):
        value = np.asarray(node.evaluate(args), dtype=np.float64)
        lo, hi = node.interval
        slack = 1e-9 * max(1.0, abs(lo), abs(hi))
        assert ((lo - slack <= value) & (value <= hi + slack)).all(), (repr(f), node.interval)
        assert np.abs(value).max(initial=0.0) <= LIMIT + slack
        if node.op is not None and not node.params.get("keepdims"):
            domains = node.op.domains(node.children[0].shape)
            for child, (d_lo, d_hi) in zip(node.children, domains):
                v = np.asarray(child.evaluate(args), dtype=np.float64)
                assert ((d_lo <= v) & (v <= d_hi)).all(), (repr(f), node.op.template)


@given(differentiable_functions(ops=["log", "divide"], max_depth=2))
def test_programs_use_only_the_chosen_operations(program):
    f, _ = program
    # adapters use sin, tanh, exp; sum makes a scalar from an array input
    assert set(f.operations) <= {"log", "divide", "sin", "tanh", "exp", "sum"}


def test_unknown_operations_are_rejected_and_missing_ones_skipped():
    with pytest.raises(ValueError, match=r"unknown operation\(s\) \['sine'\]"):
        differentiable_functions(ops=["sine"])
    row = Operation("no_such_function", "unary", "no_such_function({0})", lambda x: x,
                    ((-1.0, 1.0),), lambda a, **_: a)
    assert _available([row, OPERATIONS[0]]) == [OPERATIONS[0]]


@pytest.mark.parametrize("shape", [(), (3,), (3, 3)])
def test_adapters_reach_every_domain(shape):
    ctx = _Context(tuple(OPERATIONS), shape, (shape,), ((-LIMIT, LIMIT),))
    wide = _Node(None, (), shape, (-LIMIT, LIMIT), arg=0)
    for op in OPERATIONS:
        if len(shape) < op.min_ndim:
            continue
        for domain in op.domains(shape):
            assert _adapted(ctx, wide, domain), (op.template, domain)


# Bounds on the shrunk program's text. How far hypothesis shrinks differs between its
# releases (for "log", 6.155 reaches `lambda x0: log(x0)`, 6.170 stops at
# `lambda x0: log(exp(sin(x0)))`, 28 characters); the bounds allow any such small program and
# fail on a regression to large ones.
@pytest.mark.parametrize("name, longest", [("log", 28), ("divide", 32), ("matmul", 36),
                                           ("sum", 25), ("where", 35)])
def test_programs_shrink_to_small_ones(name, longest):
    f, _ = find(differentiable_functions(), lambda p: name in p[0].operations, settings=FIND)
    assert len(repr(f)) <= longest, repr(f)


@given(differentiable_functions(max_args=1, shapes=st.just((2, 3)), max_depth=2))
def test_programs_respect_shapes_and_argument_counts(program):
    f, args = program
    assert len(args) == 1 and args[0].shape == (2, 3) and f.num_args == 1
    assert np.shape(f(*args)) in ((2, 3), ())
    with pytest.raises(TypeError, match="takes 1 argument"):
        f(*args, *args)


def test_check_grads_passes_non_array_arguments_through():
    def f(x, mode, n):
        assert mode == "twice" and isinstance(n, int)
        return fnp.sin(x) * n

    check_grads(f, (X, "twice", 2), order=2)
