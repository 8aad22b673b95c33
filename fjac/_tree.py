"""Pytrees: nested containers (tuples, lists, dicts, ...) whose non-container parts are leaves.

A ``PyTreeDef`` keeps the shape of a tree as a flat preorder tuple of node records
``(spec, aux_data, num_children)``, where ``spec`` says how one node type flattens and rebuilds
and a leaf is the shared record ``(None, None, 0)``. Flattening and rebuilding walk explicit
stacks, and equality and hashing work on that flat tuple, so no operation here recurses and a
tree may be nested as deep as memory allows.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, TypeAlias, TypeVar

import numpy as np

_T = TypeVar("_T")

# ---------------------------------------------------------------------------------------------
# Key path entries


@dataclasses.dataclass(frozen=True, slots=True)
class DictKey:
    """Key path entry for a mapping child, printed as ``[key]``.

    Example:
        >>> str(DictKey("a"))
        "['a']"
    """

    key: Hashable

    def __str__(self) -> str:
        return f"[{self.key!r}]"


@dataclasses.dataclass(frozen=True, slots=True)
class SequenceKey:
    """Key path entry for a tuple or list child, printed as ``[idx]``.

    Example:
        >>> str(SequenceKey(0))
        '[0]'
    """

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx}]"


@dataclasses.dataclass(frozen=True, slots=True)
class GetAttrKey:
    """Key path entry for an attribute child (namedtuple, dataclass), printed as ``.name``.

    Example:
        >>> str(GetAttrKey("x"))
        '.x'
    """

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


@dataclasses.dataclass(frozen=True, slots=True)
class FlattenedIndexKey:
    """Key path entry for the i-th child of a registered custom node, printed as ``[i]``.

    Example:
        >>> str(FlattenedIndexKey(1))
        '[1]'
    """

    key: int

    def __str__(self) -> str:
        return f"[{self.key}]"


KeyEntry: TypeAlias = DictKey | SequenceKey | GetAttrKey | FlattenedIndexKey
KeyPath: TypeAlias = tuple[KeyEntry, ...]

# Keys are immutable, so the common small indices are made once.
_SEQUENCE_KEYS = tuple(SequenceKey(i) for i in range(64))
_FLAT_INDEX_KEYS = tuple(FlattenedIndexKey(i) for i in range(64))


def keystr(keys: Sequence[Any], *, simple: bool = False, separator: str = "") -> str:
    """Render a key path as text.

    Args:
        keys: a key path, as given by ``tree_flatten_with_path``.
        simple: if True, print each entry as its bare key (``a``, ``0``, ``x``) instead of its
            accessor form (``['a']``, ``[0]``, ``.x``).
        separator: the text put between entries.

    Returns:
        The rendered path; the empty path renders as ``''``.

    Example:
        >>> path = (DictKey("a"), SequenceKey(0), GetAttrKey("x"))
        >>> keystr(path)
        "['a'][0].x"
        >>> keystr(path, simple=True, separator="/")
        'a/0/x'
    """
    render = _simple_entry if simple else str
    return separator.join(render(k) for k in keys)


def _simple_entry(key: Any) -> str:
    """The bare key of one path entry, as text."""
    if isinstance(key, DictKey | FlattenedIndexKey):
        return str(key.key)
    if isinstance(key, SequenceKey):
        return str(key.idx)
    if isinstance(key, GetAttrKey):
        return key.name
    return str(key)


def _where(path: Sequence[Any]) -> str:
    """A key path for an error message."""
    return keystr(path) or "the root"


# ---------------------------------------------------------------------------------------------
# Node specs: how each node type flattens, rebuilds, names its children and prints


class _NodeSpec:
    """The behaviour of one node type; one instance per type, so identity means same type."""

    __slots__ = ("type", "flatten", "unflatten", "keys", "render", "describe")

    def __init__(
        self,
        type_: type,
        flatten: Callable[[Any], tuple[Sequence[Any], Any]],
        unflatten: Callable[[Any, list[Any]], Any],
        keys: Callable[[Any, int], Sequence[KeyEntry]],
        render: Callable[[Any, int], tuple[str, Sequence[str], str]],
        describe: Callable[[Any, int], str],
    ) -> None:
        self.type = type_
        self.flatten = flatten
        self.unflatten = unflatten
        self.keys = keys
        self.render = render
        self.describe = describe

    def __repr__(self) -> str:
        return f"<pytree node spec for {_type_name(self.type)}>"


_Record: TypeAlias = tuple[_NodeSpec | None, Any, int]
_LEAF_REC: _Record = (None, None, 0)


def _type_name(t: type) -> str:
    """``module.Qualname`` of a class, or just the name for builtins."""
    if t.__module__ == "builtins":
        return t.__qualname__
    return f"{t.__module__}.{t.__qualname__}"


def _count(n: int) -> str:
    """``1 child`` / ``n children``."""
    return "1 child" if n == 1 else f"{n} children"


def _seq_keys(aux: Any, n: int) -> Sequence[KeyEntry]:
    """Keys ``[0] .. [n-1]`` of a tuple or list."""
    return _SEQUENCE_KEYS[:n] if n <= len(_SEQUENCE_KEYS) else [SequenceKey(i) for i in range(n)]


def _flat_index_keys(aux: Any, n: int) -> Sequence[KeyEntry]:
    """Keys of a custom node's children: their positions."""
    if n <= len(_FLAT_INDEX_KEYS):
        return _FLAT_INDEX_KEYS[:n]
    return [FlattenedIndexKey(i) for i in range(n)]


