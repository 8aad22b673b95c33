"""Array operators and methods of tracers, so traced values behave like ndarrays."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fjac import _dispatch
from fjac._core import Tracer
from fjac._ops import elementwise as el
from fjac._ops import helpers, indexing, linalg, reductions, shape

Array = Any


def _swap(fn: Any) -> Any:
    """The reflected form of a binary operator: ``other <op> self``."""
    return lambda self, other: fn(other, self)


def _iter(self: Tracer) -> Iterator[Array]:
    if not self.shape:
        raise TypeError("iteration over a 0-d traced array")
    return (indexing.getitem(self, i) for i in range(self.shape[0]))


def _reshape(self: Tracer, *shape_args: Any, order: str = "C") -> Array:
    dims = shape_args[0] if len(shape_args) == 1 else shape_args
    return shape.reshape(self, dims, order=order)


def _transpose(self: Tracer, *axes: Any) -> Array:
    """``x.transpose()``, ``x.transpose(1, 0)`` or ``x.transpose((1, 0))``, as on ndarrays."""
    if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
        return shape.transpose(self, axes[0])
    return shape.transpose(self, axes or None)


def _sort_in_place(self: Tracer, *args: Any, **kwargs: Any) -> None:
    raise TypeError(
        "x.sort() sorts an ndarray in place, and traced arrays are immutable; "
        "use x = fjac.numpy.sort(x) instead"
    )


_OPERATORS: dict[str, Any] = {
    "__add__": el.add, "__radd__": _swap(el.add),
    "__sub__": el.subtract, "__rsub__": _swap(el.subtract),
    "__mul__": el.multiply, "__rmul__": _swap(el.multiply),
    "__truediv__": el.divide, "__rtruediv__": _swap(el.divide),
    "__pow__": el.power, "__rpow__": _swap(el.power),
    "__matmul__": linalg.matmul, "__rmatmul__": _swap(linalg.matmul),
    "__neg__": el.negative, "__pos__": el.positive, "__abs__": el.absolute,
    "__eq__": el.equal, "__ne__": el.not_equal, "__lt__": el.less, "__le__": el.less_equal,
    "__gt__": el.greater, "__ge__": el.greater_equal,
    "__getitem__": indexing.getitem, "__iter__": _iter,
    "__array_ufunc__": _dispatch.array_ufunc, "__array_function__": _dispatch.array_function,
    "reshape": _reshape, "transpose": _transpose, "ravel": shape.ravel,
    "flatten": shape.flatten, "squeeze": shape.squeeze, "swapaxes": shape.swapaxes,
    "repeat": shape.repeat, "take": indexing.take, "diagonal": linalg.diagonal,
    "trace": linalg.trace, "sort": _sort_in_place,
    "mT": property(lambda self: shape.swapaxes(self, -1, -2)),
    "sum": reductions.sum, "mean": reductions.mean, "dot": linalg.dot, "astype": el.astype,
    "prod": reductions.prod, "var": reductions.var, "std": reductions.std,
    "max": reductions.max, "min": reductions.min, "cumsum": reductions.cumsum,
    "cumprod": reductions.cumprod, "clip": el.clip, "round": el.round,
    "argmax": helpers.argmax, "argmin": helpers.argmin, "argsort": helpers.argsort,
    "nonzero": helpers.nonzero, "all": helpers.all, "any": helpers.any,
    "__floordiv__": el.floor_divide, "__rfloordiv__": _swap(el.floor_divide),
    "__mod__": el.remainder, "__rmod__": _swap(el.remainder),
    "__divmod__": lambda self, other: (el.floor_divide(self, other), el.remainder(self, other)),
    "__rdivmod__": lambda self, other: (el.floor_divide(other, self), el.remainder(other, self)),
    "T": property(lambda self: shape.transpose(self)),
    "at": property(indexing.at),
}

for _name, _method in _OPERATORS.items():
    setattr(Tracer, _name, _method)
Tracer.__hash__ = None  # type: ignore[assignment]  # arrays are unhashable; so are tracers
