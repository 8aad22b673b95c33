"""Finite-difference checkers: ``check_grads``, ``numerical_jacobian`` and ``check_jacobian``.

Every checker compares fjac's derivatives with central differences,
``(f(x + eps·t) - f(x - eps·t)) / (2·eps)``, whose error is O(eps²) (truncation) plus
O(u·|f| / eps) (rounding, u the unit roundoff of the dtype).

``check_grads`` follows the standard structure: at order 1 it checks the JVP of ``f`` and the
VJP of ``f``; at order k > 1 it checks the derivative functions themselves, ``(x, t) ↦ J(x)·t``
and ``(x, v) ↦ vᵀJ(x)``, again in every mode ("VJP of JVP, order 2"), recursively.

Internally every function is "flat": it takes the floating-point leaves of the arguments
positionally (integer leaves are held fixed) and returns the list of its floating-point output
leaves. Each leaf carries a reader's name (``argument 0['w']``) for the error messages.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fjac._jacobian import jacfwd, jacobian
from fjac._jvp import jvp
from fjac._vjp import vjp
from fjac.tree import keystr, tree_flatten, tree_flatten_with_path, tree_unflatten

__all__ = ["check_grads", "numerical_jacobian", "check_jacobian"]

Array = Any


# ---------------------------------------------------------------------------------------------
# default steps and tolerances


@dataclass(frozen=True)
class _Tolerance:
    eps: float
    atol: float
    rtol: float


# Central differences: relative error ≈ eps²·|f'''/f'|/6 (truncation) + u·|f/f'|/eps (rounding),
# u the unit roundoff; the sum is smallest near eps = u^(1/3) (for unit-scale f and f''').
# float64 (u ≈ 1.1e-16, u^(1/3) ≈ 5e-6): eps = 1e-5 puts both terms near 1e-11, six orders
#   below the 1e-5 tolerances, leaving room for |f'''/f'| up to ~1e5 (deep compositions of
#   sin, tan and powers reach 10³–10⁴, where the common eps = 1e-4 already fails at 1e-5).
# float32 (u ≈ 6e-8, u^(1/3) ≈ 4e-3): eps = 3e-3 gives ~2e-5·|f/f'| + 1.5e-6·|f'''/f'|,
#   three orders below the 2e-2 tolerances; the analytic side itself is only accurate to
#   ~1e-6 in float32, so tighter tolerances would be flaky.
# float16 (u ≈ 5e-4): a coarse check only.
_DEFAULTS = {
    np.dtype(np.float64): _Tolerance(eps=1e-5, atol=1e-5, rtol=1e-5),
    np.dtype(np.float32): _Tolerance(eps=3e-3, atol=2e-2, rtol=2e-2),
    np.dtype(np.float16): _Tolerance(eps=5e-2, atol=1e-1, rtol=1e-1),
}


def _is_float(x: Any) -> bool:
    return _dtype(x).kind == "f"


def _dtype(x: Any) -> np.dtype[Any]:
    dt = getattr(x, "dtype", None)
    return dt if isinstance(dt, np.dtype) else np.asarray(x).dtype


def _tolerance(
    leaves: Sequence[Any], eps: float | None, atol: float | None, rtol: float | None
) -> _Tolerance:
    """The defaults of the least precise floating dtype among ``leaves``, overridden if given."""
    itemsizes = [_dtype(x).itemsize for x in leaves if _is_float(x)]
    size = min(itemsizes, default=8)
    base = _DEFAULTS.get(np.dtype(f"f{size}"), _DEFAULTS[np.dtype(np.float64)])
    return _Tolerance(
        eps=base.eps if eps is None else float(eps),
        atol=base.atol if atol is None else float(atol),
        rtol=base.rtol if rtol is None else float(rtol),
    )


# ---------------------------------------------------------------------------------------------
# flat functions with named leaves


@dataclass(frozen=True)
class _Flat:
    """A function of named floating-point leaves returning a list of floating leaves."""

    fun: Callable[..., list[Any]]
    in_names: list[str]
    out_names: list[str]


def _float_outputs(out: Any) -> list[Any]:
    return [leaf for leaf in tree_flatten(out)[0] if _is_float(leaf)]


def _output_names(out: Any) -> list[str]:
    return [
        f"output{keystr(path)}" if path else "the output"
        for path, leaf in tree_flatten_with_path(out)[0]
        if _is_float(leaf)
    ]


def _argument_name(path: Sequence[Any]) -> str:
    head, rest = path[0], path[1:]
    return f"argument {getattr(head, 'idx', head)}{keystr(rest)}"


def _flatten_call(
    f: Callable[..., Any], args: Sequence[Any], caller: str
) -> tuple[_Flat, list[Any], list[Any]]:
    """``f`` as a flat function of the float leaves of ``args``; also those leaves and the
    float leaves of ``f(*args)``."""
    if not isinstance(args, (tuple, list)):
        raise TypeError(
            f"{caller}: args must be a tuple or list of positional arguments, got a "
            f"{type(args).__name__}; write ({args!r},) for a single argument"
        )
    path_leaves, tree = tree_flatten_with_path(tuple(args))
    leaves = [x for _, x in path_leaves]  # non-float leaves pass through untouched
    float_pos = [i for i, x in enumerate(leaves) if _is_float(x)]
    if not float_pos:
        raise TypeError(
            f"{caller}: none of the arguments has a floating-point leaf, so there is nothing to "
            "differentiate; pass float arrays (e.g. x.astype(float))"
        )

    def fun(*xs: Any) -> list[Any]:
        full = list(leaves)
        for i, x in zip(float_pos, xs):
            full[i] = x
        return _float_outputs(f(*tree_unflatten(tree, full)))

    out = f(*args)
    out_names = _output_names(out)
    if not out_names:
        raise TypeError(
            f"{caller}: the function returned no floating-point output (got {out!r}); "
            "there is no derivative to check"
        )
    in_names = [_argument_name(path_leaves[i][0]) for i in float_pos]
    xs = [leaves[i] if isinstance(leaves[i], np.ndarray) else np.asarray(leaves[i])
          for i in float_pos]
    return _Flat(fun, in_names, out_names), xs, _float_outputs(out)


def _jvp_function(flat: _Flat, n: int) -> _Flat:
    """``(x, t) ↦ J(x)·t``, the derivative function checked at the next order in forward mode."""

    def fun(*zs: Any) -> list[Any]:
        return list(jvp(flat.fun, tuple(zs[:n]), tuple(zs[n:]))[1])

    in_names = [f"primal {s}" for s in flat.in_names] + [
        f"tangent of {s}" for s in flat.in_names
    ]
    out_names = [f"tangent of {s}" for s in flat.out_names]
    return _Flat(fun, in_names, out_names)


def _vjp_function(flat: _Flat, n: int) -> _Flat:
    """``(x, v) ↦ vᵀJ(x)``, the derivative function checked at the next order in reverse mode."""

    def fun(*zs: Any) -> list[Any]:
        _, vjp_fn = vjp(flat.fun, *zs[:n])
        return list(vjp_fn(list(zs[n:])))

    in_names = [f"primal {s}" for s in flat.in_names] + [
        f"cotangent of {s}" for s in flat.out_names
    ]
    out_names = [f"cotangent of {s}" for s in flat.in_names]
    return _Flat(fun, in_names, out_names)


# ---------------------------------------------------------------------------------------------
# the comparisons


def _random_like(rng: np.random.Generator, xs: Sequence[Any]) -> list[Any]:
    return [np.asarray(rng.standard_normal(np.shape(x))).astype(_dtype(x)) for x in xs]


def _concrete(x: Any) -> np.ndarray[Any, Any]:
    """A plain float64 copy (the checker's own arithmetic, never traced)."""
    return np.asarray(x, dtype=np.float64)


def _numerical_jvp(flat: _Flat, xs: Sequence[Any], ts: Sequence[Any], eps: float) -> list[Any]:
    """Central-difference directional derivative of ``flat`` at ``xs`` along ``ts``."""
    plus = [(_concrete(x) + eps * _concrete(t)).astype(_dtype(x)) for x, t in zip(xs, ts)]
    minus = [(_concrete(x) - eps * _concrete(t)).astype(_dtype(x)) for x, t in zip(xs, ts)]
    f_plus, f_minus = flat.fun(*plus), flat.fun(*minus)
    return [(_concrete(p) - _concrete(m)) / (2 * eps) for p, m in zip(f_plus, f_minus)]


def _only(ts: Sequence[Any], i: int) -> list[Any]:
    """``ts`` with every leaf but the i-th set to zero: a direction along one argument leaf."""
    return [t if j == i else np.zeros_like(t) for j, t in enumerate(ts)]


def _fmt(x: float) -> str:
    return f"{x:.10g}"


@dataclass
class _Mismatch:
    analytic: float
    numerical: float
    tolerance: float
    where: str


def _compare_arrays(
    analytic: Sequence[Any], numerical: Sequence[Any], names: Sequence[str], tol: _Tolerance
) -> _Mismatch | None:
    """The worst element outside ``atol + rtol·|numerical|``, or None when all agree."""
    for a, n, name in zip(analytic, numerical, names):
        a, n = _concrete(a), _concrete(n)
        if a.shape != n.shape:
            raise AssertionError(f"{name}: analytic shape {a.shape} != numerical {n.shape}")
        allowed = tol.atol + tol.rtol * np.abs(n)
        with np.errstate(invalid="ignore"):
            excess = np.abs(a - n) - allowed
        bad = ~(excess <= 0)  # NaN counts as a mismatch
        if bad.any():
            scores = np.where(np.isnan(excess), np.inf, excess)
            idx = np.unravel_index(int(np.argmax(scores)), a.shape)
            at = f" at index {tuple(int(i) for i in idx)}" if a.ndim else ""
            return _Mismatch(float(a[idx]), float(n[idx]), float(allowed[idx]), f"{name}{at}")
    return None


def _fail(label: str, order: int, subject: str, m: _Mismatch, how: str, tol: _Tolerance) -> None:
    diff = abs(m.analytic - m.numerical)
    raise AssertionError(
        f"check_grads: {label}, order {order} failed for {subject}: {how}\n"
        f"  analytic  = {_fmt(m.analytic)}\n"
        f"  numerical = {_fmt(m.numerical)}   (central difference, eps={tol.eps:g})\n"
        f"  |analytic - numerical| = {_fmt(diff)} > tolerance {_fmt(m.tolerance)} "
        f"(atol={tol.atol:g}, rtol={tol.rtol:g}); {m.where}"
    )


def _check_primal(
    flat: _Flat, got: Sequence[Any], expected: Sequence[Any], label: str, order: int,
    tol: _Tolerance,
) -> None:
    m = _compare_arrays(got, expected, flat.out_names, tol)
    if m is not None:
        _fail(label, order, "the primal output", m,
              "the primal output of the transform (analytic) differs from f(x) (numerical)", tol)


def _check_jvp(
    flat: _Flat, xs: list[Any], label: str, order: int, tol: _Tolerance,
    rng: np.random.Generator,
) -> None:
    """J(x)·t from ``jvp`` against the central difference along the same random t."""
    ts = _random_like(rng, xs)
    primal, analytic = jvp(flat.fun, tuple(xs), tuple(ts))
    _check_primal(flat, primal, flat.fun(*xs), label, order, tol)
    m = _compare_arrays(analytic, _numerical_jvp(flat, xs, ts, eps=tol.eps), flat.out_names, tol)
    if m is None:
        return
    how = "jvp's tangent output (analytic) differs from the central difference (numerical)"
    for i, name in enumerate(flat.in_names):  # name the argument: one leaf at a time
        t_i = _only(ts, i)
        m_i = _compare_arrays(
            jvp(flat.fun, tuple(xs), tuple(t_i))[1], _numerical_jvp(flat, xs, t_i, tol.eps),
            flat.out_names, tol,
        )
        if m_i is not None:
            _fail(label, order, name, m_i, f"{how} along a random direction in {name}", tol)
    _fail(label, order, "all arguments together", m, how, tol)


def _dot(a: Sequence[Any], b: Sequence[Any]) -> tuple[float, float, float]:
    """Σ⟨aᵢ, bᵢ⟩, Σ|aᵢ ⊙ bᵢ| and Σ‖aᵢ‖₁ over paired leaves (in float64)."""
    total = scale = l1 = 0.0
    for x, y in zip(a, b):
        x, y = _concrete(x), _concrete(y)
        total += float(np.sum(x * y))
        scale += float(np.sum(np.abs(x * y)))
        l1 += float(np.sum(np.abs(x)))
    return total, scale, l1


def _duality_mismatch(
    ct_dot_t: float, vs: list[Any], numerical: list[Any], tol: _Tolerance, where: str
) -> _Mismatch | None:
    """⟨vjp(v), t⟩ against ⟨v, numerical jvp(t)⟩, allowing each output element its fwd-mode
    tolerance weighted by |vₖ|: atol·‖v‖₁ + rtol·Σ|vₖ·jvpₖ|."""
    rhs, scale, v_l1 = _dot(vs, numerical)
    allowed = tol.atol * v_l1 + tol.rtol * scale
    if abs(ct_dot_t - rhs) <= allowed:
        return None
    return _Mismatch(ct_dot_t, rhs, allowed, where)


def _check_vjp(
    flat: _Flat, xs: list[Any], label: str, order: int, tol: _Tolerance,
    rng: np.random.Generator,
) -> None:
    """⟨vjp(v), t⟩ against ⟨v, numerical jvp(t)⟩ for random v and t."""
    primal, vjp_fn = vjp(flat.fun, *xs)
    _check_primal(flat, primal, flat.fun(*xs), label, order, tol)
    ts = _random_like(rng, xs)
    vs = _random_like(rng, primal)
    cts = list(vjp_fn(vs))
    lhs = _dot(cts, ts)[0]
    where = "comparing ⟨vjp(v), t⟩ (analytic) with ⟨v, numerical jvp(t)⟩ for random v, t"
    m = _duality_mismatch(lhs, vs, _numerical_jvp(flat, xs, ts, tol.eps), tol, where)
    if m is None:
        return
    how = "the vjp is not the transpose of the numerical derivative"
    for i, name in enumerate(flat.in_names):  # name the argument: one leaf at a time
        m_i = _duality_mismatch(
            _dot([cts[i]], [ts[i]])[0], vs, _numerical_jvp(flat, xs, _only(ts, i), tol.eps),
            tol, where + f" (t nonzero only in {name})",
        )
        if m_i is not None:
            _fail(label, order, name, m_i, how, tol)
    _fail(label, order, "all arguments together", m, how, tol)


def _check_grads(
    flat: _Flat, xs: list[Any], order: int, modes: tuple[str, ...], label: str, depth: int,
    tol: _Tolerance, rng: np.random.Generator,
) -> None:
    for mode in modes:
        name = "JVP" if mode == "fwd" else "VJP"
        full = f"{name} of {label}" if label else name
        if mode == "fwd":
            _check_jvp(flat, xs, full, depth, tol, rng)
        else:
            _check_vjp(flat, xs, full, depth, tol, rng)
        if order > 1:
            n = len(xs)
            if mode == "fwd":
                deriv, extra = _jvp_function(flat, n), _random_like(rng, xs)
            else:
                deriv, extra = _vjp_function(flat, n), _random_like(rng, flat.fun(*xs))
            _check_grads(deriv, xs + extra, order - 1, modes, full, depth + 1, tol, rng)


def _check_modes(modes: str | Sequence[str]) -> tuple[str, ...]:
    out = (modes,) if isinstance(modes, str) else tuple(modes)
    if not out or any(m not in ("fwd", "rev") for m in out):
        raise ValueError(
            f"check_grads: modes must be a non-empty sequence of 'fwd' and 'rev', got {modes!r}"
        )
    return out


def check_grads(
    f: Callable[..., Any],
    args: Sequence[Any],
    order: int = 2,
    modes: Sequence[str] = ("fwd", "rev"),
    *,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    seed: int = 0,
) -> None:
    """Check fjac's derivatives of ``f`` at ``args`` against central differences, to ``order``.

    Forward mode compares ``jvp`` with the central difference ``(f(x+eps·t) - f(x-eps·t)) /
    (2·eps)`` along a random direction ``t``. Reverse mode checks that the VJP is the transpose
    of that derivative: ``⟨vjp(v), t⟩ = ⟨v, numerical jvp(t)⟩`` for random ``v`` and ``t``.
    Both also check that the primal output they return equals ``f(*args)``. At order k > 1 the
    derivative functions ``(x, t) ↦ J(x)·t`` and ``(x, v) ↦ vᵀJ(x)`` are checked in turn, in
    every mode: order 2 runs "JVP", "JVP of JVP", "VJP of JVP", "VJP", "JVP of VJP" and
    "VJP of VJP".

    Every floating-point leaf of every argument is checked; integer and boolean leaves are held
    fixed. Only floating-point output leaves are compared. The random directions come from
    ``numpy.random.default_rng(seed)``, so a failure reproduces.

    Args:
        f: a function of pytrees of arrays, returning a pytree of arrays.
        args: a tuple or list of the positional arguments of ``f`` (each a pytree).
        order: how many times to differentiate (1 or more).
        modes: ``"fwd"`` and/or ``"rev"``.
        eps: the finite-difference step. Default: 1e-5 for float64, 3e-3 when any float
            argument or output is float32 (the least precise dtype decides).
        atol: absolute tolerance per output element. Default: 1e-5 (float64), 2e-2 (float32).
        rtol: tolerance relative to the numerical derivative. Defaults as ``atol``.
        seed: seeds the random tangents and cotangents.

    Raises:
        AssertionError: a derivative disagrees with the central difference. The message names
            the check and its order ("VJP of JVP, order 2"), the argument leaf, the analytic
            and numerical numbers and the tolerance.
        TypeError: ``args`` not a tuple or list; no floating-point argument or output.
        ValueError: ``order`` below 1, or a mode other than "fwd" and "rev".

    Example:
        >>> import numpy as np, fjac.numpy as fnp
        >>> from fjac.testing import check_grads
        >>> check_grads(lambda x, y: fnp.sin(x) * y, (np.array([0.5, 1.0]), 2.0), order=2)
    """
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"check_grads: order must be an int >= 1, got {order!r}")
    modes_ = _check_modes(modes)
    flat, xs, out = _flatten_call(f, args, "check_grads")
    tol = _tolerance(xs + out, eps, atol, rtol)
    _check_grads(flat, xs, order, modes_, "", 1, tol, np.random.default_rng(seed))


