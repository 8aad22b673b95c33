"""custom_jvp and custom_vjp: functions that bring their own derivative rules.

A decorated function becomes one primitive whose parameters are the user's functions, flattened
to lists of leaves. Each interpretation uses the user's rule where it has one, and derives the
rest from it:

- custom_jvp in reverse mode: the user's tangent map ``t ↦ jvp(x, t)`` is linear in ``t``, so
  its VJP (at ``t = 0``) is the transpose reverse mode needs;
- custom_vjp in forward mode: the user's ``g ↦ bwd(res, g)`` is linear in ``g``, so its VJP
  applied to a tangent ``t`` gives ``J t``;
- under vmap, the primitive is bound again with vmapped versions of the user's functions.

Because those rules run the user's functions with fjac operations, every derivative is again
differentiable: a custom_vjp function differentiated twice differentiates its ``bwd``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from fjac import _transform_io
from fjac._core import Primitive, Tracer, bind, shape_of, snapshot
from fjac._dtypes import dtype_of, is_inexact
from fjac._jit import check_closed_over
from fjac._primitives.base import move_batch_axis
from fjac._rules import batch_rules, declare_complex, defvjp_joint, jvp_rules, vjp_fwd_rules
from fjac._vjp import vjp
from fjac._vmap import vmap
from fjac.tree import (
    PyTreeDef,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)

__all__ = ["custom_jvp", "custom_vjp"]


class _OutTree:
    """The output structure of a custom function, learned when one of its functions runs."""

    __slots__ = ("tree",)

    def __init__(self) -> None:
        self.tree: PyTreeDef | None = None

    def record(self, tree: PyTreeDef, what: str) -> None:
        if self.tree is None:
            self.tree = tree
        elif tree != self.tree:
            raise TypeError(
                f"{what} must return outputs of the function's output structure {self.tree}; "
                f"got {tree}"
            )


def _resolve_args(
    fun: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """Keyword arguments folded into positional ones, so every argument has a position."""
    if not kwargs:
        return args
    bound = inspect.signature(fun).bind(*args, **kwargs)
    if bound.kwargs:
        raise TypeError(
            f"{getattr(fun, '__name__', 'the function')}: keyword-only arguments are not "
            "supported by custom_jvp/custom_vjp; make them positional"
        )
    return tuple(bound.args)


def _split(
    args: tuple[Any, ...], nondiff: tuple[int, ...]
) -> tuple[list[Any], tuple[Any, ...]]:
    """The non-differentiated arguments and the differentiated ones, each in order."""
    for i in nondiff:
        if not -len(args) <= i < len(args):
            raise ValueError(
                f"nondiff_argnums names argument {i}, but the function was called with "
                f"{len(args)} positional argument(s)"
            )
    fixed = {i % len(args) for i in nondiff}
    return [args[i] for i in sorted(fixed)], tuple(a for i, a in enumerate(args) if i not in fixed)


def _merge(nondiff: tuple[int, ...], fixed: list[Any], diff: Sequence[Any]) -> list[Any]:
    """The full argument list from the non-differentiated and differentiated ones."""
    n = len(fixed) + len(diff)
    positions = sorted({i % n for i in nondiff})
    out: list[Any] = []
    fixed_it, diff_it = iter(fixed), iter(diff)
    for i in range(n):
        out.append(next(fixed_it) if i in positions else next(diff_it))
    return out


def _flat_fun(
    fun: Callable[..., Any], nondiff: tuple[int, ...], fixed: list[Any], in_tree: PyTreeDef,
    out_tree: _OutTree, name: str,
) -> Callable[..., list[Any]]:
    """``fun`` as a function of the differentiated leaves, returning its output's leaves."""

    def flat_fun(*xs: Any) -> list[Any]:
        out = fun(*_merge(nondiff, fixed, tree_unflatten(in_tree, list(xs))))
        flat, tree = tree_flatten(out)
        out_tree.record(tree, name)
        return flat

    return flat_fun


def _zeros_like(x: Any) -> Any:
    return _transform_io.zeros_for(x)


def _instantiate(tangents: Sequence[Any], primals: Sequence[Any]) -> list[Any]:
    """Symbolic-zero tangents (None) as zeros shaped like their primals."""
    return [_zeros_like(p) if t is None else t for t, p in zip(tangents, primals)]


def _float_positions(values: Sequence[Any]) -> list[int]:
    return [i for i, v in enumerate(values) if is_inexact(dtype_of(v))]


def _transpose_linear(
    linear: Callable[..., Sequence[Any]], at: Sequence[Any], ct: Sequence[Any]
) -> list[Any]:
    """The VJP of a linear map of flat lists (its transpose) applied to ``ct``, at point ``at``."""
    positions = _float_positions(at)

    def on_floats(*xs: Any) -> list[Any]:
        full = list(at)
        for i, x in zip(positions, xs):
            full[i] = x
        return list(linear(*full))

    _, pullback = vjp(on_floats, *[at[i] for i in positions])
    cts = pullback(list(ct))
    out: list[Any] = [None] * len(at)
    for i, c in zip(positions, cts):
        out[i] = c
    return out


