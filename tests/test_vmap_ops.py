"""Every fjac.numpy operation under ``vmap``, driven by the per-operation test tables.

The rows of tests/test_ops_{elementwise,reductions,shape,indexing,linalg}.py (and a table here
for the operations those leave out) each become a batch of 3 examples of their arguments,
stacked along a new axis; each row is then checked against a Python loop over the examples:

1. ``vmap(f)`` equals the stacked per-example results (values, shapes and dtypes);
2. with the batch axis elsewhere: ``in_axes`` 1 or -1, ``out_axes`` 1;
3. with only one argument batched (the others ``in_axes=None``);
4. ``vmap(grad(...))`` and ``vmap(jvp(...))`` equal the loops of grad and jvp;
5. ``grad`` of a function that calls ``vmap(f)`` equals the stacked per-example gradients;
6. ``vmap(vmap(f))`` over a 3 x 3 grid of the examples equals the nested loop.

No table row is skipped: every mask and index in the tables is a constant, so no output is
ragged across examples. Operations whose output can be ragged (``nonzero``) are tested by hand
with equal counts. A test also pins the primitives that have no batch rule (they use the
per-example loop), so a new primitive without one is noticed.
"""

import functools
import importlib
import importlib.util
import pkgutil
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
from fjac import vmap
from fjac._core import Primitive, bind
from fjac._rules import batch_rules
from fjac.tree import tree_leaves, tree_map, tree_structure

BATCH = 3


def _table_module(name: str) -> Any:
    """A sibling test module, loaded from its file (its tables are built at import)."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_vmap_tables_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_elementwise = _table_module("test_ops_elementwise")
_reductions = _table_module("test_ops_reductions")
_shape = _table_module("test_ops_shape")
_indexing = _table_module("test_ops_indexing")
_linalg = _table_module("test_ops_linalg")


class Case(NamedTuple):
    """One table row as a batch: ``f`` of positional arrays, and its examples' arguments."""

    id: str
    f: Any
    examples: list[tuple[Any, ...]]
    diff: bool  # differentiable: derivative checks apply


def _variant(a: Any, rng: np.random.Generator) -> np.ndarray:
    """Another draw from the domain of a table argument: its entries permuted, with random
    signs and a ±10% scale (the tables' domains are symmetric, and keep zeros at zero)."""
    a = np.asarray(a)
    flat = rng.permutation(a.ravel()) * rng.choice([-1.0, 1.0], a.size)
    flat = flat * rng.uniform(0.9, 1.1, a.size)
    return flat.reshape(a.shape).astype(a.dtype)


def _examples_from(args: tuple[Any, ...], seed: int) -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(seed)
    out = [tuple(np.asarray(a) for a in args)]
    for _ in range(BATCH - 1):
        out.append(tuple(_variant(a, rng) for a in args))
    return out


# ---------------------------------------------------------------------------------------------
# the cases, from each table


def _elementwise_cases() -> list[Case]:
    E = _elementwise
    seeds = range(10, 10 + BATCH)
    cases = []
    for name, fn, _, domain in E.UNARY:
        for shape in E.UNARY_SHAPES:
            examples = [(E._unary_arg(domain, shape, seed=s),) for s in seeds]
            cases.append(Case(f"unary-{name}-{shape}", fn, examples, True))
        examples = [(E._unary_arg(domain, (2, 3), seed=s, dtype=np.float32),) for s in seeds]
        cases.append(Case(f"unary-{name}-float32", fn, examples, True))
    for row in E.BINARY:
        name, fn = row[:2]
        for shapes in E.BINARY_SHAPES:
            examples = [E._binary_args(row, shapes, seed=s) for s in seeds]
            cases.append(Case(f"binary-{name}-{shapes}", fn, examples, True))
        examples = [E._binary_args(row, ((3, 1), (4,)), seed=s, dtype=np.float32) for s in seeds]
        cases.append(Case(f"binary-{name}-float32", fn, examples, True))
    # values with ties, signed zeros, infinities and NaN (no zero divisor for floor_divide)
    finite = E.EDGES[np.isfinite(E.EDGES) & (E.EDGES != 0)]
    rng = np.random.default_rng(1)
    for name, fn, _, arity in E.ZERO_DERIVATIVE:
        if arity == 1:
            for shape in E.UNARY_SHAPES:
                examples = [(rng.choice(E.EDGES, shape),) for _ in range(BATCH)]
                cases.append(Case(f"zero-derivative-{name}-{shape}", fn, examples, False))
        else:
            for shapes in E.BINARY_SHAPES:
                examples = [tuple(rng.choice(finite, s) for s in shapes) for _ in range(BATCH)]
                cases.append(Case(f"zero-derivative-{name}-{shapes}", fn, examples, False))
    return cases


