"""Tests of fjac.tree: flattening, rebuilding, mapping, key paths, registration and raveling."""

from __future__ import annotations

import copy
import dataclasses
import doctest
import importlib
import itertools
import operator
import pkgutil
from collections import OrderedDict, defaultdict
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fjac._tree as _tree_impl
import fjac._tree._ops as _tree_ops
import fjac._tree._registry as _tree_registry
import fjac.tree as tree_api
from fjac.tree import (
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    PyTreeDef,
    SequenceKey,
    all_leaves,
    keystr,
    ravel_pytree,
    register_dataclass,
    register_pytree_node,
    register_pytree_node_class,
    tree_all,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_leaves_with_path,
    tree_map,
    tree_map_with_path,
    tree_reduce,
    tree_structure,
    tree_transpose,
    tree_unflatten,
    treedef_is_leaf,
    treedef_is_strict_leaf,
)

# ---------------------------------------------------------------------------------------------
# Node types used throughout


class Point(NamedTuple):
    x: Any
    y: Any


@register_pytree_node_class
class Box:
    """A registered custom node: children in a list, a label as aux data."""

    def __init__(self, children: list[Any], label: str) -> None:
        self.children = children
        self.label = label

    def tree_flatten(self) -> tuple[list[Any], str]:
        return self.children, self.label

    @classmethod
    def tree_unflatten(cls, label: str, children: tuple[Any, ...]) -> Box:
        return cls(list(children), label)


@register_dataclass
@dataclasses.dataclass
class DC:
    a: Any
    b: Any
    tag: str = dataclasses.field(default="u", metadata={"static": True})


class Slotted:
    """Stands in for an autodiff tracer: an object with __slots__ must be a leaf."""

    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        self.value = value


CONTAINER_TYPES = (tuple, list, dict, OrderedDict, defaultdict, Point, Box, DC)

# ---------------------------------------------------------------------------------------------
# Helpers


def assert_same_tree(a: Any, b: Any) -> None:
    """Same structure, and leaves of the same types, dtypes, shapes and values."""
    leaves_a, tree_a = tree_flatten(a)
    leaves_b, tree_b = tree_flatten(b)
    assert tree_a == tree_b, f"{tree_a} != {tree_b}"
    for x, y in zip(leaves_a, leaves_b, strict=True):
        assert type(x) is type(y)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape
            assert np.array_equal(x, y)
        else:
            assert x == y


def containers(tree: Any) -> list[Any]:
    """Every container object in a tree (is_leaf sees every subtree; () and None are shared)."""
    seen: list[Any] = []
    tree_leaves(tree, is_leaf=recorder(seen))
    return [x for x in seen if type(x) in CONTAINER_TYPES and not (type(x) is tuple and not x)]


def recorder(seen: list[Any]) -> Any:
    """An is_leaf predicate that records what it is asked about and answers False."""

    def is_leaf(x: Any) -> bool:
        seen.append(x)
        return False

    return is_leaf


def signature(tree: Any) -> Any:
    """A structural description written independently of fjac, for comparing treedefs."""
    t = type(tree)
    if tree is None:
        return ("None",)
    if t in (tuple, list, Point):
        return (t.__name__, tuple(signature(c) for c in tree))
    if t is dict:
        return ("dict", tuple((k, signature(tree[k])) for k in sorted(tree)))
    if t is defaultdict:
        return ("ddict", tree.default_factory, tuple((k, signature(tree[k])) for k in sorted(tree)))
    if t is OrderedDict:
        return ("odict", tuple((k, signature(v)) for k, v in tree.items()))
    if t is Box:
        return ("Box", tree.label, tuple(signature(c) for c in tree.children))
    if t is DC:
        return ("DC", tree.tag, signature(tree.a), signature(tree.b))
    return ("leaf",)


def _array(dtype: Any, shape: tuple[int, ...], seed: int) -> np.ndarray[Any, Any]:
    values = np.random.default_rng(seed).standard_normal(shape) * 10
    return values.astype(dtype)


_arrays = st.builds(
    _array,
    st.sampled_from([np.float64, np.float32, np.int64]),
    st.sampled_from([(), (1,), (3,), (2, 3)]),
    st.integers(0, 2**16),
)
_leaves = st.one_of(_arrays, st.floats(-1e3, 1e3, allow_nan=False))
_keys = st.text(alphabet="abcde", min_size=1, max_size=3)