def _batch_all(vals: Sequence[Any], dims: Sequence[int | None]) -> list[Any]:
    """Every value with its batch axis first (unbatched ones broadcast to the batch size)."""
    size = next(shape_of(v)[d] for v, d in zip(vals, dims) if d is not None)
    return [move_batch_axis(v, d, 0, size) for v, d in zip(vals, dims)]


# ---------------------------------------------------------------------------------------------
# custom_jvp


def _custom_jvp_impl(*leaves: Any, fun: Callable[..., Any], jvp: Callable[..., Any]) -> Any:
    return tuple(fun(*leaves))


custom_jvp_call_p = Primitive("custom_jvp_call", _custom_jvp_impl, multiple_results=True)


def _custom_jvp_rule(
    primals: list[Any], tangents: list[Any], *, fun: Callable[..., Any], jvp: Callable[..., Any]
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    outs, t_outs = jvp(primals, _instantiate(tangents, primals))
    return tuple(outs), tuple(t_outs)


def _custom_jvp_vjp(
    g: tuple[Any, ...], ans: tuple[Any, ...], *primals: Any, fun: Callable[..., Any],
    jvp: Callable[..., Any],
) -> list[Any]:
    ct = _instantiate(g, ans)
    zeros = [_zeros_like(p) for p in primals]
    return _transpose_linear(lambda *ts: jvp(list(primals), list(ts))[1], zeros, ct)


def _custom_jvp_batch(
    vals: list[Any], dims: list[int | None], *, fun: Callable[..., Any], jvp: Callable[..., Any]
) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    args = _batch_all(vals, dims)
    bfun = vmap(lambda *xs: tuple(fun(*xs)))
    bjvp = vmap(lambda ps, ts: tuple(map(tuple, jvp(list(ps), list(ts)))))
    outs = bind(
        custom_jvp_call_p, *args,
        fun=lambda *xs: bfun(*xs),
        jvp=lambda ps, ts: bjvp(tuple(ps), tuple(ts)),
    )
    return outs, (0,) * len(outs)


jvp_rules[custom_jvp_call_p] = _custom_jvp_rule
defvjp_joint(custom_jvp_call_p, _custom_jvp_vjp)
batch_rules[custom_jvp_call_p] = _custom_jvp_batch


def _check_fixed(fixed: list[Any], leaves: list[Any], owner: str) -> None:
    """Refuse traced ``nondiff_argnums`` values that the custom rules, which close over them,
    cannot handle: ones traced by the transform that applies the rules, or by one above it
    (the rules would return that transform's tracers as their own values)."""
    top = max((x._main for x in leaves if isinstance(x, Tracer)), key=lambda m: m.level,
              default=None)
    if top is None:
        return  # the function itself runs, operation by operation, with them in its closure
    check_closed_over(fixed, owner)
    for x in tree_leaves(fixed):
        if isinstance(x, Tracer) and x._main.level >= top.level:
            raise TypeError(
                f"{owner}: an argument in nondiff_argnums is traced by {x._main.transform} "
                f"({x.dtype}[{','.join(map(str, x.shape))}]), which the custom rule cannot "
                "see: make it a differentiated argument (its cotangent or tangent may be "
                "None or zero)"
            )


class _CustomFunction:
    """What custom_jvp and custom_vjp share: the wrapped function and its arguments, split
    into fixed (``nondiff_argnums``) and differentiated ones and flattened."""

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        functools.update_wrapper(self, fun)  # type: ignore[arg-type]  # subclasses add __call__

    def _prepare(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], transform: str
    ) -> tuple[list[Any], tuple[Any, ...], list[Any], PyTreeDef, _OutTree, Callable[..., Any]]:
        """(fixed args, differentiated args, their leaves, tree, output box, flat function)."""
        name = getattr(self.fun, "__name__", "function")
        args = _resolve_args(self.fun, args, kwargs)
        fixed, diff = _split(args, self.nondiff_argnums)
        # the rules keep them: as they are now, whatever the caller does to them later
        fixed = [tree_map(snapshot, x) for x in fixed]
        leaves, in_tree = tree_flatten(diff)
        leaves = [_transform_io.as_input(x, "an argument", transform) for x in leaves]
        _check_fixed(fixed, leaves, f"{type(self).__name__} function {name}")
        out_tree = _OutTree()
        flat_fun = _flat_fun(self.fun, self.nondiff_argnums, fixed, in_tree, out_tree, name)
        return fixed, diff, leaves, in_tree, out_tree, flat_fun


