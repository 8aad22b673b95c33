"""Tree operations: flatten and rebuild, leaves and structure, key paths, map, reduce, transpose."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fjac._tree._keys import KeyPath, _where
from fjac._tree._registry import _DISPATCH, _LEAF_REC, _TUPLE_SPEC, _Record
from fjac._tree._treedef import (
    _FLAT_TUPLE_DEFS,
    _LEAF_DEF,
    PyTreeDef,
    _leaf_paths,
    _make_treedef,
    _Mismatch,
    _short,
    _up_to,
)

# ---------------------------------------------------------------------------------------------
# Flattening

# A tree with this many nodes is checked once for reference cycles (then at twice as many).
_CYCLE_CHECK_NODES = 1 << 20


def tree_flatten(
    tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> tuple[list[Any], PyTreeDef]:
    """Split a tree into its leaves and its structure.

    Nodes are tuples, lists, dicts (children in sorted key order), None (a node with no
    children), namedtuples, OrderedDicts, defaultdicts and registered classes; anything else
    is a leaf.

    Args:
        tree: the tree to flatten.
        is_leaf: optional predicate, asked about every subtree (the root included) before its
            type is looked at; where it returns True, the subtree is taken as a leaf.

    Returns:
        ``(leaves, treedef)``: a new list of the leaves, left to right, and the structure.

    Raises:
        TypeError: a dict's keys cannot be sorted, or a registered dataclass has an unhashable
            meta value.
        ValueError: the tree contains itself.

    Example:
        >>> tree_flatten({"b": [1, None], "a": (2,)})
        ([2, 1], PyTreeDef({'a': (*,), 'b': [*, None]}))
        >>> tree_flatten([None, 1], is_leaf=lambda x: x is None)
        ([None, 1], PyTreeDef([*, *]))
    """
    if is_leaf is None:
        dispatch = _DISPATCH
        spec = dispatch[type(tree)]
        if spec is None:
            return [tree], _LEAF_DEF
        if spec is _TUPLE_SPEC and len(tree) < len(_FLAT_TUPLE_DEFS):
            for child in tree:
                if dispatch[type(child)] is not None:
                    break
            else:
                return list(tree), _FLAT_TUPLE_DEFS[len(tree)]
    return _flatten(tree, is_leaf)


def _flatten(tree: Any, is_leaf: Callable[[Any], bool] | None) -> tuple[list[Any], PyTreeDef]:
    """The general flatten: preorder walk with an explicit stack."""
    leaves: list[Any] = []
    nodes: list[_Record] = []
    stack = [tree]
    dispatch = _DISPATCH
    check_at = _CYCLE_CHECK_NODES
    while stack:
        x = stack.pop()
        if is_leaf is not None and is_leaf(x):
            leaves.append(x)
            nodes.append(_LEAF_REC)
            continue
        spec = dispatch[type(x)]
        if spec is None:
            leaves.append(x)
            nodes.append(_LEAF_REC)
            continue
        children, aux = spec.flatten(x)
        nodes.append((spec, aux, len(children)))
        stack.extend(reversed(children))
        if len(nodes) > check_at:
            _raise_if_cyclic(tree, is_leaf)
            check_at *= 2
    return leaves, _make_treedef(tuple(nodes), len(leaves))


def _raise_if_cyclic(tree: Any, is_leaf: Callable[[Any], bool] | None) -> None:
    """Raise ValueError if some node of ``tree`` contains itself (flattening would not end)."""
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(tree, False)]
    while stack:
        x, leaving = stack.pop()
        if leaving:
            on_path.discard(id(x))
            continue
        if is_leaf is not None and is_leaf(x):
            continue
        spec = _DISPATCH[type(x)]
        if spec is None:
            continue
        if id(x) in on_path:
            raise ValueError(
                f"tree_flatten: the tree contains a reference cycle (a {type(x).__name__} "
                "that contains itself); pytrees must be finite"
            )
        on_path.add(id(x))
        stack.append((x, True))
        stack.extend((child, False) for child in spec.flatten(x)[0])


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Build a tree from a structure and its leaves; the inverse of ``tree_flatten``.

    Args:
        treedef: the structure, from ``tree_flatten`` or ``tree_structure``.
        leaves: exactly ``treedef.num_leaves`` leaves, in flattening order.

    Returns:
        A new tree; every container in it is freshly made.

    Raises:
        ValueError: the number of leaves is wrong; the message gives both counts.

    Example:
        >>> leaves, treedef = tree_flatten({"a": 1, "b": [2, 3]})
        >>> tree_unflatten(treedef, [x * 10 for x in leaves])
        {'a': 10, 'b': [20, 30]}
    """
    return treedef.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    """The leaves of a tree, left to right.

    Args:
        tree: the tree.
        is_leaf: optional predicate marking subtrees to take as leaves (see ``tree_flatten``).

    Returns:
        A new list of the leaves.

    Example:
        >>> tree_leaves([None, 1, {"b": 2, "a": 3}])
        [1, 3, 2]
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    """The structure of a tree.

    Args:
        tree: the tree.
        is_leaf: optional predicate marking subtrees to take as leaves (see ``tree_flatten``).

    Returns:
        The tree's ``PyTreeDef``.

    Example:
        >>> tree_structure((1, {"a": 2}))
        PyTreeDef((*, {'a': *}))
        >>> tree_structure((1, {"a": 2})).num_nodes
        4
    """
    return tree_flatten(tree, is_leaf)[1]


def tree_flatten_with_path(
    tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> tuple[list[tuple[KeyPath, Any]], PyTreeDef]:
    """Like ``tree_flatten``, but each leaf comes with its key path.

    Args:
        tree: the tree.
        is_leaf: optional predicate marking subtrees to take as leaves (see ``tree_flatten``).

    Returns:
        ``([(path, leaf), ...], treedef)``; a path is a tuple of ``DictKey``, ``SequenceKey``,
        ``GetAttrKey`` and ``FlattenedIndexKey`` entries.

    Example:
        >>> from fjac.tree import keystr
        >>> pairs, _ = tree_flatten_with_path({"a": [5, 6]})
        >>> [(keystr(path), leaf) for path, leaf in pairs]
        [("['a'][0]", 5), ("['a'][1]", 6)]
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    return list(zip(_leaf_paths(treedef), leaves, strict=True)), treedef


