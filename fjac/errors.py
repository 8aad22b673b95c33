"""The exceptions fjac raises that users may want to catch.

Most misuse raises the built-in ``TypeError`` or ``ValueError`` with a message that names the
subject, the value and the fix; the classes here cover the cases that are specific to tracing.
"""

from __future__ import annotations

__all__ = [
    "FjacError",
    "TracerLeakError",
    "TracerConversionError",
    "ConcretizationError",
    "UnsupportedOperationError",
]


class FjacError(Exception):
    """Base class of fjac's own exceptions."""


class TracerLeakError(FjacError):
    """A tracer was used after the transform that created it had returned.

    This happens when a traced value escapes the function being transformed, for example by
    being stored in a global variable or a list defined outside it. Return the value instead.
    """


class TracerConversionError(FjacError, TypeError):
    """A tracer was converted to a concrete NumPy array or Python number.

    Converting would silently drop the derivative. Use ``fjac.stop_gradient`` to cut the
    derivative on purpose, or return the value from the transformed function.
    """


class ConcretizationError(TracerConversionError):
    """Code under ``jit`` needed the value of a traced array.

    ``jit`` records one program for every value of the arguments, so Python control flow on a
    traced value (``if x > 0:``), a conversion to a number, or an operation whose result shape
    depends on values cannot be recorded. Use ``fjac.numpy.where``, mark the argument static
    (``static_argnums``), or call the function without ``jit``.
    """


class UnsupportedOperationError(FjacError, TypeError):
    """A NumPy function or ufunc method has no derivative rule in fjac."""