class custom_jvp(_CustomFunction):
    """A function with a user-defined Jacobian-vector product (JAX's ``custom_jvp``).

    Decorate the function, then give its rule with ``defjvp``. The rule receives the
    non-differentiated arguments (``nondiff_argnums``) first, then a tuple of the other
    arguments' primals and a tuple of their tangents, and returns ``(output, tangent_output)``.
    The rule serves forward mode directly; reverse mode transposes its (linear) tangent part,
    so ``grad`` uses it too. Rules written with fjac operations are differentiable again.

    Example:
        >>> import numpy as np, fjac, fjac.numpy as fnp
        >>> @fjac.custom_jvp
        ... def log1pexp(x):
        ...     return fnp.log(1.0 + fnp.exp(x))
        >>> @log1pexp.defjvp
        ... def log1pexp_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return log1pexp(x), t / (1.0 + fnp.exp(-x))
        >>> fjac.grad(log1pexp)(100.0)  # the plain formula gives nan here
        array(1.)
    """

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.jvp: Callable[..., Any] | None = None

    def defjvp(self, jvp: Callable[..., Any]) -> Callable[..., Any]:
        """Set the JVP rule (usable as a decorator); returns the rule."""
        self.jvp = jvp
        return jvp

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = getattr(self.fun, "__name__", "function")
        if self.jvp is None:
            raise AttributeError(
                f"custom_jvp function {name} has no JVP rule: define one with "
                f"@{name}.defjvp before calling it"
            )
        fixed, _, leaves, in_tree, out_tree, flat_fun = self._prepare(args, kwargs, "custom_jvp")
        rule = self.jvp

        def flat_jvp(primals: list[Any], tangents: list[Any]) -> tuple[list[Any], list[Any]]:
            p, t = tree_unflatten(in_tree, primals), tree_unflatten(in_tree, tangents)
            result = rule(*fixed, tuple(p), tuple(t))
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise TypeError(
                    f"the JVP rule of {name} must return a pair (output, tangent_output)"
                )
            out, t_out = result
            flat, tree = tree_flatten(out)
            out_tree.record(tree, f"the JVP rule of {name}")
            t_flat, t_tree = tree_flatten(t_out)
            if t_tree != tree:
                raise TypeError(
                    f"the JVP rule of {name} returned a tangent of structure {t_tree} for an "
                    f"output of structure {tree}; they must match"
                )
            return flat, [_transform_io.cast_like(t, o) for t, o in zip(t_flat, flat)]

        outs = bind(custom_jvp_call_p, *leaves, fun=flat_fun, jvp=flat_jvp)
        assert out_tree.tree is not None
        return tree_unflatten(out_tree.tree, list(outs))


# ---------------------------------------------------------------------------------------------
# custom_vjp


def _custom_vjp_impl(
    *leaves: Any, fun: Callable[..., Any], fwd: Callable[..., Any], bwd: Callable[..., Any]
) -> Any:
    return tuple(fun(*leaves))


custom_vjp_call_p = Primitive("custom_vjp_call", _custom_vjp_impl, multiple_results=True)


def _custom_vjp_fwd(
    *leaves: Any, fun: Callable[..., Any], fwd: Callable[..., Any], bwd: Callable[..., Any]
) -> tuple[tuple[Any, ...], Any]:
    outs, res = fwd(*leaves)
    return tuple(outs), res


def _custom_vjp_vjp(
    g: tuple[Any, ...], ans: tuple[Any, ...], res: Any, *, fun: Callable[..., Any],
    fwd: Callable[..., Any], bwd: Callable[..., Any],
) -> list[Any]:
    return list(bwd(res, _instantiate(g, ans)))