def _nodes(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    small = st.lists(children, max_size=3)
    mapping = st.dictionaries(_keys, children, max_size=3)
    return st.one_of(
        small.map(tuple),
        small,
        mapping,
        mapping.map(OrderedDict),
        mapping.map(lambda d: defaultdict(list, d)),
        st.builds(Point, children, children),
        st.builds(Box, small, st.sampled_from(["p", "q"])),
        st.builds(DC, children, children, st.sampled_from(["u", "v"])),
    )


trees = st.recursive(st.one_of(_leaves, st.none()), _nodes, max_leaves=10)


def deep_tree(depth: int, leaf: Any = 1.0) -> Any:
    """A tree nested ``depth`` levels, cycling through several node kinds."""
    t = leaf
    for i in range(depth):
        kind = i % 5
        if kind == 0:
            t = [t, None]
        elif kind == 1:
            t = (t,)
        elif kind == 2:
            t = {"k": t}
        elif kind == 3:
            t = Point(t, 2.0)
        else:
            t = DC(t, 3.0)
    return t


# ---------------------------------------------------------------------------------------------
# Properties


@given(trees)
def test_flatten_unflatten_round_trip(tree: Any) -> None:
    leaves, treedef = tree_flatten(tree)
    rebuilt = tree_unflatten(treedef, leaves)
    assert_same_tree(rebuilt, tree)
    again, _ = tree_flatten(rebuilt)
    assert all(x is y for x, y in zip(again, leaves, strict=True))
    assert treedef.num_leaves == len(leaves)


@given(trees)
def test_identity_map_gives_equal_tree_of_new_containers(tree: Any) -> None:
    out = tree_map(lambda x: x, tree)
    assert_same_tree(out, tree)
    old_ids = {id(c) for c in containers(tree)}
    assert not old_ids & {id(c) for c in containers(out)}


@given(trees)
def test_map_composes(tree: Any) -> None:
    def f(x: Any) -> Any:
        return x * 2

    def g(x: Any) -> Any:
        return x + 1

    assert_same_tree(tree_map(f, tree_map(g, tree)), tree_map(lambda x: f(g(x)), tree))


@given(st.one_of(st.tuples(trees, trees), trees.map(lambda t: (t, tree_map(lambda x: x, t)))))
def test_equal_structure_iff_equal_treedef(pair: tuple[Any, Any]) -> None:
    a, b = pair
    tree_a, tree_b = tree_structure(a), tree_structure(b)
    assert (tree_a == tree_b) == (signature(a) == signature(b))
    assert (tree_a != tree_b) == (signature(a) != signature(b))
    if tree_a == tree_b:
        assert hash(tree_a) == hash(tree_b)


@given(trees)
def test_ravel_round_trip_restores_shapes_and_dtypes(tree: Any) -> None:
    flat, unravel = ravel_pytree(tree)
    leaves = [np.asarray(x) for x in tree_leaves(tree)]
    assert flat.ndim == 1 and flat.size == sum(x.size for x in leaves)
    if leaves:
        assert flat.dtype == np.result_type(*{x.dtype for x in leaves})
    back = unravel(flat)
    assert tree_structure(back) == tree_structure(tree)
    for old, new in zip(leaves, tree_leaves(back), strict=True):
        assert new.dtype == old.dtype and new.shape == old.shape
        assert np.array_equal(new, old)
        assert not np.shares_memory(new, flat)


@given(trees, trees)
def test_transpose_twice_gives_the_tree_back(outer_tree: Any, inner_tree: Any) -> None:
    outer, inner = tree_structure(outer_tree), tree_structure(inner_tree)
    counter = itertools.count()
    nested = tree_map(
        lambda _: inner.unflatten([float(next(counter)) for _ in range(inner.num_leaves)]),
        outer_tree,
    )
    once = tree_transpose(outer, inner, nested)
    assert tree_structure(once) == inner.compose(outer)
    assert_same_tree(tree_transpose(inner, outer, once), nested)


@given(trees)
def test_paths_lead_to_their_leaves(tree: Any) -> None:
    pairs, treedef = tree_flatten_with_path(tree)
    assert treedef == tree_structure(tree)
    for path, leaf in pairs:
        node = tree
        for key in path:
            if isinstance(key, DictKey):
                node = node[key.key]
            elif isinstance(key, SequenceKey):
                node = node[key.idx]
            elif isinstance(key, GetAttrKey):
                node = getattr(node, key.name)
            else:
                node = node.children[key.key]
        assert node is leaf


@given(trees)
def test_structure_methods_agree(tree: Any) -> None:
    treedef = tree_structure(tree)
    children = treedef.children()
    assert treedef.num_nodes == 1 + sum(c.num_nodes for c in children)
    assert treedef.num_leaves == sum(c.num_leaves for c in children) + (
        1 if treedef_is_strict_leaf(treedef) else 0
    )
    parts = treedef.flatten_up_to(tree)
    assert len(parts) == treedef.num_leaves
    assert all(x is y for x, y in zip(parts, tree_leaves(tree), strict=True))
    assert repr(treedef).count("*") == treedef.num_leaves


# ---------------------------------------------------------------------------------------------
# Depth: nothing recurses


def test_deep_tree_without_recursion_error() -> None:
    tree = deep_tree(5000)
    leaves, treedef = tree_flatten(tree)
    assert leaves == [1.0] + [2.0, 3.0] * 1000
    assert treedef.num_nodes == 5000 + 1 + 1000 + 2000  # nodes, leaves, Nones
    rebuilt = tree_unflatten(treedef, leaves)
    other = tree_structure(deep_tree(5000))
    assert tree_structure(rebuilt) == treedef == other
    assert hash(treedef) == hash(other)
    assert tree_structure(deep_tree(5000, leaf=None)) != treedef
    text = repr(treedef)
    assert text.startswith("PyTreeDef(DC(a=Point(") and text.count("*") == treedef.num_leaves
    mapped = tree_map(lambda x, y: x + y, tree, rebuilt)
    assert tree_leaves(mapped)[0] == 2.0
    assert len(treedef.children()) == 2
    assert treedef.flatten_up_to(rebuilt) == leaves
    del tree, rebuilt, mapped  # freeing deep containers must not recurse either


def test_deep_mismatch_path_and_paths() -> None:
    pairs, _ = tree_flatten_with_path(deep_tree(2000))
    assert len(pairs[0][0]) == 2000
    with pytest.raises(ValueError) as info:
        tree_map(lambda x, y: x, deep_tree(2000, leaf=None), deep_tree(2000))
    message = str(info.value)
    assert message.startswith("tree_map: the trees differ at .a.x['k'][0][0].a.x['k']")
    assert "[0][0]: expected None, got a leaf of type float" in message


# ---------------------------------------------------------------------------------------------
# Flattening


def test_leaves_and_structure_of_simple_trees() -> None:
    a = np.ones(3)
    assert tree_leaves(a)[0] is a
    assert tree_structure(a) == tree_structure(1.0)
    assert tree_leaves((a, 2.0)) == [a, 2.0]
    assert tree_leaves([None, 1]) == [1]
    assert tree_leaves(None) == []
    assert tree_leaves(()) == []


def test_dict_children_are_in_sorted_key_order() -> None:
    leaves, treedef = tree_flatten({"b": 1, "a": 2, "c": 3})
    assert leaves == [2, 1, 3]
    assert tree_unflatten(treedef, [7, 8, 9]) == {"a": 7, "b": 8, "c": 9}
    assert tree_structure({"b": 0, "a": 0}) == tree_structure({"a": 0, "b": 0})


def test_unsortable_dict_keys_raise_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match=r"cannot sort the keys \[1, 'a'\]"):
        tree_flatten({1: 0, "a": 0})


