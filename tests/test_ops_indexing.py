"""Indexing and functional updates: one table row per index expression, checked three ways.

Each row ``(id, f, args)`` names a function ``f(m, *args)`` written against a module ``m``,
either ``fjac.numpy`` or ``numpy``: its value must match NumPy's, its derivatives must pass
``check_grads`` to order 2 in both modes, and the same code run with NumPy's own functions on
tracers must give the same gradient. ``x.at[...]`` updates have no NumPy counterpart: their
rows compare with the in-place NumPy operation (``numpy.add.at`` ...) applied to a copy.
"""

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
from fjac.testing import check_grads

_rng = np.random.default_rng(0)


def rand(*shape, dtype=np.float64):
    return _rng.normal(size=shape).astype(dtype)


X34, X234 = rand(3, 4), rand(2, 3, 4)
MASK34 = X34 > 0
REPEATED = np.array([0, 2, 0, 0])


def _get(idx):
    return lambda m, x: x[idx]


def _numpy_update(ufunc_at, idx):
    """``x`` after ``ufunc.at(x, idx, v)`` on a copy; plain NumPy's version of ``x.at[idx]``."""
    def update(x, v):
        out = np.array(x, copy=True)
        ufunc_at(out, idx, v)
        return out
    return update


def _at(method, idx, reference):
    """A row function: ``fnp.at(x)[idx].method(v)`` for fjac, ``reference`` for NumPy."""
    def f(m, x, v):
        if m is np:
            return reference(x, v)
        return getattr(fnp.at(x)[idx], method)(v)
    return f


def _set_numpy(idx):
    def update(x, v):
        out = np.array(x, copy=True)
        out[idx] = v
        return out
    return update


ROWS = [
    ("int", _get(1), (X34,)),
    ("negative-int", _get(-1), (X234,)),
    ("int-pair", _get((1, -2)), (X34,)),
    ("slice", _get(slice(1, None)), (X34,)),
    ("slice-step", _get((slice(None), slice(None, None, 2))), (X34,)),
    ("slice-negative-step", _get((slice(None, None, -2), slice(3, 0, -1))), (X34,)),
    ("slice-empty", _get(slice(2, 1)), (X34,)),
    ("ellipsis", _get((Ellipsis, 1)), (X234,)),
    ("ellipsis-middle", _get((0, Ellipsis, slice(1, 3))), (X234,)),
    ("none", _get((None, slice(None), None)), (X34,)),
    ("int-array", _get(np.array([2, 0])), (X34,)),
    ("int-array-repeated", _get(REPEATED), (X34,)),
    ("list-index", _get([1, 1, 0]), (X34,)),
    ("int-array-2d", _get(np.array([[0, 1], [2, 2]])), (rand(3),)),
    ("int-arrays-pair", _get((np.array([0, 2, 2]), np.array([3, 1, 1]))), (X34,)),
    ("advanced-separated", _get((np.array([0, 1]), slice(None), np.array([3, 3]))), (X234,)),
    ("advanced-and-slice", _get((slice(None), np.array([2, 0, 2]))), (X234,)),
    ("bool-mask", _get(MASK34), (X34,)),
    ("bool-mask-rows", _get(np.array([True, False, True])), (X34,)),
    ("bool-mask-and-int", _get((np.array([True, False, True]), 1)), (X34,)),
    ("mixed-everything", _get((Ellipsis, None, np.array([1, 0]), slice(None, None, -1))),
     (X234,)),
    ("take-flat", lambda m, x: m.take(x, [5, 0, 5]), (X34,)),
    ("take-axis", lambda m, x: m.take(x, np.array([[1, 1], [0, 2]]), axis=1), (X234,)),
    ("take-neg-axis", lambda m, x: m.take(x, [3, 0], axis=-1), (X34,)),
    ("take_along_axis", lambda m, x: m.take_along_axis(x, np.argsort(X34, axis=1), axis=1),
     (X34,)),
    ("take_along_axis-broadcast", lambda m, x: m.take_along_axis(
        x, np.array([[0], [2], [1]]), axis=1), (X34,)),
    ("take_along_axis-axis0", lambda m, x: m.take_along_axis(
        x, np.array([[[1]], [[0]]]), axis=0), (X234,)),
    ("take_along_axis-None", lambda m, x: m.take_along_axis(x, np.array([11, 0, 11]), None),
     (X34,)),
    ("at-get", lambda m, x: x[1:, ::2] if m is np else fnp.at(x)[1:, ::2].get(), (X34,)),
    ("at-set-slice", _at("set", (1, slice(None)), _set_numpy((1, slice(None)))),
     (X34, rand(4))),
    ("at-set-broadcast", _at("set", (slice(None), 1), _set_numpy((slice(None), 1))),
     (X34, rand())),
    ("at-set-mask", _at("set", MASK34, _set_numpy(MASK34)), (X34, rand())),
    ("at-set-repeated", _at("set", REPEATED, _set_numpy(REPEATED)), (rand(3), rand(4))),
    ("at-add", _at("add", (slice(None), 2), _numpy_update(np.add.at, (slice(None), 2))),
     (X34, rand(3))),
    ("at-add-repeated", _at("add", REPEATED, _numpy_update(np.add.at, REPEATED)),
     (rand(3), rand(4))),
    ("at-multiply", _at("multiply", (1,), _numpy_update(np.multiply.at, (1,))), (X34, rand(4))),
    ("at-multiply-repeated", _at("multiply", REPEATED, _numpy_update(np.multiply.at, REPEATED)),
     (rand(3), rand(4))),
    ("at-multiply-zero", _at("multiply", REPEATED, _numpy_update(np.multiply.at, REPEATED)),
     (rand(3), np.array([0.5, 2.0, 0.0, 3.0]))),
    ("at-multiply-pairs", _at("multiply", (np.array([0, 2, 0]), np.array([1, 1, 1])),
                              _numpy_update(np.multiply.at, (np.array([0, 2, 0]),
                                                             np.array([1, 1, 1])))),
     (X34, rand(3))),
    ("at-min", _at("min", (slice(None), 0), _numpy_update(np.minimum.at, (slice(None), 0))),
     (X34, rand(3))),
    ("at-min-repeated", _at("min", REPEATED, _numpy_update(np.minimum.at, REPEATED)),
     (rand(3), rand(4))),
    ("at-max-repeated", _at("max", REPEATED, _numpy_update(np.maximum.at, REPEATED)),
     (rand(3), rand(4))),
    ("at-max-mask", _at("max", MASK34, _numpy_update(np.maximum.at, MASK34)),
     (X34, rand(int(MASK34.sum())))),
    ("float32-getitem", _get((np.array([0, 0]), 1)), (rand(3, 4, dtype=np.float32),)),
    ("float32-at-multiply", _at("multiply", REPEATED, _numpy_update(np.multiply.at, REPEATED)),
     (rand(3, dtype=np.float32), rand(4, dtype=np.float32))),
]
# Rows whose NumPy side is not the same code on tracers (``x.at`` has no NumPy equivalent).
NO_DISPATCH = {r[0] for r in ROWS if r[0].startswith("at-") or r[0].startswith("float32-at")}

