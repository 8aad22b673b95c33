"""grad, value_and_grad and stop_gradient: the transforms built directly on reverse mode."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from fjac import _transform_io
from fjac._core import Primitive, Tracer, bind, new_main, shape_of
from fjac._dtypes import dtype_of, is_float, kind_name
from fjac._primitives.base import batch_unary
from fjac._vjp import VJPTrace, VJPTracer, backward, vjp_flat
from fjac.tree import tree_map, tree_unflatten

__all__ = ["grad", "value_and_grad", "stop_gradient", "check_argnums", "check_float_inputs"]


def check_argnums(argnums: int | tuple[int, ...], nargs: int, transform: str) -> tuple[int, ...]:
    """``argnums`` as a tuple of non-negative positions, checked against ``nargs`` arguments."""
    if type(argnums) is int and 0 <= argnums < nargs:
        return (argnums,)
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(nums, tuple) or not all(isinstance(i, int) for i in nums):
        raise TypeError(
            f"{transform}: argnums must be an int or a tuple of ints, got {argnums!r}"
        )
    if not nums:
        raise ValueError(f"{transform}: argnums is an empty tuple; name at least one argument")
    out = []
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(
                f"{transform}: argnums={argnums!r} names positional argument {i}, but the "
                f"function was called with {nargs} positional argument(s)"
            )
        out.append(i % nargs)
    if len(set(out)) != len(out):
        raise ValueError(f"{transform}: argnums={argnums!r} names an argument more than once")
    return tuple(out)


def check_float_inputs(
    leaves: list[Any], args: Any, transform: str, allow_int: bool, *,
    holomorphic: bool = False, complex_ok: bool = True,
) -> None:
    """Raise unless every differentiated leaf is floating, real or complex (integers too when
    ``allow_int``; only complex ones when ``holomorphic``; only real ones unless
    ``complex_ok``)."""
    for i, x in enumerate(leaves):
        dtype = dtype_of(x)
        if holomorphic:
            if dtype.kind == "c":
                continue
            raise TypeError(
                f"{transform} with holomorphic=True differentiates complex inputs, but "
                f"{_transform_io._leaf_name(args, i)} has dtype {dtype} ({kind_name(dtype)}); "
                "pass it as a complex array (x.astype(complex)), or drop holomorphic=True"
            )
        if is_float(dtype) or (allow_int and dtype.kind in "iub"):
            continue
        name = _transform_io._leaf_name(args, i)
        if dtype.kind == "c":
            if complex_ok:
                continue
            raise TypeError(
                f"{transform} needs real inputs, but {name} has dtype {dtype}: the columns of "
                "a forward-mode Jacobian are the tangents of real basis vectors. For a "
                "holomorphic function pass holomorphic=True; otherwise use jacrev (jacobian), "
                "or fjac.jvp along the directions you need"
            )
        hint = (
            "pass a float array (e.g. x.astype(float))"
            + (", or allow_int=True to get float0 zero gradients" if dtype.kind in "iub" else "")
        )
        raise TypeError(
            f"{transform} needs floating-point (real or complex) inputs to differentiate, but "
            f"{name} has dtype {dtype} ({kind_name(dtype)}); {hint}"
        )


_SCALAR_TYPES = (np.ndarray, np.float64, np.float32)


def _check_scalar_output(out: Any, transform: str, holomorphic: bool = False) -> None:
    if type(out) in _SCALAR_TYPES and out.dtype.kind == "f" and out.shape == () \
            and not holomorphic:
        return
    if out is None:
        raise TypeError(f"{transform} needs the function to return a real scalar, got None")
    shape = shape_of(out)
    dtype = dtype_of(out)
    if shape != ():
        raise TypeError(
            f"{transform} needs a scalar (0-d) output, got shape {shape}; use jacobian for "
            "non-scalar outputs, or reduce the output (e.g. sum it) first"
        )
    if holomorphic:
        if dtype.kind == "c":
            return
        raise TypeError(
            f"{transform} with holomorphic=True differentiates a complex output, but the "
            f"function returned dtype {dtype} ({kind_name(dtype)}); return a complex value, or "
            "drop holomorphic=True"
        )
    if dtype.kind == "c":
        raise TypeError(
            f"{transform} needs a real-valued output, got dtype {dtype}. For a holomorphic "
            "function pass holomorphic=True; otherwise differentiate a real-valued function of "
            "the output (such as its squared magnitude), or use fjac.vjp with a complex "
            "cotangent"
        )
    if not is_float(dtype):
        raise TypeError(
            f"{transform} needs a floating-point output, got dtype {dtype} ({kind_name(dtype)}); "
            "an integer or boolean output has no derivative"
        )


def _substitute(args: tuple[Any, ...], nums: tuple[int, ...], values: tuple[Any, ...]) -> list[Any]:
    full = list(args)
    for i, v in zip(nums, values):
        full[i] = v
    return full


def _name(fun: Callable[..., Any]) -> str:
    return getattr(fun, "__name__", type(fun).__name__)


def value_and_grad(
    fun: Callable[..., Any],
    argnums: int | tuple[int, ...] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[..., Any]:
    """A function returning both ``fun``'s value and its gradient, from one forward pass.

    Args, Raises: as ``grad``.

    Returns:
        A function of the same arguments as ``fun`` returning ``(value, gradient)``, or
        ``((value, aux), gradient)`` with ``has_aux``.

    Example:
        >>> import numpy as np, fjac
        >>> fjac.value_and_grad(lambda x: (x ** 2).sum())(np.array([1.0, 2.0]))
        (array(5.), array([2., 4.]))
    """
    return _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "value_and_grad")


def _value_and_grad(
    fun: Callable[..., Any],
    argnums: int | tuple[int, ...],
    has_aux: bool,
    holomorphic: bool,
    allow_int: bool,
    transform: str,
) -> Callable[..., Any]:
    pos = argnums if type(argnums) is int else -1  # one argument, for the common case

    @functools.wraps(fun)
    def value_and_grad_fun(*args: Any, **kwargs: Any) -> Any:
        x = args[pos] if 0 <= pos < len(args) else None
        if type(x) is np.ndarray and x.dtype.kind == "f" and not holomorphic:
            # The common case, one float array, without flattening or a substituting closure.
            with new_main(VJPTrace, transform) as main:
                tracer = main.new_input(x)
                if len(args) == 1:
                    out = fun(tracer, **kwargs)
                else:
                    call = list(args)
                    call[pos] = tracer
                    out = fun(*call, **kwargs)
            value, cts, aux = _pull_scalar(out, main, 1, has_aux, transform, False)
            g = _transform_io.cast_like(cts[0], x)
        else:
            nums = check_argnums(argnums, len(args), transform)
            diff = (args[nums[0]],) if len(nums) == 1 else tuple(args[i] for i in nums)
            leaves, tree = _transform_io.flatten_inputs(diff, transform)
            check_float_inputs(leaves, diff, transform, allow_int, holomorphic=holomorphic)

            def partial(*diff_args: Any) -> Any:
                return fun(*_substitute(args, nums, diff_args), **kwargs)

            out, main, in_nodes = vjp_flat(partial, leaves, tree, transform)
            value, cts, aux = _pull_scalar(
                out, main, _count(in_nodes), has_aux, transform, holomorphic
            )
            grads = tree_unflatten(tree, _transform_io.input_cotangents(leaves, in_nodes, cts))
            g = grads[0] if isinstance(argnums, int) else grads
        if has_aux:
            return (value, aux), g
        return value, g

    value_and_grad_fun.__doc__ = (
        f"Value and gradient of {_name(fun)} with respect to positional argument(s) {argnums}."
    )
    return value_and_grad_fun


def _pull_scalar(
    out: Any, main: VJPTrace, num_inputs: int, has_aux: bool, transform: str, holomorphic: bool
) -> tuple[Any, list[Any], Any]:
    """The value, the input cotangents and the aux of a traced scalar function's output."""
    out, aux = _transform_io.split_aux(out, has_aux, transform)
    if isinstance(out, VJPTracer) and out._main is main:
        value = out.primal  # an array, a NumPy scalar or a lower level's tracer
        if not isinstance(value, (np.ndarray, Tracer)):
            value = np.asarray(value)
        _check_scalar_output(value, transform, holomorphic)
        seed = _ONES.get(value.dtype) or value.dtype.type(1)  # immutable: rules may pass it on
        cts = backward(main.tape, [(out.node, seed)], num_inputs, free=True,
                       keep_real=main.complex)
    else:
        value = out if isinstance(out, Tracer) or out is None else _transform_io.as_output(out)
        _check_scalar_output(value, transform, holomorphic)
        cts = [None] * num_inputs
    main.tape.clear()
    if has_aux:
        aux = _transform_io.unwrap_aux(aux, main)
    return value, cts, aux