def _dict_keys(keys: Iterable[Any]) -> list[KeyEntry]:
    """Path entries of a mapping's keys."""
    return [DictKey(k) for k in keys]


def _mapping_labels(keys: Iterable[Any]) -> list[str]:
    """The ``'key': `` prefixes printed before a mapping's children."""
    return [f"{k!r}: " for k in keys]


def _sorted_keys(d: dict[Any, Any]) -> tuple[Any, ...]:
    """A dict's keys in sorted order, which fixes the order of its children."""
    try:
        return tuple(sorted(d))
    except TypeError as err:
        raise TypeError(
            f"pytree: cannot sort the keys {list(d)!r} of a {type(d).__name__}; a dict node "
            "orders its children by sorted key, so its keys must be mutually comparable "
            "(for example all str)"
        ) from err


def _as_is(x: Any) -> tuple[Any, None]:
    """Flatten a tuple-like node: it is its own sequence of children."""
    return x, None


def _dict_flatten(d: dict[Any, Any]) -> tuple[list[Any], tuple[Any, ...]]:
    """Children of a dict in sorted-key order; the keys are the aux data."""
    keys = _sorted_keys(d)
    return list(map(d.__getitem__, keys)), keys


def _ordered_dict_flatten(d: OrderedDict[Any, Any]) -> tuple[list[Any], tuple[Any, ...]]:
    """Children of an OrderedDict in insertion order; the keys are the aux data."""
    keys = tuple(d)
    return list(map(d.__getitem__, keys)), keys


def _defaultdict_flatten(d: defaultdict[Any, Any]) -> tuple[list[Any], tuple[Any, Any]]:
    """Children of a defaultdict in sorted-key order; aux is (default_factory, keys)."""
    keys = _sorted_keys(d)
    return [d[k] for k in keys], (d.default_factory, keys)


def _factory_name(factory: Any) -> str:
    """How a defaultdict's default_factory is printed."""
    return getattr(factory, "__qualname__", None) or repr(factory)


# _ZIP_NOTE: hot paths zip sequences whose lengths match by construction, and a `strict=`
# keyword roughly doubles the cost of a short zip, so they leave it out.

_TUPLE_SPEC = _NodeSpec(
    tuple,
    _as_is,
    lambda aux, ch: tuple(ch),
    _seq_keys,
    lambda aux, n: ("(", [""] * n, ",)" if n == 1 else ")"),
    lambda aux, n: f"a tuple of {_count(n)}",
)
_LIST_SPEC = _NodeSpec(
    list,
    _as_is,
    lambda aux, ch: ch,  # ch is always a fresh list
    _seq_keys,
    lambda aux, n: ("[", [""] * n, "]"),
    lambda aux, n: f"a list of {_count(n)}",
)
_DICT_SPEC = _NodeSpec(
    dict,
    _dict_flatten,
    lambda aux, ch: dict(zip(aux, ch)),  # noqa: B905 (see _ZIP_NOTE)
    lambda aux, n: _dict_keys(aux),
    lambda aux, n: ("{", _mapping_labels(aux), "}"),
    lambda aux, n: f"a dict with keys {list(aux)!r}",
)
_NONE_SPEC = _NodeSpec(
    type(None),
    lambda x: ((), None),
    lambda aux, ch: None,
    lambda aux, n: (),
    lambda aux, n: ("None", (), ""),
    lambda aux, n: "None",
)
_ORDERED_DICT_SPEC = _NodeSpec(
    OrderedDict,
    _ordered_dict_flatten,
    lambda aux, ch: OrderedDict(zip(aux, ch)),  # noqa: B905 (see _ZIP_NOTE)
    lambda aux, n: _dict_keys(aux),
    lambda aux, n: ("OrderedDict({", _mapping_labels(aux), "})"),
    lambda aux, n: f"an OrderedDict with keys {list(aux)!r}",
)
_DEFAULTDICT_SPEC = _NodeSpec(
    defaultdict,
    _defaultdict_flatten,
    lambda aux, ch: defaultdict(aux[0], zip(aux[1], ch)),  # noqa: B905 (see _ZIP_NOTE)
    lambda aux, n: _dict_keys(aux[1]),
    lambda aux, n: (f"defaultdict({_factory_name(aux[0])}, {{", _mapping_labels(aux[1]), "})"),
    lambda aux, n: f"a defaultdict({_factory_name(aux[0])}) with keys {list(aux[1])!r}",
)