_IDS = [row[0] for row in ROWS]
_CASES = [row[1:] for row in ROWS]


def _traced_primal(f, args):
    tangents = tuple(np.zeros_like(a) for a in args)
    return fjac.jvp(lambda *a: f(fnp, *a), args, tangents)[0]


@pytest.mark.parametrize("f, args", _CASES, ids=_IDS)
def test_value_matches_numpy(f, args):
    expected = np.asarray(f(np, *args))
    for got in (f(fnp, *args), _traced_primal(f, args)):
        assert np.shape(got) == expected.shape
        assert np.asarray(got).dtype == expected.dtype
        # exact, but for at[].add: repeated values are summed before being added to x
        np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("f, args", _CASES, ids=_IDS)
def test_derivatives_to_order_2(f, args):
    check_grads(lambda *a: f(fnp, *a), args, order=2, modes=("fwd", "rev"))


def _weighted_sum(out, seed=1):
    return fnp.sum(out * np.random.default_rng(seed).normal(size=np.shape(out)))


@pytest.mark.parametrize(
    "f, args", [r[1:] for r in ROWS if r[0] not in NO_DISPATCH],
    ids=[r[0] for r in ROWS if r[0] not in NO_DISPATCH],
)
def test_numpy_dispatch_gives_the_same_gradient(f, args):
    argnums = tuple(range(len(args)))
    g_np = fjac.grad(lambda *a: _weighted_sum(f(np, *a)), argnums=argnums)(*args)
    g_fnp = fjac.grad(lambda *a: _weighted_sum(f(fnp, *a)), argnums=argnums)(*args)
    for a, b in zip(g_np, g_fnp):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# hand-written checks


def test_repeated_integer_indices_accumulate():
    g = fjac.grad(lambda x: fnp.sum(x[np.array([0, 2, 0, 0])]))(np.zeros(3))
    np.testing.assert_array_equal(g, [3.0, 0.0, 1.0])
    g = fjac.grad(lambda x: fnp.sum(fnp.take(x, [1, 1], axis=1)))(np.zeros((2, 2)))
    np.testing.assert_array_equal(g, [[0.0, 2.0], [0.0, 2.0]])


