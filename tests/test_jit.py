"""jit: a recording replays exactly what the eager call computes, for every value it is given.

The replay calls the same NumPy implementations on the same dtypes as the eager call, so
results are compared for exact equality, at the point the recording was made and at new points.
"""

import collections
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fjac
import fjac.numpy as fnp
from fjac import extend
from fjac.errors import ConcretizationError, TracerConversionError
from fjac.testing.strategies import differentiable_functions
from fjac.tree import tree_leaves, tree_map, tree_structure


def _same(a, b):
    """Equal trees of equal arrays: same structure, shapes, dtypes and bits. ``a`` (jit's) has
    arrays where ``b`` (an untransformed function's) may have NumPy scalars."""
    assert tree_structure(a) == tree_structure(b)
    for x, y in zip(tree_leaves(a), tree_leaves(b)):
        y = np.asarray(y) if isinstance(y, np.generic) else y
        assert type(x) is type(y) is np.ndarray, (type(x), type(y))
        assert x.shape == y.shape and x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def _counting(f):
    """``f`` and a list that grows by one each time ``f``'s Python body runs."""
    runs = []

    def counted(*args, **kwargs):
        runs.append(1)
        return f(*args, **kwargs)

    return counted, runs


def _loss(w, x):
    return fnp.mean((fnp.tanh(x @ w) - 0.5) ** 2)


RNG = np.random.default_rng(0)
W, X = RNG.normal(size=3), RNG.normal(size=(5, 3))


# ------------------------------------------------------------------------------------------
# values: the recording and its replays give the eager results


def test_records_once_and_replays_new_values():
    f, runs = _counting(lambda x: fnp.sum(fnp.sin(x) * x))
    g = fjac.jit(fjac.grad(f))
    x1, x2 = np.array([0.0, 1.0]), np.array([2.0, 3.0])
    _same(g(x1), fjac.grad(f)(x1))
    _same(g(x2), fjac.grad(f)(x2))
    _same(g(x2), np.sin(x2) + x2 * np.cos(x2))  # the hand-derived gradient, bit for bit
    assert len(runs) == 3  # the recording and two eager calls: replays run no Python of f


def test_seed_function_3x2y():
    # f = 3x²y and g = 2x + y⁸ from the seed notes: Jacobian [[6xy, 3x²], [2, 8y⁷]]
    def fg(v):
        x, y = v[0], v[1]
        return fnp.stack([3 * x**2 * y, 2 * x + y**8])

    jac = fjac.jit(fjac.jacobian(fg))
    for x, y in [(1.0, 2.0), (-0.5, 0.3)]:
        expected = np.array([[6 * x * y, 3 * x**2], [2.0, 8 * y**7]])
        np.testing.assert_allclose(jac(np.array([x, y])), expected, rtol=1e-14)
        _same(jac(np.array([x, y])), fjac.jacobian(fg)(np.array([x, y])))


def test_value_and_grad_with_pytrees_and_aux():
    def loss(params, x):
        out = fnp.tanh(x @ params["w"] + params["b"])
        return fnp.sum(out**2), {"out": out}

    vg = fjac.jit(fjac.value_and_grad(loss, has_aux=True))
    params = {"w": RNG.normal(size=(3, 2)), "b": np.zeros(2)}
    for x in (X, X + 1.0):
        _same(vg(params, x), fjac.value_and_grad(loss, has_aux=True)(params, x))


def test_hessian_and_jacfwd():
    f = lambda x: fnp.sum(fnp.exp(fnp.sin(x)) * x[::-1])  # noqa: E731
    for transform in (fjac.hessian, fjac.jacfwd, fjac.jacobian):
        jf = fjac.jit(transform(f))
        for x in (np.array([0.1, 0.4, -0.3]), np.array([1.0, 2.0, 3.0])):
            _same(jf(x), transform(f)(x))


def test_float32_stays_float32():
    g = fjac.jit(fjac.grad(lambda x: fnp.sum(fnp.tanh(x) * 2.0)))
    x = np.array([0.5, -1.0], dtype=np.float32)
    g(x)
    out = g(x + np.float32(1))
    assert out.dtype == np.float32
    _same(out, fjac.grad(lambda x: fnp.sum(fnp.tanh(x) * 2.0))(x + np.float32(1)))