def _namedtuple_spec(t: type) -> _NodeSpec:
    """The spec of a namedtuple class: fields as children, the class kept for rebuilding."""
    fields = tuple(t._fields)  # type: ignore[attr-defined]
    keys = tuple(GetAttrKey(f) for f in fields)
    labels = [f"{f}=" for f in fields]
    name = t.__name__
    return _NodeSpec(
        t,
        _as_is,
        lambda aux, ch: t(*ch),
        lambda aux, n: keys,
        lambda aux, n: (f"{name}(", labels, ")"),
        lambda aux, n: f"a {name} namedtuple",
    )


def _custom_spec(
    t: type,
    flatten_func: Callable[[Any], tuple[Iterable[Any], Any]],
    unflatten_func: Callable[[Any, Any], Any],
) -> _NodeSpec:
    """The spec of a class registered with its own flatten and unflatten functions."""
    name = t.__name__

    def flatten(x: Any) -> tuple[Sequence[Any], Any]:
        children, aux = flatten_func(x)
        return tuple(children), aux

    return _NodeSpec(
        t,
        flatten,
        lambda aux, ch: unflatten_func(aux, tuple(ch)),
        _flat_index_keys,
        lambda aux, n: (f"CustomNode({name}[{aux!r}], [", [""] * n, "])"),
        lambda aux, n: f"a {name} node with {_count(n)} and aux data {aux!r}",
    )


def _dataclass_spec(t: type, data: tuple[str, ...], meta: tuple[str, ...]) -> _NodeSpec:
    """The spec of a registered dataclass: data fields are children, meta fields aux data."""
    name = t.__name__
    keys = tuple(GetAttrKey(f) for f in data)
    labels = [f"{f}=" for f in data]

    def flatten(x: Any) -> tuple[Sequence[Any], Any]:
        aux = tuple(getattr(x, f) for f in meta)
        if aux:
            _check_hashable(aux, meta, name)
        return [getattr(x, f) for f in data], aux

    def unflatten(aux: Any, children: list[Any]) -> Any:
        kwargs = dict(zip(data, children))  # noqa: B905 (see _ZIP_NOTE)
        kwargs.update(zip(meta, aux))  # noqa: B905 (see _ZIP_NOTE)
        return t(**kwargs)

    def render(aux: Any, n: int) -> tuple[str, Sequence[str], str]:
        shown = ", ".join(f"{f}={v!r}" for f, v in zip(meta, aux, strict=True))
        return f"{name}(", labels, (f", {shown})" if n and shown else f"{shown})")

    def describe(aux: Any, n: int) -> str:
        shown = dict(zip(meta, aux, strict=True))
        return f"a {name} dataclass" + (f" with meta {shown!r}" if meta else "")

    return _NodeSpec(t, flatten, unflatten, lambda aux, n: keys, render, describe)


def _check_hashable(values: tuple[Any, ...], names: tuple[str, ...], owner: str) -> None:
    """Raise TypeError naming the first meta field whose value cannot be hashed."""
    try:
        hash(values)
    except TypeError:
        for field, value in zip(names, values, strict=True):
            try:
                hash(value)
            except TypeError as err:
                raise TypeError(
                    f"pytree: meta field {field!r} of {owner} holds an unhashable "
                    f"{type(value).__name__}; meta fields live in the tree structure and "
                    "must be hashable (make it a data field, or use a hashable value)"
                ) from err
        raise


