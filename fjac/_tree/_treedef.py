"""PyTreeDef: the structure of a pytree as flat preorder node records.

Also the walks over those records (rendering, key paths, rebuilding) and the matching of a
tree against a structure, which ``PyTreeDef.flatten_up_to`` and the tree operations share.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from fjac._tree._keys import KeyPath, _where
from fjac._tree._registry import _DICT_SPEC, _DISPATCH, _LEAF_REC, _TUPLE_SPEC, _NodeSpec, _Record

# ---------------------------------------------------------------------------------------------
# PyTreeDef

_KIND_GENERAL, _KIND_LEAF, _KIND_FLAT_TUPLE = 0, 1, 2
_REPR_LIMIT = 300


class PyTreeDef:
    """The structure of a pytree: its node types and aux data, with the leaves left out.

    Immutable and hashable. Two treedefs are equal when their trees have the same node types
    in the same places, the same dict keys, namedtuple classes and aux data.

    Example:
        >>> from fjac.tree import tree_flatten
        >>> leaves, treedef = tree_flatten({"a": 1, "b": (2, 3)})
        >>> treedef
        PyTreeDef({'a': *, 'b': (*, *)})
        >>> treedef.num_leaves, treedef.num_nodes
        (3, 5)
        >>> treedef.unflatten([10, 20, 30])
        {'a': 10, 'b': (20, 30)}
    """

    __slots__ = ("_nodes", "_num_leaves", "_kind", "_hash")
    _nodes: tuple[_Record, ...]
    _num_leaves: int
    _kind: int
    _hash: int

    def __init__(self) -> None:
        raise TypeError("PyTreeDef objects come from tree_flatten or tree_structure")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("PyTreeDef is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("PyTreeDef is immutable")

    @property
    def num_leaves(self) -> int:
        """The number of leaves."""
        return self._num_leaves

    @property
    def num_nodes(self) -> int:
        """The number of nodes, counting leaves and empty nodes such as None."""
        return len(self._nodes)

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        """Build a tree of this structure from its leaves; same as ``tree_unflatten``.

        Args:
            leaves: exactly ``num_leaves`` leaves, in flattening order.

        Returns:
            A new tree; every container in it is freshly made.

        Raises:
            ValueError: the number of leaves is wrong.

        Example:
            >>> from fjac.tree import tree_structure
            >>> tree_structure((0, [0])).unflatten(["x", "y"])
            ('x', ['y'])
        """
        if type(leaves) is not list:
            leaves = list(leaves)
        if len(leaves) != self._num_leaves:
            raise ValueError(
                f"tree_unflatten: the structure {_short(self)} has {self._num_leaves} "
                f"leaves, but {len(leaves)} were given"
            )
        kind = self._kind
        if kind == _KIND_LEAF:
            return leaves[0]
        if kind == _KIND_FLAT_TUPLE:
            return tuple(leaves)
        return _build(self._nodes, leaves)

    def flatten_up_to(self, tree: Any) -> list[Any]:
        """Flatten ``tree`` only as far as this structure goes.

        Args:
            tree: a tree that has this structure as a prefix: it matches this treedef node for
                node, and may hold whole subtrees where this treedef has leaves.

        Returns:
            The parts of ``tree`` at this treedef's leaf positions, in order.

        Raises:
            ValueError: ``tree`` does not match; the message gives the key path.

        Example:
            >>> from fjac.tree import tree_structure
            >>> tree_structure((0, 0)).flatten_up_to(([1, 2], {"a": 3}))
            [[1, 2], {'a': 3}]
        """
        try:
            return _up_to(self, tree)
        except _Mismatch as err:
            raise ValueError(f"flatten_up_to: the trees differ {err}") from None

    def children(self) -> list[PyTreeDef]:
        """The structures of the root's children (empty for a leaf or an empty node).

        Example:
            >>> from fjac.tree import tree_structure
            >>> tree_structure((1, [2, 3])).children()
            [PyTreeDef(*), PyTreeDef([*, *])]
        """
        nodes = self._nodes
        out = []
        start = 1
        for _ in range(nodes[0][2]):
            end = _subtree_end(nodes, start)
            part = nodes[start:end]
            out.append(_make_treedef(part, sum(1 for r in part if r[0] is None)))
            start = end
        return out

    def compose(self, inner: PyTreeDef) -> PyTreeDef:
        """The structure obtained by putting a tree of structure ``inner`` at each leaf.

        Example:
            >>> from fjac.tree import tree_structure
            >>> tree_structure((0, 0)).compose(tree_structure([0]))
            PyTreeDef(([*], [*]))
        """
        nodes: list[_Record] = []
        for rec in self._nodes:
            if rec[0] is None:
                nodes.extend(inner._nodes)
            else:
                nodes.append(rec)
        return _make_treedef(tuple(nodes), self._num_leaves * inner._num_leaves)

    def node_data(self) -> tuple[type, Any] | None:
        """``(node type, aux data)`` of the root, or None if the root is a leaf.

        Example:
            >>> from fjac.tree import tree_structure
            >>> tree_structure({"b": 1, "a": 2}).node_data()
            (<class 'dict'>, ('a', 'b'))
        """
        spec, aux, _ = self._nodes[0]
        return None if spec is None else (spec.type, aux)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        return self is other or (
            self._num_leaves == other._num_leaves and self._nodes == other._nodes
        )

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:  # not computed yet
            h = hash(self._nodes)
            _set_hash(self, h)
            return h

    def __repr__(self) -> str:
        return f"PyTreeDef({_render(self._nodes)})"

    def __copy__(self) -> PyTreeDef:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> PyTreeDef:
        return self


# PyTreeDef blocks attribute assignment; these slot setters are how it gets built (and they
# are faster than object.__setattr__, which matters on every flatten).
_set_nodes: Callable[[PyTreeDef, Any], None] = PyTreeDef.__dict__["_nodes"].__set__
_set_num_leaves: Callable[[PyTreeDef, Any], None] = PyTreeDef.__dict__["_num_leaves"].__set__
_set_kind: Callable[[PyTreeDef, Any], None] = PyTreeDef.__dict__["_kind"].__set__
_set_hash: Callable[[PyTreeDef, Any], None] = PyTreeDef.__dict__["_hash"].__set__
_new_object = object.__new__


def _make_treedef(nodes: tuple[_Record, ...], num_leaves: int) -> PyTreeDef:
    """Create a PyTreeDef from preorder records."""
    td: PyTreeDef = _new_object(PyTreeDef)
    _set_nodes(td, nodes)
    _set_num_leaves(td, num_leaves)
    _set_kind(td, _shape_kind(nodes))
    return td


def _shape_kind(nodes: tuple[_Record, ...]) -> int:
    """Tag the two shapes that unflatten handles without a walk."""
    first = nodes[0]
    if first is _LEAF_REC:
        return _KIND_LEAF
    if (
        first[0] is _TUPLE_SPEC
        and first[2] == len(nodes) - 1
        and all(r is _LEAF_REC for r in itertools.islice(nodes, 1, None))
    ):
        return _KIND_FLAT_TUPLE
    return _KIND_GENERAL


def _short(treedef: PyTreeDef) -> str:
    """A treedef's repr, cut short for error messages."""
    text = repr(treedef)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 4] + " ...)"


