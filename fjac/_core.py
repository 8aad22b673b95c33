"""The tracing core: primitives, main traces with levels, tracers, and ``bind``.

Every array operation in fjac is ``bind(primitive, *arrays, **params)``. With no tracer among the
arrays, ``bind`` calls the primitive's NumPy implementation and nothing else happens. Otherwise the
tracer whose main trace has the highest level decides: that trace applies its own rule for the
primitive (forward mode, reverse mode, batching), and the rule's own operations call ``bind`` again,
which is what makes every derivative differentiable in turn.

A value from a lower level is a constant to a higher one. That alone keeps nested derivatives
apart (no "perturbation confusion").
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from fjac.errors import TracerConversionError, TracerLeakError

__all__ = [
    "Primitive",
    "MainTrace",
    "Tracer",
    "bind",
    "new_main",
    "concrete",
    "try_concrete",
    "is_tracer",
    "add_p",
    "add_any",
    "convert_p",
    "convert",
    "shape_of",
    "as_array",
    "snapshot",
]


class Primitive:
    """A named operation on arrays with a NumPy implementation.

    Arrays are passed positionally, everything else (axes, shapes, indices) as keyword
    parameters. Rules for each interpretation live in that interpretation's own table.

    Args:
        name: the name shown in errors and graphs.
        impl: the NumPy implementation, ``impl(*arrays, **params)``.
        nondiff: the output carries no derivative (comparisons, ``argmax``, ``stop_gradient``);
            differentiating interpretations apply ``impl`` to the primal values and do not
            record the operation.
        multiple_results: ``impl`` returns a tuple of arrays (a decomposition such as
            ``eigh``); ``bind`` then returns a tuple, and derivative rules see tuples of
            tangents or cotangents in which ``None`` stands for a symbolic zero.
    """

    __slots__ = ("name", "impl", "nondiff", "multiple_results")

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any],
        *,
        nondiff: bool = False,
        multiple_results: bool = False,
    ) -> None:
        self.name = name
        self.impl = impl
        self.nondiff = nondiff
        self.multiple_results = multiple_results

    def __repr__(self) -> str:
        return f"Primitive({self.name})"


class MainTrace:
    """One live application of a transform: its interpretation and its level on the stack.

    Subclasses implement ``process`` (apply a primitive to arguments of which at least one is
    a tracer of this main trace). ``alive`` turns False when the transform returns; a tracer
    of a dead main trace has leaked.
    """

    __slots__ = ("level", "alive", "transform")
    kind: ClassVar[str] = "trace"

    def __init__(self, level: int, transform: str) -> None:
        self.level = level
        self.alive = True
        self.transform = transform

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(level={self.level}, transform={self.transform!r})"


class Tracer:
    """Base class of the values that flow through a traced function.

    Every tracer has ``primal``: the value it stands for, which is an ndarray, a NumPy scalar,
    or a tracer of a lower level. Array methods and operators are installed by
    ``fjac._ops.methods``; conversions to concrete values raise.
    """

    __slots__ = ("_main", "primal", "__weakref__")  # weakly referable, to check for leaks
    __array_priority__ = 1000
    # True for tracers whose value is only an example (jit's): reading it raises.
    _abstract: ClassVar[bool] = False

    _main: MainTrace
    primal: Any

    @property
    def shape(self) -> tuple[int, ...]:
        return self.primal.shape  # type: ignore[no-any-return]

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.primal.dtype  # type: ignore[no-any-return]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d traced array")
        return self.shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        if self.dtype.kind in "iub":
            raise TracerConversionError(
                f"cannot convert a traced array ({_describe(self)}) to a NumPy array: its value "
                "differs from example to example. To index a NumPy array with it, write "
                "fjac.numpy.take(array, index) (or index a traced array); for control flow use "
                "fjac.numpy.where"
            )
        raise TracerConversionError(
            f"cannot convert a traced array ({_describe(self)}) to a NumPy array: that would "
            "drop its derivative. Use fjac.numpy functions (or NumPy functions, which fjac "
            "traces) on it; use fjac.stop_gradient(x) to cut the derivative on purpose; or "
            "return the value from the transformed function and convert it there."
        )

    def _convert_error(self, kind: str) -> TracerConversionError:
        return TracerConversionError(
            f"cannot convert a traced array ({_describe(self)}) to a Python {kind}: that would "
            "drop its derivative. Keep it an array, use fjac.stop_gradient(x) to cut the "
            "derivative on purpose, or return the value from the transformed function."
        )

    def __float__(self) -> float:
        raise self._convert_error("float")

    def __int__(self) -> int:
        raise self._convert_error("int")

    def __complex__(self) -> complex:
        raise self._convert_error("complex")

    def __index__(self) -> int:
        raise self._convert_error("int (as an index)")

    def item(self, *args: Any) -> Any:
        raise self._convert_error("number (x.item())")

    def tolist(self) -> Any:
        raise self._convert_error("list (x.tolist())")

    def __bool__(self) -> bool:
        # Control flow on a value is fine in eager mode: it does not lose a derivative.
        return bool(concrete(self))

    def __setitem__(self, idx: Any, value: Any) -> None:
        raise TypeError(
            "traced arrays are immutable and do not support item assignment; "
            "use x = x.at[idx].set(value) (or .add, .multiply, .min, .max) instead"
        )

    def _concretization_error(self) -> TracerConversionError:
        raise NotImplementedError  # defined by tracers that set ``_abstract``

    def __repr__(self) -> str:
        value = try_concrete(self)
        if value is None:
            return f"Tracer<{_describe(self)}>"
        return f"Tracer<{_describe(self)}>({value!r})"


def _describe(x: Tracer) -> str:
    dims = ",".join(str(d) for d in x.shape)
    return f"{x.dtype}[{dims}] in {x._main.transform} at level {x._main.level}"


def is_tracer(x: Any) -> bool:
    """Whether ``x`` is a tracer of any transform."""
    return isinstance(x, Tracer)


def concrete(x: Any) -> Any:
    """The concrete value under any number of tracers (for non-differentiable uses only).

    Raises ``ConcretizationError`` under jit, where the value is only an example.
    """
    while isinstance(x, Tracer):
        if x._abstract:
            raise x._concretization_error()
        x = x.primal
    return x


def try_concrete(x: Any) -> Any:
    """``concrete(x)``, or ``None`` under jit: for code that has a path for unknown values."""
    while isinstance(x, Tracer):
        if x._abstract:
            return None
        x = x.primal
    return x


def bind(prim: Primitive, *args: Any, **params: Any) -> Any:
    """Apply ``prim`` to ``args``: plain NumPy when nothing is traced, else the top trace's rule."""
    top = None
    for x in args:
        if isinstance(x, Tracer):
            main = x._main
            if top is None or main.level > top.level:
                top = main
    if top is None:
        return prim.impl(*args, **params)
    if not top.alive:
        raise _leak_error(top, prim)
    return top.process(prim, args, params)


