"""The operation table ``differentiable_functions`` draws from: one ``Operation`` row per
operation, and the interval arithmetic of its domains and bounds."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import fjac.numpy as fnp
from fjac.testing.strategies._arrays import Interval

Array = Any

#: No value in a program drawn by ``differentiable_functions`` exceeds this in magnitude.
LIMIT = 20.0


def _monotone(fn: Callable[[float], float]) -> Callable[..., Interval]:
    return lambda a, **_: (fn(a[0]), fn(a[1]))


def _corners(fn: Callable[[float, float], float]) -> Callable[..., Interval]:
    def bound(a: Interval, b: Interval, **_: Any) -> Interval:
        values = [fn(x, y) for x in a for y in b]
        return (min(values), max(values))

    return bound


def _square_bound(a: Interval, **_: Any) -> Interval:
    lo, hi = a
    top = max(lo * lo, hi * hi)
    return (0.0, top) if lo <= 0 <= hi else (min(lo * lo, hi * hi), top)


def _scale(k: float, a: Interval) -> Interval:
    return (min(k * a[0], k * a[1]), max(k * a[0], k * a[1]))


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


_REAL: Interval = (-LIMIT, LIMIT)
_POSITIVE: Interval = (0.3, LIMIT)


@dataclass(frozen=True)
class Operation:
    """One row of the table ``differentiable_functions`` draws from.

    Attributes:
        name: the ``fjac.numpy`` function it tests (rows whose name fjac.numpy lacks are
            skipped, so the table can run ahead of the library).
        kind: ``"unary"`` and ``"binary"`` (elementwise, with broadcasting of scalar operands),
            ``"reduce"`` (to a scalar, or with ``axis=-1, keepdims=True``), or a structural
            kind: ``"where"``, ``"matmul"`` (``a @ transpose(b) @ c``, shape-preserving on
            matrices), ``"inner"`` (``ravel(a) @ ravel(b)``), ``"permute"``
            (``reshape(transpose(a), shape)``).
        template: how it prints, ``{0}``, ``{1}``... standing for the arguments.
        apply: computes it from traced or concrete arrays (``**params`` for reductions).
        domain: the interval each argument must lie in; a function of the operand shape
            (``domain(shape) -> tuple of intervals``) where it depends on sizes.
        bound: the output interval from the argument intervals (keyword ``shape``: the
            operand shape), by interval arithmetic.
        precedence: Python's operator precedence for printing (100: a call).
        min_ndim: the operand needs at least this many dimensions (``flip(x, axis=-1)``: 1).
        keepdims: a reduction that also has the ``axis=-1, keepdims=True`` form.
    """

    name: str
    kind: str
    template: str
    apply: Callable[..., Array]
    domain: tuple[Interval, ...] | Callable[[tuple[int, ...]], tuple[Interval, ...]]
    bound: Callable[..., Interval]
    precedence: int = 100
    min_ndim: int = 0
    keepdims: bool = True

    def domains(self, shape: tuple[int, ...]) -> tuple[Interval, ...]:
        return self.domain(shape) if callable(self.domain) else self.domain


def _unary(name: str, domain: Interval | Callable[[tuple[int, ...]], tuple[Interval, ...]],
           bound: Callable[..., Interval], apply: Callable[..., Array] | None = None,
           template: str | None = None, precedence: int = 100, min_ndim: int = 0) -> Operation:
    fn = apply if apply is not None else (lambda x: getattr(fnp, name)(x))
    domains = domain if callable(domain) else (domain,)
    return Operation(name, "unary", template or f"{name}({{0}})", fn, domains, bound,
                     precedence, min_ndim)


def _binary(name: str, symbol: str | None, precedence: int,
            domains: tuple[Interval, Interval], bound: Callable[..., Interval]) -> Operation:
    """An elementwise binary row: an operator (``symbol``) or, without one, a call."""
    template = f"{{0}} {symbol} {{1}}" if symbol else f"{name}({{0}}, {{1}})"
    return Operation(name, "binary", template, lambda x, y: getattr(fnp, name)(x, y), domains,
                     bound, precedence if symbol else 100)


def _reduction(name: str, domain: Any, bound: Callable[..., Interval], min_ndim: int = 0,
               keepdims: bool = True) -> Operation:
    """A reduction row: ``name(x)`` to a scalar, or ``name(x, axis=-1, keepdims=True)``."""

    def apply(x: Array, keepdims: bool = False) -> Array:
        fn = getattr(fnp, name)
        return fn(x, axis=-1, keepdims=True) if keepdims else fn(x)

    return Operation(name, "reduce", f"{name}({{0}})", apply, domain, bound,
                     min_ndim=min_ndim, keepdims=keepdims)


def _last(shape: tuple[int, ...]) -> int:
    return shape[-1] if shape else 1


def _scan_domain(shape: tuple[int, ...]) -> tuple[Interval, ...]:
    k = LIMIT / _last(shape)  # prefix sums of up to n terms
    return ((-k, k),)


def _root_domain(n: int) -> tuple[Interval, ...]:
    k = LIMIT ** (1 / max(n, 1))  # products of up to n factors
    return ((-k, k),)


def _power_bound(a: Interval, n: int) -> Interval:
    """Any product of 1..n factors from ``a``: within ±max(|a|, |a|ⁿ)."""
    m = max(abs(a[0]), abs(a[1]))
    top = max(m, m**n)
    return (-top, top)


def _cosh_bound(a: Interval, **_: Any) -> Interval:
    low = 0.0 if a[0] <= 0 <= a[1] else min(abs(a[0]), abs(a[1]))
    return (math.cosh(low), math.cosh(max(abs(a[0]), abs(a[1]))))


def _var_bound(a: Interval, **_: Any) -> Interval:
    return (0.0, (a[1] - a[0]) ** 2 / 4)


def _keep_zero(a: Interval, **_: Any) -> Interval:
    return (min(a[0], 0.0), max(a[1], 0.0))


def _reduce_domain(shape: tuple[int, ...]) -> tuple[Interval, ...]:
    k = LIMIT / max(_size(shape), 1)
    return ((-k, k),)


def _matmul_domain(shape: tuple[int, ...]) -> tuple[Interval, ...]:
    k = (LIMIT / max(_size(shape), 1)) ** (1 / 3)  # |a @ bᵀ @ c| <= m·n·k³
    return ((-k, k),) * 3


def _inner_domain(shape: tuple[int, ...]) -> tuple[Interval, ...]:
    k = math.sqrt(LIMIT / max(_size(shape), 1))
    return ((-k, k),) * 2


def _product(a: Interval, b: Interval) -> Interval:
    values = [x * y for x in a for y in b]
    return (min(values), max(values))


def _matmul_bound(a: Interval, b: Interval, c: Interval, shape: tuple[int, ...]) -> Interval:
    """Entries of a @ bᵀ @ c for (m, n) operands: n products summed, then m more."""
    m, n = shape
    return _scale(m, _product(_scale(n, _product(a, b)), c))


def _hull(*intervals: Interval) -> Interval:
    return (min(i[0] for i in intervals), max(i[1] for i in intervals))


def _sum_bound(a: Interval, *, shape: tuple[int, ...], keepdims: bool = False) -> Interval:
    return _scale(_last(shape) if keepdims else _size(shape), a)


def _prod_bound(a: Interval, *, shape: tuple[int, ...], keepdims: bool = False) -> Interval:
    return _power_bound(a, _last(shape) if keepdims else _size(shape))


def _ravel(x: Array) -> Array:
    return fnp.reshape(x, (-1,))


#: One row per operation. Order matters for shrinking: hypothesis shrinks toward earlier rows.
OPERATIONS: tuple[Operation, ...] = (
    _unary("sin", _REAL, lambda a, **_: (-1.0, 1.0)),
    _unary("cos", _REAL, lambda a, **_: (-1.0, 1.0)),
    _unary("tanh", _REAL, _monotone(math.tanh)),
    _unary("exp", (-2.0, 2.0), _monotone(math.exp)),
    _unary("log", _POSITIVE, _monotone(math.log)),
    _unary("negative", _REAL, lambda a, **_: (-a[1], -a[0]), template="-{0}", precedence=13),
    _unary("square", (-4.0, 4.0), _square_bound),
    _unary("sqrt", _POSITIVE, _monotone(math.sqrt)),
    _unary("reciprocal", _POSITIVE, lambda a, **_: (1 / a[1], 1 / a[0])),
    _unary("log1p", (-0.5, LIMIT), _monotone(math.log1p)),
    _unary("expm1", (-2.0, 2.0), _monotone(math.expm1)),
    _unary("tan", (-1.2, 1.2), _monotone(math.tan)),
    _unary("power", (-2.5, 2.5), _monotone(lambda v: v**3), apply=lambda x: fnp.power(x, 3),
           template="{0} ** 3", precedence=14),
    _unary("power", (0.3, 7.0), _monotone(lambda v: v**1.5), apply=lambda x: fnp.power(x, 1.5),
           template="{0} ** 1.5", precedence=14),
    _binary("add", "+", 11, ((-10.0, 10.0),) * 2, lambda a, b, **_: (a[0] + b[0], a[1] + b[1])),
    _binary("multiply", "*", 12, ((-4.0, 4.0),) * 2, lambda a, b, **_: _product(a, b)),
    _binary("subtract", "-", 11, ((-10.0, 10.0),) * 2,
            lambda a, b, **_: (a[0] - b[1], a[1] - b[0])),
    _binary("divide", "/", 12, ((-6.0, 6.0), _POSITIVE), _corners(lambda x, y: x / y)),
    _binary("power", "**", 14, ((0.3, 4.0), (-2.0, 2.0)),
            _corners(lambda x, y: math.exp(y * math.log(x)))),
    _reduction("sum", _reduce_domain, _sum_bound),
    _reduction("mean", (_REAL,), lambda a, **_: a),
    Operation("where", "where", "where({mask}, {0}, {1})", fnp.where, (_REAL, _REAL),
              lambda a, b, **_: _hull(a, b)),
    Operation("matmul", "matmul", "{0} @ transpose({1}) @ {2}",
              lambda a, b, c: fnp.matmul(fnp.matmul(a, fnp.transpose(b)), c), _matmul_domain,
              lambda a, b, c, *, shape: _matmul_bound(a, b, c, shape),
              precedence=12),
    Operation("matmul", "inner", "ravel({0}) @ ravel({1})",
              lambda a, b: fnp.matmul(_ravel(a), _ravel(b)), _inner_domain,
              lambda a, b, *, shape: _scale(_size(shape), _product(a, b)), precedence=12),
    Operation("transpose", "permute", "reshape(transpose({0}), {target})",
              lambda a, target: fnp.reshape(fnp.transpose(a), target), (_REAL,),
              lambda a, **_: a),
    # inverse trigonometric and hyperbolic functions
    _unary("arctan", _REAL, _monotone(math.atan)),
    _unary("arcsin", (-0.9, 0.9), _monotone(math.asin)),
    _unary("arccos", (-0.9, 0.9), lambda a, **_: (math.acos(a[1]), math.acos(a[0]))),
    _unary("arcsinh", _REAL, _monotone(math.asinh)),
    _unary("arctanh", (-0.8, 0.8), _monotone(math.atanh)),
    _unary("sinh", (-3.0, 3.0), _monotone(math.sinh)),
    _unary("cosh", (-3.0, 3.0), _cosh_bound),
    _unary("sinc", (-5.0, 5.0), lambda a, **_: (-1.0, 1.0)),
    # more exponentials, logarithms and roots
    _unary("exp2", (-3.0, 3.0), _monotone(lambda v: 2.0**v)),
    _unary("log2", _POSITIVE, _monotone(math.log2)),
    _unary("log10", _POSITIVE, _monotone(math.log10)),
    _unary("cbrt", _POSITIVE, _monotone(lambda v: v ** (1 / 3))),
    _unary("deg2rad", _REAL, _monotone(math.radians)),
    # smooth binary functions (kept off their singular points)
    _binary("arctan2", None, 100, ((-10.0, 10.0), _POSITIVE), lambda a, b, **_: (-1.6, 1.6)),
    _binary("hypot", None, 100, (_POSITIVE, (-10.0, 10.0)),
            lambda a, b, **_: (a[0], math.hypot(max(map(abs, a)), max(map(abs, b))))),
    _binary("logaddexp", None, 100, ((-10.0, 10.0),) * 2,
            lambda a, b, **_: (max(a[0], b[0]), max(a[1], b[1]) + math.log(2))),
    _binary("logaddexp2", None, 100, ((-10.0, 10.0),) * 2,
            lambda a, b, **_: (max(a[0], b[0]), max(a[1], b[1]) + 1.0)),
    # shape-preserving along the last axis, and more reductions
    _unary("cumsum", _scan_domain,
           lambda a, *, shape, **_: _hull(a, _scale(_last(shape), a)),
           apply=lambda x: fnp.cumsum(x, axis=-1), template="cumsum({0}, axis=-1)",
           min_ndim=1),
    _unary("cumprod", lambda shape: _root_domain(_last(shape)),
           lambda a, *, shape, **_: _power_bound(a, _last(shape)),
           apply=lambda x: fnp.cumprod(x, axis=-1), template="cumprod({0}, axis=-1)",
           min_ndim=1),
    _unary("flip", _REAL, lambda a, **_: a, apply=lambda x: fnp.flip(x, axis=-1),
           template="flip({0}, axis=-1)", min_ndim=1),
    _unary("roll", _REAL, lambda a, **_: a, apply=lambda x: fnp.roll(x, 1, axis=-1),
           template="roll({0}, 1, axis=-1)", min_ndim=1),
    _unary("tril", _REAL, _keep_zero, min_ndim=2),
    _unary("triu", _REAL, _keep_zero, min_ndim=2),
    _reduction("prod", lambda shape: _root_domain(_size(shape)), _prod_bound),
    _reduction("var", ((-4.0, 4.0),), _var_bound),
    _reduction("trace", lambda shape: ((-LIMIT / min(shape), LIMIT / min(shape)),),
               lambda a, *, shape, **_: _scale(min(shape), a), min_ndim=2, keepdims=False),
)


def _available(ops: Sequence[Operation]) -> list[Operation]:
    return [op for op in ops if hasattr(fnp, op.name)]