def _reduction_cases() -> list[Case]:
    cases = []
    for k, param in enumerate(_reductions.CASES):
        fn, _, x, kwargs = param.values
        f = functools.partial(lambda x, fn, kwargs: fn(x, **kwargs), fn=fn, kwargs=kwargs)
        cases.append(Case(f"reduction-{param.id}", f, _examples_from((x,), k), True))
    return cases


def _module_row_cases(module: Any, family: str, offset: int) -> list[Case]:
    """Rows ``(id, f(m, *args), args)`` of the shape, indexing and linalg tables."""
    return [
        Case(f"{family}-{name}", functools.partial(f, fnp), _examples_from(args, offset + k),
             True)
        for k, (name, f, args) in enumerate(module.ROWS)
    ]


def _normal(*shapes: tuple[int, ...], seed: int) -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(seed)
    return [tuple(rng.normal(size=s) for s in shapes) for _ in range(BATCH)]


# The operations of fjac.numpy that no table above covers: (id, f, argument shapes, diff).
EXTRA = [
    ("where", lambda x, y: fnp.where(x > y, x, y), [(3, 4), (4,)], True),
    ("where-constant-branch", lambda x: fnp.where(x > 0, x, 0.0), [(2, 3)], True),
    ("where-numpy", lambda x, y: np.where(x > 0, x * y, y), [(3,), ()], True),
    ("clip-array-bound", lambda x, lo: fnp.clip(x, lo, 1.0), [(2, 3), (3,)], True),
    ("clip-scalars", lambda x: fnp.clip(x, -0.5, 0.5), [(4,)], True),
    ("astype-float32", lambda x: fnp.astype(x, np.float32) * 2.0, [(3,)], True),
    ("astype-int", lambda x: fnp.astype(x * 3.0, np.int64), [(3,)], False),
    ("method-astype", lambda x: x.astype(np.float32), [(2, 2)], True),
    ("argmax", lambda x: fnp.argmax(x), [(3, 4)], False),
    ("argmax-axis", lambda x: fnp.argmax(x, axis=-1), [(3, 4)], False),
    ("argmax-keepdims", lambda x: fnp.argmax(x, keepdims=True), [(3, 4)], False),
    ("argmin-axis-keepdims", lambda x: fnp.argmin(x, axis=0, keepdims=True), [(3, 4)], False),
    ("argsort", lambda x: fnp.argsort(x), [(3, 4)], False),
    ("argsort-axis0", lambda x: fnp.argsort(x, axis=0), [(3, 4)], False),
    ("argsort-None", lambda x: fnp.argsort(x, axis=None), [(3, 4)], False),
    ("all", lambda x: fnp.all(x > -1.0), [(3, 4)], False),
    ("any-axis", lambda x: fnp.any(x > 1.0, axis=1), [(3, 4)], False),
    ("all-keepdims", lambda x: fnp.all(x > -1.5, axis=(0, 2), keepdims=True), [(2, 3, 4)],
     False),
    ("isclose", lambda x, y: fnp.isclose(x, fnp.round(y, 1), atol=0.05), [(5,), (5,)], False),
    ("zeros_like", lambda x: fnp.zeros_like(x), [(2, 3)], False),
    ("ones_like-dtype", lambda x: fnp.ones_like(x, dtype=np.int32), [(3,)], False),
    ("zeros_like-shape", lambda x: fnp.zeros_like(x, shape=(2,)), [(3,)], False),
    ("ones_like-times-x", lambda x: fnp.ones_like(x) * x, [(3,)], True),
    ("full_like", lambda x: fnp.full_like(x, 2.5), [(2, 3)], False),
    ("full_like-traced-fill", lambda x, c: fnp.full_like(x, c) * x, [(3,), ()], True),
    ("shape-queries", lambda x: x * fnp.size(x) + fnp.ndim(x) + fnp.shape(x)[0], [(3, 2)],
     True),
    ("numpy-ufunc-reduce", lambda x: np.add.reduce(np.sin(x) * x, axis=1), [(3, 4)], True),
    ("numpy-accumulate", lambda x: np.multiply.accumulate(x, axis=0), [(3, 4)], True),
    ("tracer-methods", lambda x: x.sum(axis=0) + x.mean() + x.T.diagonal() + x.mT.trace(),
     [(3, 3)], True),
    ("tracer-iteration", lambda x: fnp.stack([row * i for i, row in enumerate(x)]), [(3, 2)],
     True),
    # index expressions whose advanced indices are apart (NumPy moves their axes in front, so
    # the batch axis lands after them)
    ("index-int-slice-array", lambda x: x[0, :, np.array([0, 2])], [(3, 4, 5)], True),
    ("index-arrays-around-ellipsis", lambda x: x[np.array([0, 2]), ..., np.array([1, 3])],
     [(3, 4)], True),
    ("index-arrays-around-none", lambda x: x[np.array([0, 2]), None, np.array([1, 3])],
     [(3, 4, 5)], True),
    ("index-0d-array-apart", lambda x: x[np.array(1), :, np.array([1, 0])], [(3, 4, 5)], True),
    ("index-mask-and-array-apart", lambda x: x[np.array([True, False, True]), :, [0, 4]],
     [(3, 4, 5)], True),
    ("at-set-apart-broadcast", lambda x, v: fnp.at(x)[np.array([0, 2]), :, [1, 3]].set(v),
     [(3, 4, 5), (1, 4)], True),
    ("at-add-apart-repeated", lambda x, v: fnp.at(x)[0, :, np.array([1, 1])].add(v),
     [(3, 4, 5), (2, 4)], True),
    ("at-max-apart", lambda x, v: fnp.at(x)[np.array([0, 2]), :, [1, 3]].max(v),
     [(3, 4, 5), (4,)], True),
]