def test_outputs_are_arrays_not_numpy_scalars():
    f = fjac.jit(lambda x: (fnp.sum(x), x[0]))
    for _ in range(2):  # recording, then replay
        total, first = f(np.array([1.0, 2.0]))
        assert type(total) is np.ndarray and type(first) is np.ndarray
        assert total.shape == () and float(total) == 3.0 and float(first) == 1.0


def test_integer_arguments_are_traced():
    # per-example labels picked out of log-probabilities: the index changes call to call
    def nll(z, labels):
        log_p = z - fnp.log(fnp.sum(fnp.exp(z), axis=1, keepdims=True))
        return -fnp.mean(log_p[np.arange(z.shape[0]), labels])

    g = fjac.jit(fjac.grad(nll))
    z = RNG.normal(size=(4, 3))
    for labels in (np.array([0, 1, 2, 0]), np.array([2, 2, 1, 0])):
        expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        expected[np.arange(4), labels] -= 1.0
        np.testing.assert_allclose(g(z, labels), expected / 4, rtol=1e-13, atol=1e-15)
        _same(g(z, labels), fjac.grad(nll)(z, labels))


def test_numbers_are_traced_as_arrays():
    f, runs = _counting(lambda x, s: x * s)
    jf = fjac.jit(f)
    _same(jf(np.ones(2), 2.0), np.array([2.0, 2.0]))
    _same(jf(np.ones(2), 3.0), np.array([3.0, 3.0]))
    assert len(runs) == 1


def test_keyword_arguments_are_traced():
    f, runs = _counting(lambda x, *, scale: x * scale)
    jf = fjac.jit(f)
    _same(jf(np.ones(2), scale=np.array(2.0)), np.array([2.0, 2.0]))
    _same(jf(np.ones(2), scale=np.array(5.0)), np.array([5.0, 5.0]))
    assert len(runs) == 1


# ------------------------------------------------------------------------------------------
# the signature: what makes a new recording


def test_new_shapes_dtypes_and_structures_record_again():
    f, runs = _counting(lambda t: tree_map(lambda v: v * 2.0, t))
    jf = fjac.jit(f)
    calls = [
        np.ones(2), np.zeros(2), np.ones(3), np.ones(3, dtype=np.float32), (np.ones(2),),
        [np.ones(2)], {"a": np.ones(2)}, {"b": np.ones(2)}, {"a": np.ones(2)},
    ]
    for arg in calls:
        _same(jf(arg), tree_map(lambda v: v * 2.0, arg))
    # new: ones(2), ones(3), float32, tuple, list, {"a"}, {"b"}; the rest replays
    assert len(runs) == 7


def test_static_argnums_and_argnames():
    def power_chain(x, n, *, kind):
        for _ in range(n):
            x = fnp.sin(x) if kind == "sin" else fnp.cos(x)
        return x

    f, runs = _counting(power_chain)
    jf = fjac.jit(f, static_argnums=1, static_argnames="kind")
    x = np.array([0.3, 0.7])
    for n, kind in [(2, "sin"), (3, "sin"), (2, "cos"), (2, "sin")]:
        _same(jf(x, n, kind=kind), power_chain(x, n, kind=kind))
    assert len(runs) == 3
    # negative positions count from the end, as in JAX
    g = fjac.jit(lambda x, n: x * n, static_argnums=-1)
    _same(g(np.ones(2), 3), np.array([3.0, 3.0]))


def test_unhashable_static_argument_is_refused():
    jf = fjac.jit(lambda x, sizes: x * len(sizes), static_argnums=1)
    with pytest.raises(TypeError, match=r"static argument at position 1 must be hashable.*list"):
        jf(np.ones(2), [1, 2])
    _same(jf(np.ones(2), (1, 2)), np.array([2.0, 2.0]))


def test_clear_cache_records_again():
    f, runs = _counting(lambda x: x + 1.0)
    jf = fjac.jit(f)
    jf(np.ones(2))
    jf(np.ones(2))
    jf.clear_cache()
    jf(np.ones(2))
    assert len(runs) == 2


# ------------------------------------------------------------------------------------------
# what jit cannot record, and says so