# ---------------------------------------------------------------------------------------------
# Registry and per-type dispatch

_BUILTIN_SPECS: dict[type, _NodeSpec] = {
    s.type: s
    for s in (
        _TUPLE_SPEC,
        _LIST_SPEC,
        _DICT_SPEC,
        _NONE_SPEC,
        _ORDERED_DICT_SPEC,
        _DEFAULTDICT_SPEC,
    )
}
# Every node type ever seen: built-ins, registered classes and namedtuples. Specs are never
# replaced (except a namedtuple's by an explicit registration), so treedefs stay comparable.
_NODE_SPECS: dict[type, _NodeSpec] = dict(_BUILTIN_SPECS)
_REGISTERED: set[type] = set()
# Bounds the cache of leaf types, so throwaway classes are not kept alive forever.
_DISPATCH_LIMIT = 4096


class _Dispatch(dict[type, "_NodeSpec | None"]):
    """type -> spec, or None for a leaf type; unseen types are classified on first lookup."""

    def __missing__(self, t: type) -> _NodeSpec | None:
        return _classify(t)


_DISPATCH = _Dispatch(_NODE_SPECS)


def _classify(t: type) -> _NodeSpec | None:
    """Find (and cache) the spec of a type: registered, a namedtuple, or None for a leaf."""
    spec = _NODE_SPECS.get(t)
    if spec is None and issubclass(t, tuple) and hasattr(t, "_fields"):
        spec = _NODE_SPECS.setdefault(t, _namedtuple_spec(t))
    if len(_DISPATCH) >= _DISPATCH_LIMIT:
        _DISPATCH.clear()
        _DISPATCH.update(_NODE_SPECS)
    _DISPATCH[t] = spec
    return spec


def _require_class(nodetype: Any, caller: str) -> None:
    """Raise unless ``nodetype`` is a class that may still be registered."""
    if not isinstance(nodetype, type):
        raise TypeError(f"{caller}: expected a class, got {nodetype!r}")
    if nodetype in _BUILTIN_SPECS:
        raise ValueError(
            f"{caller}: {_type_name(nodetype)} is a built-in pytree node type and cannot be "
            "registered"
        )
    if nodetype in _REGISTERED:
        raise ValueError(
            f"{caller}: {_type_name(nodetype)} is already registered as a pytree node type"
        )


def _register(nodetype: type, spec: _NodeSpec) -> None:
    """Install a spec for a new node type."""
    _NODE_SPECS[nodetype] = spec
    _REGISTERED.add(nodetype)
    _DISPATCH[nodetype] = spec


def register_pytree_node(
    nodetype: type[Any],
    flatten_func: Callable[[Any], tuple[Iterable[Any], Any]],
    unflatten_func: Callable[[Any, Any], Any],
) -> None:
    """Make instances of a class pytree nodes instead of leaves.

    Only instances of exactly ``nodetype`` are nodes; subclasses stay leaves unless registered
    themselves. Their key path entries are ``FlattenedIndexKey(i)``.

    Args:
        nodetype: the class to register.
        flatten_func: ``flatten_func(x) -> (children, aux_data)``; ``children`` is an iterable
            of subtrees and ``aux_data`` is kept in the treedef, so it must be hashable and
            comparable with ``==``.
        unflatten_func: ``unflatten_func(aux_data, children) -> x``; ``children`` is a tuple.

    Raises:
        TypeError: ``nodetype`` is not a class.
        ValueError: ``nodetype`` is already registered, or is a built-in node type.

    Example:
        >>> class Pair:
        ...     def __init__(self, a, b):
        ...         self.a, self.b = a, b
        >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda _, ch: Pair(*ch))
        >>> tree_leaves(Pair(1, [2, 3]))
        [1, 2, 3]
    """
    _require_class(nodetype, "register_pytree_node")
    _register(nodetype, _custom_spec(nodetype, flatten_func, unflatten_func))


