"""Pytrees: nested containers (tuples, lists, dicts, ...) whose non-container parts are leaves.

A ``PyTreeDef`` keeps the shape of a tree as a flat preorder tuple of node records
``(spec, aux_data, num_children)``, where ``spec`` says how one node type flattens and rebuilds
and a leaf is the shared record ``(None, None, 0)``. Flattening and rebuilding walk explicit
stacks, and equality and hashing work on that flat tuple, so no operation here recurses and a
tree may be nested as deep as memory allows.

The package is split by concern, each module importing only those above it:
``_keys`` (key path entries, ``keystr``), ``_registry`` (node specs, registration, per-type
dispatch), ``_treedef`` (``PyTreeDef``, its record walks, matching a tree against a
structure), ``_ops`` (flatten, map, reduce, transpose, ...) and ``_ravel`` (``ravel_pytree``).
"""

from fjac._tree._keys import (
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    KeyEntry,
    KeyPath,
    SequenceKey,
    keystr,
)
from fjac._tree._ops import (
    all_leaves,
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
)
from fjac._tree._ravel import ravel_pytree
from fjac._tree._registry import (
    register_dataclass,
    register_pytree_node,
    register_pytree_node_class,
)
from fjac._tree._treedef import PyTreeDef, treedef_is_leaf, treedef_is_strict_leaf

__all__ = [
    "DictKey",
    "FlattenedIndexKey",
    "GetAttrKey",
    "KeyEntry",
    "KeyPath",
    "PyTreeDef",
    "SequenceKey",
    "all_leaves",
    "keystr",
    "ravel_pytree",
    "register_dataclass",
    "register_pytree_node",
    "register_pytree_node_class",
    "tree_all",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_leaves",
    "tree_leaves_with_path",
    "tree_map",
    "tree_map_with_path",
    "tree_reduce",
    "tree_structure",
    "tree_transpose",
    "tree_unflatten",
    "treedef_is_leaf",
    "treedef_is_strict_leaf",
]
