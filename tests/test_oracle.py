"""A JAX oracle: every function fjac.numpy and fjac.numpy.linalg export, against JAX's.

Each table row ``Case(name, fn, args)`` names a function ``fn(m, *args)`` written against a
module ``m``: ``fjac.numpy`` on fjac's side, ``jax.numpy`` on JAX's (``m.linalg`` is each one's
linalg). Its positional ``args`` are float64 arrays drawn, from a fixed seed, in a domain where
the function is smooth; everything else (axes, index arrays, masks, orders) is a constant of
``fn``. A differentiable row is checked three ways against JAX (``check_against_jax``):

- the value;
- the JVP: ``fjac.jvp`` and ``jax.jvp`` along random tangents (outputs and tangent outputs);
- the VJP: ``fjac.vjp`` and ``jax.vjp`` with a random cotangent (output and input cotangents).

A row with ``diff=False`` (comparisons, rounding, indices, predicates, counts) is checked for
its value only, computed both on arrays and on tracers inside ``fjac.jvp``, where the result
must be a plain value, not a tracer. ``protocol=True`` rows are checked a second time through
NumPy's own functions on tracers (``np.sin(tracer)``), against the same JAX results.

``test_table_covers_every_export`` keeps the table complete: each exported name has a
differentiable row, or is listed in ``VALUE_ONLY`` or ``EXCLUDED`` with the reason.

JAX is only a test dependency (the ``oracle`` extra); without it this module is skipped.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import types
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")

# XLA's CPU compiler, told to compile the many tiny programs below quickly (its defaults
# optimize for run time, irrelevant at these sizes; the arithmetic is the same): about three
# times less time for this module. XLA aborts the process on a flag it does not know, and flags
# come and go between versions, so they are tried in a subprocess first; XLA_FLAGS of the user's
# own are left alone. XLA reads them when JAX first starts its backend, which is after this.
_FAST_COMPILE = ("--xla_cpu_use_fusion_emitters=false --xla_backend_optimization_level=0 "
                 "--xla_llvm_disable_expensive_passes=true")
if "XLA_FLAGS" not in os.environ:
    _probe = subprocess.run(
        [sys.executable, "-c", "import jax.numpy as jnp; jnp.zeros(1).block_until_ready()"],
        env={**os.environ, "XLA_FLAGS": _FAST_COMPILE, "JAX_PLATFORMS": "cpu"},
        capture_output=True, timeout=300, check=False,
    )
    if _probe.returncode == 0:
        os.environ["XLA_FLAGS"] = _FAST_COMPILE

import jax.numpy as jnp  # noqa: E402

import fjac  # noqa: E402
import fjac.extend  # noqa: E402
import fjac.numpy as fnp  # noqa: E402
import fjac.numpy.linalg as fla  # noqa: E402

RTOL, ATOL = 1e-10, 1e-12

# ---------------------------------------------------------------------------------------------
# Inputs: one generator, drawn in table order, so every run sees the same numbers.

_rng = np.random.default_rng(20240611)


def normal(*shape: int) -> np.ndarray:
    return np.asarray(_rng.normal(size=shape))


def uniform(lo: float, hi: float, *shape: int) -> np.ndarray:
    return np.asarray(_rng.uniform(lo, hi, size=shape))


def positive(*shape: int) -> np.ndarray:
    """In (0.5, 2.5): for log, sqrt, bases of power, weights."""
    return uniform(0.5, 2.5, *shape)


def nonzero(*shape: int) -> np.ndarray:
    """|x| in (0.3, 2), either sign: away from the kinks of abs (and the poles of 1/x)."""
    return uniform(0.3, 2.0, *shape) * np.where(_rng.random(shape) < 0.5, -1.0, 1.0)


def well(n: int, *batch: int) -> np.ndarray:
    """A well-conditioned (diagonally dominated) square matrix, or a stack of them."""
    return normal(*batch, n, n) + n * np.eye(n)


def spd(n: int, *batch: int) -> np.ndarray:
    """A symmetric positive-definite matrix X Xᵀ + n I (or a stack)."""
    x = normal(*batch, n, n)
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def sym_distinct(n: int) -> np.ndarray:
    """A symmetric matrix with well-separated eigenvalues (gaps >= 1), of both signs."""
    q, _ = np.linalg.qr(normal(n, n))
    w = np.arange(n) * 1.3 - n / 2 + uniform(-0.2, 0.2, n)
    return (q * w) @ q.T


def distinct_sv(m: int, n: int, *batch: int) -> np.ndarray:
    """A matrix with well-separated, nonzero singular values (for svd, pinv, qr, lstsq)."""
    k = min(m, n)
    u, _ = np.linalg.qr(normal(*batch, m, k))
    v, _ = np.linalg.qr(normal(*batch, n, k))
    s = 1.0 + np.arange(k)[::-1] * 0.9 + uniform(0.0, 0.1, k)
    return (u * s) @ np.swapaxes(v, -1, -2)


# ---------------------------------------------------------------------------------------------
# The table


@dataclasses.dataclass
class Case:
    name: str  # the exported name this row covers: "sin", "linalg.solve"; "getitem": x[idx]
    fn: Callable[..., Any]  # fn(m, *args) with m = fjac.numpy or jax.numpy
    args: tuple[np.ndarray, ...]  # float64 inputs, differentiated
    id: str = ""
    diff: bool = True  # False: value only (the result has no derivative)
    protocol: bool = False  # also check fn(numpy, *args) on fjac's tracers
    rtol: float = RTOL
    atol: float = ATOL


CASES: list[Case] = []

# Points the rows avoid, where fjac's documented choice is not JAX's (neither is "the"
# derivative, or fjac documents that it has none there):
#   abs/fabs at 0: fjac 0, JAX 1;  hypot at the origin: fjac 0;  linalg.norm (2, Frobenius) at
#   0: fjac 0, JAX NaN;  std where the variance is 0: fjac 0, JAX NaN;  clip with a == a bound:
#   fjac all to a, JAX half to each;  linalg.det at a singular matrix: fjac documents inf/NaN
#   (det(a) inv(a)ᵀ), JAX gives the adjugate;  eigenvector and singular-vector derivatives at
#   repeated values, pinv/lstsq where the rank changes: undefined in both;  ties of sort and
#   of repeated writes in .at[].set: an order convention.
# And two where JAX is the less accurate one, also avoided: fmod/remainder where x1/x2 rounds
# to an integer that is not the quotient used (fmod(1.0, 0.1): JAX's derivative in x2 is -10,
# fjac's -9, the one consistent with the value 0.0999...); sinc at |x| ~ 1e-5, where JAX's
# formula cancels (relative error ~2e-7) and fjac's series does not.


def case(name: str, fn: Callable[..., Any], *args: np.ndarray, label: str = "", **kw: Any) -> None:
    cid = f"{name}[{label}]" if label else name
    n = sum(c.id == cid or c.id.startswith(cid + "#") for c in CASES)
    CASES.append(Case(name, fn, tuple(args), id=cid if n == 0 else f"{cid}#{n}", **kw))


def value_only(name: str, fn: Callable[..., Any], *args: np.ndarray, **kw: Any) -> None:
    case(name, fn, *args, diff=False, **kw)


def _at(m: Any, x: Any) -> Any:
    """``x.at`` in JAX; ``fjac.numpy.at(x)`` in fjac (which works on arrays and tracers)."""
    return x.at if m is jnp else m.at(x)


# --- unary elementwise: name -> input domain --------------------------------------------------
UNARY: dict[str, Callable[..., np.ndarray]] = {
    "negative": normal, "positive": normal, "exp": normal, "exp2": normal, "expm1": normal,
    "log": positive, "log2": positive, "log10": positive,
    "log1p": lambda *s: uniform(-0.5, 2.0, *s),
    "sqrt": positive,
    "cbrt": nonzero,  # inf derivative at 0
    "square": normal, "reciprocal": nonzero,
    "sin": normal, "cos": normal, "tan": lambda *s: uniform(-1.2, 1.2, *s),
    "arcsin": lambda *s: uniform(-0.9, 0.9, *s), "arccos": lambda *s: uniform(-0.9, 0.9, *s),
    "arctan": normal, "sinh": normal, "cosh": normal, "tanh": normal, "arcsinh": normal,
    "arccosh": lambda *s: uniform(1.2, 3.0, *s),
    "arctanh": lambda *s: uniform(-0.9, 0.9, *s),
    "deg2rad": normal, "rad2deg": normal, "degrees": normal, "radians": normal,
    "sinc": lambda *s: 2.0 * normal(*s),
    # At 0 fjac's documented derivative of |x| is 0 and JAX's is 1 (docs/comparison.md):
    # inputs stay away from 0.
    "absolute": nonzero, "abs": nonzero, "fabs": nonzero,
}
for _name, _dom in UNARY.items():
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x), _dom(3, 4), protocol=True)
for _name in ("sin", "exp", "log", "sqrt", "tanh"):
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x), UNARY[_name](), label="0d")

# astype between floating dtypes is differentiable; to an integer dtype it is a constant.
case("astype", lambda m, x: m.astype(x, np.float32), normal(3, 4), label="f32")
case("astype", lambda m, x: m.astype(x, np.float64) * 2.0, normal(3, 4), label="f64")
value_only("astype", lambda m, x: m.astype(3.0 * x, np.int64), normal(3, 4), label="int")

# --- nondifferentiable unary: values only ------------------------------------------------------
for _name in ("sign", "floor", "ceil", "trunc", "rint", "signbit", "isnan", "isfinite", "isinf"):
    value_only(_name, lambda m, x, _n=_name: getattr(m, _n)(x), 3.0 * normal(3, 4), protocol=True)
# jax.numpy has no fix (NumPy deprecated it); for floats it is trunc.
value_only("fix", lambda m, x: (jnp.trunc if m is jnp else m.fix)(x), 3.0 * normal(3, 4))
value_only("round", lambda m, x: m.round(x), 3.0 * normal(3, 4))
value_only("round", lambda m, x: m.round(x, 2), 3.0 * normal(3, 4), label="decimals")
value_only("around", lambda m, x: m.around(x, 1), 3.0 * normal(3, 4))
_special = np.array([np.nan, 1.0, np.inf, 1.0, -np.inf, np.nan])
value_only("isnan", lambda m, x: m.isnan(x * _special), nonzero(6), label="nan,inf")
value_only("isinf", lambda m, x: m.isinf(x * _special), nonzero(6), label="nan,inf")
value_only("isfinite", lambda m, x: m.isfinite(x * _special), nonzero(6), label="nan,inf")
value_only("logical_not", lambda m, x: m.logical_not(x > 0), normal(3, 4))
for _name in ("logical_and", "logical_or", "logical_xor"):
    value_only(_name, lambda m, x, y, _n=_name: getattr(m, _n)(x > 0, y > 0), normal(3, 4),
               normal(4))

# --- binary elementwise ------------------------------------------------------------------------
BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (3,))]
BINARY: dict[str, tuple[Callable[..., np.ndarray], Callable[..., np.ndarray], int]] = {
    # name: (domain of x1, domain of x2, how many of BINARY_SHAPES)
    "add": (normal, normal, 4), "subtract": (normal, normal, 4),
    "multiply": (normal, normal, 4), "divide": (normal, nonzero, 4),
    "true_divide": (normal, nonzero, 2),
    "power": (positive, normal, 4), "float_power": (positive, normal, 2),
    # random draws never tie, so the half-half convention at x1 == x2 is not reached
    "maximum": (normal, normal, 4), "minimum": (normal, normal, 2),
    "fmax": (normal, normal, 2), "fmin": (normal, normal, 2),
    "arctan2": (normal, normal, 4), "hypot": (normal, normal, 4),
    "logaddexp": (normal, normal, 2), "logaddexp2": (normal, normal, 2),
    # jumps where x1/x2 is an integer: random draws miss them
    "remainder": (lambda *s: 3.0 * normal(*s), nonzero, 2),
    "mod": (lambda *s: 3.0 * normal(*s), nonzero, 2),
    "fmod": (lambda *s: 3.0 * normal(*s), nonzero, 2),
    # copysign: x1 nonzero (|x1| has a kink at 0); x2 nonzero (the sign is then well defined)
    "copysign": (nonzero, nonzero, 2),
}
for _name, (_d1, _d2, _k) in BINARY.items():
    for _s1, _s2 in BINARY_SHAPES[:_k]:
        case(_name, lambda m, x, y, _n=_name: getattr(m, _n)(x, y), _d1(*_s1), _d2(*_s2),
             label=f"{_s1}x{_s2}", protocol=True)
case("power", lambda m, x: m.power(x, 3), normal(3, 4), label="int exponent")
case("power", lambda m, x: m.power(2.5, x), normal(3, 4), label="constant base")
case("operators", lambda m, x, y: x**y + 2.0**x - 1.0 / (x + 3.0) ** 2 - x * (-y) % 0.7,
     positive(3, 4), normal(4))

_eq_x = normal(3, 4)
_eq_y = np.where(_rng.random((3, 4)) < 0.4, _eq_x, normal(3, 4))  # some entries equal
for _name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
    value_only(_name, lambda m, x, y, _n=_name: getattr(m, _n)(x, y), _eq_x, _eq_y,
               protocol=True)
value_only("floor_divide", lambda m, x, y: m.floor_divide(x, y), 3.0 * normal(3, 4), nonzero(4),
           protocol=True)
value_only("isclose", lambda m, x, y: m.isclose(x, y + 1e-9), _eq_x, _eq_y)
value_only("allclose", lambda m, x, y: m.allclose(x, x + 1e-9), _eq_x, _eq_y)
value_only("allclose", lambda m, x, y: m.allclose(x, y), _eq_x, _eq_y, label="false")
value_only("array_equal", lambda m, x, y: m.array_equal(x, x), _eq_x, _eq_y)
value_only("array_equal", lambda m, x, y: m.array_equal(x, y), _eq_x, _eq_y, label="false")

# where / clip: conditions and bounds are constants or arguments; draws never tie a bound
_cond = _rng.random((3, 4)) < 0.5
case("where", lambda m, x, y: m.where(_cond, x, y), normal(3, 4), normal(4), protocol=True)
case("where", lambda m, x: m.where(x > 0, m.sin(x), 2.0 * x), normal(5), label="traced cond")
case("clip", lambda m, x: m.clip(x, -0.5, 0.7), normal(3, 4), protocol=True)
case("clip", lambda m, x: m.clip(x, None, 0.3), normal(3, 4), label="upper only")
case("clip", lambda m, x, lo, hi: m.clip(x, lo, hi), normal(3, 4), normal(4) - 1.0,
     normal(4) + 1.0, label="traced bounds")

# --- reductions --------------------------------------------------------------------------------
_X3 = (2, 3, 4)
for _name in ("sum", "mean", "prod", "max", "min", "amax", "amin"):
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x), normal(*_X3), protocol=True)
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=1), normal(*_X3), label="axis=1")
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=(0, 2), keepdims=True),
         normal(*_X3), label="axis=(0,2),keepdims")
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=-1), normal(*_X3), label="axis=-1")
case("sum", lambda m, x: x.sum(axis=0) + x.mean() + x.prod(axis=1).sum(), normal(3, 4),
     label="methods")
case("ptp", lambda m, x: m.ptp(x, axis=1), normal(*_X3))
case("ptp", lambda m, x: m.ptp(x), normal(*_X3), label="all")
for _name in ("var", "std"):
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x), normal(*_X3), protocol=True)
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=0, ddof=1), normal(*_X3),
         label="axis=0,ddof=1")
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=(1, 2), keepdims=True),
         normal(*_X3), label="keepdims")
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=-1, correction=0.5), normal(*_X3),
         label="correction")
case("average", lambda m, x: m.average(x), normal(*_X3))
case("average", lambda m, x, w: m.average(x, axis=1, weights=w), normal(*_X3), positive(3),
     label="weights")
case("average", lambda m, x, w: m.average(x, axis=(0, 2), weights=w), normal(*_X3),
     positive(*_X3), label="full weights")
case("average", lambda m, x, w: m.average(x, axis=-1, weights=w, returned=True), normal(*_X3),
     positive(4), label="returned")
for _name in ("cumsum", "cumprod"):
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x), normal(*_X3), protocol=True)
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=1), normal(*_X3), label="axis=1")
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=-1), normal(*_X3), label="axis=-1")
for _name in ("cumulative_sum", "cumulative_prod"):
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=1), normal(*_X3))
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=0, include_initial=True),
         normal(*_X3), label="include_initial")
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x), normal(5), label="1d")

# indices and truth values: values only (random draws have no ties)
for _name in ("argmax", "argmin"):
    value_only(_name, lambda m, x, _n=_name: getattr(m, _n)(x), normal(*_X3), protocol=True)
    value_only(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=1), normal(*_X3),
               label="axis=1")
    value_only(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=-1, keepdims=True),
               normal(*_X3), label="keepdims")
value_only("argsort", lambda m, x: m.argsort(x), normal(*_X3), protocol=True)
value_only("argsort", lambda m, x: m.argsort(x, axis=0), normal(*_X3), label="axis=0")
value_only("argsort", lambda m, x: m.argsort(x, axis=None), normal(3, 4), label="axis=None")
value_only("nonzero", lambda m, x: m.nonzero(x > 0), normal(3, 4), protocol=True)
for _name in ("all", "any"):
    value_only(_name, lambda m, x, _n=_name: getattr(m, _n)(x > -1.5), normal(*_X3),
               protocol=True)
    value_only(_name, lambda m, x, _n=_name: getattr(m, _n)(x > 0, axis=1), normal(*_X3),
               label="axis=1")
    value_only(_name, lambda m, x, _n=_name: getattr(m, _n)(x > 0, axis=(0, 2), keepdims=True),
               normal(*_X3), label="keepdims")

# constructors and queries
value_only("zeros_like", lambda m, x: m.zeros_like(x), normal(3, 4))
value_only("ones_like", lambda m, x: m.ones_like(x), normal(3, 4))
value_only("ones_like", lambda m, x: m.ones_like(x, dtype=np.int32), normal(3, 4), label="int32")
# empty_like's contents are undefined: shape and dtype only
value_only("empty_like", lambda m, x: (m.empty_like(x).shape, m.empty_like(x).dtype), normal(3, 4))
# full_like: the fill value is differentiated (and x only gives the shape: a zero derivative)
case("full_like", lambda m, x, v: m.full_like(x, v), normal(3, 4), normal())
value_only("full_like", lambda m, x: m.full_like(x, 2, dtype=np.int64), normal(3, 4), label="int")
value_only("result_type", lambda m, x: m.result_type(x, np.float32), normal(3))
# Not compared: result_type(int32, float32), float64 in NumPy (and fjac) but float32 in JAX,
# whose promotion rules differ from NumPy's on purpose.
value_only("result_type", lambda m, x: m.result_type(np.float32, np.float64, np.int8), normal(3),
           label="dtypes")
value_only("shape", lambda m, x: m.shape(x), normal(*_X3))
value_only("ndim", lambda m, x: m.ndim(x), normal(*_X3))
value_only("size", lambda m, x: m.size(x), normal(*_X3))
value_only("size", lambda m, x: m.size(x, 1), normal(*_X3), label="axis")

# --- shapes --------------------------------------------------------------------------------------
case("reshape", lambda m, x: m.reshape(x, (6, 4)), normal(*_X3), protocol=True)
case("reshape", lambda m, x: m.reshape(x, (4, -1)), normal(*_X3), label="-1")
case("reshape", lambda m, x: m.reshape(x, (3, 8), order="F"), normal(*_X3), label="F")
case("reshape", lambda m, x: x.reshape(4, 6) + x.T.reshape(-1)[:24].reshape(4, 6),
     normal(*_X3), label="methods")
case("ravel", lambda m, x: m.ravel(x), normal(*_X3), protocol=True)
case("ravel", lambda m, x: m.ravel(x, order="F"), normal(*_X3), label="F")
case("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), normal(3, 1), protocol=True)
case("transpose", lambda m, x: m.transpose(x), normal(*_X3), protocol=True)
case("transpose", lambda m, x: m.transpose(x, (1, 0, 2)), normal(*_X3), label="axes")
case("swapaxes", lambda m, x: m.swapaxes(x, 0, 2), normal(*_X3), protocol=True)
case("moveaxis", lambda m, x: m.moveaxis(x, 0, -1), normal(*_X3), protocol=True)
case("moveaxis", lambda m, x: m.moveaxis(x, (0, 1), (2, 0)), normal(*_X3), label="tuple")
case("expand_dims", lambda m, x: m.expand_dims(x, (0, 2)), normal(3, 4), protocol=True)
case("squeeze", lambda m, x: m.squeeze(x), normal(1, 3, 1), protocol=True)
case("squeeze", lambda m, x: m.squeeze(x, axis=2), normal(1, 3, 1), label="axis")
case("stack", lambda m, x, y: m.stack([x, y], axis=1), normal(3, 4), normal(3, 4), protocol=True)
case("stack", lambda m, x, y: m.stack((x, y, x)), normal(3), normal(3), label="axis=0")
case("concatenate", lambda m, x, y: m.concatenate([x, y], axis=-1), normal(2, 3), normal(2, 5),
     protocol=True)
case("concatenate", lambda m, x, y: m.concatenate((x, y, x)), normal(2, 3), normal(1, 3),
     label="axis=0")
case("split", lambda m, x: m.split(x, 3, axis=1), normal(4, 6), protocol=True)
case("split", lambda m, x: m.split(x, [1, 3]), normal(5, 2), label="indices")
case("array_split", lambda m, x: m.array_split(x, 3), normal(5, 2), protocol=True)
case("array_split", lambda m, x: m.array_split(x, [2, 3], axis=1), normal(2, 5), label="indices")
case("broadcast_arrays", lambda m, x, y: m.broadcast_arrays(x, y), normal(3, 1), normal(4),
     protocol=True)
case("atleast_1d", lambda m, x: m.atleast_1d(x), normal(), protocol=True)
case("atleast_1d", lambda m, x, y: m.atleast_1d(x, y), normal(), normal(2, 3), label="two")
case("atleast_2d", lambda m, x: m.atleast_2d(x), normal(3), protocol=True)
case("atleast_2d", lambda m, x, y: m.atleast_2d(x, y), normal(), normal(2, 3), label="two")
case("atleast_3d", lambda m, x: m.atleast_3d(x), normal(3), protocol=True)
case("atleast_3d", lambda m, x, y: m.atleast_3d(x, y), normal(2, 3), normal(), label="two")
case("hstack", lambda m, x, y: m.hstack([x, y]), normal(3), normal(2), protocol=True)
case("hstack", lambda m, x, y: m.hstack([x, y]), normal(2, 3), normal(2, 1), label="2d")
case("vstack", lambda m, x, y: m.vstack([x, y]), normal(3), normal(2, 3), protocol=True)
case("dstack", lambda m, x, y: m.dstack([x, y]), normal(2, 3), normal(2, 3), protocol=True)
case("column_stack", lambda m, x, y: m.column_stack([x, y]), normal(3), normal(3, 2),
     protocol=True)
case("tile", lambda m, x: m.tile(x, (2, 1, 2)), normal(3, 2), protocol=True)
case("tile", lambda m, x: m.tile(x, 3), normal(2), label="int")
case("repeat", lambda m, x: m.repeat(x, 2, axis=1), normal(3, 2), protocol=True)
case("repeat", lambda m, x: m.repeat(x, np.array([1, 0, 3]), axis=0), normal(3, 2),
     label="counts")
case("repeat", lambda m, x: m.repeat(x, 2), normal(3, 2), label="flat")
case("flip", lambda m, x: m.flip(x), normal(*_X3), protocol=True)
case("flip", lambda m, x: m.flip(x, axis=1), normal(*_X3), label="axis")
case("fliplr", lambda m, x: m.fliplr(x), normal(3, 4), protocol=True)
case("flipud", lambda m, x: m.flipud(x), normal(3, 4), protocol=True)
case("roll", lambda m, x: m.roll(x, 2, axis=1), normal(*_X3), protocol=True)
case("roll", lambda m, x: m.roll(x, (1, -1), axis=(0, 2)), normal(*_X3), label="tuple")
case("roll", lambda m, x: m.roll(x, 5), normal(*_X3), label="flat")
case("rot90", lambda m, x: m.rot90(x), normal(3, 4), protocol=True)
case("rot90", lambda m, x: m.rot90(x, 3, axes=(1, 2)), normal(*_X3), label="k=3")
_PAD = ((1, 2), (0, 1), (2, 0))
for _mode in ("constant", "edge", "reflect", "symmetric", "wrap"):
    case("pad", lambda m, x, _mo=_mode: m.pad(x, _PAD, mode=_mo), normal(*_X3), label=_mode,
         protocol=_mode == "reflect")
case("pad", lambda m, x: m.pad(x, 2, constant_values=1.5), normal(3, 4), label="value")
# sort: random draws have no ties (at a tie the gather's order is a convention)
case("sort", lambda m, x: m.sort(x), normal(*_X3), protocol=True)
case("sort", lambda m, x: m.sort(x, axis=0), normal(*_X3), label="axis=0")
case("sort", lambda m, x: m.sort(x, axis=None), normal(3, 4), label="axis=None")
case("diff", lambda m, x: m.diff(x), normal(*_X3), protocol=True)
case("diff", lambda m, x: m.diff(x, n=2, axis=0), normal(4, 3), label="n=2")
case("diff", lambda m, x, p: m.diff(x, prepend=p, append=1.5), normal(3, 4), normal(3, 1),
     label="prepend")
# array/asarray: no protocol rows, since numpy.array(...) and numpy.asarray(...) are not
# dispatched by NumPy (__array_function__): on a tracer they convert, which fjac refuses.
case("array", lambda m, x, y: m.array([x, y]), normal(3), normal(3))
case("array", lambda m, x, y: m.array([[x[0], y], [x[1], 2.0]]), normal(2), normal(),
     label="nested")
case("asarray", lambda m, x: m.asarray(x) * 2.0, normal(3, 4))
case("asarray", lambda m, x, y: m.asarray([x, y]), normal(3), normal(3), label="list")

# --- indexing ----------------------------------------------------------------------------------
_mask = np.array([[True, False, True, True, False]] * 2 + [[False] * 5, [True] * 5])
_col_mask = np.array([True, False, False, True, True])
_INDICES: dict[str, Any] = {
    "int": 1, "slice": slice(1, 3), "strides": (slice(None, None, -1), slice(1, None, 2)),
    "ellipsis,newaxis": (Ellipsis, None, 2), "int array": np.array([0, 2, 2, 3]),
    "two int arrays": (np.array([0, 3, 3]), np.array([1, 4, 4])),
    "2d int array": (np.array([[0, 1], [2, 3]]), slice(None)),
    "negative": (-1, np.array([1, 1, -2])), "mixed": (np.array([0, 2]), slice(1, 3)),
    "mask": _mask, "column mask": (slice(None), _col_mask),
    "newaxis,array": (None, Ellipsis, np.array([4, 0])),
}
for _label, _idx in _INDICES.items():
    case("getitem", lambda m, x, _i=_idx: x[_i], normal(4, 5), label=_label,
         protocol=_label == "int array")
case("getitem", lambda m, x: x[1:, np.array([0, 2])][0, 1] * x[2], normal(4, 5), label="chained")

_u = np.array([0, 2, 3])  # unique positions: JAX does not define the order of repeated writes
_rep = np.array([0, 2, 2, 3, 0])
case("at", lambda m, x, v: _at(m, x)[_u, 1].set(v), normal(4, 5), normal(3), label="set")
case("at", lambda m, x, v: _at(m, x)[1:3].set(v), normal(4, 5), normal(5), label="set slice")
case("at", lambda m, x: _at(m, x)[_u].set(2.0), normal(4, 5), label="set constant")
case("at", lambda m, x, v: _at(m, x)[_rep, 1].add(v), normal(4, 5), normal(5), label="add repeated")
case("at", lambda m, x, v: _at(m, x)[:, 1:4].add(v), normal(4, 5), normal(3), label="add slice")
# JAX differentiates a scatter-multiply only when told the indices are unique
case("at", lambda m, x, v: _at(m, x)[_u].multiply(v, **({"unique_indices": True} if m is jnp
                                                        else {})),
     normal(4, 5), normal(3, 5), label="multiply")
case("at", lambda m, x, v: _at(m, x)[_u, 2].min(v), normal(4, 5), normal(3), label="min")
case("at", lambda m, x, v: _at(m, x)[_u, 2].max(v), normal(4, 5), normal(3), label="max")
case("at", lambda m, x: _at(m, x)[_rep, 1:3].get(), normal(4, 5), label="get")
case("take", lambda m, x: m.take(x, np.array([0, 7, 7, 19])), normal(4, 5), protocol=True)
case("take", lambda m, x: m.take(x, np.array([[0, 2], [4, 4]]), axis=1), normal(4, 5),
     label="axis=1")
_order = np.argsort(normal(4, 5), axis=1)
case("take_along_axis", lambda m, x: m.take_along_axis(x, _order, axis=1), normal(4, 5),
     protocol=True)
_order0 = np.argsort(normal(4, 5), axis=0)[:2]
case("take_along_axis", lambda m, x: m.take_along_axis(x, _order0, axis=0), normal(4, 5),
     label="axis=0")

# --- products and matrix structure -------------------------------------------------------------
for _s1, _s2 in [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                 ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (3, 4, 2))]:
    case("matmul", lambda m, x, y: m.matmul(x, y), normal(*_s1), normal(*_s2),
         label=f"{_s1}@{_s2}", protocol=True)
case("matmul", lambda m, x, y: x @ y + (y.T @ x.T).T, normal(3, 4), normal(4, 2), label="@")
for _s1, _s2 in [((3, 4), (4, 2)), ((3, 4), (4,)), ((), (3,)), ((2, 3, 4), (5, 4, 2))]:
    case("dot", lambda m, x, y: m.dot(x, y), normal(*_s1), normal(*_s2), label=f"{_s1}.{_s2}",
         protocol=True)
case("vdot", lambda m, x, y: m.vdot(x, y), normal(2, 3), normal(3, 2), protocol=True)
case("inner", lambda m, x, y: m.inner(x, y), normal(3), normal(3), protocol=True)
case("inner", lambda m, x, y: m.inner(x, y), normal(2, 3), normal(4, 3), label="2d")
case("outer", lambda m, x, y: m.outer(x, y), normal(3), normal(4), protocol=True)
case("outer", lambda m, x, y: m.outer(x, y), normal(2, 2), normal(3), label="flattened")
case("tensordot", lambda m, x, y: m.tensordot(x, y), normal(2, 3, 4), normal(3, 4, 5),
     protocol=True)
case("tensordot", lambda m, x, y: m.tensordot(x, y, 1), normal(2, 3), normal(3, 4), label="1")
case("tensordot", lambda m, x, y: m.tensordot(x, y, ([0, 2], [1, 0])), normal(2, 3, 4),
     normal(4, 2, 5), label="pairs")
for _spec, _shapes in [
    ("ij,jk->ik", [(3, 4), (4, 2)]), ("ii->i", [(4, 4)]), ("ij->", [(3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("i,i", [(4,), (4,)]), ("ij,jk", [(3, 4), (4, 2)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 2)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij->ji", [(3, 4)]), ("i,j->ij", [(3,), (2,)]), ("iij->j", [(3, 3, 2)]),
]:
    case("einsum", lambda m, *xs, _s=_spec: m.einsum(_s, *xs), *[normal(*s) for s in _shapes],
         label=_spec, protocol=True)
case("kron", lambda m, x, y: m.kron(x, y), normal(2, 3), normal(3, 2), protocol=True)
case("kron", lambda m, x, y: m.kron(x, y), normal(3), normal(2, 2), label="1d,2d")
case("trace", lambda m, x: m.trace(x), normal(4, 4), protocol=True)
case("trace", lambda m, x: m.trace(x, offset=1), normal(3, 4), label="offset")
case("trace", lambda m, x: m.trace(x, axis1=1, axis2=2), normal(*_X3), label="axes")
case("diagonal", lambda m, x: m.diagonal(x), normal(4, 4), protocol=True)
case("diagonal", lambda m, x: m.diagonal(x, offset=-1, axis1=1, axis2=2), normal(*_X3),
     label="offset,axes")
case("diag", lambda m, x: m.diag(x), normal(3), protocol=True)
case("diag", lambda m, x: m.diag(x, k=1), normal(3), label="k=1")
case("diag", lambda m, x: m.diag(x, k=-1), normal(3, 4), label="2d,k=-1")
for _name in ("triu", "tril"):
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x), normal(4, 4), protocol=True)
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, k=1), normal(3, 4), label="k=1")
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, k=-1), normal(2, 3, 3), label="stack")

# --- linalg ------------------------------------------------------------------------------------


def _eig_gauge(m: Any, wv: Any) -> Any:
    """Eigenvalues and eigenvectors with each vector's sign fixed (its first entry positive):
    eigenvectors are defined up to sign, and the sign is not differentiated."""
    w, v = wv
    return w, v * m.sign(v[..., :1, :])


def _svd_gauge(m: Any, usv: Any) -> Any:
    u, s, vh = usv
    k = s.shape[-1]
    sign = m.sign(u[..., :1, :k])
    u = m.concatenate([u[..., :k] * sign, u[..., k:]], axis=-1)
    vh = m.concatenate([vh[..., :k, :] * m.swapaxes(sign, -1, -2), vh[..., k:, :]], axis=-2)
    return u, s, vh


def _qr_gauge(m: Any, qr: Any) -> Any:
    q, r = qr
    d = m.sign(m.diagonal(r, axis1=-2, axis2=-1))
    return q * d[..., None, :], r * d[..., :, None]


# Decompositions are differentiated at well-conditioned inputs: diagonally dominated or SPD
# matrices, separated eigenvalues and singular values, full rank for pinv and lstsq. Their
# values and derivatives come from different LAPACK paths in NumPy and JAX, so they agree to
# about 1e-13 rather than to the last bit; RTOL = 1e-10 holds for all of them.
case("linalg.solve", lambda m, a, b: m.linalg.solve(a, b), well(4), normal(4), label="vector",
     protocol=True)
case("linalg.solve", lambda m, a, b: m.linalg.solve(a, b), well(4), normal(4, 2), label="matrix")
case("linalg.solve", lambda m, a, b: m.linalg.solve(a, b), well(3, 2), normal(2, 3, 2),
     label="stack")
case("linalg.solve", lambda m, a, b: m.linalg.solve(a, b), well(3, 2), normal(3, 4),
     label="broadcast b")
case("linalg.inv", lambda m, a: m.linalg.inv(a), well(4), protocol=True)
case("linalg.inv", lambda m, a: m.linalg.inv(a), well(3, 2), label="stack")
case("linalg.det", lambda m, a: m.linalg.det(a), well(4), protocol=True)
case("linalg.det", lambda m, a: m.linalg.det(a), well(3, 2), label="stack")
_neg_det = well(4)[[1, 0, 2, 3]]  # two rows swapped: a negative determinant
case("linalg.slogdet", lambda m, a: tuple(m.linalg.slogdet(a)), well(4), protocol=True)
case("linalg.slogdet", lambda m, a: tuple(m.linalg.slogdet(a)), _neg_det, label="negative")
case("linalg.slogdet", lambda m, a: tuple(m.linalg.slogdet(a)), well(3, 2), label="stack")
# cholesky and eigh: fjac treats the input as symmetric (a tangent dA acts as (dA + dAᵀ)/2), as
# does JAX's default symmetrize_input=True; the tangents here are not symmetric, so that
# convention is compared too.
case("linalg.cholesky", lambda m, a: m.linalg.cholesky(a), spd(4), protocol=True)
case("linalg.cholesky", lambda m, a: m.linalg.cholesky(a, upper=True), spd(4), label="upper")
case("linalg.cholesky", lambda m, a: m.linalg.cholesky(a), spd(3, 2), label="stack")
case("linalg.eigh", lambda m, a: _eig_gauge(m, m.linalg.eigh(a)), sym_distinct(4), protocol=True)
case("linalg.eigh", lambda m, a: _eig_gauge(m, m.linalg.eigh(a, UPLO="U")), sym_distinct(4),
     label="U")
case("linalg.eigh", lambda m, a: m.linalg.eigh(a).eigenvalues, spd(4), label="eigenvalues")
case("linalg.eigvalsh", lambda m, a: m.linalg.eigvalsh(a), sym_distinct(4), protocol=True)
case("linalg.eigvalsh", lambda m, a: m.linalg.eigvalsh(a), spd(3, 2), label="stack")
case("linalg.svd", lambda m, a: _svd_gauge(m, m.linalg.svd(a)), distinct_sv(4, 4),
     protocol=True)
case("linalg.svd", lambda m, a: _svd_gauge(m, m.linalg.svd(a, full_matrices=False)),
     distinct_sv(5, 3), label="tall")
case("linalg.svd", lambda m, a: _svd_gauge(m, m.linalg.svd(a, full_matrices=False)),
     distinct_sv(3, 5), label="wide")
case("linalg.svd", lambda m, a: _svd_gauge(m, m.linalg.svd(a, full_matrices=False)),
     distinct_sv(4, 3, 2), label="stack")
case("linalg.svd", lambda m, a: m.linalg.svd(a, compute_uv=False), distinct_sv(5, 3),
     label="values")
case("linalg.svdvals", lambda m, a: m.linalg.svdvals(a), distinct_sv(3, 5))
case("linalg.svdvals", lambda m, a: m.linalg.svdvals(a), distinct_sv(3, 3, 2), label="stack")
# qr: JAX's derivative covers m >= n only (wide matrices raise NotImplementedError there)
case("linalg.qr", lambda m, a: _qr_gauge(m, m.linalg.qr(a)), distinct_sv(5, 3), protocol=True)
case("linalg.qr", lambda m, a: _qr_gauge(m, m.linalg.qr(a)), distinct_sv(4, 4), label="square")
case("linalg.qr", lambda m, a: _qr_gauge(m, m.linalg.qr(a, mode="complete")), distinct_sv(3, 3),
     label="complete")
case("linalg.qr", lambda m, a: _qr_gauge(m, m.linalg.qr(a)), distinct_sv(4, 3, 2), label="stack")
case("linalg.qr", lambda m, a: m.linalg.qr(a, mode="r") * m.sign(m.diagonal(
    m.linalg.qr(a, mode="r")))[:, None], distinct_sv(5, 3), label="r")
case("linalg.pinv", lambda m, a: m.linalg.pinv(a), distinct_sv(5, 3), protocol=True)
case("linalg.pinv", lambda m, a: m.linalg.pinv(a), distinct_sv(3, 5), label="wide")
case("linalg.pinv", lambda m, a: m.linalg.pinv(a), well(4), label="square")
# lstsq: x, residuals and singular values are compared and differentiated; the rank is a
# value (an integer), checked in its own row
case("linalg.lstsq", lambda m, a, b: [r for i, r in enumerate(m.linalg.lstsq(a, b)) if i != 2],
     distinct_sv(5, 3), normal(5), protocol=True)
case("linalg.lstsq", lambda m, a, b: [r for i, r in enumerate(m.linalg.lstsq(a, b)) if i != 2],
     distinct_sv(5, 3), normal(5, 2), label="matrix b")
case("linalg.lstsq", lambda m, a, b: m.linalg.lstsq(a, b)[0], distinct_sv(3, 5), normal(3),
     label="wide")
# the rank as a Python int: NumPy's (and fjac's) is an int32 scalar, JAX's an int64 array
value_only("linalg.lstsq", lambda m, a, b: int(m.linalg.lstsq(a, b)[2]), distinct_sv(5, 3),
           normal(5), label="rank")
for _n in (3, 1, 0, -2):
    case("linalg.matrix_power", lambda m, a, _k=_n: m.linalg.matrix_power(a, _k), well(3),
         label=str(_n), protocol=_n == 3)
value_only("linalg.matrix_rank", lambda m, a: m.linalg.matrix_rank(a), distinct_sv(4, 3),
           protocol=True)
value_only("linalg.matrix_rank", lambda m, a: m.linalg.matrix_rank(a @ a.T), distinct_sv(4, 3),
           label="deficient")
value_only("linalg.matrix_rank", lambda m, a: m.linalg.matrix_rank(a), distinct_sv(3, 3, 2),
           label="stack")
case("linalg.multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), normal(3, 4),
     normal(4, 5), normal(5, 2), protocol=True)
case("linalg.multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), normal(4),
     normal(4, 5), normal(5), label="vectors")
# norms: random draws have no ties, so the max/min-based orders have one maximizer; 0 is
# avoided (fjac's gradient of the 2-norm there is 0, JAX's NaN: docs/comparison.md)
for _ord in (None, 2, 1, np.inf, -np.inf, 3, -1, 0.5):
    case("linalg.norm", lambda m, x, _o=_ord: m.linalg.norm(x, ord=_o), normal(5),
         label=f"vector ord={_ord}", protocol=_ord is None)
value_only("linalg.norm", lambda m, x: m.linalg.norm(x, ord=0), normal(5), label="ord=0")
for _ord in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
    case("linalg.norm", lambda m, x, _o=_ord: m.linalg.norm(x, ord=_o), distinct_sv(4, 3),
         label=f"matrix ord={_ord}")
case("linalg.norm", lambda m, x: m.linalg.norm(x, axis=1, keepdims=True), normal(*_X3),
     label="axis=1")
case("linalg.norm", lambda m, x: m.linalg.norm(x, ord=2, axis=(1, 2)), normal(*_X3),
     label="matrix axes")
case("linalg.norm", lambda m, x: m.linalg.norm(x, ord="nuc", axis=(2, 0), keepdims=True),
     normal(*_X3), label="nuc axes,keepdims")
case("linalg.norm", lambda m, x: m.linalg.norm(x), normal(*_X3), label="3d")
case("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x), normal(*_X3))
case("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x, ord=1, axis=(0, 2)),
     normal(*_X3), label="ord=1,axes")
case("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x, ord=np.inf, axis=1,
                                                             keepdims=True),
     normal(*_X3), label="inf,keepdims")
case("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x), normal(*_X3))
case("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x, ord=2), normal(*_X3),
     label="ord=2")
case("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x, ord="nuc", keepdims=True),
     normal(*_X3), label="nuc,keepdims")
case("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x, ord=-np.inf), normal(*_X3),
     label="-inf")
case("linalg.vecdot", lambda m, x, y: m.linalg.vecdot(x, y), normal(2, 3), normal(3),
     protocol=True)
case("linalg.vecdot", lambda m, x, y: m.linalg.vecdot(x, y, axis=0), normal(3, 2), normal(3, 1),
     label="axis=0")
case("linalg.matrix_transpose", lambda m, x: m.linalg.matrix_transpose(x), normal(*_X3),
     protocol=True)
case("linalg.trace", lambda m, x: m.linalg.trace(x), normal(*_X3), protocol=True)
case("linalg.trace", lambda m, x: m.linalg.trace(x, offset=-1), normal(*_X3), label="offset")
case("linalg.diagonal", lambda m, x: m.linalg.diagonal(x), normal(*_X3), protocol=True)
case("linalg.diagonal", lambda m, x: m.linalg.diagonal(x, offset=1), normal(*_X3),
     label="offset")
case("linalg.outer", lambda m, x, y: m.linalg.outer(x, y), normal(3), normal(2), protocol=True)
case("linalg.tensordot", lambda m, x, y: m.linalg.tensordot(x, y, axes=1), normal(2, 3),
     normal(3, 4), protocol=True)
case("linalg.tensordot", lambda m, x, y: m.linalg.tensordot(x, y), normal(2, 3, 4),
     normal(3, 4), label="2")
case("linalg.matmul", lambda m, x, y: m.linalg.matmul(x, y), normal(2, 3, 4), normal(4, 2),
     protocol=True)


# --- special points and parameter forms ------------------------------------------------------
# Smooth points where a careless rule divides by zero or takes log(0): products with zeros,
# 0 ** y for y > 1, sinc at 0 (these derivatives are exact in both libraries).
_zeros = normal(3, 4)
_zeros[0, 1] = _zeros[2, 2] = _zeros[1, 1] = 0.0
case("prod", lambda m, x: m.prod(x, axis=1), _zeros, label="zeros")
case("prod", lambda m, x: m.prod(x), _zeros, label="zeros,all")
case("cumprod", lambda m, x: m.cumprod(x, axis=1), _zeros, label="zeros")
case("cumulative_prod", lambda m, x: m.cumulative_prod(x, axis=0, include_initial=True), _zeros,
     label="zeros")
_zero_base = positive(3, 4)
_zero_base[0, 0] = _zero_base[2, 1] = 0.0
case("power", lambda m, x, y: m.power(x, y), _zero_base, uniform(1.5, 3.0, 3, 4), label="0**y")
case("power", lambda m, x: x**3 + m.power(x, 2.0), _zeros, label="0**int")
case("sinc", lambda m, x: m.sinc(x), np.array([0.0, 1.0, -2.0, 0.5]), label="0 and integers")
# Ties where fjac's documented convention is JAX's too (docs/comparison.md): maximum and
# minimum give each argument half; max/min reductions split equally among the tied elements.
_tied = normal(4)
case("maximum", lambda m, x: m.maximum(x, 0.0), np.array([0.0, 1.0, -1.0]), label="relu at 0")
case("minimum", lambda m, x, y: m.minimum(x, y), _tied, np.where([1, 0, 1, 0], _tied, 0.0),
     label="ties")
case("max", lambda m, x: m.max(m.concatenate([x, x[:2]])), _tied, label="tie")
case("min", lambda m, x: m.min(m.stack([x, x, -x]), axis=0), _tied, label="ties,axis")
# negative and reordered axes, broadcasting corners, over-wide pads
_X = (2, 3, 4)
case("mean", lambda m, x: m.mean(x, axis=(-1, -3)), normal(*_X), label="negative axes")
case("std", lambda m, x: m.std(x, axis=None, keepdims=True, ddof=1), normal(*_X),
     label="keepdims,all")
case("transpose", lambda m, x: m.transpose(x, (-1, 0, 1)), normal(*_X), label="negative axes")
case("diagonal", lambda m, x: m.diagonal(x, offset=1, axis1=-1, axis2=0), normal(*_X),
     label="reversed axes")
case("trace", lambda m, x: m.trace(x, offset=-1, axis1=2, axis2=0), normal(*_X),
     label="reversed axes")
case("roll", lambda m, x: m.roll(x, (1, 2), axis=(1, 1)), normal(*_X), label="same axis twice")
case("rot90", lambda m, x: m.rot90(x, 1, axes=(-1, -2)), normal(*_X), label="negative axes")
case("tensordot", lambda m, x, y: m.tensordot(x, y, axes=([-1, 0], [0, 1])), normal(*_X),
     normal(4, 2), label="negative axes")
case("moveaxis", lambda m, x: m.moveaxis(x, (-1, 0), (0, -1)), normal(*_X), label="negative")
case("matmul", lambda m, x, y: m.matmul(x, y), normal(1, 2, 3), normal(4, 1, 3, 2),
     label="broadcast stacks")
case("matmul", lambda m, x, y: m.matmul(x, y), normal(4), normal(2, 4, 3), label="1d@3d")
case("dot", lambda m, x, y: m.dot(x, y), normal(4), normal(2, 4, 3), label="1d.3d")
case("einsum", lambda m, x, y: m.einsum("...,...", x, y), normal(), normal(3), label="scalar")
case("einsum", lambda m, x, y: m.einsum(x, [0, 1], y, [1, 2], [0, 2]), normal(2, 3),
     normal(3, 4), label="sublists")
for _mode in ("reflect", "symmetric", "wrap"):
    case("pad", lambda m, x, _mo=_mode: m.pad(x, ((5, 6),), mode=_mo), normal(3),
         label=f"{_mode} wider than the array")
case("pad", lambda m, x: m.pad(x, ((1, 2), (0, 0)), constant_values=((1.0, 2.0), (3.0, 4.0))),
     normal(3, 2), label="values per side")
case("linalg.norm", lambda m, x: m.linalg.norm(x, ord=1, axis=(-1, -2)), normal(*_X),
     label="matrix ord=1,reversed axes")
case("linalg.norm", lambda m, x: m.linalg.norm(x, ord=-np.inf, axis=(2, 0), keepdims=True),
     normal(*_X), label="matrix ord=-inf,reversed axes,keepdims")
case("linalg.norm", lambda m, x: m.linalg.norm(x, ord=3, axis=-2, keepdims=True), normal(*_X),
     label="vector ord=3,keepdims")
case("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x, ord=0.5, keepdims=True),
     normal(*_X), label="keepdims,all")
case("linalg.vecdot", lambda m, x, y: m.linalg.vecdot(x, y, axis=-3), normal(*_X),
     normal(2, 1, 4), label="axis=-3")
case("linalg.solve", lambda m, a, b: m.linalg.solve(a, b), well(3), normal(2, 3, 4),
     label="broadcast a")
case("linalg.pinv", lambda m, a: m.linalg.pinv(a, hermitian=True), spd(3), label="hermitian")
case("linalg.svd", lambda m, a: _svd_gauge(m, m.linalg.svd(a, hermitian=True)), sym_distinct(3),
     label="hermitian")
case("linalg.matrix_power", lambda m, a: m.linalg.matrix_power(a, -1), well(3, 2), label="stack")
case("linalg.multi_dot", lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]), normal(3, 4),
     normal(4, 2), normal(2, 5), normal(5), label="four")
# indexing corners: masks mixed with slices and integers, masks in updates, negative indices
case("getitem", lambda m, x: x[np.array([[True, False, True], [False, True, True]])],
     normal(2, 3), label="full mask")
case("getitem", lambda m, x: x[np.array([True, False]), 1:], normal(2, 3), label="mask,slice")
case("getitem", lambda m, x: x[..., np.array([True, False, True, True])], normal(*_X),
     label="ellipsis,mask")
case("getitem", lambda m, x: x[np.array([0, 1]), :, np.array([1, 2])], normal(*_X),
     label="separated arrays")
case("at", lambda m, x: _at(m, x)[_mask].set(2.0), normal(4, 5), label="set mask")
case("at", lambda m, x, v: _at(m, x)[_mask].add(v), normal(4, 5), normal(), label="add mask")
case("at", lambda m, x, v: _at(m, x)[np.array([True, False]), 1:].set(v), normal(2, 3), normal(2),
     label="set mask,slice")
case("at", lambda m, x, v: _at(m, x)[np.array([[0], [2]]), np.array([1, 3])].add(v),
     normal(4, 5), normal(2, 2), label="add broadcast indices")
case("at", lambda m, x, v: _at(m, x)[np.array([-1, 1])].min(v), normal(4, 3), normal(3),
     label="min negative")
case("at", lambda m, x, v: _at(m, x)[1:3, ::-1].max(v), normal(4, 3), normal(3),
     label="max reversed slice")

# --- disagreements (see DISAGREEMENTS below) ---------------------------------------------------
case("concatenate", lambda m, x, y: m.concatenate([x, y], axis=None), normal(2, 3), normal(2, 3),
     label="axis=None", protocol=True)
case("average", lambda m, x: m.average(x, axis=1, weights=np.array([1, 2, 3]), returned=True),
     normal(2, 3), label="int weights,returned")

# --- complex values (JAX's convention: a cotangent pairs with a tangent as Re(sum(ct * t))) --
# Complex arguments get complex tangents, complex outputs complex cotangents. Inputs keep
# away from branch cuts (of log, sqrt, the inverse functions) and from 0 (abs, angle).


def cnormal(*shape: int) -> np.ndarray:
    return normal(*shape) + 1j * normal(*shape)


def cright(*shape: int) -> np.ndarray:
    """Re z in (0.5, 2.5): off the cuts of log, sqrt and the powers."""
    return positive(*shape) + 1j * normal(*shape)


def csmall(*shape: int) -> np.ndarray:
    """|Re z|, |Im z| < 0.6: off the cuts of arcsin, arccos, arctan, arctanh."""
    return uniform(-0.6, 0.6, *shape) + 1j * uniform(-0.6, 0.6, *shape)


COMPLEX_UNARY: dict[str, Callable[..., np.ndarray]] = {
    "negative": cnormal, "positive": cnormal, "exp": cnormal, "exp2": cnormal,
    "expm1": cnormal, "log": cright, "log2": cright, "log10": cright, "log1p": cright,
    "sqrt": cright, "square": cnormal, "reciprocal": cright, "sin": cnormal, "cos": cnormal,
    "tan": csmall, "arcsin": csmall, "arccos": csmall, "arctan": csmall, "sinh": cnormal,
    "cosh": cnormal, "tanh": csmall, "arcsinh": csmall, "arccosh": lambda *s: 1.5 + cright(*s),
    "arctanh": csmall, "sinc": cnormal, "absolute": cnormal, "abs": cnormal, "real": cnormal,
    "imag": cnormal, "conj": cnormal, "conjugate": cnormal, "angle": cnormal,
}
for _name, _dom in COMPLEX_UNARY.items():
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x), _dom(3, 4), label="complex",
         protocol=True)
for _name in ("real", "imag", "conj", "conjugate", "angle"):  # on real values, as NumPy allows
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x), nonzero(3, 4), protocol=True)
case("angle", lambda m, x: m.angle(x, deg=True), cnormal(3), label="deg")
# (jax.numpy has no real_if_close: its side is what NumPy's returns)
case("real_if_close", lambda m, x: jnp.real(x + 1e-15j) if m is jnp else m.real_if_close(
    x + 1e-15j), normal(3, 4), label="close")
case("real_if_close", lambda m, z: z if m is jnp else m.real_if_close(z), cnormal(3, 4),
     label="not close")
# real programs through complex intermediates: the three, and more
case("absolute", lambda m, x: m.abs(x * (1 + 2j)), normal(3), label="real*complex")
case("absolute", lambda m, x: m.abs(m.exp(1j * x)), normal(3), label="exp(ix)")
case("astype", lambda m, x: m.real(m.astype(x, np.complex128) * (1 + 2j) ** 2), normal(3),
     label="complex")
case("exp", lambda m, x, y: m.real(m.exp(x + 1j * y) * m.conj(x - 2j * y)), normal(3),
     normal(3), label="real in, real out")
case("multiply", lambda m, x: x * (1 + 2j), normal(3, 4), label="real*complex")
case("sqrt", lambda m, x: m.sqrt(x * (1 + 0j)), nonzero(4), label="of negative reals")
# (not sign: JAX's sign of a complex value has a zero derivative, fjac's is that of z/|z|;
# tests/test_complex.py checks it)
for _name in ("add", "subtract", "multiply", "divide", "maximum", "minimum"):
    case(_name, lambda m, x, y, _n=_name: getattr(m, _n)(x, y), cnormal(3, 4), cright(4),
         label="complex")
    case(_name, lambda m, x, y, _n=_name: getattr(m, _n)(x, y), normal(3, 4), cright(3, 4),
         label="real,complex")
case("power", lambda m, x, y: m.power(x, y), cright(3, 4), cnormal(3, 4), label="complex")
case("power", lambda m, x, y: m.power(x, y), positive(3, 4), cnormal(3, 4), label="real,complex")
case("power", lambda m, x: m.power(x, 3), cnormal(3, 4), label="complex,int")
case("float_power", lambda m, x, y: m.float_power(x, y), cright(3, 4), cnormal(4),
     label="complex")
case("where", lambda m, x, y: m.where(m.real(x) > 0, x, y), cnormal(3, 4), cnormal(3, 4),
     label="complex")
for _name in ("sum", "mean", "prod", "var", "std", "cumsum", "cumprod", "max", "min"):
    case(_name, lambda m, x, _n=_name: getattr(m, _n)(x, axis=1), cnormal(3, 4),
         label="complex")
case("var", lambda m, x: m.var(x, ddof=1), cnormal(3, 4), label="complex,all")
for _name in ("matmul", "dot", "inner", "vdot", "outer", "kron"):
    case(_name, lambda m, x, y, _n=_name: getattr(m, _n)(x, y), cnormal(3, 3), cnormal(3, 3),
         label="complex")
case("vdot", lambda m, x, y: m.vdot(x, y), normal(4), cnormal(4), label="real,complex")
case("matmul", lambda m, x, y: m.matmul(x, y), normal(3, 4), cnormal(4, 2), label="real,complex")
case("einsum", lambda m, x, y: m.einsum("ij,jk->ik", x, y), cnormal(2, 3), cnormal(3, 4),
     label="complex")
case("tensordot", lambda m, x, y: m.tensordot(x, y, axes=1), cnormal(2, 3), cnormal(3, 4),
     label="complex")
case("trace", lambda m, x: m.trace(x), cnormal(3, 3), label="complex")
case("getitem", lambda m, x: x[1:, ::-1], cnormal(3, 4), label="complex")
case("concatenate", lambda m, x, y: m.concatenate([x, y]), cnormal(2, 3), normal(2, 3),
     label="complex,real")
case("sort", lambda m, x: m.sort(x), cnormal(5), label="complex")

CASE_BY_ID = {c.id: c for c in CASES}
assert len(CASE_BY_ID) == len(CASES)

# ---------------------------------------------------------------------------------------------
# Completeness: every exported name is in the table, or listed here with the reason.

# Names whose results have no derivative (comparisons, rounding, predicates, indices, counts,
# constructors that copy only a shape): the table checks their values only, on arrays and on
# fjac's tracers (where they must return plain values).
VALUE_ONLY = {
    "sign", "floor", "ceil", "trunc", "rint", "fix", "round", "around",  # piecewise constant
    "floor_divide",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",  # booleans
    "isnan", "isfinite", "isinf", "signbit", "isclose", "allclose", "array_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "all", "any",
    "argmax", "argmin", "argsort", "nonzero",  # integer indices
    "zeros_like", "ones_like", "empty_like",  # only the shape and dtype of the input matter
    "result_type", "shape", "ndim", "size",  # dtypes and Python ints
    "linalg.matrix_rank",  # an integer
}
# Exported names with no row at all.
EXCLUDED = {
    # namedtuple types, not functions: test_result_types_match_jax compares their fields
    "linalg.SlogdetResult": "a result type",
    "linalg.EighResult": "a result type",
    "linalg.SVDResult": "a result type",
    "linalg.QRResult": "a result type",
}
# Table names that are not exported functions: indexing and operators on arrays.
NOT_EXPORTED = {"getitem", "operators"}


def exported_names() -> set[str]:
    """The public functions of fjac.numpy (which has no ``__all__``: its public attributes,
    less the linalg module) and of fjac.numpy.linalg (its ``__all__``), the latter prefixed."""
    top = {
        n for n in dir(fnp)
        if not n.startswith("_") and not isinstance(getattr(fnp, n), types.ModuleType)
    }
    return top | {f"linalg.{n}" for n in fla.__all__}


def test_table_covers_every_export():
    exported = exported_names()
    assert len(exported) > 180  # the introspection found the namespaces
    differentiated = {c.name for c in CASES if c.diff}
    values = {c.name for c in CASES if not c.diff}
    named = {c.name for c in CASES}
    assert not named - exported - NOT_EXPORTED, "table rows for names fjac does not export"
    assert not (set(EXCLUDED) | VALUE_ONLY) - exported, "stale exclusions"
    assert not set(EXCLUDED) & named, "an excluded name has rows: drop it from EXCLUDED"
    missing = exported - differentiated - VALUE_ONLY - set(EXCLUDED)
    assert not missing, f"exported, differentiable, and not in the oracle table: {sorted(missing)}"
    assert not VALUE_ONLY - values, f"value-only names without a row: {VALUE_ONLY - values}"
    assert not VALUE_ONLY & differentiated, "a VALUE_ONLY name has a differentiated row"


def test_fjac_never_imports_jax():
    """JAX is a test dependency only: fjac and all its modules import with JAX unavailable."""
    code = (
        "import sys, importlib, pkgutil; sys.modules['jax'] = sys.modules['jaxlib'] = None\n"
        "import fjac\n"
        "for m in pkgutil.walk_packages(fjac.__path__, 'fjac.'):\n"
        "    importlib.import_module(m.name)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)


def test_result_types_match_jax():
    """The named results have JAX's field names; on tracers they are fjac's own types. (On
    arrays fjac returns numpy.linalg's results, whose fields are the same.)"""
    a = spd(3)
    decompositions = [
        (fla.SlogdetResult, lambda m, x: m.linalg.slogdet(x)),
        (fla.EighResult, lambda m, x: m.linalg.eigh(x)),
        (fla.SVDResult, lambda m, x: m.linalg.svd(x)),
        (fla.QRResult, lambda m, x: m.linalg.qr(x)),
    ]
    for cls, fn in decompositions:
        fields = type(fn(jnp, a))._fields
        assert cls._fields == fields
        assert type(fn(fnp, a))._fields == fields
        seen: list[Any] = []
        fjac.jvp(lambda x, fn=fn, seen=seen: seen.append(fn(fnp, x)) or x, (a,), (a,))
        assert isinstance(seen[0], cls)


# ---------------------------------------------------------------------------------------------
# The comparison


def _leaves(out: Any) -> tuple[Any, ...]:
    """A result as a flat tuple of arrays (named tuples, lists and tuples are flattened)."""
    if isinstance(out, (tuple, list)):
        return tuple(leaf for o in out for leaf in _leaves(o))
    return (out,)


def _flat(case: Case, m: Any) -> Callable[..., tuple[Any, ...]]:
    return lambda *args: _leaves(case.fn(m, *args))


def _case_rng(case: Case) -> np.random.Generator:
    """Tangents and cotangents from a seed of the row's own: independent of which rows run."""
    return np.random.default_rng(zlib.crc32(case.id.encode()))


def _directions(case: Case, outs: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    rng = _case_rng(case)
    tangents = tuple(_draw(rng, np.shape(a), np.asarray(a).dtype) for a in case.args)
    cotangents = tuple(_draw(rng, o.shape, o.dtype) for o in outs)
    return tangents, cotangents


def _draw(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A random direction of ``shape`` and ``dtype``: complex for a complex value."""
    out = np.asarray(rng.normal(size=shape))
    if np.dtype(dtype).kind == "c":
        out = out + 1j * np.asarray(rng.normal(size=shape))
    return out.astype(dtype)


_JAX_RESULTS: dict[str, Any] = {}
_SINGLY: set[int] = set()  # chunks that failed together: their rows are then computed one by one
_CHUNK = 50


def _compute_with_jax(cases: list[Case]) -> None:
    """Value, JVP and VJP of each row, by JAX, in one jitted function for all the rows: XLA's
    fixed cost per compilation (and JAX's per-operation cost in eager mode) dominates here."""
    fns = [_flat(c, jnp) for c in cases]
    directions = [_directions(c, jax.eval_shape(f, *c.args)) for c, f in zip(cases, fns)]

    @jax.jit
    def run(inputs: Any) -> Any:
        results = []
        for f, (args, tangents, cotangents) in zip(fns, inputs):
            out, tout = jax.jvp(f, args, tangents)
            results.append((out, tout, jax.vjp(f, *args)[1](cotangents)))
        return results

    results = run([(c.args, *d) for c, d in zip(cases, directions)])
    for c, r, d in zip(cases, results, directions):
        _JAX_RESULTS[c.id] = (jax.tree_util.tree_map(np.asarray, r), *d)


def jax_results(case: Case) -> Any:
    """JAX's ``((value, tangent out, cotangents in), tangents, cotangents)`` for a
    differentiable row, computed with the rows near it in the table and cached (the protocol
    rows and the broken-rule tests reuse it)."""
    if case.id not in _JAX_RESULTS:
        rows = [c for c in CASES if c.diff]
        chunk = rows.index(case) // _CHUNK
        if chunk not in _SINGLY:
            try:
                _compute_with_jax(rows[chunk * _CHUNK:(chunk + 1) * _CHUNK])
            except Exception:  # some row is broken: let only that row's test fail
                _SINGLY.add(chunk)
        if case.id not in _JAX_RESULTS:
            _compute_with_jax([case])
    return _JAX_RESULTS[case.id]


def _assert_close(what: str, ours: Any, theirs: Any, case: Case, *, dtype: bool = False) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    if ours.shape != theirs.shape:
        raise AssertionError(f"{case.id}: {what}: shape {ours.shape}, JAX's {theirs.shape}")
    if dtype and ours.dtype != theirs.dtype:
        raise AssertionError(f"{case.id}: {what}: dtype {ours.dtype}, JAX's {theirs.dtype}")
    np.testing.assert_allclose(ours, theirs, rtol=case.rtol, atol=case.atol,
                               err_msg=f"{case.id}: {what} differs from JAX's")


def check_against_jax(case: Case, m: Any = fnp) -> None:
    """Raise AssertionError unless fjac's value, JVP and VJP of the row equal JAX's.

    ``m`` is the module the row's function is written against on fjac's side: ``fjac.numpy``,
    or ``numpy`` itself (NumPy's functions dispatching on fjac's tracers).
    """
    (j_out, j_tout, j_cts), tangents, cotangents = jax_results(case)
    f = _flat(case, m)
    if m is fnp:
        value = f(*case.args)
        assert len(value) == len(j_out), f"{case.id}: {len(value)} outputs, JAX's {len(j_out)}"
        for i, (a, b) in enumerate(zip(value, j_out)):
            _assert_close(f"value {i}", a, b, case, dtype=True)
    out, tout = fjac.jvp(f, case.args, tangents)
    for i, (a, b) in enumerate(zip(out, j_out)):
        _assert_close(f"JVP: primal output {i}", a, b, case)
    for i, (a, b) in enumerate(zip(tout, j_tout)):
        _assert_close(f"JVP: tangent output {i}", a, b, case)
    out, vjp_fn = fjac.vjp(f, *case.args)
    for i, (a, b) in enumerate(zip(out, j_out)):
        _assert_close(f"VJP: primal output {i}", a, b, case)
    for i, (a, b) in enumerate(zip(vjp_fn(cotangents), j_cts)):
        _assert_close(f"VJP: cotangent of argument {i}", a, b, case)


def _assert_same_value(what: str, ours: Any, theirs: Any, case: Case) -> None:
    if isinstance(theirs, np.dtype):
        assert np.dtype(ours) == theirs, f"{case.id}: {what}: {ours}, JAX's {theirs}"
        return
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), (
            f"{case.id}: {what}: {ours!r}, JAX's {theirs!r}")
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same_value(f"{what}[{i}]", a, b, case)
        return
    if isinstance(theirs, (int, bool)):  # a Python number from JAX: fjac's must be one too
        assert type(ours) is type(theirs) and ours == theirs, (
            f"{case.id}: {what}: {ours!r}, JAX's {theirs!r}")
        return
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    where = f"{case.id}: {what}"
    assert ours.shape == theirs.shape, f"{where}: shape {ours.shape}, JAX's {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{where}: dtype {ours.dtype}, JAX's {theirs.dtype}"
    if ours.dtype.kind in "fc":  # round(x, 2): NumPy and JAX may differ in the last bit
        np.testing.assert_allclose(ours, theirs, rtol=case.rtol, atol=case.atol,
                                   err_msg=f"{case.id}: {what} differs from JAX's")
    else:
        np.testing.assert_array_equal(ours, theirs, err_msg=f"{case.id}: {what} differs from JAX's")


def check_value_against_jax(case: Case, m: Any = fnp) -> None:
    """A value-only row: fjac's result, on arrays and on tracers, equals JAX's and is plain."""
    theirs = case.fn(jnp, *case.args)
    if m is fnp:
        _assert_same_value("value", case.fn(fnp, *case.args), theirs, case)
    seen: list[Any] = []

    def traced(*args: Any) -> Any:
        seen.append(case.fn(m, *args))
        return args[0]

    fjac.jvp(traced, case.args, _directions(case, ())[0])
    leaves = _leaves(seen[0])
    assert not any(fjac.extend.is_tracer(leaf) for leaf in leaves), (
        f"{case.id}: a nondifferentiable result is traced under fjac.jvp")
    _assert_same_value("value under fjac.jvp", seen[0], theirs, case)


# ---------------------------------------------------------------------------------------------
# The tests

# Disagreements with JAX found by this oracle (JAX and NumPy agree in each): row id -> a
# reason with a repro. These are fjac defects, left to be fixed; strict, so a fix shows up.
DISAGREEMENTS: dict[str, str] = {
}


def _param(c: Case) -> Any:
    marks = []
    if c.id in DISAGREEMENTS:
        marks.append(pytest.mark.xfail(strict=True, raises=AssertionError,
                                       reason=DISAGREEMENTS[c.id]))
    return pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.diff])
def test_derivatives_match_jax(case):
    check_against_jax(case)


@pytest.mark.parametrize("case", [_param(c) for c in CASES if not c.diff])
def test_values_match_jax(case):
    check_value_against_jax(case)


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.protocol])
def test_numpy_protocol_matches_jax(case):
    """The same row through NumPy's own functions called on fjac's tracers."""
    if case.diff:
        check_against_jax(case, np)
    else:
        check_value_against_jax(case, np)