def tree_leaves_with_path(
    tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> list[tuple[KeyPath, Any]]:
    """The ``(key path, leaf)`` pairs of a tree, left to right.

    Args:
        tree: the tree.
        is_leaf: optional predicate marking subtrees to take as leaves (see ``tree_flatten``).

    Returns:
        A new list of ``(path, leaf)`` pairs.

    Example:
        >>> from fjac.tree import keystr
        >>> [(keystr(p), x) for p, x in tree_leaves_with_path((7, {"k": 8}))]
        [('[0]', 7), ("[1]['k']", 8)]
    """
    return tree_flatten_with_path(tree, is_leaf)[0]


def all_leaves(iterable: Iterable[Any], is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether every element of ``iterable`` is a leaf.

    Args:
        iterable: the objects to test.
        is_leaf: optional predicate; objects it accepts count as leaves.

    Returns:
        True if no element is a pytree node (None is a node, not a leaf).

    Example:
        >>> all_leaves([1.0, "s"]), all_leaves([1.0, (2.0,)]), all_leaves([None])
        (True, False, False)
    """
    for x in iterable:
        if (is_leaf is None or not is_leaf(x)) and _DISPATCH[type(x)] is not None:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Mapping and reducing


def _rest_up_to(treedef: PyTreeDef, rest: Sequence[Any], caller: str) -> list[list[Any]]:
    """Flatten each extra tree of a multi-tree map down to ``treedef``'s leaves."""
    out = []
    for k, other in enumerate(rest, start=2):
        try:
            out.append(_up_to(treedef, other))
        except _Mismatch as err:
            raise ValueError(
                f"{caller}: the trees differ {err} (tree argument {k} against the first tree, "
                f"whose structure is {_short(treedef)})"
            ) from None
    return out


def tree_map(
    f: Callable[..., Any],
    tree: Any,
    *rest: Any,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Apply ``f`` to each leaf (or to matching leaves of several trees) and rebuild the tree.

    Args:
        f: called as ``f(leaf, *rest_leaves)``.
        tree: the tree whose structure the result has.
        *rest: more trees, each with ``tree``'s structure or having it as a prefix; where
            ``tree`` has a leaf, they may hold a whole subtree, which is passed to ``f``.
        is_leaf: optional predicate marking subtrees of ``tree`` to take as leaves.

    Returns:
        A new tree of ``tree``'s structure holding ``f``'s results.

    Raises:
        ValueError: a tree in ``rest`` does not match; the message gives the key path.

    Example:
        >>> tree_map(lambda x: x + 1, {"a": 1, "b": (2, None)})
        {'a': 2, 'b': (3, None)}
        >>> tree_map(lambda x, y: (x, y), [1, 2], [[3], 4])
        [(1, [3]), (2, 4)]
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    if not rest:
        return treedef.unflatten([f(x) for x in leaves])
    others = _rest_up_to(treedef, rest, "tree_map")
    return treedef.unflatten([f(*xs) for xs in zip(leaves, *others)])  # noqa: B905 (_ZIP_NOTE)


def tree_map_with_path(
    f: Callable[..., Any],
    tree: Any,
    *rest: Any,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Like ``tree_map``, but ``f`` also gets each leaf's key path first.

    Args:
        f: called as ``f(path, leaf, *rest_leaves)``.
        tree: the tree whose structure the result has.
        *rest: more trees, with ``tree``'s structure or having it as a prefix.
        is_leaf: optional predicate marking subtrees of ``tree`` to take as leaves.

    Returns:
        A new tree of ``tree``'s structure holding ``f``'s results.

    Raises:
        ValueError: a tree in ``rest`` does not match; the message gives the key path.

    Example:
        >>> from fjac.tree import keystr
        >>> tree_map_with_path(lambda p, x: f"{keystr(p)}={x}", {"a": [1, 2]})
        {'a': ["['a'][0]=1", "['a'][1]=2"]}
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = _rest_up_to(treedef, rest, "tree_map_with_path")
    paths = _leaf_paths(treedef)
    return treedef.unflatten([f(p, *xs) for p, *xs in zip(paths, leaves, *others, strict=True)])


_MISSING: Any = object()


def tree_reduce(
    function: Callable[[Any, Any], Any],
    tree: Any,
    initializer: Any = _MISSING,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Fold the leaves of a tree with a two-argument function, left to right.

    Args:
        function: ``function(accumulated, leaf) -> accumulated``.
        tree: the tree.
        initializer: the starting value; without it, the first leaf is.
        is_leaf: optional predicate marking subtrees to take as leaves.

    Returns:
        The folded value.

    Raises:
        TypeError: the tree has no leaves and no initializer is given.

    Example:
        >>> import operator
        >>> tree_reduce(operator.add, {"a": 1, "b": (2, 3)})
        6
        >>> tree_reduce(operator.add, [], 0)
        0
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is not _MISSING:
        return functools.reduce(function, leaves, initializer)
    if not leaves:
        raise TypeError("tree_reduce: the tree has no leaves and no initializer was given")
    return functools.reduce(function, leaves)


def tree_all(tree: Any, *, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether every leaf of a tree is truthy (True for a tree without leaves).

    Args:
        tree: the tree.
        is_leaf: optional predicate marking subtrees to take as leaves.

    Returns:
        ``all(tree_leaves(tree))``.

    Example:
        >>> tree_all([True, {"a": 1}]), tree_all((True, 0)), tree_all(None)
        (True, False, True)
    """
    return all(tree_leaves(tree, is_leaf))


# ---------------------------------------------------------------------------------------------
# Transposing


def tree_transpose(
    outer_treedef: PyTreeDef, inner_treedef: PyTreeDef, pytree_to_transpose: Any
) -> Any:
    """Turn an outer tree of inner trees into an inner tree of outer trees.

    Args:
        outer_treedef: the structure of the outer tree.
        inner_treedef: the structure of each tree found at the outer tree's leaves.
        pytree_to_transpose: a tree of structure ``outer_treedef.compose(inner_treedef)``.

    Returns:
        A new tree of structure ``inner_treedef.compose(outer_treedef)``.

    Raises:
        TypeError: the tree does not have the outer structure, or a subtree at an outer leaf
            does not have the inner structure; the message gives the key path.

    Example:
        >>> outer, inner = tree_structure([0, 0]), tree_structure((0, 0))
        >>> tree_transpose(outer, inner, [(1, 2), (3, 4)])
        ([1, 3], [2, 4])
    """
    try:
        subtrees = _up_to(outer_treedef, pytree_to_transpose)
    except _Mismatch as err:
        raise TypeError(
            f"tree_transpose: the tree does not have the outer structure "
            f"{_short(outer_treedef)}: it differs {err}"
        ) from None
    rows = []
    for index, subtree in enumerate(subtrees):
        leaves, treedef = tree_flatten(subtree)
        if treedef != inner_treedef:
            path = _leaf_paths(outer_treedef)[index]
            raise TypeError(
                f"tree_transpose: the subtree at {_where(path)} has structure {_short(treedef)}, "
                f"but the inner structure is {_short(inner_treedef)}"
            )
        rows.append(leaves)
    columns = [
        outer_treedef.unflatten([row[j] for row in rows]) for j in range(inner_treedef.num_leaves)
    ]
    return inner_treedef.unflatten(columns)