def test_none_is_an_empty_node() -> None:
    leaves, treedef = tree_flatten(None)
    assert leaves == []
    assert treedef.num_leaves == 0 and treedef.num_nodes == 1
    assert tree_unflatten(treedef, []) is None
    assert repr(treedef) == "PyTreeDef(None)"
    assert tree_structure(None) != tree_structure(1.0)


def test_is_leaf_is_asked_first_even_for_none_and_nodes() -> None:
    assert tree_leaves([None, 1], is_leaf=lambda x: x is None) == [None, 1]
    pair = (1, 2)
    assert tree_leaves([pair, 3], is_leaf=lambda x: isinstance(x, tuple)) == [pair, 3]
    assert tree_leaves([pair], is_leaf=lambda x: True) == [[pair]]
    asked: list[Any] = []
    tree_leaves({"a": [1]}, is_leaf=recorder(asked))
    assert [type(x) for x in asked] == [dict, list, int]


def test_namedtuple_keeps_its_type() -> None:
    leaves, treedef = tree_flatten(Point(1, [2]))
    out = tree_unflatten(treedef, [5, 6])
    assert type(out) is Point and out == Point(5, [6])
    assert repr(treedef) == "PyTreeDef(Point(x=*, y=[*]))"
    assert tree_structure(Point(1, 2)) != tree_structure((1, 2))


def test_ordered_dict_keeps_insertion_order() -> None:
    od = OrderedDict([("b", 1), ("a", 2)])
    leaves, treedef = tree_flatten(od)
    assert leaves == [1, 2]
    out = tree_unflatten(treedef, [3, 4])
    assert type(out) is OrderedDict and list(out.items()) == [("b", 3), ("a", 4)]
    assert tree_structure(OrderedDict([("a", 1), ("b", 2)])) != treedef
    assert tree_structure({"b": 1, "a": 2}) != treedef
    assert repr(treedef) == "PyTreeDef(OrderedDict({'b': *, 'a': *}))"