def test_control_flow_on_a_traced_value_raises():
    def relu_sum(x):
        return fnp.sum(x) if fnp.sum(x) > 0 else 0.0 * fnp.sum(x)

    jf = fjac.jit(relu_sum)
    with pytest.raises(ConcretizationError, match=r"jit: the value of a traced array \(bool"
                       r"\[\]\).*fjac.numpy.where.*static_argnums"):
        jf(np.ones(2))
    assert relu_sum(np.ones(2)) == 2.0  # fine without jit
    with pytest.raises(ConcretizationError):  # nothing was kept from the failed recording
        jf(np.ones(2))
    # the same choice per value, with where, records
    jw = fjac.jit(lambda x: fnp.where(x > 0, x, 0.0))
    _same(jw(np.array([-1.0, 2.0])), np.array([0.0, 2.0]))
    _same(jw(np.array([3.0, -2.0])), np.array([3.0, 0.0]))


@pytest.mark.parametrize("convert", [float, int, lambda x: x.item(), np.asarray])
def test_conversions_raise_concretization_error(convert):
    jf = fjac.jit(lambda x: convert(fnp.sum(x)))
    with pytest.raises(ConcretizationError, match="jit records one program"):
        jf(np.ones(2))
    assert issubclass(ConcretizationError, TracerConversionError)
    assert issubclass(ConcretizationError, TypeError)


def test_shapes_that_depend_on_values_raise():
    with pytest.raises(ConcretizationError, match="'gather'.*shape depends on the values"):
        fjac.jit(lambda x: fnp.sum(x[x > 0]))(np.array([1.0, -1.0]))
    with pytest.raises(ConcretizationError, match="'nonzero'"):
        fjac.jit(lambda x: fnp.nonzero(x)[0])(np.array([1.0, 0.0]))
    # a constant mask gives a fixed shape: fine
    mask = np.array([True, False, True])
    jf = fjac.jit(fjac.grad(lambda x: fnp.sum(x[mask] ** 2)))
    _same(jf(np.array([1.0, 2.0, 3.0])), np.array([2.0, 0.0, 6.0]))
    _same(jf(np.array([4.0, 5.0, 6.0])), np.array([8.0, 0.0, 12.0]))


def test_std_and_average_record_their_general_path():
    # eager std skips a where when no variance is zero; under jit the value is unknown, so the
    # recording keeps the where, which is right for every value
    g = fjac.jit(fjac.grad(lambda x: fnp.std(x, axis=1).sum()))
    x = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])
    np.testing.assert_allclose(g(x), fjac.grad(lambda x: fnp.std(x, axis=1).sum())(x))
    y = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 5.0]])
    np.testing.assert_allclose(g(y), fjac.grad(lambda x: fnp.std(x, axis=1).sum())(y))
    assert np.all(np.isfinite(g(y)))
    avg = fjac.jit(lambda a, w: fnp.average(a, weights=w))
    np.testing.assert_allclose(avg(np.array([1.0, 3.0]), np.array([1.0, 3.0])), 2.5)


def test_bad_arguments_and_outputs():
    jf = fjac.jit(lambda x, name: x)
    with pytest.raises(TypeError, match=r"jit: argument 1 is a str.*static_argnums"):
        jf(np.ones(2), "relu")
    jk = fjac.jit(lambda x, cfg: x)
    with pytest.raises(TypeError, match=r"jit: argument 1 at \['act'\] is a str"):
        jk(np.ones(2), {"act": "relu"})
    jo = fjac.jit(lambda x: (x, "done"))
    with pytest.raises(TypeError, match="returned a str among its outputs"):
        jo(np.ones(2))


# ------------------------------------------------------------------------------------------
# composition with the other transforms


def test_grad_of_jit_replays_through_the_tape():
    f, runs = _counting(lambda x: fnp.sum(fnp.tanh(x) ** 3))
    jf = fjac.jit(f)
    for x in (np.array([0.2, -0.4]), np.array([1.0, 0.5])):
        _same(fjac.grad(jf)(x), fjac.grad(f)(x))
        _same(fjac.grad(fjac.grad(lambda x: jf(x) * 1.0))(np.array(0.3)),
              fjac.grad(fjac.grad(lambda x: f(x) * 1.0))(np.array(0.3)))
    # one recording for shape (2,), one for shape (), and the 4 eager calls compared with
    assert len(runs) == 1 + 1 + 4