# ---------------------------------------------------------------------------------------------
# Jacobians


def _argnums(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums or not all(isinstance(i, int) and -nargs <= i < nargs for i in nums):
        raise ValueError(
            f"numerical_jacobian: argnums={argnums!r} must name positional arguments of a "
            f"call with {nargs} argument(s)"
        )
    return tuple(i % nargs for i in nums)


def numerical_jacobian(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, eps: float | None = None
) -> Callable[..., Any]:
    """A function returning the central-difference Jacobian of ``f``, nested as ``jacobian``.

    Each input element is stepped by ±eps in turn. The result nests the output's structure
    outside and the differentiated arguments' structure inside (a tuple over ``argnums`` when
    it is a tuple), each leaf shaped ``out_leaf.shape + in_leaf.shape`` with the input leaf's
    dtype, exactly like ``fjac.jacobian``.

    Args:
        f: a function of pytrees of floating-point arrays.
        argnums: the positional argument(s) to differentiate: an int or a tuple of ints.
        eps: the step; by default 1e-5 for float64 inputs and 3e-3 for float32.

    Returns:
        A function of the same arguments as ``f``.

    Raises:
        TypeError: (when called) a differentiated leaf that is not floating point.
        ValueError: (when called) ``argnums`` out of range.

    Example:
        >>> import numpy as np, fjac.numpy as fnp
        >>> from fjac.testing import numerical_jacobian
        >>> J = numerical_jacobian(lambda x: fnp.sin(x))(np.array([0.0, 1.0]))
        >>> np.allclose(J, np.diag(np.cos([0.0, 1.0])))
        True
    """

    def jac_fun(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args))
        diff = tuple(args[i] for i in nums)
        path_leaves, in_tree = tree_flatten_with_path(diff)
        leaves = [np.asarray(x) for _, x in path_leaves]
        for (path, _), x in zip(path_leaves, leaves):
            if x.dtype.kind != "f":
                where = _argument_name((nums[getattr(path[0], "idx", 0)], *path[1:]))
                raise TypeError(
                    f"numerical_jacobian needs floating-point inputs, but {where} has dtype "
                    f"{x.dtype}; pass a float array (e.g. x.astype(float))"
                )

        def call(new_leaves: list[Any]) -> Any:
            full = list(args)
            for i, a in zip(nums, tree_unflatten(in_tree, new_leaves)):
                full[i] = a
            return f(*full, **kwargs)

        out_leaves, out_tree = tree_flatten(call(leaves))
        out_shapes = [np.shape(y) for y in out_leaves]
        step = _tolerance(leaves, eps, None, None).eps
        blocks: list[list[Any]] = [[] for _ in out_leaves]
        for k, x in enumerate(leaves):
            cols: list[list[Any]] = [[] for _ in out_leaves]
            for j in range(x.size):
                plus, minus = list(leaves), list(leaves)
                plus[k] = _nudge(x, j, step)
                minus[k] = _nudge(x, j, -step)
                f_plus = tree_flatten(call(plus))[0]
                f_minus = tree_flatten(call(minus))[0]
                for col, p, m in zip(cols, f_plus, f_minus):
                    col.append((_concrete(p) - _concrete(m)) / (2 * step))
            for o, (col, y_shape) in enumerate(zip(cols, out_shapes)):
                block = np.stack(col, axis=-1) if col else np.zeros(y_shape + (0,))
                blocks[o].append(block.reshape(y_shape + x.shape).astype(x.dtype))
        single = isinstance(argnums, int)
        per_out = []
        for row in blocks:
            inner = tree_unflatten(in_tree, row)
            per_out.append(inner[0] if single else inner)
        return tree_unflatten(out_tree, per_out)

    return jac_fun


