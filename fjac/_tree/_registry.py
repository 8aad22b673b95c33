"""The node registry: how each node type flattens, rebuilds, names its children and prints.

Built-in node types, namedtuples and classes registered with ``register_pytree_node``,
``register_pytree_node_class`` or ``register_dataclass`` each have one ``_NodeSpec``; the
per-type dispatch table maps any type to its spec, or to None for a leaf type.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias, TypeVar

from fjac._tree._keys import (
    _FLAT_INDEX_KEYS,
    _SEQUENCE_KEYS,
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    KeyEntry,
    SequenceKey,
)

_T = TypeVar("_T")

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
        >>> from fjac.tree import tree_leaves
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
        >>> from fjac.tree import tree_structure
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
        >>> from fjac.tree import tree_flatten
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