def test_vmap_and_jacobian_of_jit():
    f = fjac.jit(lambda w, x: fnp.tanh(x @ w))
    per_example = fjac.vmap(fjac.grad(lambda w, x: fnp.sum(f(w, x))), in_axes=(None, 0))
    expected = np.stack([fjac.grad(lambda w, x: fnp.sum(fnp.tanh(x @ w)))(W, x) for x in X])
    for _ in range(2):
        np.testing.assert_allclose(per_example(W, X), expected, rtol=1e-14)
    jac = fjac.jacobian(f)
    for _ in range(2):
        _same(jac(W, X), fjac.jacobian(lambda w, x: fnp.tanh(x @ w))(W, X))


def test_jit_of_vmap_of_grad():
    g = fjac.jit(fjac.vmap(fjac.grad(_loss), in_axes=(None, 0)))
    xs = RNG.normal(size=(4, 5, 3))
    for batch in (xs, xs * 2.0):
        _same(g(W, batch), fjac.vmap(fjac.grad(_loss), in_axes=(None, 0))(W, batch))


def test_jit_inside_jit():
    inner, runs = _counting(lambda x: fnp.exp(x) * 2.0)
    inner_jit = fjac.jit(inner)
    outer = fjac.jit(lambda x: fnp.sum(inner_jit(x) + inner_jit(x * 2.0)))
    for x in (np.array([0.1, 0.2]), np.array([1.0, -1.0])):
        _same(outer(x), np.sum(np.exp(x) * 2.0 + np.exp(x * 2.0) * 2.0))


def test_closing_over_an_outer_tracer_is_not_reused():
    # the inner function reads x, a value of the enclosing grad: each grad call has its own,
    # so the recording is not kept (and every result is still right)
    def outer(x):
        return fjac.jit(lambda y: x * y)(np.array(2.0)) * x

    jitted_inner = [fjac.jit(lambda y, x=None: y)]  # (a separate function: not affected)
    for x in (1.0, 3.0, 5.0):
        np.testing.assert_allclose(fjac.grad(outer)(np.array(x)), 4.0 * x)
    assert jitted_inner[0](np.ones(1)).shape == (1,)

    def outer2(x):
        return shared(np.array(2.0), x)

    shared = fjac.jit(lambda y, x: x * y)  # passed as an argument: recorded and reused
    for x in (1.0, 3.0):
        np.testing.assert_allclose(fjac.grad(outer2)(np.array(x)), 2.0)


def test_perturbation_confusion_under_jit():
    # d/dx [x * d/dy (x + y)] = 1, never 2: the levels stay apart in the recording
    f = fjac.jit(fjac.grad(lambda x: x * fjac.grad(lambda y: x + y)(np.array(1.0))))
    for x in (1.0, 4.0):
        assert float(f(np.array(x))) == 1.0


def test_custom_vjp_rule_survives_the_replay():
    @fjac.custom_vjp
    def clip_grad(x):
        return x

    clip_grad.defvjp(lambda x: (x, None), lambda res, g: (fnp.clip(g, -1.0, 1.0),))
    f = fjac.jit(lambda x: fnp.sum(clip_grad(x) * 10.0))
    for x in (np.array([1.0, 2.0]), np.array([3.0, 4.0])):
        _same(fjac.grad(f)(x), np.array([1.0, 1.0]))
        _same(fjac.jit(fjac.grad(f))(x), np.array([1.0, 1.0]))


