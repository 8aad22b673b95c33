"""Array operators and methods of tracers, so traced values behave like ndarrays.

Those that are one NumPy function's (``x.sum()``, ``x + y``) are declared beside that
function with ``implements(..., method=...)``, which sets them on ``Tracer``; this module
installs the ones of its own: NumPy's protocol hooks, iteration, ``reshape`` and
``transpose`` with their ndarray argument forms, the properties ``T``, ``mT`` and ``at``, and
the refusal of in-place sort.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fjac._core import Tracer
from fjac._primitives import base
from fjac.numpy import _dispatch
from fjac.numpy._indexing import at, getitem

Array = Any


def _iter(self: Tracer) -> Iterator[Array]:
    if not self.shape:
        raise TypeError("iteration over a 0-d traced array")
    return (getitem(self, i) for i in range(self.shape[0]))


def _reshape(self: Tracer, *shape_args: Any, order: str = "C") -> Array:
    dims = shape_args[0] if len(shape_args) == 1 else shape_args
    return base.reshape(self, dims, order=order)


def _transpose(self: Tracer, *axes: Any) -> Array:
    """``x.transpose()``, ``x.transpose(1, 0)`` or ``x.transpose((1, 0))``, as on ndarrays."""
    if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
        return base.transpose(self, axes[0])
    return base.transpose(self, axes or None)


def _sort_in_place(self: Tracer, *args: Any, **kwargs: Any) -> None:
    raise TypeError(
        "x.sort() sorts an ndarray in place, and traced arrays are immutable; "
        "use x = fjac.numpy.sort(x) instead"
    )


_OPERATORS: dict[str, Any] = {
    "__iter__": _iter,
    "__array_ufunc__": _dispatch.array_ufunc, "__array_function__": _dispatch.array_function,
    "reshape": _reshape, "transpose": _transpose,
    "sort": _sort_in_place,
    "mT": property(lambda self: base.swapaxes(self, -1, -2)),
    "T": property(lambda self: base.transpose(self)),
    "at": property(at),
}

for _name, _method in _OPERATORS.items():
    setattr(Tracer, _name, _method)
Tracer.__hash__ = None  # type: ignore[assignment]  # arrays are unhashable; so are tracers