def _nudge(x: np.ndarray[Any, Any], j: int, step: float) -> np.ndarray[Any, Any]:
    """``x`` with its j-th element (C order) moved by ``step``, in x's dtype."""
    y = np.array(x, dtype=np.float64, copy=True)
    y.flat[j] += step
    return y.astype(x.dtype)


def _as_matrix(jac: Any, out: Any, args: tuple[Any, ...]) -> np.ndarray[Any, Any]:
    """A nested Jacobian (output outside, argument tuple inside) as the 2-D matrix over the
    raveled outputs and raveled inputs, in ``ravel_pytree`` order."""
    out_leaves = tree_flatten(out)[0]
    in_leaves = tree_flatten(args)[0]
    per_out = tree_flatten(jac, is_leaf=lambda x: isinstance(x, np.ndarray))[0]
    rows = []
    for o, y in enumerate(out_leaves):
        blocks = per_out[o * len(in_leaves):(o + 1) * len(in_leaves)]
        rows.append(np.concatenate(
            [_concrete(b).reshape(np.size(y), np.size(x)) for b, x in zip(blocks, in_leaves)],
            axis=1,
        ))
    return np.concatenate(rows, axis=0)


def _reverse_variants(f: Callable[..., Any], argnums: tuple[int, ...]) -> dict[str, Any]:
    """``jacobian`` in every mode it offers (one VJP per row, and batched when available)."""
    params = inspect.signature(jacobian).parameters
    if "vectorize" in params:
        return {
            "jacobian(vectorize=False)": jacobian(f, argnums, vectorize=False),
            "jacobian(vectorize=True)": jacobian(f, argnums, vectorize=True),
        }
    return {"jacobian": jacobian(f, argnums)}