def _leak_error(main: MainTrace, prim: Primitive) -> TracerLeakError:
    return TracerLeakError(
        f"a tracer of {main.transform} (level {main.level}) was used in '{prim.name}' after "
        f"{main.transform} had returned. A traced value escaped the transformed function, for "
        "example through a global variable or a list defined outside it. Return the value "
        "from the function instead of storing it."
    )


class _TraceState(threading.local):
    """Per-thread stack of live main traces: each thread nests its own transforms."""

    def __init__(self) -> None:
        self.stack: list[MainTrace] = []


_state = _TraceState()


class new_main:  # noqa: N801  (used like a function: ``with new_main(...) as main``)
    """Open a main trace one level above the current top; it dies when the block exits.

    A class rather than a generator-based context manager: every transform call opens one.
    """

    __slots__ = ("main", "stack")

    def __init__(self, trace_type: type[MainTrace], transform: str) -> None:
        self.stack = _state.stack
        self.main = trace_type(len(self.stack) + 1, transform)

    def __enter__(self) -> Any:
        self.stack.append(self.main)
        return self.main

    def __exit__(self, *exc: object) -> None:
        self.main.alive = False
        self.stack.pop()


# The one primitive the interpreters themselves need: summing tangent and cotangent
# contributions. Its derivative rules are registered with the other elementwise operations.
add_p = Primitive("add", np.add)


def add_any(x: Any, y: Any) -> Any:
    """``x + y`` through ``bind`` (so it is traced), for combining derivative contributions."""
    return bind(add_p, x, y)


def as_array(x: Any) -> Any:
    """``x`` itself when it is an array, an ndarray or a duck array that NumPy's protocols
    route to its own library (Dask, CuPy); else ``numpy.asarray(x)`` (numbers, NumPy scalars,
    lists). Impls use it instead of coercing every input to an ndarray."""
    if type(x) is np.ndarray:
        return x
    if hasattr(x, "__array_function__") and hasattr(x, "astype") and not isinstance(
        x, (np.generic, Tracer)
    ):
        return x
    return np.asarray(x)


def _convert_impl(x: Any, *, dtype: np.dtype[Any]) -> Any:
    x = as_array(x)
    if x.dtype.kind == "c" and dtype.kind != "c":
        x = x.real  # what astype keeps, without NumPy's ComplexWarning
    return x.astype(dtype, copy=False)


# A change of floating-point dtype (float32 <-> float64, real <-> complex: to real keeps the
# real part), differentiable; casts to integer or boolean dtypes are a separate,
# non-differentiable primitive.
convert_p = Primitive("convert_element_type", _convert_impl)


def convert(x: Any, dtype: np.dtype[Any]) -> Any:
    """``x`` as floating dtype ``dtype`` (real or complex), traced (derivatives are cast back
    the other way: a complex cotangent of a real value keeps its real part)."""
    return bind(convert_p, x, dtype=np.dtype(dtype))


def live_mains() -> list[MainTrace]:
    """The live main traces of this thread, innermost last (do not modify the list)."""
    return _state.stack


def current_level() -> int:
    """The level of the innermost live main trace in this thread (0 when none)."""
    return len(_state.stack)


# ---------------------------------------------------------------------------------------------
# facts about values, used by every layer


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array, tracer or number."""
    if type(x) is np.ndarray:
        return x.shape  # type: ignore[no-any-return]
    shape = getattr(x, "shape", None)
    if shape is None:
        return np.shape(x)
    return tuple(shape)


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