def test_custom_rule_with_a_traced_fixed_argument_is_refused():
    # nondiff_argnums values live in the rule's closures: a recording keeping them would
    # replay the first call's values
    import functools

    @functools.partial(fjac.custom_vjp, nondiff_argnums=(1,))
    def scaled(x, s):
        return x * s

    scaled.defvjp(lambda x, s: (x * s, None), lambda s, res, g: (g * s,))
    jf = fjac.jit(lambda x, s: fnp.sum(scaled(x, s)))
    with pytest.raises(TypeError, match=r"custom_vjp function scaled: an argument in "
                       r"nondiff_argnums is a traced array \(float64\[\]\) under jit"):
        jf(np.ones(2), 3.0)
    static = fjac.jit(lambda x, s: fnp.sum(scaled(x, s)), static_argnums=1)
    fixed = fjac.jit(lambda x: fnp.sum(scaled(x, 3.0)))  # a constant: replayed
    for x in (np.ones(2), np.arange(2.0)):
        _same(fixed(x), np.array(3.0 * x.sum()))
        _same(static(x, 4.0), np.array(4.0 * x.sum()))
        _same(fjac.grad(fixed)(x), np.array([3.0, 3.0]))


def test_a_python_bool_result_raises_concretization_error():
    with pytest.raises(ConcretizationError, match=r"traced array \(bool\[\]\)"):
        fjac.jit(lambda a: a * 2 if fnp.allclose(a, 1.0) else a)(np.ones(2))


# ------------------------------------------------------------------------------------------
# no aliasing, no mutation, memory


def test_constant_outputs_are_fresh_copies():
    jf = fjac.jit(lambda x: (x * 2.0, np.zeros(2)))
    first = jf(np.ones(2))[1]
    first[0] = 7.0
    second = jf(np.ones(2))[1]
    second[1] = 9.0
    _same(jf(np.ones(2))[1], np.zeros(2))


def test_closed_over_arrays_are_read_when_recorded():
    w = np.array([1.0, 2.0])
    jf = fjac.jit(lambda x: x * w + fnp.sum(w))
    _same(jf(np.ones(2)), np.array([4.0, 5.0]))
    w[:] = [10.0, 20.0]  # not seen: the recording holds what w was
    _same(jf(np.ones(2)), np.array([4.0, 5.0]))
    jf.clear_cache()
    _same(jf(np.ones(2)), np.array([40.0, 50.0]))


def test_inputs_are_not_mutated():
    x = np.array([0.5, 1.5])
    params = {"w": W.copy(), "x": X.copy()}
    g = fjac.jit(fjac.grad(lambda p: _loss(p["w"], p["x"])))
    for _ in range(3):
        g(params)
    _same(x, np.array([0.5, 1.5]))
    _same(params, {"w": W, "x": X})


def test_dead_code_is_not_replayed():
    calls = collections.Counter()

    def spy_impl(x):
        calls["spy"] += 1
        return x + 1.0

    spy_p = extend.Primitive("spy", spy_impl)
    extend.defvjp(spy_p, lambda g, ans, x: g)

    def f(x):
        unused = extend.bind(spy_p, x)  # noqa: F841  (computed, never read)
        return fnp.sum(x * 3.0)

    g = fjac.jit(fjac.grad(f))
    _same(g(np.ones(2)), np.array([3.0, 3.0]))
    assert calls["spy"] == 1  # the recording ran it
    _same(g(np.ones(2) * 2), np.array([3.0, 3.0]))
    assert calls["spy"] == 1  # the replay did not


def test_replay_frees_intermediates():
    # 40 operations on an 8 MB array: kept to the end, they would need 320 MB
    def chain(x):
        for _ in range(20):
            x = fnp.sin(x) * 1.01
        return x

    jf = fjac.jit(chain)
    x = np.linspace(0, 1, 1_000_000)
    jf(x)
    tracemalloc.start()
    out = jf(x + 0.5)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    _same(out, chain(x + 0.5))
    assert peak < 5 * x.nbytes, peak / x.nbytes


# ------------------------------------------------------------------------------------------
# found by review: each of these once replayed something else than the eager call


def test_a_buffer_changed_during_the_recording_is_kept_as_each_version():
    def doubling(x):
        c = np.ones(3)
        acc = x * 0.0
        for _ in range(3):
            acc = acc + x * c
            c *= 2  # the same array object, a new value
        return acc

    def filling(x):
        w = np.zeros(2)
        outs = []
        for k in range(2):
            w[k] = 1.0
            outs.append(fnp.sum(x * w))
        return fnp.stack(outs)

    for f, x in ((doubling, np.arange(3.0)), (filling, np.array([3.0, 5.0]))):
        jf = fjac.jit(f)
        for point in (x, x + 1.0):
            _same(jf(point), f(point))


