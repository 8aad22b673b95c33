"""Key paths: the entries that name a child within its parent, and how a path is printed."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import Any, TypeAlias

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
