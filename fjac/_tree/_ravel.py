"""ravel_pytree: a tree of arrays as one flat vector, and the function that splits it back."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from fjac._tree._ops import tree_flatten
from fjac._tree._treedef import PyTreeDef

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