def _extra_cases() -> list[Case]:
    return [
        Case(f"extra-{name}", f, _normal(*shapes, seed=100 + k), diff)
        for k, (name, f, shapes, diff) in enumerate(EXTRA)
    ]


CASES = (
    _elementwise_cases()
    + _reduction_cases()
    + _module_row_cases(_shape, "shape", 1000)
    + _module_row_cases(_indexing, "indexing", 2000)
    + _module_row_cases(_linalg, "linalg", 3000)
    + _extra_cases()
)
DIFF_CASES = [c for c in CASES if c.diff]
MULTI_ARG_CASES = [c for c in CASES if len(c.examples[0]) > 1]


# Rows that cannot be batched (none at present).
KNOWN_FAILURES: dict[str, str] = {}


def _params(cases: list[Case]) -> Any:
    params = [
        pytest.param(c, id=c.id, marks=pytest.mark.xfail(reason=KNOWN_FAILURES[c.id],
                                                         strict=True))
        if c.id in KNOWN_FAILURES else pytest.param(c, id=c.id)
        for c in cases
    ]
    return pytest.mark.parametrize("case", params)


# ---------------------------------------------------------------------------------------------
# helpers


def _stack(examples: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The examples' arguments stacked along a new first axis: the batched arguments."""
    return tuple(
        np.stack([np.asarray(ex[i]) for ex in examples])
        for i in range(len(examples[0]))
    )


def _tol(dtype: np.dtype) -> dict[str, float]:
    if dtype == np.float32:
        return {"rtol": 2e-5, "atol": 2e-6}
    return {"rtol": 1e-10, "atol": 1e-12}


def _assert_matches_loop(got: Any, results: list[Any], out_axis: Any = 0) -> None:
    """``got`` (a vmap output) equals the per-example ``results`` stacked along ``out_axis``
    (an int, or a tree of ints matching the output), in structure, shape, dtype and value."""
    # (by name: fjac.numpy.linalg returns NumPy's own result namedtuples for NumPy inputs)
    assert str(tree_structure(got)) == str(tree_structure(results[0]))
    per_leaf = [tree_leaves(r) for r in results]
    axes = tree_leaves(out_axis) if not isinstance(out_axis, int) else None
    for i, g in enumerate(tree_leaves(got)):
        want = np.stack([np.asarray(leaves[i]) for leaves in per_leaf])
        want = np.moveaxis(want, 0, out_axis if axes is None else axes[i])
        g = np.asarray(g)
        assert g.shape == want.shape, f"leaf {i}: shape {g.shape}, want {want.shape}"
        assert g.dtype == want.dtype, f"leaf {i}: dtype {g.dtype}, want {want.dtype}"
        if want.dtype.kind == "f":
            np.testing.assert_allclose(g, want, err_msg=f"leaf {i}", **_tol(want.dtype))
        else:
            np.testing.assert_array_equal(g, want, err_msg=f"leaf {i}")


def _float_weights(out: Any, rng: np.random.Generator, lead: tuple[int, ...] = ()) -> list[Any]:
    """Random weights for the floating leaves of ``out`` (None for the others)."""
    return [
        rng.normal(size=lead + np.shape(leaf)) if np.asarray(leaf).dtype.kind == "f" else None
        for leaf in tree_leaves(out)
    ]


def _weighted(out: Any, weights: list[Any]) -> Any:
    total = 0.0
    for leaf, w in zip(tree_leaves(out), weights):
        if w is not None:
            total = total + fnp.sum(leaf * w)
    return total


def _scalar_fn(f: Any, weights: list[Any]) -> Any:
    return lambda *a: _weighted(f(*a), weights)


def _argnums(case: Case) -> tuple[int, ...]:
    return tuple(range(len(case.examples[0])))


# ---------------------------------------------------------------------------------------------
# 1. values


@_params(CASES)
def test_vmap_matches_the_loop(case):
    results = [case.f(*ex) for ex in case.examples]
    _assert_matches_loop(vmap(case.f)(*_stack(case.examples)), results)


# 2. the batch axis elsewhere


@_params(CASES)
def test_batch_axis_in_other_places(case):
    results = [case.f(*ex) for ex in case.examples]
    ndims = [np.ndim(a) for a in case.examples[0]]
    # in_axes=1 where the example has an axis (0 otherwise), out_axes=0
    in_axes = tuple(1 if n >= 1 else 0 for n in ndims)
    batched = tuple(np.moveaxis(b, 0, a) for b, a in zip(_stack(case.examples), in_axes))
    _assert_matches_loop(vmap(case.f, in_axes=in_axes)(*batched), results)
    # in_axes=-1 everywhere, out_axes=1 for every output with at least one axis (the tree of
    # out_axes built on a vmap output: NumPy inputs may give other namedtuple types)
    batched = tuple(np.moveaxis(b, 0, -1) for b in _stack(case.examples))
    out_axes = tree_map(lambda leaf: 1 if np.ndim(leaf) >= 2 else 0,
                        vmap(case.f)(*_stack(case.examples)))
    got = vmap(case.f, in_axes=-1, out_axes=out_axes)(*batched)
    _assert_matches_loop(got, results, out_axes)


def _grid(case: Case) -> list[list[tuple[Any, ...]]]:
    """A 3 x 3 grid of the examples (row i holds them rotated by i), for two nested vmaps."""
    n = len(case.examples)
    return [[case.examples[(i + j) % n] for j in range(n)] for i in range(n)]


@_params(CASES)
def test_vmap_of_vmap(case):
    grid = _grid(case)
    outer = [_stack(row) for row in grid]
    batched = tuple(np.stack([o[i] for o in outer], axis=-1) for i in range(len(outer[0])))
    got = vmap(vmap(case.f), in_axes=-1, out_axes=1)(*batched)
    # got[j, i] is f(grid[i][j]): the inner batch axis first, the outer one at out_axes=1
    per_row = [tree_map(lambda *leaves: np.stack(leaves), *[case.f(*ex) for ex in row])
               for row in grid]
    _assert_matches_loop(got, per_row, out_axis=1)


# 3. one argument batched, the others not


@_params(MULTI_ARG_CASES)
def test_one_argument_batched(case):
    fixed = case.examples[0]
    batched = _stack(case.examples)
    n = len(fixed)
    rng = np.random.default_rng(0)
    for i in range(n):
        in_axes = tuple(0 if j == i else None for j in range(n))
        args = fixed[:i] + (batched[i],) + fixed[i + 1:]
        mixed = [fixed[:i] + (ex[i],) + fixed[i + 1:] for ex in case.examples]
        _assert_matches_loop(vmap(case.f, in_axes=in_axes)(*args),
                             [case.f(*ex) for ex in mixed])
        if case.diff:
            g = fjac.grad(_scalar_fn(case.f, _float_weights(case.f(*fixed), rng)),
                          argnums=_argnums(case))
            _assert_matches_loop(vmap(g, in_axes=in_axes)(*args), [g(*ex) for ex in mixed])


# 4. vmap of grad and of jvp


@_params(DIFF_CASES)
def test_vmap_of_grad_and_jvp(case):
    rng = np.random.default_rng(1)
    weights = _float_weights(case.f(*case.examples[0]), rng)
    g = fjac.grad(_scalar_fn(case.f, weights), argnums=_argnums(case))
    _assert_matches_loop(vmap(g)(*_stack(case.examples)), [g(*ex) for ex in case.examples])

    n = len(case.examples[0])
    tangents = [
        tuple(rng.normal(size=np.shape(a)).astype(np.asarray(a).dtype) for a in ex)
        for ex in case.examples
    ]
    jvp = lambda *pt: fjac.jvp(case.f, pt[:n], pt[n:])  # noqa: E731
    got = vmap(jvp)(*_stack(case.examples), *_stack(tangents))
    _assert_matches_loop(got, [jvp(*ex, *t) for ex, t in zip(case.examples, tangents)])


# 5. grad of vmap


@_params(DIFF_CASES)
def test_grad_of_vmap(case):
    rng = np.random.default_rng(2)
    weights = _float_weights(case.f(*case.examples[0]), rng, lead=(BATCH,))
    argnums = _argnums(case)
    total = lambda *b: _weighted(vmap(case.f)(*b), weights)  # noqa: E731
    got = fjac.grad(total, argnums=argnums)(*_stack(case.examples))
    per_example = [
        fjac.grad(_scalar_fn(case.f, [None if w is None else w[k] for w in weights]),
                  argnums=argnums)(*ex)
        for k, ex in enumerate(case.examples)
    ]
    _assert_matches_loop(got, per_example)


# ---------------------------------------------------------------------------------------------
# primitives without a batch rule: the per-example loop


def _all_primitives() -> list[Primitive]:
    import fjac._api
    import fjac._core
    import fjac._custom
    import fjac._primitives
    import fjac._vjp

    modules = [fjac._core, fjac._api, fjac._custom, fjac._vjp]
    for package in (fjac._primitives,):
        modules += [
            importlib.import_module(f"{package.__name__}.{m.name}")
            for m in pkgutil.iter_modules(package.__path__)
        ]
    found = {id(v): v for m in modules for v in vars(m).values() if isinstance(v, Primitive)}
    return list(found.values())


# ``project`` exists only on the reverse-mode tape (its impl is never called); the others are
# batched correctly by the loop, as the tests below show.
LOOP_FALLBACK = {"allclose", "array_equal", "extremum_winners", "full_like", "nonzero", "project"}


def test_the_primitives_without_a_batch_rule_are_the_known_ones():
    prims = _all_primitives()
    assert len(prims) > 100  # the collection found the families
    missing = {p.name for p in prims if p not in batch_rules}
    assert missing == LOOP_FALLBACK, (
        "a primitive without a batch rule falls back to a Python loop over the batch; give it "
        f"a rule in its family file, or add it here. New: {sorted(missing - LOOP_FALLBACK)}; "
        f"now batched: {sorted(LOOP_FALLBACK - missing)}"
    )


def _primitive(name: str) -> Primitive:
    return next(p for p in _all_primitives() if p.name == name)


XS = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.5], [1.0, 2.0 + 1e-9, 3.0]])