def register_pytree_node_class(cls: type[_T]) -> type[_T]:
    """Class decorator: register a class through its own ``tree_flatten``/``tree_unflatten``.

    Args:
        cls: a class with a method ``tree_flatten(self) -> (children, aux_data)`` and a
            classmethod ``tree_unflatten(cls, aux_data, children)``.

    Returns:
        ``cls`` itself, now registered.

    Raises:
        TypeError: ``cls`` lacks one of the two methods.
        ValueError: ``cls`` is already registered.

    Example:
        >>> @register_pytree_node_class
        ... class Scaled:
        ...     def __init__(self, value, scale):
        ...         self.value, self.scale = value, scale
        ...     def tree_flatten(self):
        ...         return (self.value,), self.scale
        ...     @classmethod
        ...     def tree_unflatten(cls, scale, children):
        ...         return cls(children[0], scale)
        >>> tree_structure(Scaled(1.0, 2))
        PyTreeDef(CustomNode(Scaled[2], [*]))
    """
    _require_class(cls, "register_pytree_node_class")
    flatten, unflatten = getattr(cls, "tree_flatten", None), getattr(cls, "tree_unflatten", None)
    if not callable(flatten) or not callable(unflatten):
        raise TypeError(
            f"register_pytree_node_class: {_type_name(cls)} must define a method "
            "tree_flatten(self) and a classmethod tree_unflatten(cls, aux_data, children)"
        )
    _register(cls, _custom_spec(cls, flatten, unflatten))
    return cls


def register_dataclass(
    nodetype: type[_T],
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
) -> type[_T]:
    """Register a dataclass as a pytree node; usable as a call or as a class decorator.

    Data fields become children (key path entries ``GetAttrKey(name)``); meta fields are kept
    in the treedef, so their values must be hashable, and trees whose meta values differ have
    different structures. Instances are rebuilt by calling ``nodetype(**fields)``.

    Args:
        nodetype: the class to register.
        data_fields: names of the fields that are subtrees.
        meta_fields: names of the fields that are static aux data. If both lists are None,
            they are read from ``dataclasses.fields``: init fields whose metadata has
            ``static=True`` are meta, the other init fields are data.

    Returns:
        ``nodetype`` itself, now registered.

    Raises:
        TypeError: the fields must be inferred but ``nodetype`` is not a dataclass, or a field
            list is a single string.
        ValueError: only one of the lists is given, the lists do not name exactly the init
            fields of a dataclass, or ``nodetype`` is already registered.

    Example:
        >>> @register_dataclass
        ... @dataclasses.dataclass
        ... class Layer:
        ...     w: float
        ...     act: str = dataclasses.field(default="tanh", metadata={"static": True})
        >>> tree_flatten(Layer(0.5))
        ([0.5], PyTreeDef(Layer(w=*, act='tanh')))
    """
    _require_class(nodetype, "register_dataclass")
    data, meta = _dataclass_fields(nodetype, data_fields, meta_fields)
    _register(nodetype, _dataclass_spec(nodetype, data, meta))
    return nodetype