def test_defaultdict_keeps_its_factory_and_sorts_keys() -> None:
    dd: defaultdict[str, Any] = defaultdict(list, {"b": 1, "a": 2})
    leaves, treedef = tree_flatten(dd)
    assert leaves == [2, 1]
    out = tree_unflatten(treedef, [3, 4])
    assert (
        type(out) is defaultdict and out.default_factory is list and dict(out) == {"a": 3, "b": 4}
    )
    assert tree_structure(defaultdict(dict, {"b": 1, "a": 2})) != treedef
    assert repr(treedef) == "PyTreeDef(defaultdict(list, {'a': *, 'b': *}))"


def test_other_objects_are_leaves() -> None:
    class MyDict(dict[str, Any]):
        pass

    class Tup(tuple[int, ...]):
        pass

    for obj in (Slotted(1.0), MyDict(a=1), Tup((1, 2)), "text", b"bytes", 3, np.float32(1.0)):
        assert tree_leaves(obj) == [obj]
        assert treedef_is_strict_leaf(tree_structure(obj))


def test_flat_tuple_fast_path_matches_general_path() -> None:
    a, b = np.ones(2), 2.0
    fast_leaves, fast = tree_flatten((a, b))
    slow_leaves, slow = tree_flatten((a, b), is_leaf=lambda x: False)
    assert fast == slow and hash(fast) == hash(slow)
    assert fast_leaves == slow_leaves == [a, b]
    assert tree_flatten(()) == ([], tree_structure((), is_leaf=lambda x: False))


def test_reference_cycle_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_tree_ops, "_CYCLE_CHECK_NODES", 100)
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="reference cycle"):
        tree_flatten(cyclic)
    shared = [1.0]
    dag: Any = shared
    for _ in range(10):  # 1024 paths to `shared`, but no cycle
        dag = [dag, dag]
    assert len(tree_leaves(dag)) == 1024


def test_dispatch_cache_limit_keeps_node_types(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_tree_registry, "_DISPATCH_LIMIT", 5)
    for _ in range(20):
        leaf_type = type("Leaf", (), {})
        assert tree_leaves([leaf_type(), Point(1, 2), Box([3], "p")])[1:] == [1, 2, 3]


# ---------------------------------------------------------------------------------------------
# Unflattening and PyTreeDef


def test_unflatten_checks_the_number_of_leaves() -> None:
    treedef = tree_structure({"a": 1, "b": (2, 3)})
    with pytest.raises(ValueError, match="has 3 leaves, but 2 were given"):
        tree_unflatten(treedef, [1, 2])
    with pytest.raises(ValueError, match="has 1 leaves, but 0 were given"):
        tree_unflatten(tree_structure(1.0), [])
    with pytest.raises(ValueError, match="has 2 leaves, but 3 were given"):
        tree_unflatten(tree_structure((1, 2)), [1, 2, 3])


def test_unflatten_accepts_any_iterable_and_builds_fresh_containers() -> None:
    treedef = tree_structure([1, (2, 3)])
    assert tree_unflatten(treedef, iter([4, 5, 6])) == [4, (5, 6)]
    given_leaves = (1, 2)
    out = tree_unflatten(tree_structure((0, 0)), given_leaves)
    assert out == given_leaves and out is not given_leaves


def test_treedef_counts() -> None:
    treedef = tree_structure((1, {"a": 2}))
    assert treedef.num_nodes == 4 and treedef.num_leaves == 2
    assert tree_structure([None, 1]).num_nodes == 3
    assert tree_structure([]).num_nodes == 1


def test_treedef_repr() -> None:
    assert repr(tree_structure({"a": 1, "b": (2, 3)})) == "PyTreeDef({'a': *, 'b': (*, *)})"
    assert repr(tree_structure([1, None])) == "PyTreeDef([*, None])"
    assert repr(tree_structure(1.0)) == "PyTreeDef(*)"
    assert repr(tree_structure((1,))) == "PyTreeDef((*,))"
    assert repr(tree_structure(((), [], {}))) == "PyTreeDef(((), [], {}))"
    assert repr(tree_structure(Box([1, 2], "p"))) == "PyTreeDef(CustomNode(Box['p'], [*, *]))"
    assert repr(tree_structure(DC(1, [2], "v"))) == "PyTreeDef(DC(a=*, b=[*], tag='v'))"


def test_treedef_is_immutable_hashable_and_comparable() -> None:
    treedef = tree_structure({"a": 1})
    with pytest.raises(AttributeError):
        treedef._nodes = ()
    with pytest.raises(AttributeError):
        treedef.num_leaves = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        PyTreeDef()
    assert {treedef: 1}[tree_structure({"a": 2})] == 1
    assert treedef != tree_structure({"b": 1})
    assert treedef != "PyTreeDef({'a': *})"
    assert copy.copy(treedef) is treedef and copy.deepcopy(treedef) is treedef


