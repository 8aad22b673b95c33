"""Which values carry derivatives, and the dtype of the derivative of one that does not."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["float0", "is_float", "zeros_float0", "dtype_of", "kind_name"]

#: The dtype of the (always zero) cotangent or tangent of an integer or boolean value: it has no
#: storage and no arithmetic, so it cannot be mistaken for data. The same idea as JAX's float0.
float0: np.dtype[Any] = np.dtype([("float0", np.void, 0)])


def dtype_of(x: Any) -> np.dtype[Any]:
    """The dtype ``x`` has or would have as an array."""
    if type(x) is np.ndarray:
        return x.dtype  # type: ignore[no-any-return]
    dt = getattr(x, "dtype", None)
    if isinstance(dt, np.dtype):
        return dt
    return np.asarray(x).dtype


def is_float(dtype: np.dtype[Any]) -> bool:
    """Whether values of ``dtype`` are differentiated (real floating point)."""
    return dtype.kind == "f"


def zeros_float0(shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """The derivative of an integer or boolean value of ``shape``."""
    return np.zeros(shape, dtype=float0)


def kind_name(dtype: np.dtype[Any]) -> str:
    """A reader's name for the kind of ``dtype``, for error messages."""
    return {
        "f": "floating",
        "c": "complex",
        "i": "integer",
        "u": "unsigned integer",
        "b": "boolean",
        "V": "float0",
    }.get(dtype.kind, "non-numeric")