_ONES = {np.dtype(np.float64): np.float64(1), np.dtype(np.float32): np.float32(1)}


def _count(nodes: list[int | None]) -> int:
    return len(nodes) - nodes.count(None)


def grad(
    fun: Callable[..., Any],
    argnums: int | tuple[int, ...] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[..., Any]:
    """The gradient of a scalar-valued function, as a function of the same arguments.

    Args:
        fun: returns a real scalar (0-d floating array or Python float); with ``has_aux`` a pair
            ``(scalar, aux)``.
        argnums: which positional argument(s) to differentiate: an int, or a tuple of ints (the
            gradients then come as a tuple in the same order). Keyword arguments pass through
            undifferentiated.
        has_aux: ``fun`` returns ``(output, aux)``; the gradient function returns
            ``(gradient, aux)``.
        holomorphic: ``fun`` is holomorphic, with complex inputs and a complex output; the
            result is the complex derivative ``f'(z)``. Without it, the output must be real,
            and the gradient of a complex input ``z = x + iy`` is ``∂f/∂x - i ∂f/∂y`` (JAX's
            convention; ``docs/complex.md``).
        allow_int: integer and boolean inputs get ``fjac.float0`` zero gradients instead of
            raising.

    Returns:
        A function returning the gradient with the structure, shapes and dtypes of the chosen
        arguments (a Python float gives a 0-d float64 array).

    Raises:
        TypeError: a non-scalar, complex, integer or None output; integer, boolean or
            non-numeric inputs (without ``allow_int``); ``has_aux`` with a non-pair output.
        ValueError: ``argnums`` out of range or with duplicates.

    Example:
        >>> import fjac, fjac.numpy as fnp
        >>> fjac.grad(lambda x: 3.0 * fnp.sin(x))(0.0)
        array(3.)
    """
    value_and_grad_fun = _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "grad")

    @functools.wraps(fun)
    def grad_fun(*args: Any, **kwargs: Any) -> Any:
        value, g = value_and_grad_fun(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    grad_fun.__doc__ = (
        f"Gradient of {_name(fun)} with respect to positional argument(s) {argnums}."
    )
    return grad_fun


def _identity(x: Any) -> Any:
    return x


stop_gradient_p = Primitive("stop_gradient", _identity, nondiff=True)
batch_unary(stop_gradient_p)


def stop_gradient(x: Any) -> Any:
    """``x`` (any pytree) as a constant: its value passes through, its derivative is zero.

    Example:
        >>> import fjac
        >>> fjac.grad(lambda x: x * fjac.stop_gradient(x))(3.0)
        array(3.)
    """

    def stop(leaf: Any) -> Any:
        return bind(stop_gradient_p, leaf) if isinstance(leaf, Tracer) else leaf

    return tree_map(stop, x)