def test_an_index_array_changed_after_use():
    def shifted(x):
        idx = np.array([0])
        out = []
        for _ in range(3):
            out.append(x[idx])
            idx += 1
        return fnp.concatenate(out)

    x = np.array([10.0, 11.0, 12.0, 13.0])
    jf = fjac.jit(shifted)
    _same(jf(x), np.array([10.0, 11.0, 12.0]))
    _same(jf(x + 1.0), np.array([11.0, 12.0, 13.0]))
    # the tape of eager grad kept the index too, and read it after the change
    weights = np.array([1.0, 2.0, 3.0])
    expected = np.array([1.0, 2.0, 3.0, 0.0])
    _same(fjac.grad(lambda x: fnp.sum(shifted(x) * weights))(x), expected)


@pytest.mark.parametrize("view", [lambda b: b.T, lambda b: b[:, ::2], lambda b: b[::-1, 1::2]])
def test_closed_over_views_keep_their_layout(view):
    # a product rounds by the operands' memory layout: the recording keeps the view's
    base = np.random.default_rng(1).standard_normal((6, 6))
    w = view(base)
    f = fjac.grad(lambda x: fnp.sum(fnp.tanh(w @ x)))
    jf = fjac.jit(f)
    rng = np.random.default_rng(2)
    for _ in range(10):
        x = rng.standard_normal(w.shape[1])
        _same(jf(x), f(x))


def test_static_arguments_are_keyed_by_type_and_bits():
    f = fjac.jit(lambda x, k: x * k, static_argnums=1)
    ints, floats32 = np.ones(2, dtype=np.int64), np.ones(2, dtype=np.float32)
    for x, k in [(ints, 1), (ints, 1.0), (floats32, np.float64(2.0)), (floats32, 2.0),
                 (np.ones(1), 0.0), (np.ones(1), -0.0)]:
        _same(f(x, k), x * k)
    assert np.signbit(f(np.ones(1), -0.0)[0])
    nan, runs = _counting(lambda x, k: x * k)
    jn = fjac.jit(nan, static_argnums=1)
    for _ in range(3):
        assert np.isnan(jn(np.ones(1), float("nan"))[0])
    assert len(runs) == 1  # NaN finds its own recording


def test_static_arguments_passed_the_other_way():
    def f(x, n, kind="sin"):
        return fnp.sin(x) * n if kind == "sin" else fnp.cos(x) * n

    by_name = fjac.jit(f, static_argnames=("n", "kind"))
    by_position = fjac.jit(f, static_argnums=(1, 2))
    x = np.array([0.5])
    for jf in (by_name, by_position):
        _same(jf(x, 2, "cos"), f(x, 2, "cos"))
        _same(jf(x, n=3, kind="sin"), f(x, 3, "sin"))


def test_results_are_never_the_arguments_themselves():
    a = np.array([1.0, 2.0])
    for fn in (lambda x: +x, lambda x: x.astype(np.float64), np.positive, fnp.array):
        jf = fjac.jit(fn)
        for _ in range(2):  # recording, replay
            out = jf(a)
            assert not np.shares_memory(out, a)
            out[0] = 99.0
        _same(a, np.array([1.0, 2.0]))


def test_custom_function_closing_over_a_traced_argument_is_refused():
    def g(x, w):
        @fjac.custom_jvp
        def f(y):
            return y * w

        f.defjvp(lambda p, t: (f(p[0]), t[0] * w))
        return f(x)

    with pytest.raises(TypeError, match=r"jit: 'multiply' is applied to a traced value inside "
                       r"the implementation of 'custom_jvp_call'.*as an argument"):
        fjac.jit(g)(np.ones(2), np.array(3.0))


def test_a_recording_keeps_no_example_values_alive():
    import gc

    from fjac._jit import JitTracer

    @fjac.custom_vjp
    def f(y):
        return fnp.sin(y)

    f.defvjp(lambda y: (fnp.sin(y), y), lambda res, g: (g * fnp.cos(res),))
    jitted = [fjac.jit(lambda x: f(x) + 1.0), fjac.jit(fjac.grad(lambda x: fnp.sum(f(x))))]
    for jf in jitted:
        jf(np.ones(1000))
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, JitTracer)]