def test_treedef_children_compose_and_node_data() -> None:
    treedef = tree_structure((1, [2, None], {"a": 3}))
    assert treedef.children() == [
        tree_structure(1),
        tree_structure([2, None]),
        tree_structure({"a": 3}),
    ]
    assert tree_structure(1.0).children() == []
    assert tree_structure(None).children() == []
    inner = tree_structure([0, 0])
    assert tree_structure((0, 0)).compose(inner) == tree_structure(([0, 0], [0, 0]))
    assert treedef.node_data() == (tuple, None)
    assert tree_structure({"b": 1, "a": 1}).node_data() == (dict, ("a", "b"))
    assert tree_structure(1.0).node_data() is None


def test_flatten_up_to() -> None:
    treedef = tree_structure({"a": 0, "b": (0, 0)})
    parts = treedef.flatten_up_to({"a": [1, 2], "b": ({"x": 3}, None)})
    assert parts == [[1, 2], {"x": 3}, None]
    with pytest.raises(ValueError, match=r"differ at \['b'\]: expected a tuple of 2 children"):
        treedef.flatten_up_to({"a": 1, "b": [1, 2]})
    with pytest.raises(ValueError, match=r"differ at the root: expected a dict with keys"):
        treedef.flatten_up_to({"a": 1, "c": (1, 2)})


def test_treedef_is_leaf_follows_jax() -> None:
    assert treedef_is_leaf(tree_structure(1.0))
    assert treedef_is_leaf(tree_structure(None))  # as in JAX: one node
    assert not treedef_is_leaf(tree_structure([1]))
    assert treedef_is_strict_leaf(tree_structure(np.ones(2)))
    assert not treedef_is_strict_leaf(tree_structure(None))


# ---------------------------------------------------------------------------------------------
# Mapping


def test_tree_map_over_several_trees_and_prefixes() -> None:
    out = tree_map(lambda x, y: x + y, {"a": 1, "b": (2, 3)}, {"a": 10, "b": (20, 30)})
    assert out == {"a": 11, "b": (22, 33)}
    out = tree_map(lambda x, y: (x, y), [1, None, 2], [[3, 4], None, {"k": 5}])
    assert out == [(1, [3, 4]), None, (2, {"k": 5})]
    assert tree_map(lambda x, y: y, {"a": 1}, OrderedDict(a=2)) == {"a": 2}
    assert tree_map(lambda x: [x], (1, 2), is_leaf=lambda x: isinstance(x, tuple)) == [(1, 2)]


def test_tree_map_mismatch_names_path_and_difference() -> None:
    first = {"a": 1, "b": (1, (2, 3))}
    second = {"a": 1, "b": (1, [2, 3, 4])}
    with pytest.raises(ValueError) as info:
        tree_map(lambda x, y: x, first, second)
    message = str(info.value)
    assert message.startswith(
        "tree_map: the trees differ at ['b'][1]: expected a tuple of 2 children, "
        "got a list of 3 children"
    )
    assert "tree argument 2" in message


@pytest.mark.parametrize(
    ("first", "other", "expected"),
    [
        ([1, 2], [1, 2, 3], "at the root: expected a list of 2 children, got a list of 3"),
        ({"a": 1}, {"b": 1}, "at the root: expected a dict with keys ['a'], got a dict with"),
        ([None], [1], "at [0]: expected None, got a leaf of type int"),
        ([[1]], [2], "at [0]: expected a list of 1 child, got a leaf of type int"),
        (Point(1, 2), (1, 2), "expected a Point namedtuple, got a tuple of 2 children"),
        (Box([1], "p"), Box([1], "q"), "expected a Box node with 1 child and aux data 'p'"),
        (DC(1, 2, "u"), DC(1, 2, "v"), "expected a DC dataclass with meta {'tag': 'u'}"),
        (OrderedDict(a=1, b=2), OrderedDict(b=1, a=2), "expected an OrderedDict with keys"),
        ((1, (2,)), (1, [2]), "at [1]: expected a tuple of 1 child, got a list of 1 child"),
    ],
)
def test_tree_map_mismatch_messages(first: Any, other: Any, expected: str) -> None:
    with pytest.raises(ValueError) as info:
        tree_map(lambda *xs: xs, first, first, other)
    assert expected in str(info.value)
    assert "tree argument 3" in str(info.value)


def test_tree_map_with_path() -> None:
    out = tree_map_with_path(lambda p, x: keystr(p), {"a": [1, Point(2, 3)]})
    assert out == {"a": ["['a'][0]", Point("['a'][1].x", "['a'][1].y")]}
    out = tree_map_with_path(lambda p, x, y: (len(p), x + y), (1, 2), (10, 20))
    assert out == ((1, 11), (1, 22))
    with pytest.raises(ValueError, match=r"tree_map_with_path: the trees differ at \[1\]"):
        tree_map_with_path(lambda p, x, y: x, (1, None), (1, 2))