def _custom_vjp_jvp(
    primals: list[Any], tangents: list[Any], *, fun: Callable[..., Any], fwd: Callable[..., Any],
    bwd: Callable[..., Any],
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    outs, res = fwd(*primals)
    ts = _instantiate(tangents, primals)
    zeros = [_zeros_like(o) for o in outs]
    # g ↦ bwd(res, g) = Jᵀg is linear; its transpose applied to t is J t
    def cotangents(*gs: Any) -> list[Any]:  # zeros where bwd gave None
        return [_zeros_like(p) if c is None else c for c, p in zip(bwd(res, list(gs)), primals)]

    t_outs = _transpose_linear(cotangents, zeros, ts)
    return tuple(outs), tuple(
        _zeros_like(o) if t is None else _transform_io.cast_like(t, o) for t, o in zip(t_outs, outs)
    )


def _custom_vjp_batch(
    vals: list[Any], dims: list[int | None], *, fun: Callable[..., Any],
    fwd: Callable[..., Any], bwd: Callable[..., Any],
) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    args = _batch_all(vals, dims)
    bfun = vmap(lambda *xs: tuple(fun(*xs)))
    bfwd = vmap(lambda *xs: _pair(fwd(*xs)))
    bbwd = vmap(lambda res, gs: tuple(bwd(res, list(gs))))
    outs = bind(
        custom_vjp_call_p, *args,
        fun=lambda *xs: bfun(*xs),
        fwd=lambda *xs: bfwd(*xs),
        bwd=lambda res, gs: bbwd(res, tuple(gs)),
    )
    return outs, (0,) * len(outs)


def _pair(result: tuple[Any, Any]) -> tuple[tuple[Any, ...], Any]:
    outs, res = result
    return tuple(outs), res


vjp_fwd_rules[custom_vjp_call_p] = _custom_vjp_fwd
defvjp_joint(custom_vjp_call_p, _custom_vjp_vjp)
jvp_rules[custom_vjp_call_p] = _custom_vjp_jvp
batch_rules[custom_vjp_call_p] = _custom_vjp_batch


class custom_vjp(_CustomFunction):
    """A function with a user-defined vector-Jacobian product (JAX's ``custom_vjp``).

    Decorate the function, then give ``defvjp(fwd, bwd)``: ``fwd`` takes the function's
    arguments and returns ``(output, residuals)``; ``bwd`` takes the non-differentiated
    arguments (``nondiff_argnums``) first, then the residuals and the output's cotangent, and
    returns a tuple with one cotangent per differentiated argument (``None`` for a zero one).
    Reverse mode uses ``bwd``; forward mode transposes it, so ``jvp`` and ``jacfwd`` work too;
    ``vmap`` batches all three functions. Differentiating twice differentiates ``bwd``.

    Example:
        >>> import numpy as np, fjac, fjac.numpy as fnp
        >>> @fjac.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> def fwd(x):
        ...     return x, None
        >>> def bwd(res, g):
        ...     return (fnp.where(fnp.abs(g) > 1.0, fnp.sign(g), g),)
        >>> clip_gradient.defvjp(fwd, bwd)
        >>> fjac.grad(lambda x: 5.0 * clip_gradient(x))(2.0)
        array(1.)
    """

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Set the forward function (output and residuals) and the backward function."""
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = getattr(self.fun, "__name__", "function")
        if self.fwd is None or self.bwd is None:
            raise AttributeError(
                f"custom_vjp function {name} has no VJP rule: define one with "
                f"{name}.defvjp(fwd, bwd) before calling it"
            )
        fixed, diff, leaves, in_tree, out_tree, flat_fun = self._prepare(
            args, kwargs, "custom_vjp"
        )
        fwd, bwd, nondiff = self.fwd, self.bwd, self.nondiff_argnums

        def flat_fwd(*xs: Any) -> tuple[list[Any], Any]:
            result = fwd(*_merge(nondiff, fixed, tree_unflatten(in_tree, list(xs))))
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise TypeError(f"the fwd of {name} must return a pair (output, residuals)")
            out, res = result
            flat, tree = tree_flatten(out)
            out_tree.record(tree, f"the fwd of {name}")
            return flat, res

        # (the structures only: the arguments' values must not live as long as the rule,
        # which a jit recording keeps)
        diff_trees = [tree_structure(arg) for arg in diff]

        def flat_bwd(res: Any, g: list[Any]) -> list[Any]:
            assert out_tree.tree is not None
            cts = bwd(*fixed, res, tree_unflatten(out_tree.tree, list(g)))
            if not isinstance(cts, (tuple, list)) or len(cts) != len(diff_trees):
                raise TypeError(
                    f"the bwd of {name} must return a tuple with one cotangent per "
                    f"differentiated argument ({len(diff_trees)}), got {type(cts).__name__}"
                    + (f" of length {len(cts)}" if isinstance(cts, (tuple, list)) else "")
                )
            flat: list[Any] = []
            for i, (ct, arg_tree) in enumerate(zip(cts, diff_trees)):
                if ct is None:
                    flat.extend(None for _ in range(arg_tree.num_leaves))
                    continue
                if tree_structure(ct) != arg_tree:
                    raise TypeError(
                        f"the bwd of {name} returned a cotangent of structure "
                        f"{tree_structure(ct)} for argument {i} of structure {arg_tree}"
                    )
                flat.extend(tree_flatten(ct)[0])
            return flat

        outs = bind(custom_vjp_call_p, *leaves, fun=flat_fun, fwd=flat_fwd, bwd=flat_bwd)
        assert out_tree.tree is not None
        return tree_unflatten(out_tree.tree, list(outs))


# The user's rules are the user's: with complex values they are read in JAX's convention (a
# cotangent pairs with a tangent as Re(sum(ct * t))), as fjac's own are (docs/complex.md).
declare_complex(custom_jvp_call_p, custom_vjp_call_p)