def test_traced_nondiff_argument_from_an_enclosing_grad():
    # s belongs to the outer grad: the inner jit's call holds it, so it is run, not kept
    import functools

    @functools.partial(fjac.custom_jvp, nondiff_argnums=(0,))
    def scale(s, x):
        return x * s

    scale.defjvp(lambda s, p, t: (scale(s, p[0]), t[0] * s))
    x0 = np.array([1.0, 2.0])
    for s in (3.0, 4.0):
        eager = fjac.grad(lambda s: fnp.sum(scale(s, x0)))(np.array(s))
        inner = fjac.grad(lambda s: fnp.sum(fjac.jit(lambda x: scale(s, x))(x0)))(np.array(s))
        _same(inner, eager)
        assert float(inner) == 3.0


def test_integer_matrices_in_linalg():
    a = np.array([[2, 1], [1, 3]])
    for fn in (fnp.linalg.inv, fnp.linalg.det, fnp.linalg.pinv, fnp.linalg.cholesky):
        jf = fjac.jit(fn)
        for _ in range(2):
            _same(jf(a), fn(a))
        _same(fjac.vmap(fn)(np.stack([a, a + 1])), np.stack([fn(a), fn(a + 1)]))


def test_read_only_views_of_a_changing_buffer_and_subclasses_are_snapshotted():
    def shifted(x):
        buf = np.array([0])
        idx = buf.view()
        idx.flags.writeable = False  # read-only, but its memory is not
        out = []
        for _ in range(3):
            out.append(x[idx])
            buf += 1
        return fnp.concatenate(out)

    def broadcast(x):
        c = np.array([3.0])
        out = []
        for _ in range(3):
            out.append(x * np.broadcast_to(c, (2,)))  # a read-only view of c
            c -= 1.0
        return fnp.stack(out)

    class Tagged(np.ndarray):
        pass

    def subclass(x):
        c = np.array([3.0, 3.0]).view(Tagged)
        out = []
        for _ in range(3):
            out.append(x * c)
            c -= 1.0
        return fnp.stack(out)

    x = np.array([10.0, 11.0, 12.0, 13.0])
    for f, point in ((shifted, x), (broadcast, x[:2]), (subclass, x[:2])):
        jf = fjac.jit(f)
        for _ in range(2):
            _same(jf(point), f(point))


def test_nondiff_argument_changed_during_the_recording():
    import functools

    @functools.partial(fjac.custom_vjp, nondiff_argnums=(1,))
    def times(y, k):
        return y * k

    times.defvjp(lambda y, k: (y * k, None), lambda k, res, g: (g * k,))

    def f(x):
        k = np.zeros(1)
        outs = []
        for i in range(3):
            k[0] = i + 1.0
            outs.append(times(x, k))
        return fnp.stack(outs)

    x = np.array([1.0, 10.0])
    jf = fjac.jit(f)
    for _ in range(2):
        _same(jf(x), np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]))


def test_a_constant_passed_through_a_custom_function_is_not_the_callers():
    c = np.array([1.0, 2.0])

    @fjac.custom_jvp
    def scale_and_pass(x, y):
        return x * 2.0, y

    scale_and_pass.defjvp(lambda p, t: (scale_and_pass(*p), (t[0] * 2.0, t[1])))
    jf = fjac.jit(lambda x: scale_and_pass(x, c))
    jf(np.ones(2))
    for _ in range(2):  # replays
        passed = jf(np.ones(2))[1]
        _same(passed, np.array([1.0, 2.0]))
        passed[0] = 99.0
    _same(c, np.array([1.0, 2.0]))