@pytest.mark.parametrize("name, expected", [
    ("allclose", [True, False, True]), ("array_equal", [True, False, False]),
])
def test_loop_fallback_for_boolean_predicates(name, expected):
    prim = _primitive(name)
    params = {"equal_nan": False}
    if name == "allclose":
        params.update(rtol=1e-5, atol=1e-8)
    out = vmap(lambda a, b: bind(prim, a, b, **params), in_axes=(0, None))(XS, XS[0])
    np.testing.assert_array_equal(out, expected)
    out = vmap(lambda a, b: bind(prim, a, b, **params), in_axes=(None, 0))(XS[0], XS)
    np.testing.assert_array_equal(out, expected)
    # The public functions return a Python bool, which cannot differ from example to example.
    fn = getattr(fnp, name)
    with pytest.raises(TypeError, match="ambiguous"):
        vmap(lambda a: fn(a, XS[0]))(XS)


def test_loop_fallback_for_extremum_winners():
    prim = _primitive("extremum_winners")
    rng = np.random.default_rng(3)
    xs = rng.choice([0.0, 1.0, 2.0], (BATCH, 4))
    vs = rng.choice([0.0, 1.0, 2.0], (BATCH, 5))
    pos = np.array([0, 0, 2, 3, 3])
    for ufunc in ("minimum", "maximum"):
        f = lambda x, v, ufunc=ufunc: bind(prim, x, v, pos=pos, ufunc=ufunc)  # noqa: E731
        _assert_matches_loop(vmap(f)(xs, vs), [f(x, v) for x, v in zip(xs, vs)])
        _assert_matches_loop(vmap(f, in_axes=(None, 0))(xs[0], vs), [f(xs[0], v) for v in vs])


