"""Shape operations: one table row per operation and case, checked three ways.

Each row ``(id, f, args)`` names a function ``f(m, *args)`` written against a module ``m``,
either ``fjac.numpy`` or ``numpy``: its value must match NumPy's, its derivatives must pass
``check_grads`` to order 2 in both modes, and the same code run with NumPy's own functions on
tracers (dispatch) must give the same gradient. Rows in ``NO_DISPATCH`` use a construct NumPy
cannot hand to fjac (``numpy.array`` or ``numpy.asarray`` of tracers) and are not in the dispatch
test.
"""

import numpy as np
import pytest

import fjac
import fjac.extend
import fjac.numpy as fnp
from fjac.testing import check_grads

_rng = np.random.default_rng(0)


def rand(*shape, dtype=np.float64):
    return _rng.normal(size=shape).astype(dtype)


X34, X234 = rand(3, 4), rand(2, 3, 4)

ROWS = [
    ("reshape-minus-one", lambda m, x: m.reshape(x, (-1, 6)), (X234,)),
    ("reshape-F", lambda m, x: m.reshape(x, (4, 3), order="F"), (X34,)),
    ("reshape-method", lambda m, x: x.reshape(2, -1), (X34,)),
    ("ravel", lambda m, x: m.ravel(x), (X234,)),
    ("ravel-F", lambda m, x: m.ravel(x, order="F"), (X34,)),
    ("flatten-method", lambda m, x: x.flatten(), (X34,)),
    ("transpose", lambda m, x: m.transpose(x), (X234,)),
    ("transpose-axes", lambda m, x: m.transpose(x, (1, -1, 0)), (X234,)),
    ("T", lambda m, x: x.T, (X34,)),
    ("swapaxes", lambda m, x: m.swapaxes(x, 0, -1), (X234,)),
    ("moveaxis", lambda m, x: m.moveaxis(x, 0, -1), (X234,)),
    ("moveaxis-many", lambda m, x: m.moveaxis(x, (0, 1), (2, 0)), (X234,)),
    ("expand_dims", lambda m, x: m.expand_dims(x, 1), (X34,)),
    ("expand_dims-tuple", lambda m, x: m.expand_dims(x, (0, -1)), (X34,)),
    ("squeeze", lambda m, x: m.squeeze(x), (rand(1, 3, 1),)),
    ("squeeze-axis", lambda m, x: m.squeeze(x, axis=-1), (rand(1, 3, 1),)),
    ("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), (rand(3, 1),)),
    ("broadcast_arrays", lambda m, x, y: m.broadcast_arrays(x, y), (rand(3, 1), rand(4))),
    ("atleast_1d", lambda m, x: m.atleast_1d(x), (rand(),)),
    ("atleast_2d", lambda m, x, y: m.atleast_2d(x, y), (rand(3), X34)),
    ("atleast_3d-0d", lambda m, x: m.atleast_3d(x), (rand(),)),
    ("atleast_3d-1d", lambda m, x: m.atleast_3d(x), (rand(3),)),
    ("atleast_3d-2d", lambda m, x: m.atleast_3d(x), (X34,)),
    ("concatenate", lambda m, x, y: m.concatenate([x, y]), (X34, rand(2, 4))),
    ("concatenate-neg-axis", lambda m, x, y: m.concatenate((x, y), axis=-1), (X34, rand(3, 2))),
    ("concatenate-with-constant", lambda m, x: m.concatenate([x, np.ones((1, 4))]), (X34,)),
    ("stack", lambda m, x, y: m.stack([x, y], axis=1), (X34, X34)),
    ("stack-neg-axis", lambda m, x, y: m.stack([x, y], axis=-1), (X34, X34)),
    ("hstack-1d", lambda m, x, y: m.hstack([x, y]), (rand(3), rand(2))),
    ("hstack-2d", lambda m, x, y: m.hstack([x, y]), (X34, rand(3, 2))),
    ("vstack", lambda m, x, y: m.vstack([x, y]), (rand(4), X34)),
    ("dstack", lambda m, x, y: m.dstack([x, y]), (X34, X34)),
    ("column_stack", lambda m, x, y: m.column_stack([x, y]), (rand(3), X34)),
    ("split-sections", lambda m, x: m.split(x, 2, axis=1), (X34,)),
    ("split-indices", lambda m, x: m.split(x, [1, 3], axis=-1), (X34,)),
    ("split-empty-pieces", lambda m, x: m.split(x, [0, 0, 4, 9]), (rand(5),)),
    ("split-unordered", lambda m, x: m.split(x, [3, 1], axis=1), (X34,)),
    ("split-negative", lambda m, x: m.split(x, [-1]), (rand(5),)),
    ("array_split-uneven", lambda m, x: m.array_split(x, 3, axis=1), (X34,)),
    ("array_split-more-than-length", lambda m, x: m.array_split(x, 5), (rand(3),)),
    ("split-use-one-piece", lambda m, x: m.split(x, 3)[1], (rand(6),)),
    ("tile-int", lambda m, x: m.tile(x, 2), (rand(3),)),
    ("tile-more-reps", lambda m, x: m.tile(x, (2, 1, 3)), (X34,)),
    ("tile-fewer-reps", lambda m, x: m.tile(x, 2), (X34,)),
    ("repeat-scalar", lambda m, x: m.repeat(x, 2, axis=1), (X34,)),
    ("repeat-flat", lambda m, x: m.repeat(x, 3), (X34,)),
    ("repeat-array", lambda m, x: m.repeat(x, [1, 0, 3], axis=0), (X34,)),
    ("repeat-neg-axis", lambda m, x: m.repeat(x, [2, 1, 0, 1], axis=-1), (X34,)),
    ("flip", lambda m, x: m.flip(x), (X234,)),
    ("flip-axis", lambda m, x: m.flip(x, (0, 2)), (X234,)),
    ("fliplr", lambda m, x: m.fliplr(x), (X34,)),
    ("flipud", lambda m, x: m.flipud(x), (X34,)),
    ("roll-flat", lambda m, x: m.roll(x, 5), (X34,)),
    ("roll-axis", lambda m, x: m.roll(x, -1, axis=1), (X34,)),
    ("roll-many", lambda m, x: m.roll(x, (1, 2, 1), axis=(0, 1, 0)), (X34,)),
    ("rot90", lambda m, x: m.rot90(x), (X34,)),
    ("rot90-2", lambda m, x: m.rot90(x, 2), (X34,)),
    ("rot90-3-axes", lambda m, x: m.rot90(x, 3, axes=(2, 0)), (X234,)),
    ("rot90-negative", lambda m, x: m.rot90(x, -1), (X34,)),
    ("pad-int", lambda m, x: m.pad(x, 1), (X34,)),
    ("pad-pairs-values", lambda m, x: m.pad(x, ((1, 2), (0, 1)), constant_values=((1, 2), (3, 4))),
     (X34,)),
    ("pad-one-pair", lambda m, x: m.pad(x, (2, 1), constant_values=-1.5), (X234,)),
    ("pad-edge", lambda m, x: m.pad(x, (2, 3), mode="edge"), (X34,)),
    ("pad-reflect", lambda m, x: m.pad(x, 2, mode="reflect"), (X34,)),
    ("pad-symmetric", lambda m, x: m.pad(x, ((0, 3), (2, 0)), mode="symmetric"), (X34,)),
    ("pad-wrap", lambda m, x: m.pad(x, (1, 5), mode="wrap"), (rand(3),)),
    ("sort", lambda m, x: m.sort(x), (X34,)),
    ("sort-axis0", lambda m, x: m.sort(x, axis=0), (X234,)),
    ("sort-None", lambda m, x: m.sort(x, axis=None), (X34,)),
    ("diff", lambda m, x: m.diff(x), (X34,)),
    ("diff-n2-axis0", lambda m, x: m.diff(x, 2, axis=0), (X34,)),
    ("diff-n0", lambda m, x: m.diff(x, 0), (X34,)),
    ("diff-prepend-append", lambda m, x: m.diff(x, axis=1, prepend=0.5, append=x[:, :1]),
     (X34,)),
    ("array-nested", lambda m, x, y: m.array([[x, 2.0], [y, x * y]]), (rand(), rand())),
    ("array-of-vectors", lambda m, x: m.array([x, np.ones(3), 2 * x]), (rand(3),)),
    ("array-ndmin", lambda m, x: m.array((x, x), ndmin=3), (rand(),)),
    ("asarray-tracer", lambda m, x: m.asarray(x), (X34,)),
    ("float32-concatenate", lambda m, x: m.concatenate([x, x]), (rand(3, dtype=np.float32),)),
    ("float32-pad", lambda m, x: m.pad(x, 1, constant_values=2.0), (rand(3, dtype=np.float32),)),
]
NO_DISPATCH = {"array-nested", "array-of-vectors", "array-ndmin", "asarray-tracer"}

_IDS = [row[0] for row in ROWS]
_CASES = [row[1:] for row in ROWS]


def _leaves(out):
    return fjac.tree.tree_leaves(out)


def _traced_primal(f, args):
    tangents = tuple(np.zeros_like(a) for a in args)
    return fjac.jvp(lambda *a: f(fnp, *a), args, tangents)[0]


@pytest.mark.parametrize("f, args", _CASES, ids=_IDS)
def test_value_matches_numpy(f, args):
    expected = _leaves(f(np, *args))
    for got in (_leaves(f(fnp, *args)), _leaves(_traced_primal(f, args))):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            e = np.asarray(e)
            assert np.shape(g) == e.shape
            assert np.asarray(g).dtype == e.dtype
            np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("f, args", _CASES, ids=_IDS)
def test_derivatives_to_order_2(f, args):
    check_grads(lambda *a: f(fnp, *a), args, order=2, modes=("fwd", "rev"))


def _weighted_sum(out, seed=1):
    rng = np.random.default_rng(seed)
    total = 0.0
    for leaf in _leaves(out):
        total = total + fnp.sum(leaf * rng.normal(size=np.shape(leaf)))
    return total


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


def test_split_reverse_pass_fills_unused_pieces_with_zeros():
    g = fjac.grad(lambda x: fnp.sum(fnp.split(x, 3)[1] * 2.0))(np.arange(6.0))
    np.testing.assert_array_equal(g, [0, 0, 2, 2, 0, 0])


def test_split_overlapping_pieces_accumulate():
    g = fjac.grad(lambda x: sum(fnp.sum(p) for p in fnp.split(x, [3, 1])))(np.arange(4.0))
    np.testing.assert_array_equal(g, [1, 2, 2, 1])  # x[1:3] is in two pieces


def test_sort_gradient_follows_the_elements():
    x = np.array([3.0, 1.0, 2.0])
    g = fjac.grad(lambda x: fnp.sort(x)[0] * 10 + fnp.sort(x)[2])(x)
    np.testing.assert_array_equal(g, [1.0, 10.0, 0.0])


def test_array_stacks_tracers_and_keeps_the_derivative():
    g = fjac.grad(lambda a, b: fnp.sum(fnp.array([[a, 2.0], [b * a, 1.0]]) ** 2), (0, 1))(
        1.5, 2.0)
    assert (float(g[0]), float(g[1])) == (2 * 1.5 + 2 * 4.0 * 1.5, 2 * 2.0 * 1.5**2)


def test_numpy_array_of_tracers_raises_with_a_pointer():
    with pytest.raises(Exception, match="fjac.numpy"):
        fjac.grad(lambda a: np.array([a, 1.0]).sum())(1.0)


def test_array_dtype_follows_numpy():
    x32 = np.float32(1.0)
    out, _ = fjac.jvp(lambda x: fnp.array([x, x]), (np.array(x32),), (np.array(x32),))
    assert out.dtype == np.float32
    out, _ = fjac.jvp(lambda x: fnp.array([x, 2.0], dtype=np.float32), (1.0,), (1.0,))
    assert out.dtype == np.float32


def test_pad_traced_constant_value_is_differentiated():
    f = lambda x, c: fnp.pad(x, 2, constant_values=c)
    check_grads(f, (rand(3), np.array(0.7)), order=2)
    assert float(fjac.grad(lambda c: fnp.sum(f(np.ones(3), c)))(0.7)) == 4.0


@pytest.mark.parametrize("call, error, words", [
    (lambda x: fnp.split(x, 4), ValueError, "equal division"),
    (lambda x: fnp.pad(x, 1, mode="mean"), ValueError, "mode 'mean'"),
    (lambda x: fnp.pad(x, 1, stat_length=2), TypeError, "stat_length"),
    (lambda x: fnp.pad(x, 1, mode="reflect", reflect_type="odd"), ValueError, "even"),
    (lambda x: fnp.repeat(x, [1, 2]), ValueError, "repeats has shape"),
    (lambda x: fnp.sort(x, order="f"), TypeError, "order"),
    (lambda x: fnp.diff(x, -1), ValueError, "non-negative"),
])
def test_errors_name_the_problem(call, error, words):
    with pytest.raises(error, match=words):
        fjac.grad(lambda x: fnp.sum(call(x)[0]))(rand(6))


def test_concatenate_with_axis_none_flattens_as_numpy_does():
    x, v = np.arange(6.0).reshape(2, 3), np.array([7.0, 8.0])
    for concat in (fnp.concatenate, np.concatenate):
        out = fjac.vmap(lambda x, concat=concat: concat([x, v, x], axis=None))(np.stack([x, x]))
        np.testing.assert_array_equal(out[0], np.concatenate([x, v, x], axis=None))
    weights = np.arange(12.0)
    g = fjac.grad(lambda x: fnp.sum(np.concatenate([x, x ** 2], axis=None) * weights))(x)
    np.testing.assert_allclose(g, (weights[:6] + 2 * x.ravel() * weights[6:]).reshape(2, 3))


def test_results_are_new_arrays_where_numpy_makes_new_arrays():
    # issue 24: positive, flatten and repeat returned their input (or a view of it)
    x = np.arange(6.0).reshape(2, 3)
    for result in (fnp.positive(x), np.positive(x), fnp.repeat(x, 1), fnp.repeat(x, 1, axis=0)):
        assert not np.shares_memory(result, x)
    seen = []
    fjac.jvp(lambda t: seen.append(t.flatten()) or t, (x,), (x,))
    assert fjac.extend.is_tracer(seen[0])


def test_transpose_of_a_number_is_a_0d_array():
    # issue 24: a Python float came back, without .mean()
    r = fnp.transpose(0.42)
    assert isinstance(r, np.ndarray) and r.shape == () and r.mean() == 0.42
    np.testing.assert_array_equal(fnp.transpose(np.ones((2, 3))), np.ones((3, 2)))
