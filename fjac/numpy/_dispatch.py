"""NumPy's protocols: unmodified NumPy code called on tracers runs fjac's traced operations.

``np.sin(t)`` calls ``t.__array_ufunc__`` and ``np.sum(t)`` calls ``t.__array_function__``; both
look the NumPy callable up in a table filled by the operation families as they define their
functions. Ufunc methods (``np.add.reduce``, ``np.multiply.accumulate``) have a table of their
own. A NumPy callable with no entry raises instead of silently dropping the derivative.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from fjac._core import Tracer
from fjac._primitives.base import astype
from fjac.errors import UnsupportedOperationError

__all__ = ["UFUNCS", "UFUNC_METHODS", "FUNCTIONS", "implements", "refuse_out",
           "register_ufunc", "register_ufunc_method", "register_function", "array_ufunc",
           "array_function"]

UFUNCS: dict[np.ufunc, Callable[..., Any]] = {}
UFUNC_METHODS: dict[tuple[np.ufunc, str], Callable[..., Any]] = {}
FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {}

# Options of a ufunc call that change nothing when given their default value.
_UFUNC_DEFAULTS = {"casting": "same_kind", "order": "K", "subok": True}


def implements(
    *targets: Any, method: str | tuple[str, ...] = (), reflected: str | tuple[str, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a function as fjac's version of NumPy's ``targets``, in one place: each target is
    a ufunc, a NumPy array function, or a ``(ufunc, "reduce")`` pair for a ufunc method; each
    name in ``method`` becomes a tracer method (or operator) calling it, each in ``reflected``
    an operator calling it with its two arguments swapped (``__radd__``).

    Used as a decorator, or called on a function defined elsewhere: ``sin = implements(np.sin)(
    primitives.sin)``. Returns the function itself.
    """
    methods = (method,) if isinstance(method, str) else method
    swapped = (reflected,) if isinstance(reflected, str) else reflected

    def declare(fn: Callable[..., Any]) -> Callable[..., Any]:
        for target in targets:
            if isinstance(target, tuple):
                ufunc, ufunc_method = target
                register_ufunc_method(ufunc, ufunc_method, fn)
            elif isinstance(target, np.ufunc):
                register_ufunc(target, fn)
            else:
                register_function(target, fn)
        for name in methods:
            setattr(Tracer, name, fn)
        for name in swapped:
            setattr(Tracer, name, _swap(fn))
        return fn

    return declare


def _swap(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The reflected form of a binary operator: ``other <op> self``."""
    return lambda self, other: fn(other, self)


def refuse_out(name: str, out: Any) -> None:
    """The one refusal of ``out=``: traced arrays are immutable, so nothing is written in place.
    ``name`` is a name in fjac.numpy (or a full name such as ``numpy.add.reduce``)."""
    if out is not None:
        label = name if name.startswith("numpy.") else f"fjac.numpy.{name}"
        raise TypeError(
            f"{label}: out= is not supported: traced arrays are immutable; use the returned "
            "value instead"
        )


def register_ufunc(ufunc: np.ufunc, fn: Callable[..., Any]) -> None:
    """Make ``ufunc(tracer, ...)`` call ``fn``."""
    UFUNCS[ufunc] = fn


def register_ufunc_method(ufunc: np.ufunc, method: str, fn: Callable[..., Any]) -> None:
    """Make ``ufunc.<method>(tracer, ...)`` (``reduce``, ``accumulate``, ...) call ``fn`` with
    the keyword arguments NumPy passes (``axis``, ``dtype``, ``keepdims``, ...)."""
    UFUNC_METHODS[(ufunc, method)] = fn


def register_function(np_fn: Callable[..., Any], fn: Callable[..., Any]) -> None:
    """Make ``np_fn(tracer, ...)`` (a NumPy array function) call ``fn``."""
    FUNCTIONS[np_fn] = fn


def _numpy_name(fn: Any) -> str:
    """The name users write for a NumPy callable: ``numpy.unwrap``, ``numpy.linalg.eig``."""
    name = getattr(fn, "__name__", repr(fn))
    module = getattr(fn, "__module__", None) or "numpy"
    if module.startswith("numpy"):
        # The shortest public module that exposes it (``numpy.ma`` for numpy.ma.core.sum).
        parts = module.split(".")
        for i in range(1, len(parts) + 1):
            if parts[i - 1].startswith("_"):
                break
            candidate = ".".join(parts[:i])
            if getattr(sys.modules.get(candidate), name, None) is fn:
                return f"{candidate}.{name}"
        module = "numpy" + module[len("numpy"):].replace("._core", "").replace(".core", "")
        module = module.split("._")[0]
    return f"{module}.{name}"


def _ufunc_name(ufunc: np.ufunc) -> str:
    name = ufunc.__name__
    if getattr(np, name, None) is ufunc:
        return f"numpy.{name}"
    return f"the ufunc {name} (not one of NumPy's)"


def _no_rule(what: str) -> UnsupportedOperationError:
    return UnsupportedOperationError(
        f"fjac has no derivative rule for {what}. Write the computation with the operations "
        "fjac.numpy provides (docs/api.md lists them), give it your own derivative with "
        "fjac.custom_vjp or fjac.custom_jvp, or define a primitive for it with fjac.extend "
        "(docs/extending.md)."
    )


def _check_out(what: str, kwargs: dict[str, Any]) -> None:
    out = kwargs.pop("out", None)
    if out is not None and any(o is not None for o in out):
        raise TypeError(
            f"{what} with out= would write into an array in place; traced arrays are "
            "immutable: use the returned value instead"
        )


def _call_options(what: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Apply or reject the options of a ufunc call; returns the inputs to pass on."""
    where = kwargs.pop("where", True)
    if where is not True:
        raise TypeError(
            f"{what} with where= is not supported on traced arrays; use "
            "fjac.numpy.where(mask, result, other) on the full result instead"
        )
    for name, default in _UFUNC_DEFAULTS.items():
        if name in kwargs and kwargs.pop(name) != default:
            raise TypeError(f"{what} with {name}= other than {default!r} is not supported")
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"{what} with {'=, '.join(sorted(kwargs))}= is not supported by fjac")
    if dtype is None:
        return inputs
    if np.dtype(dtype).kind != "f":
        raise TypeError(
            f"{what} with dtype={np.dtype(dtype)}: only floating dtypes are supported on "
            "traced arrays"
        )
    return tuple(astype(x, dtype) for x in inputs)


def array_ufunc(self: Any, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """``Tracer.__array_ufunc__``: NumPy ufuncs, and their methods, applied to tracers."""
    what = _ufunc_name(ufunc)
    if method != "__call__":
        what = f"{what}.{method}"
        fn = UFUNC_METHODS.get((ufunc, method))
        if fn is None:
            raise _no_rule(what)
        _check_out(what, kwargs)
        return fn(*inputs, **kwargs)
    fn = UFUNCS.get(ufunc)
    if fn is None:
        raise _no_rule(what)
    _check_out(what, kwargs)
    return fn(*_call_options(what, inputs, kwargs))


def array_function(
    self: Any, func: Callable[..., Any], types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """``Tracer.__array_function__``: NumPy functions applied to tracers."""
    fn = FUNCTIONS.get(func)
    if fn is None:
        raise _no_rule(_numpy_name(func))
    return fn(*args, **kwargs)