def _dataclass_fields(
    t: type, data_fields: Sequence[str] | None, meta_fields: Sequence[str] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Resolve and check the (data, meta) field names of a class being registered."""
    name = _type_name(t)
    if data_fields is None and meta_fields is None:
        if not dataclasses.is_dataclass(t):
            raise TypeError(
                f"register_dataclass: {name} is not a dataclass; pass data_fields and "
                "meta_fields to register it"
            )
        init = [f for f in dataclasses.fields(t) if f.init]
        meta = tuple(f.name for f in init if f.metadata.get("static", False))
        return tuple(f.name for f in init if f.name not in meta), meta
    if data_fields is None or meta_fields is None:
        raise ValueError("register_dataclass: give both data_fields and meta_fields, or neither")
    if isinstance(data_fields, str) or isinstance(meta_fields, str):
        raise TypeError("register_dataclass: data_fields and meta_fields must be lists of names")
    data, meta = tuple(data_fields), tuple(meta_fields)
    if dataclasses.is_dataclass(t):
        _check_covers_init_fields(t, data, meta)
    return data, meta


def _check_covers_init_fields(t: type, data: tuple[str, ...], meta: tuple[str, ...]) -> None:
    """Raise unless data + meta name each init field of dataclass ``t`` exactly once."""
    init = [f.name for f in dataclasses.fields(t) if f.init]
    given = list(data) + list(meta)
    missing = [f for f in init if f not in given]
    extra = [f for f in given if f not in init]
    repeated = sorted({f for f in given if given.count(f) > 1})
    if missing or extra or repeated:
        raise ValueError(
            f"register_dataclass: data_fields and meta_fields must name each init field of "
            f"{_type_name(t)} exactly once; missing {missing}, not init fields {extra}, "
            f"repeated {repeated}"
        )


# ---------------------------------------------------------------------------------------------
# PyTreeDef

_KIND_GENERAL, _KIND_LEAF, _KIND_FLAT_TUPLE = 0, 1, 2
_REPR_LIMIT = 300


class PyTreeDef:
    """The structure of a pytree: its node types and aux data, with the leaves left out.

    Immutable and hashable. Two treedefs are equal when their trees have the same node types
    in the same places, the same dict keys, namedtuple classes and aux data.

    Example:
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


# ---------------------------------------------------------------------------------------------
# Mapping and reducing


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


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    """Whether a structure has a single node, as in JAX: a leaf, or an empty node like None.

    Args:
        treedef: the structure.

    Returns:
        ``treedef.num_nodes == 1``; see ``treedef_is_strict_leaf`` to exclude empty nodes.

    Example:
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
        >>> treedef_is_strict_leaf(tree_structure(1.0))
        True
        >>> treedef_is_strict_leaf(tree_structure(None))
        False
    """
    return treedef._kind == _KIND_LEAF


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


# ---------------------------------------------------------------------------------------------
# Raveling


def ravel_pytree(tree: Any) -> tuple[np.ndarray[Any, Any], Callable[[Any], Any]]:
    """Concatenate the raveled leaves of a tree into one 1-D array.

    Args:
        tree: a tree whose leaves are NumPy arrays or numbers.

    Returns:
        ``(flat, unravel)``. ``flat`` is a new 1-D array whose dtype is the NumPy promotion of
        the leaves' dtypes (float64 and length 0 for a tree without leaves). ``unravel(vec)``
        takes a 1-D array of the same length and returns a new tree of the original structure,
        each leaf a new array of its original shape and dtype (Python numbers come back as 0-d
        arrays). A non-NumPy array ``vec`` with ``shape``, slicing, ``reshape`` and ``astype``
        (such as an fjac tracer) is split with those methods.

    Raises:
        ``unravel`` raises ValueError if ``vec`` is not 1-D of the right length.

    Example:
        >>> flat, unravel = ravel_pytree({"a": np.zeros(2, np.float32), "b": 1})
        >>> flat.dtype, flat.shape
        (dtype('float64'), (3,))
        >>> tree = unravel(np.arange(3.0))
        >>> tree["a"].dtype, tree["a"].tolist(), tree["b"].dtype, tree["b"].shape
        (dtype('float32'), [0.0, 1.0], dtype('int64'), ())
    """
    leaves, treedef = tree_flatten(tree)
    arrays = [np.asarray(x) for x in leaves]
    dtypes = [a.dtype for a in arrays]
    dtype = functools.reduce(np.promote_types, dtypes) if dtypes else np.dtype(np.float64)
    if arrays:
        flat = np.concatenate([a.ravel() for a in arrays], dtype=dtype)
    else:
        flat = np.zeros(0, dtype)
    shapes = [a.shape for a in arrays]
    bounds = list(itertools.accumulate((a.size for a in arrays), initial=0))
    return flat, functools.partial(_unravel, treedef, shapes, dtypes, bounds)


def _unravel(
    treedef: PyTreeDef,
    shapes: list[tuple[int, ...]],
    dtypes: list[np.dtype[Any]],
    bounds: list[int],
    vec: Any,
) -> Any:
    """The ``unravel`` of ``ravel_pytree``: split, reshape and cast back each leaf."""
    if not hasattr(vec, "shape") or isinstance(vec, np.generic):
        vec = np.asarray(vec)
    size = bounds[-1]
    if tuple(vec.shape) != (size,):
        raise ValueError(
            f"unravel: expected a 1-D array of length {size}, got an array of shape "
            f"{tuple(vec.shape)}"
        )
    if isinstance(vec, np.ndarray):
        leaves = [
            vec[bounds[i] : bounds[i + 1]].reshape(shape).astype(dtype)
            for i, (shape, dtype) in enumerate(zip(shapes, dtypes, strict=True))
        ]
    else:
        leaves = [
            _duck_piece(vec[bounds[i] : bounds[i + 1]], shape, dtype)
            for i, (shape, dtype) in enumerate(zip(shapes, dtypes, strict=True))
        ]
    return treedef.unflatten(leaves)


def _duck_piece(piece: Any, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Any:
    """Reshape a slice of a non-NumPy array, casting only when its dtype differs."""
    piece = piece.reshape(shape)
    return piece if piece.dtype == dtype else piece.astype(dtype)
