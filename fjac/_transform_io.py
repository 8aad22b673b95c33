"""The inputs and outputs of a transform: check and convert the inputs, unwrap the outputs and
aux, and give each input its derivative in its own shape and dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

from fjac._core import MainTrace, Tracer, convert, shape_of
from fjac._dtypes import dtype_of, is_inexact, zeros_float0
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
    "split_aux",
    "unwrap_aux",
    "input_cotangents",
    "zeros_for",
]

_NUMBER_TYPES = (bool, int, float, complex, np.generic)


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
    if is_inexact(dtype):
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
        ct = convert(ct, dtype)
    if not isinstance(ct, (np.ndarray, Tracer)):
        ct = np.asarray(ct)
    return ct