def test_inputs_are_not_mutated_or_aliased() -> None:
    inner = [1.0, 2.0]
    tree = {"w": inner, "b": {"c": 3.0}}
    snapshot = copy.deepcopy(tree)
    out = tree_map(lambda x: x, tree)
    leaves, treedef = tree_flatten(tree)
    rebuilt = tree_unflatten(treedef, leaves)
    assert tree == snapshot and inner == [1.0, 2.0]
    for result in (out, rebuilt):
        assert result == tree
        assert result is not tree and result["w"] is not inner and result["b"] is not tree["b"]
    leaves.append(99.0)
    assert tree == snapshot
    other: defaultdict[str, Any] = defaultdict(list, b=2.0)
    with pytest.raises(ValueError, match="expected a dict with keys"):
        tree_map(lambda x, y: x, {"a": 1.0}, other)
    assert dict(other) == {"b": 2.0}


# ---------------------------------------------------------------------------------------------
# Key paths


def test_key_entries_for_each_node_kind() -> None:
    tree = {
        "d": OrderedDict(o=1),
        "l": [2],
        "n": Point(3, 4),
        "c": Box([5], "p"),
        "dc": DC(6, 7),
        "dd": defaultdict(int, k=8),
    }
    paths = {leaf: path for path, leaf in tree_leaves_with_path(tree)}
    assert paths[1] == (DictKey("d"), DictKey("o"))
    assert paths[2] == (DictKey("l"), SequenceKey(0))
    assert paths[4] == (DictKey("n"), GetAttrKey("y"))
    assert paths[5] == (DictKey("c"), FlattenedIndexKey(0))
    assert paths[7] == (DictKey("dc"), GetAttrKey("b"))
    assert paths[8] == (DictKey("dd"), DictKey("k"))
    pairs, treedef = tree_flatten_with_path(tree)
    assert treedef == tree_structure(tree) and [x for _, x in pairs] == tree_leaves(tree)