def test_loop_fallback_for_full_like():
    xs = np.arange(6.0).reshape(BATCH, 2)
    out = vmap(lambda x: fnp.full_like(x, 7, dtype=np.int16))(xs)
    np.testing.assert_array_equal(out, np.full((BATCH, 2), 7, np.int16))
    assert out.dtype == np.int16
    out = vmap(lambda x: fnp.full_like(x, 1.5, shape=(2, 2)), out_axes=1)(xs)
    np.testing.assert_array_equal(out, np.full((2, BATCH, 2), 1.5))


def test_loop_fallback_for_nonzero_with_equal_counts():
    xs = np.array([[0.0, 1.0, 0.0, 2.0], [3.0, 0.0, 0.0, 4.0], [0.0, 0.0, 5.0, 6.0]])
    (got,) = vmap(fnp.nonzero)(xs)
    np.testing.assert_array_equal(got, np.stack([np.nonzero(x)[0] for x in xs]))
    examples = [xs, xs[::-1]]  # 2-D examples, batched along axis 1
    got = vmap(fnp.nonzero, in_axes=1, out_axes=1)(np.stack(examples, axis=1))
    _assert_matches_loop(got, [fnp.nonzero(x) for x in examples], out_axis=1)


def test_matrix_rank_under_vmap():
    a = np.stack([np.eye(3), np.diag([1.0, 1.0, 0.0]), np.diag([1.0, 0.0, 0.0])])
    np.testing.assert_array_equal(vmap(fnp.linalg.matrix_rank)(a), [3, 2, 1])


def test_ragged_outputs_raise():
    """Counts that differ across examples cannot be stacked: the error says so."""
    xs = np.array([[0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="same shape"):
        vmap(fnp.nonzero)(xs)
    # a mask computed from batched data would select a different count per example
    with pytest.raises(TypeError, match="boolean mask that differs from example to example"):
        vmap(lambda x: x[x > 0.5])(xs)
