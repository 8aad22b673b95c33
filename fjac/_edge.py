"""What every transform does at its edge: check and convert inputs, unwrap outputs and aux."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from fjac._core import MainTrace, Tracer, convert
from fjac._dtypes import dtype_of, is_float, zeros_float0
from fjac.tree import (
    PyTreeDef,
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_map,
)

__all__ = [
    "flatten_inputs",
    "as_input",
    "as_output",
    "shape_of",
    "astype",
    "split_aux",
    "unwrap_aux",
    "input_cotangents",
    "zeros_for",
    "snapshot",
]

_NUMBER_TYPES = (bool, int, float, complex, np.generic)


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array, tracer or number."""
    if type(x) is np.ndarray:
        return x.shape  # type: ignore[no-any-return]
    shape = getattr(x, "shape", None)
    if shape is None:
        return np.shape(x)
    return tuple(shape)


def as_input(x: Any, where: str, transform: str) -> Any:
    """A pytree leaf as an array fjac can trace (tracers of outer transforms pass through)."""
    if isinstance(x, (np.ndarray, Tracer)):
        return x
    if isinstance(x, _NUMBER_TYPES):
        return np.asarray(x)
    raise TypeError(
        f"{transform}: {where} is a {type(x).__name__}, which is not an array or a number; "
        "differentiated arguments must be pytrees of arrays or numbers (pass other values "
        "through keyword arguments, or choose argnums so they are not differentiated)"
    )


def flatten_inputs(args: Any, transform: str) -> tuple[list[Any], PyTreeDef]:
    """Flatten the differentiated arguments, converting numbers to arrays and checking types."""
    leaves, tree = tree_flatten(args)
    out = []
    for i, x in enumerate(leaves):
        if isinstance(x, (np.ndarray, Tracer)):
            out.append(x)
        else:
            out.append(as_input(x, _leaf_name(args, i), transform))
    return out, tree


def _leaf_name(args: Any, i: int) -> str:
    """A reader's name for leaf ``i`` of the arguments tuple: ``argument 0 ['w']``."""
    path, _ = tree_flatten_with_path(args)[0][i]
    if not path:
        return "the argument"
    head, rest = path[0], path[1:]
    index = getattr(head, "idx", head)
    return f"argument {index}" + (f" at {keystr(rest)}" if rest else "")


def as_output(x: Any) -> Any:
    """An output leaf that is not traced here: numbers become arrays, arrays pass through."""
    if isinstance(x, (np.ndarray, Tracer)):
        return x
    if isinstance(x, _NUMBER_TYPES):
        return np.asarray(x)
    raise TypeError(
        f"the transformed function returned a {type(x).__name__} among its outputs; outputs "
        "must be pytrees of arrays or numbers (return other values as aux with has_aux=True)"
    )


def astype(x: Any, dtype: np.dtype[Any]) -> Any:
    """``x`` cast to floating ``dtype`` (traced when ``x`` is a tracer)."""
    return convert(x, dtype)


def split_aux(out: Any, has_aux: bool, transform: str) -> tuple[Any, Any]:
    """``(output, aux)`` from a function's return value, checking the pair when ``has_aux``."""
    if not has_aux:
        return out, None
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        got = "a traced array" if isinstance(out, Tracer) else f"a {type(out).__name__}"
        if isinstance(out, (tuple, list)):
            got += f" of length {len(out)}"
        raise TypeError(
            f"{transform} with has_aux=True needs the function to return a pair "
            f"(output, aux); it returned {got}"
        )
    return out[0], out[1]


def unwrap_aux(aux: Any, main: MainTrace) -> Any:
    """``aux`` with the tracers of ``main`` replaced by their values (aux is not differentiated)."""

    def unwrap(x: Any) -> Any:
        while isinstance(x, Tracer) and x._main is main:
            x = x.primal
        return x

    return tree_map(unwrap, aux)


def zeros_for(x: Any) -> Any:
    """A zero derivative for value ``x``: zeros of its shape and dtype, or float0 for integers."""
    dtype = dtype_of(x)
    if is_float(dtype):
        return np.zeros(shape_of(x), dtype=dtype)
    return zeros_float0(shape_of(x))


def input_cotangents(leaves: list[Any], nodes: list[int | None], cts: list[Any]) -> list[Any]:
    """One cotangent per input leaf, in its shape and dtype (zeros where none arrived)."""
    out = []
    k = 0
    for x, node in zip(leaves, nodes):
        if node is None:
            out.append(zeros_for(x))
            continue
        ct = cts[k]
        k += 1
        out.append(cast_like(ct, x))
    return out


def cast_like(ct: Any, x: Any) -> Any:
    """``ct`` as the derivative of ``x``: zeros if symbolic, in ``x``'s dtype and shape."""
    if type(ct) is np.ndarray and type(x) is np.ndarray and ct.dtype == x.dtype:
        return ct
    if ct is None:
        return zeros_for(x)
    dtype = dtype_of(x)
    if dtype_of(ct) != dtype:
        ct = astype(ct, dtype)
    if not isinstance(ct, (np.ndarray, Tracer)):
        ct = np.asarray(ct)
    return ct


def snapshot(x: Any) -> Any:
    """A constant as the recording keeps it: a copy of an array that could change (writeable,
    or a view of memory that may be), and of the arrays in a tuple or list; else as it is."""
    if isinstance(x, np.ndarray):
        return x if _frozen(x) else _copy_strided(x)
    if type(x) is tuple and any(isinstance(v, np.ndarray) for v in x):
        return tuple(snapshot(v) for v in x)
    if type(x) is list:
        return copy.deepcopy(x)
    return x


def _frozen(x: np.ndarray[Any, Any]) -> bool:
    """Whether no one can change ``x``: read-only, and its own memory (not a read-only view
    of a buffer someone else writes)."""
    return not x.flags.writeable and x.base is None and type(x) is np.ndarray


def _copy_strided(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """A copy of ``x`` with ``x``'s strides: NumPy then takes the same path through it (BLAS or
    not, which order it sums in), so a product with the copy rounds as one with ``x`` does."""
    if type(x) is not np.ndarray or x.flags.c_contiguous or x.flags.f_contiguous or x.size == 0:
        return np.array(x, order="K", copy=True, subok=True)
    low = high = 0
    for n, stride in zip(x.shape, x.strides):
        if stride % x.itemsize:
            return np.array(x, order="K", copy=True)
        low, high = (low + (n - 1) * stride, high) if stride < 0 else (low, high + (n - 1) * stride)
    buffer = np.empty((high - low) // x.itemsize + 1, dtype=x.dtype)
    out = np.lib.stride_tricks.as_strided(buffer[-low // x.itemsize:], x.shape, x.strides)
    out[...] = x
    return out
