"""Which values carry derivatives, and the dtype of the derivative of one that does not."""

from __future__ import annotations

from typing import Any

import numpy as np

from fjac.errors import UnsupportedOperationError

__all__ = ["float0", "is_float", "zeros_float0", "dtype_of", "kind_name", "complex_error",
           "refuse_complex", "any_complex", "is_inexact", "REAL", "REAL_SCALARS"]

#: A real dtype, the default of the hot paths' ``getattr(out, "dtype", REAL)``.
REAL: np.dtype[Any] = np.dtype(np.float64)
#: Constants known to be real without reading a dtype.
REAL_SCALARS = (float, int, bool)

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


def is_inexact(dtype: np.dtype[Any]) -> bool:
    """Whether values of ``dtype`` have derivatives (real or complex floating point)."""
    return dtype.kind in "fc"


def complex_error(what: str, dtype: np.dtype[Any], transform: str, name: str) -> Exception:
    """The error for a complex value met by a differentiating transform in an operation
    ``name`` whose derivative rules are not right for complex values: a wrong derivative must
    never be returned silently."""
    return UnsupportedOperationError(
        f"{transform}: {what} is complex ({dtype}), and fjac does not differentiate '{name}' "
        "on complex values: its derivative rules are only right for real ones, so it refuses "
        "rather than return a wrong derivative. Keep this operation's values real (for "
        "example carry real and imaginary parts as two real arrays), or cut the derivative on "
        "purpose with fjac.stop_gradient where none is needed."
    )


def refuse_complex(prim: Any, args: Any, out: Any, transform: str) -> None:
    """Raise ``complex_error`` when an argument in ``args`` or the result ``out`` of ``prim``
    (a tuple for a primitive with multiple results) is complex."""
    for o in out if type(out) is tuple else (out,):
        dtype = getattr(o, "dtype", None)
        if dtype is not None and dtype.kind == "c":
            raise complex_error(f"the result of '{prim.name}'", dtype, transform, prim.name)
    for i, a in enumerate(args):
        dtype = np.dtype(complex) if type(a) is complex else getattr(a, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype.kind == "c":
            raise complex_error(
                f"argument {i} of '{prim.name}'", dtype, transform, prim.name
            )


def any_complex(values: Any) -> bool:
    """Whether a value, or any of a tuple of values, is complex."""
    for o in values if type(values) in (tuple, list) else (values,):
        dtype = np.dtype(complex) if type(o) is complex else getattr(o, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype.kind == "c":
            return True
    return False


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