def test_keystr_and_key_types() -> None:
    path = (DictKey("a"), SequenceKey(0), GetAttrKey("x"), FlattenedIndexKey(2))
    assert keystr(path) == "['a'][0].x[2]"
    assert keystr(path, simple=True, separator="/") == "a/0/x/2"
    assert keystr(()) == ""
    assert [str(k) for k in path] == ["['a']", "[0]", ".x", "[2]"]
    assert repr(DictKey("a")) == "DictKey(key='a')"
    assert SequenceKey(0) != FlattenedIndexKey(0)  # type: ignore[comparison-overlap]
    assert len({SequenceKey(1), SequenceKey(1), DictKey(1)}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        SequenceKey(0).idx = 1  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Reducing and predicates


def test_tree_reduce() -> None:
    assert tree_reduce(operator.add, {"a": 1, "b": [2, 3]}) == 6
    assert tree_reduce(operator.add, {"b": "y", "a": "x"}, ">") == ">xy"
    assert tree_reduce(operator.add, [], 5) == 5
    assert (
        tree_reduce(lambda a, b: a + len(b), [(1, 2)], 0, is_leaf=lambda x: type(x) is tuple) == 2
    )
    with pytest.raises(TypeError, match="no leaves and no initializer"):
        tree_reduce(operator.add, [None])


def test_tree_all_and_all_leaves() -> None:
    assert tree_all({"a": True, "b": [1, 2.0]})
    assert not tree_all({"a": True, "b": [0]})
    assert tree_all(None) and tree_all([])
    assert tree_all([(0, 1)], is_leaf=lambda x: isinstance(x, tuple))
    assert all_leaves([1.0, np.ones(2), "s"])
    assert not all_leaves([1.0, [2.0]])
    assert not all_leaves([None])
    assert all_leaves([None, (1,)], is_leaf=lambda x: x is None or isinstance(x, tuple))


# ---------------------------------------------------------------------------------------------
# Transposing


def test_tree_transpose() -> None:
    outer, inner = tree_structure([0, 0, 0]), tree_structure({"a": 0, "b": 0})
    tree = [{"a": 1, "b": 2}, {"a": 3, "b": 4}, {"a": 5, "b": 6}]
    assert tree_transpose(outer, inner, tree) == {"a": [1, 3, 5], "b": [2, 4, 6]}
    assert tree_transpose(tree_structure(()), inner, ()) == {"a": (), "b": ()}


def test_tree_transpose_mismatches() -> None:
    outer, inner = tree_structure([0, 0]), tree_structure((0, 0))
    with pytest.raises(TypeError, match=r"subtree at \[1\] has structure PyTreeDef\(\[\*, \*\]\)"):
        tree_transpose(outer, inner, [(1, 2), [3, 4]])
    with pytest.raises(TypeError, match="does not have the outer structure"):
        tree_transpose(outer, inner, [(1, 2)])
    with pytest.raises(
        TypeError, match=r"subtree at \[0\] has structure PyTreeDef\(\(\*, \*, \*\)"
    ):
        tree_transpose(outer, inner, [(1, 2, 3), (4,)])


# ---------------------------------------------------------------------------------------------
# Raveling


def test_ravel_pytree_promotes_and_restores_dtypes() -> None:
    tree = {"a": np.arange(4, dtype=np.float32).reshape(2, 2), "b": np.int64(3), "c": 1.5}
    flat, unravel = ravel_pytree(tree)
    assert flat.dtype == np.float64 and flat.tolist() == [0.0, 1.0, 2.0, 3.0, 3.0, 1.5]
    out = unravel(flat * 2)
    assert out["a"].dtype == np.float32 and out["a"].shape == (2, 2)
    assert out["b"].dtype == np.int64 and out["b"].shape == () and out["b"] == 6
    assert out["c"].dtype == np.float64 and out["c"] == 3.0
    flat32, _ = ravel_pytree([np.zeros(2, np.float32), np.zeros(1, np.float32)])
    assert flat32.dtype == np.float32
    flat_int, _ = ravel_pytree((np.array([True]), np.array([2])))
    assert flat_int.dtype == np.int64


def test_ravel_pytree_of_an_empty_tree() -> None:
    flat, unravel = ravel_pytree({"a": None, "b": []})
    assert flat.shape == (0,) and flat.dtype == np.float64
    assert unravel(np.zeros(0)) == {"a": None, "b": []}


def test_ravel_pytree_with_many_leaves() -> None:
    dtypes = [np.float32, np.int64, np.int8] * 20  # more leaves than np.result_type takes
    tree = [np.full(2, i, dtype) for i, dtype in enumerate(dtypes)]
    flat, unravel = ravel_pytree(tree)
    assert flat.dtype == np.float64 and flat.size == 120
    assert [x.dtype for x in unravel(flat)] == [np.dtype(d) for d in dtypes]


def test_unravel_checks_its_input() -> None:
    _, unravel = ravel_pytree({"a": np.zeros(2), "b": 0.0})
    with pytest.raises(ValueError, match=r"expected a 1-D array of length 3, got .* shape \(4,\)"):
        unravel(np.zeros(4))
    with pytest.raises(ValueError, match=r"length 3, got an array of shape \(3, 1\)"):
        unravel(np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"got an array of shape \(\)"):
        unravel(1.0)
    assert unravel([1.0, 2.0, 3.0])["b"] == 3.0


def test_unravel_accepts_array_like_objects_with_shape() -> None:
    class Wrapped:
        """A minimal non-NumPy array: shape, dtype, slicing, reshape, astype."""

        def __init__(self, value: np.ndarray[Any, Any]) -> None:
            self.value = value
            self.shape = value.shape
            self.dtype = value.dtype

        def __getitem__(self, idx: Any) -> Wrapped:
            return Wrapped(self.value[idx])

        def reshape(self, shape: tuple[int, ...]) -> Wrapped:
            return Wrapped(self.value.reshape(shape))

        def astype(self, dtype: Any) -> Wrapped:
            return Wrapped(self.value.astype(dtype))

    _, unravel = ravel_pytree((np.zeros((2, 2)), np.zeros(1, np.float32)))
    out = unravel(Wrapped(np.arange(5.0)))
    assert all(type(x) is Wrapped for x in out)
    assert out[0].value.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert out[1].dtype == np.float32
    with pytest.raises(ValueError, match="length 5"):
        unravel(Wrapped(np.arange(4.0)))


# ---------------------------------------------------------------------------------------------
# Registration


def test_register_pytree_node() -> None:
    class Pair:
        def __init__(self, a: Any, b: Any) -> None:
            self.a, self.b = a, b

    assert tree_leaves(Pair(1, 2))[0].a == 1  # a leaf until registered
    register_pytree_node(Pair, lambda p: (iter([p.a, p.b]), "aux"), lambda aux, ch: Pair(*ch))
    leaves, treedef = tree_flatten(Pair(1, [2]))
    assert leaves == [1, 2]
    out = tree_unflatten(treedef, [3, 4])
    assert type(out) is Pair and (out.a, out.b) == (3, [4])

    class SubPair(Pair):
        pass

    assert len(tree_leaves(SubPair(1, 2))) == 1  # subclasses are not nodes


def test_registering_twice_or_a_builtin_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"Box is already registered"):
        register_pytree_node(Box, lambda b: ((), None), lambda a, c: Box([], ""))
    with pytest.raises(ValueError, match=r"DC is already registered"):
        register_dataclass(DC)
    with pytest.raises(ValueError, match=r"Box is already registered"):
        register_pytree_node_class(Box)
    for builtin in (tuple, list, dict, type(None), OrderedDict, defaultdict):
        with pytest.raises(ValueError, match=rf"{builtin.__name__} is a built-in pytree node"):
            register_pytree_node(builtin, lambda x: ((), None), lambda a, c: None)
    with pytest.raises(TypeError, match="expected a class"):
        register_pytree_node(Box([], "p"), lambda x: ((), None), lambda a, c: None)  # type: ignore[arg-type]