def _subtree_end(nodes: tuple[_Record, ...], start: int) -> int:
    """The index just past the subtree whose root record is ``nodes[start]``."""
    pending = 1
    i = start
    while pending:
        pending += nodes[i][2] - 1
        i += 1
    return i


class _Cursor:
    """A node being walked in preorder: its children's labels and how far we are."""

    __slots__ = ("labels", "index", "tail")

    def __init__(self, labels: Sequence[Any], tail: Any) -> None:
        self.labels = labels
        self.index = 0
        self.tail = tail


def _render(nodes: tuple[_Record, ...]) -> str:
    """The body of a treedef's repr, built with an explicit stack."""
    out: list[str] = []
    stack: list[_Cursor] = []
    for spec, aux, n in nodes:
        if stack:
            top = stack[-1]
            out.append(", " + top.labels[top.index] if top.index else top.labels[0])
            top.index += 1
        if spec is None:
            out.append("*")
        else:
            opening, labels, closing = spec.render(aux, n)
            out.append(opening)
            if n:
                stack.append(_Cursor(labels, closing))
                continue
            out.append(closing)
        while stack and stack[-1].index == len(stack[-1].labels):
            out.append(stack.pop().tail)
    return "".join(out)


def _iter_paths(nodes: tuple[_Record, ...]) -> Iterator[KeyPath]:
    """The key path of every record, in preorder."""
    stack: list[_Cursor] = []
    for spec, aux, n in nodes:
        path: KeyPath = ()
        if stack:
            top = stack[-1]
            path = top.tail + (top.labels[top.index],)
            top.index += 1
        yield path
        if n:
            assert spec is not None
            stack.append(_Cursor(spec.keys(aux, n), path))
            continue
        while stack and stack[-1].index == len(stack[-1].labels):
            stack.pop()