def check_jacobian(
    f: Callable[..., Any],
    args: Sequence[Any],
    explicit: Any = None,
    *,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
) -> None:
    """Assert that ``jacobian``, ``jacfwd`` and the numerical Jacobian of ``f`` agree at ``args``.

    All positional arguments are differentiated. Each Jacobian is laid out as one 2-D matrix:
    rows over the raveled output leaves, columns over the raveled argument leaves, both in
    pytree flattening order (the order of ``fjac.tree.ravel_pytree``) — the textbook matrix of
    partial derivatives ∂outᵢ/∂inⱼ. The analytic Jacobians must match each other to rounding
    (and ``explicit`` if given, to the same tight tolerance); the numerical one to the
    finite-difference tolerances of ``check_grads``.

    Args:
        f: a function of pytrees of floating-point arrays.
        args: a tuple or list of its positional arguments.
        explicit: optional expected matrix of shape (output size, input size).
        eps, atol, rtol: as in ``check_grads``.

    Raises:
        AssertionError: two Jacobians differ; the message names them, the entry (row,
            column) and both values.
        TypeError: ``args`` not a tuple or list.

    Example:
        >>> import numpy as np
        >>> from fjac.testing import check_jacobian
        >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> check_jacobian(lambda x: A @ x, (np.ones(2),), explicit=A)
    """
    if not isinstance(args, (tuple, list)):
        raise TypeError(
            f"check_jacobian: args must be a tuple or list of positional arguments, got a "
            f"{type(args).__name__}; write ({args!r},) for a single argument"
        )
    args = tuple(args)
    argnums = tuple(range(len(args)))
    out = f(*args)
    tol = _tolerance(tree_flatten(args)[0] + tree_flatten(out)[0], eps, atol, rtol)
    # Analytic Jacobians differ only by rounding: a tight tolerance, scaled by the dtype.
    u = max((float(np.finfo(_dtype(x)).eps) for x in tree_flatten(args)[0] if _is_float(x)),
            default=float(np.finfo(np.float64).eps))
    exact = _Tolerance(tol.eps, atol=1e3 * u, rtol=1e3 * u)
    analytic = {name: _as_matrix(j(*args), out, args)
                for name, j in {**_reverse_variants(f, argnums),
                                "jacfwd": jacfwd(f, argnums)}.items()}
    names = list(analytic)
    reference = analytic[names[0]]
    if explicit is not None:
        explicit = np.asarray(explicit, dtype=np.float64)
        if explicit.shape != reference.shape:
            raise AssertionError(
                f"check_jacobian: the explicit matrix has shape {explicit.shape}, but the "
                f"Jacobian over the raveled outputs and inputs has shape {reference.shape} "
                "(rows: output elements, columns: input elements)"
            )
        _assert_matrix_close(analytic[names[0]], names[0], explicit, "explicit", exact)
    for name in names[1:]:
        _assert_matrix_close(analytic[name], name, reference, names[0], exact)
    numerical = _as_matrix(numerical_jacobian(f, argnums, tol.eps)(*args), out, args)
    _assert_matrix_close(reference, names[0], numerical, "numerical_jacobian", tol)


def _assert_matrix_close(
    a: np.ndarray[Any, Any], a_name: str, b: np.ndarray[Any, Any], b_name: str, tol: _Tolerance
) -> None:
    allowed = tol.atol + tol.rtol * np.abs(b)
    with np.errstate(invalid="ignore"):
        excess = np.abs(a - b) - allowed
    bad = ~(excess <= 0)
    if bad.any():
        i, j = np.unravel_index(int(np.argmax(np.where(np.isnan(excess), np.inf, excess))), a.shape)
        raise AssertionError(
            f"check_jacobian: {a_name} and {b_name} differ at entry (row {i}, column {j}) of the "
            f"Jacobian over the raveled outputs and inputs: {_fmt(a[i, j])} vs {_fmt(b[i, j])} "
            f"(tolerance {_fmt(allowed[i, j])}: atol={tol.atol:g}, rtol={tol.rtol:g}); "
            f"{int(bad.sum())} of {a.size} entries differ"
        )