def test_boolean_mask_gradient_is_the_mask():
    x = np.array([[1.0, -1.0], [-2.0, 3.0]])
    g = fjac.grad(lambda x: fnp.sum(x[x > 0] * 2.0))(x)
    np.testing.assert_array_equal(g, [[2.0, 0.0], [0.0, 2.0]])


def test_set_with_repeated_indices_last_write_wins():
    x, v = np.zeros(3), np.array([1.0, 2.0, 3.0])
    idx = np.array([0, 0, 2])
    out = fnp.at(x)[idx].set(v)
    np.testing.assert_array_equal(out, [2.0, 0.0, 3.0])
    # the overwritten write gets no cotangent, and x none where it was overwritten
    gx, gv = fjac.grad(lambda x, v: fnp.sum(fnp.at(x)[idx].set(v) * np.array([1.0, 2.0, 3.0])),
                       (0, 1))(x, v)
    np.testing.assert_array_equal(gv, [0.0, 1.0, 3.0])
    np.testing.assert_array_equal(gx, [0.0, 2.0, 0.0])


def test_add_and_multiply_with_repeated_indices():
    x, v = np.array([2.0, 3.0]), np.array([5.0, 7.0])
    idx = np.array([0, 0])
    assert fnp.at(x)[idx].add(v).tolist() == [14.0, 3.0]
    assert fnp.at(x)[idx].multiply(v).tolist() == [70.0, 3.0]
    gx, gv = fjac.grad(lambda x, v: fnp.sum(fnp.at(x)[idx].multiply(v)), (0, 1))(x, v)
    np.testing.assert_array_equal(gx, [35.0, 1.0])
    np.testing.assert_array_equal(gv, [14.0, 10.0])
    # a zero factor: the other factors still get their exact derivative
    gv = fjac.grad(lambda v: fnp.sum(fnp.at(x)[idx].multiply(v)))(np.array([0.0, 7.0]))
    np.testing.assert_array_equal(gv, [14.0, 0.0])


def test_min_max_derivative_goes_to_one_winner():
    x = np.array([1.0, 5.0])
    # a tie between x[0] and a value: x keeps the derivative
    gx, gv = fjac.grad(lambda x, v: fnp.sum(fnp.at(x)[np.array([0, 0])].min(v)), (0, 1))(
        x, np.array([1.0, 1.0]))
    np.testing.assert_array_equal(gx, [1.0, 1.0])
    np.testing.assert_array_equal(gv, [0.0, 0.0])
    # a tie between two values: the first gets it
    gx, gv = fjac.grad(lambda x, v: fnp.sum(fnp.at(x)[np.array([1, 1])].max(v)), (0, 1))(
        x, np.array([6.0, 6.0]))
    np.testing.assert_array_equal(gx, [1.0, 0.0])
    np.testing.assert_array_equal(gv, [1.0, 0.0])


def test_at_works_on_plain_numpy_and_leaves_it_unchanged():
    x = np.arange(4.0)
    assert fnp.at(x)[1:3].set(0.0).tolist() == [0.0, 0.0, 0.0, 3.0]
    assert fnp.at(x)[::2].multiply(10.0).tolist() == [0.0, 1.0, 20.0, 3.0]
    assert fnp.at(x)[[0, 0]].max(np.array([9.0, 7.0])).tolist() == [9.0, 1.0, 2.0, 3.0]
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_tracer_method_at_matches_fnp_at():
    x = rand(3)
    g1 = fjac.grad(lambda x: fnp.sum(x.at[np.array([0, 0])].multiply(x[1]) ** 2))(x)
    g2 = fjac.grad(lambda x: fnp.sum(fnp.at(x)[np.array([0, 0])].multiply(x[1]) ** 2))(x)
    np.testing.assert_array_equal(g1, g2)


def test_item_assignment_on_a_tracer_points_to_at():
    def f(x):
        x[0] = 1.0
        return x

    with pytest.raises(TypeError, match=r"x.at\[idx\].set"):
        fjac.grad(f)(np.zeros(2))


def test_traced_index_is_rejected():
    with pytest.raises(IndexError, match="take_along_axis: indices must be integers, got dtype"):
        fjac.grad(lambda x: fnp.sum(fnp.take_along_axis(x, x, 0)))(np.zeros(2))
    with pytest.raises(IndexError, match="must be of integer or boolean type"):
        fjac.grad(lambda x: fnp.sum(x.at[x].add(1.0)))(np.zeros(2))
    with pytest.raises(TypeError, match="indices must be integers or booleans"):
        fjac.grad(lambda x: fnp.sum(x.at[x].set(1.0)))(np.zeros(2))
    with pytest.raises(IndexError, match="must be of integer or boolean type"):
        fjac.grad(lambda x: fnp.sum(x[x]))(np.zeros(2))