def test_register_pytree_node_class_needs_both_methods() -> None:
    class Half:
        def tree_flatten(self) -> tuple[tuple[()], None]:
            return (), None

    with pytest.raises(TypeError, match="must define a method tree_flatten"):
        register_pytree_node_class(Half)


def test_register_dataclass_infers_fields_and_keeps_meta_in_the_treedef() -> None:
    leaves, treedef = tree_flatten(DC([1, 2], 3, "v"))
    assert leaves == [1, 2, 3]
    out = tree_unflatten(treedef, [4, 5, 6])
    assert out == DC([4, 5], 6, "v")
    assert treedef != tree_structure(DC([1, 2], 3, "u"))
    assert treedef == tree_structure(DC([0, 0], 0, "v"))


def test_register_dataclass_explicit_fields_and_init_false() -> None:
    @dataclasses.dataclass
    class Scaled:
        value: Any
        scale: float
        doubled: Any = dataclasses.field(init=False)

        def __post_init__(self) -> None:
            self.doubled = self.scale * 2

    assert register_dataclass(Scaled, data_fields=["value"], meta_fields=["scale"]) is Scaled
    leaves, treedef = tree_flatten(Scaled(np.ones(2), 1.5))
    assert len(leaves) == 1
    out = tree_unflatten(treedef, [7.0])
    assert (out.value, out.scale, out.doubled) == (7.0, 1.5, 3.0)
    assert repr(treedef) == "PyTreeDef(Scaled(value=*, scale=1.5))"


def test_register_dataclass_errors() -> None:
    @dataclasses.dataclass
    class Two:
        x: Any
        y: Any

    class Plain:
        pass

    with pytest.raises(ValueError, match="both data_fields and meta_fields, or neither"):
        register_dataclass(Two, data_fields=["x", "y"])
    with pytest.raises(ValueError, match=r"missing \['y'\], not init fields \['z'\]"):
        register_dataclass(Two, data_fields=["x", "z"], meta_fields=[])
    with pytest.raises(ValueError, match=r"repeated \['x'\]"):
        register_dataclass(Two, data_fields=["x", "y"], meta_fields=["x"])
    with pytest.raises(TypeError, match="lists of names"):
        register_dataclass(Two, data_fields="xy", meta_fields=[])
    with pytest.raises(TypeError, match="Plain is not a dataclass"):
        register_dataclass(Plain)

    def make_plain(aux: Any, x: Any) -> Plain:
        obj = Plain()
        obj.x = x  # type: ignore[attr-defined]
        return obj

    register_dataclass(Plain, data_fields=["x"], meta_fields=[])
    obj = make_plain(None, 5)
    assert tree_leaves(obj) == [5]


def test_unhashable_meta_value_is_a_clear_error() -> None:
    @register_dataclass
    @dataclasses.dataclass
    class Config:
        w: Any
        sizes: Any = dataclasses.field(metadata={"static": True})

    assert tree_leaves(Config(1.0, (2, 3))) == [1.0]
    with pytest.raises(TypeError, match="meta field 'sizes' of Config holds an unhashable list"):
        tree_flatten(Config(1.0, [2, 3]))


def test_registering_a_type_already_seen_as_a_leaf() -> None:
    class Late:
        def __init__(self, v: Any) -> None:
            self.v = v

    obj = Late(1)
    assert tree_leaves([obj]) == [obj]
    register_pytree_node(Late, lambda x: ((x.v,), None), lambda aux, ch: Late(*ch))
    assert tree_leaves([obj]) == [1]


# ---------------------------------------------------------------------------------------------
# The public module and the docstring examples


def test_public_module_reexports() -> None:
    for name in tree_api.__all__:
        assert getattr(tree_api, name) is getattr(_tree_impl, name)
        assert not name.startswith("_")


def test_docstring_examples() -> None:
    # fjac._tree is a package: its examples live in the modules under it.
    attempted = failed = 0
    for info in pkgutil.iter_modules(_tree_impl.__path__):
        module = importlib.import_module(f"{_tree_impl.__name__}.{info.name}")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        attempted, failed = attempted + result.attempted, failed + result.failed
    assert attempted > 30 and failed == 0