# ---------------------------------------------------------------------------------------------
# The oracle can fail: with a wrong rule in place, the comparison raises.


def _primitive(name: str) -> Any:
    """fjac's primitive called ``name``, found through the public rule table."""
    (prim,) = [p for p in fjac.extend.jvp_rules if p.name == name]
    return prim


WRONG_RULES = {
    # the derivative of sin taken as sin (not cos)
    "sin": ("sin", lambda t, ans, x: t * fnp.sin(x), lambda g, ans, x: g * fnp.sin(x)),
    # the derivative of det taken as det(a) inv(a) (not its transpose: wrong for a != aᵀ)
    "linalg.det": (
        "det",
        lambda t, ans, a: ans * fnp.sum(fla.inv(a) * t, axis=(-2, -1)),
        lambda g, ans, a: (g * ans)[..., None, None] * fla.inv(a),
    ),
}


@pytest.mark.parametrize("mode", ["JVP", "VJP"])
@pytest.mark.parametrize("case_id", list(WRONG_RULES))
def test_oracle_fails_on_a_wrong_rule(case_id, mode):
    prim_name, wrong_jvp, wrong_vjp = WRONG_RULES[case_id]
    case = CASE_BY_ID[case_id]
    prim = _primitive(prim_name)
    saved = fjac.extend.jvp_rules[prim], fjac.extend.vjp_rules[prim]
    check_against_jax(case)  # right before
    try:
        if mode == "JVP":
            fjac.extend.defjvp(prim, wrong_jvp)
        else:
            fjac.extend.defvjp(prim, wrong_vjp)
        with pytest.raises(AssertionError, match=f"{mode}: (tangent output|cotangent)"):
            check_against_jax(case)
    finally:
        fjac.extend.jvp_rules[prim], fjac.extend.vjp_rules[prim] = saved
    check_against_jax(case)  # and right again after