def _leaf_paths(treedef: PyTreeDef) -> list[KeyPath]:
    """The key path of each leaf of a treedef."""
    nodes = treedef._nodes
    return [path for rec, path in zip(nodes, _iter_paths(nodes), strict=True) if rec[0] is None]


def _build(nodes: tuple[_Record, ...], leaves: Sequence[Any]) -> Any:
    """Rebuild a tree from preorder records, walking them backwards with a value stack."""
    values: list[Any] = []
    i = len(leaves)
    for spec, aux, n in reversed(nodes):
        if spec is None:
            i -= 1
            values.append(leaves[i])
        elif n:
            children = values[-n:]
            del values[-n:]
            children.reverse()
            values.append(spec.unflatten(aux, children))
        else:
            values.append(spec.unflatten(aux, []))
    return values[0]


_LEAF_DEF = _make_treedef((_LEAF_REC,), 1)
_FLAT_TUPLE_DEFS = tuple(
    _make_treedef(((_TUPLE_SPEC, None, n),) + (_LEAF_REC,) * n, n) for n in range(9)
)


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    """Whether a structure has a single node, as in JAX: a leaf, or an empty node like None.

    Args:
        treedef: the structure.

    Returns:
        ``treedef.num_nodes == 1``; see ``treedef_is_strict_leaf`` to exclude empty nodes.

    Example:
        >>> from fjac.tree import tree_structure
        >>> treedef_is_leaf(tree_structure(1.0)), treedef_is_leaf(tree_structure(None))
        (True, True)
        >>> treedef_is_leaf(tree_structure([1.0]))
        False
    """
    return treedef.num_nodes == 1


def treedef_is_strict_leaf(treedef: PyTreeDef) -> bool:
    """Whether a structure is exactly one leaf.

    Args:
        treedef: the structure.

    Returns:
        True for the structure of a leaf; False for anything else, including None.

    Example:
        >>> from fjac.tree import tree_structure
        >>> treedef_is_strict_leaf(tree_structure(1.0))
        True
        >>> treedef_is_strict_leaf(tree_structure(None))
        False
    """
    return treedef._kind == _KIND_LEAF


# ---------------------------------------------------------------------------------------------
# Matching one tree against another's structure


class _Mismatch(Exception):
    """A tree does not match a structure; str() is ``at <path>: expected ..., got ...``."""


def _up_to(treedef: PyTreeDef, tree: Any) -> list[Any]:
    """Flatten ``tree`` down to ``treedef``'s leaves; raise _Mismatch where they differ."""
    kind = treedef._kind
    if kind == _KIND_LEAF:
        return [tree]
    if kind == _KIND_FLAT_TUPLE and type(tree) is tuple and len(tree) == treedef._num_leaves:
        return list(tree)
    nodes = treedef._nodes
    out: list[Any] = []
    stack = [tree]
    for i, (spec, aux, n) in enumerate(nodes):
        x = stack.pop()
        if spec is None:
            out.append(x)
            continue
        children = _match_node(spec, aux, n, x)
        if children is None:
            path = next(itertools.islice(_iter_paths(nodes), i, None))
            raise _Mismatch(
                f"at {_where(path)}: expected {spec.describe(aux, n)}, got {_describe_value(x)}"
            )
        stack.extend(reversed(children))
    return out


def _match_node(spec: _NodeSpec, aux: Any, n: int, x: Any) -> Sequence[Any] | None:
    """The children of ``x`` if it is the node (spec, aux, n) describes, else None."""
    if spec is _DICT_SPEC:
        # Any dict (OrderedDict too) with the same keys matches a dict node, as in JAX.
        if not isinstance(x, dict) or len(x) != n:
            return None
        # With equal sizes, finding every key means equal key sets. Subclasses are asked with
        # `in` first, since a defaultdict's [] would insert a missing key.
        if type(x) is dict:
            try:
                return list(map(x.__getitem__, aux))
            except KeyError:
                return None
        return [x[k] for k in aux] if all(k in x for k in aux) else None
    if type(x) is not spec.type:
        return None
    children, x_aux = spec.flatten(x)
    if len(children) != n or not (x_aux is aux or x_aux == aux):
        return None
    return children


def _describe_value(x: Any) -> str:
    """What ``x`` is, for a mismatch message: ``a list of 3 children``, ``a leaf of type int``."""
    spec = _DISPATCH[type(x)]
    if spec is None:
        return f"a leaf of type {type(x).__name__}"
    try:
        children, aux = spec.flatten(x)
    except Exception:
        return f"a {type(x).__name__}"
    return spec.describe(aux, len(children))