def test_nondiff_argument_traced_with_the_differentiated_ones_is_refused():
    import functools

    @functools.partial(fjac.custom_jvp, nondiff_argnums=(1,))
    def times(y, k):
        return y * k

    times.defjvp(lambda k, p, t: (times(p[0], k), t[0] * k))
    x, k = np.array([1.0, 2.0]), np.array(3.0)
    with pytest.raises(TypeError, match="nondiff_argnums is traced by jvp"):
        fjac.jvp(times, (x, k), (x, np.array(1.0)))  # it returned tracers
    with pytest.raises(TypeError, match="nondiff_argnums is traced by grad"):
        fjac.grad(lambda x, k: fnp.sum(times(x, k) ** 2), argnums=(0, 1))(x, k)  # it leaked
    # traced when the differentiated arguments are not: the body runs operation by operation
    softmax = functools.partial(fjac.custom_jvp, nondiff_argnums=(0,))(
        lambda t, w: fnp.exp(w / t) / fnp.sum(fnp.exp(w / t)))
    softmax.defjvp(lambda t, p, tt: (softmax(t, p[0]), tt[0] / t))
    w = np.array([1.0, 2.0, 3.0])
    f = lambda t: softmax(t, w) * t  # noqa: E731
    jf = fjac.jit(f)
    for t in (np.array(2.0), np.array(3.0)):
        _same(jf(t), f(t))


def test_static_arguments_through_the_signature():
    def positional_only(x, /, n):
        return x * n

    jf = fjac.jit(positional_only, static_argnames="n")
    _same(jf(np.ones(2), 3), np.array([3.0, 3.0]))
    _same(jf(np.ones(2), n=4), np.array([4.0, 4.0]))

    def last(x, n):
        return x * n

    jl = fjac.jit(last, static_argnums=-1)  # the signature's last, also when passed by name
    _same(jl(np.ones(2), n=2), np.array([2.0, 2.0]))
    _same(jl(np.ones(2), 5), np.array([5.0, 5.0]))


def test_a_closed_over_matrix_used_at_every_step_is_kept_once():
    w = np.random.default_rng(3).standard_normal((200, 200)) / 15

    def steps(h):
        for _ in range(30):
            h = fnp.tanh(w @ h)  # the backward pass makes w.T afresh at every step
        return fnp.sum(h)

    g = fjac.jit(fjac.grad(steps))
    tracemalloc.start()
    g(np.ones(200))
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert kept < 3 * w.nbytes, kept / w.nbytes  # w and w.T, not 30 copies of w.T
    _same(g(np.ones(200) * 0.5), fjac.grad(steps)(np.ones(200) * 0.5))


# ------------------------------------------------------------------------------------------
# laws over random programs


def _nearby(args, seed):
    rng = np.random.default_rng(seed)
    return tuple(a + 1e-3 * rng.standard_normal(np.shape(a)) for a in args)


@settings(max_examples=5 * settings.default.max_examples)  # as tests/test_laws.py fuzzes
@given(differentiable_functions(), st.integers(0, 3))
def test_random_programs_replay_exactly(program, seed):
    f, args = program
    nums = tuple(range(len(args)))
    total = lambda *a: fnp.sum(f(*a))  # noqa: E731
    transforms = [
        f,
        fjac.grad(total, argnums=nums),
        fjac.jacobian(f, argnums=nums),
        fjac.jacfwd(f, argnums=nums),
        fjac.hessian(total),
    ]
    moved = _nearby(args, seed)
    for fn in transforms:
        jf = fjac.jit(fn)
        _same(jf(*args), fn(*args))  # recording
        _same(jf(*moved), fn(*moved))  # replay at another point
    # a batch of two points under vmap, recorded and replayed
    batched = fjac.vmap(fjac.grad(total, argnums=nums))
    stack = lambda a, b: tuple(np.stack([x, y]) for x, y in zip(a, b))  # noqa: E731
    jb = fjac.jit(batched)
    for pair in (stack(args, moved), stack(moved, args)):
        _same(jb(*pair), batched(*pair))


def test_lstsq_under_jit_returns_the_residuals_at_every_rank():
    # issue 24: lstsq read the rank to choose NumPy's layout, which jit cannot
    a, b = np.ones((4, 2)) + np.eye(4, 2), np.ones(4)
    for ours, numpy_s in zip(fjac.jit(lambda a, b: fnp.linalg.lstsq(a, b))(a, b),
                             np.linalg.lstsq(a, b)):
        np.testing.assert_allclose(ours, numpy_s, atol=1e-12)
    loss = lambda a, b: fnp.sum(fnp.linalg.lstsq(a, b)[0])  # noqa: E731
    np.testing.assert_allclose(fjac.jit(fjac.grad(loss))(a, b), fjac.grad(loss)(a, b))
