"""Random complex programs against JAX, in every transform.

Each program is a random expression over one complex (or real) input vector, drawn from a fixed
seed: operations on complex values (holomorphic ones, ``conj``, ``real``, ``imag``, ``abs``,
products with complex constants, reductions, selections), written once against a module ``m``
(``fjac.numpy`` or ``jax.numpy``). For each, fjac's ``vjp``, ``jvp``, ``grad``,
``value_and_grad``, ``jacobian``, ``jacfwd``, ``hessian`` (``holomorphic=True`` where the
program is holomorphic), ``vmap`` of ``grad`` and ``jit`` of ``grad`` must give JAX's results
(x64). The operations avoid branch cuts, where the two libraries could round to opposite
sides.

JAX is only a test dependency; without it this module is skipped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")

import jax.numpy as jnp  # noqa: E402

import fjac  # noqa: E402
import fjac.extend  # noqa: E402
import fjac.numpy as fnp  # noqa: E402

RTOL, ATOL = 1e-9, 1e-11
N = 3  # the input's length
_C = np.array([[1.0 + 0.5j, -0.3j, 0.2], [0.4, 1.0 - 1.0j, 0.1j], [-0.5 + 0.2j, 0.3, 0.8j]])


@dataclasses.dataclass(frozen=True)
class Op:
    name: str
    arity: int
    holomorphic: bool
    fn: Callable[..., Any]  # fn(m, *values)


def _select(m: Any, a: Any, b: Any) -> Any:
    return m.where(m.real(a) > m.imag(b), a, b)


OPS = [
    Op("sin", 1, True, lambda m, a: m.sin(a)),
    Op("cos", 1, True, lambda m, a: m.cos(a)),
    Op("exp(a/2)", 1, True, lambda m, a: m.exp(a * 0.5)),
    Op("tanh(a/3)", 1, True, lambda m, a: m.tanh(a / 3.0)),
    Op("square", 1, True, lambda m, a: m.square(a) * 0.5),
    Op("scale", 1, True, lambda m, a: a * (0.7 - 0.4j)),
    Op("matmul", 1, True, lambda m, a: _C @ a),
    Op("cumsum", 1, True, lambda m, a: m.cumsum(a) * 0.5),
    Op("mean+", 1, True, lambda m, a: a + m.mean(a)),
    Op("1/(1+a^2)", 1, True, lambda m, a: 1.0 / (1.0 + 0.3 * m.square(m.tanh(a)))),
    Op("conj", 1, False, lambda m, a: m.conj(a)),
    Op("real", 1, False, lambda m, a: m.real(a)),
    Op("imag", 1, False, lambda m, a: m.imag(a)),
    Op("abs", 1, False, lambda m, a: m.abs(a + 2.0)),
    Op("log(1+|a|^2)", 1, False, lambda m, a: m.log(1.0 + m.abs(a) ** 2)),
    Op("angle", 1, False, lambda m, a: m.angle(a + (2.5 + 0.5j))),
    Op("add", 2, True, lambda m, a, b: a + b),
    Op("sub", 2, True, lambda m, a, b: a - b),
    Op("mul", 2, True, lambda m, a, b: a * b),
    Op("div", 2, True, lambda m, a, b: a / (2.0 + m.tanh(b))),
    Op("vdot", 2, False, lambda m, a, b: m.vdot(a, b) * a),
    Op("select", 2, False, _select),
]


@dataclasses.dataclass
class Program:
    id: str
    fn: Callable[..., Any]  # fn(m, z)
    holomorphic: bool
    x: np.ndarray


def _draw(rng: np.random.Generator, depth: int, root: bool = False,
          ) -> tuple[Callable[..., Any], bool, str]:
    """A random expression over the input: (fn(m, z), holomorphic, source)."""
    if depth == 0 or (not root and rng.random() < 0.2):
        return (lambda m, z: z), True, "z"
    op = OPS[rng.integers(len(OPS))]
    kids = [_draw(rng, depth - 1) for _ in range(op.arity)]
    fns = [k[0] for k in kids]

    def fn(m: Any, z: Any) -> Any:
        return op.fn(m, *[f(m, z) for f in fns])

    holo = op.holomorphic and all(k[1] for k in kids)
    return fn, holo, f"{op.name}({', '.join(k[2] for k in kids)})"


def _programs(count: int) -> list[Program]:
    rng = np.random.default_rng(20261202)
    out = []
    for i in range(count):
        fn, holo, src = _draw(rng, 4, root=True)
        real_input = i % 5 == 4  # some programs take a real input
        x = rng.normal(size=N) * 0.8
        if not real_input:
            x = x + 1j * rng.normal(size=N) * 0.8
        out.append(Program(f"{i}:{'real' if real_input else 'complex'}:{src}", fn,
                           holo and not real_input, x))
    return out


PROGRAMS = _programs(40)


def _close(what: str, ours: Any, theirs: Any, prog: Program) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{prog.id}: {what}: shape {ours.shape} vs {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL,
                               err_msg=f"{prog.id}: {what} differs from JAX's")


def _vec(m: Any, prog: Program) -> Callable[[Any], Any]:
    """The program with its output broadcast to the input's length (a vector)."""
    return lambda z: prog.fn(m, z) * np.ones(N)


def _loss(m: Any, prog: Program) -> Callable[[Any], Any]:
    """A real scalar of the program's output."""
    return lambda z: m.sum(m.abs(_vec(m, prog)(z)) ** 2) + m.sum(m.real(_vec(m, prog)(z)))


def _directions(prog: Program, out: Any) -> tuple[Any, Any]:
    rng = np.random.default_rng(len(prog.id))
    t = rng.normal(size=N) + (1j * rng.normal(size=N) if prog.x.dtype.kind == "c" else 0)
    ct = rng.normal(size=np.shape(out))
    if np.asarray(out).dtype.kind == "c":
        ct = ct + 1j * rng.normal(size=np.shape(out))
    return t, ct


@pytest.mark.parametrize("prog", PROGRAMS, ids=[p.id for p in PROGRAMS])
def test_random_complex_program_matches_jax(prog):
    x = prog.x
    f, jf = _vec(fnp, prog), _vec(jnp, prog)
    loss, jloss = _loss(fnp, prog), _loss(jnp, prog)
    j_out = jf(jnp.asarray(x))
    t, ct = _directions(prog, j_out)
    t = t.astype(x.dtype)
    ct = ct.astype(np.asarray(j_out).dtype)

    out, tout = fjac.jvp(f, (x,), (t,))
    j_out, j_tout = jax.jvp(jf, (x,), (t,))
    _close("value", out, j_out, prog)
    _close("jvp", tout, j_tout, prog)
    (cts,) = fjac.vjp(f, x)[1](ct)
    (j_cts,) = jax.vjp(jf, x)[1](ct)
    _close("vjp", cts, j_cts, prog)

    value, g = fjac.value_and_grad(loss)(x)
    j_value, j_g = jax.value_and_grad(jloss)(x)
    _close("loss", value, j_value, prog)
    _close("grad", g, j_g, prog)
    real_part = lambda m: lambda z: m.real(_vec(m, prog)(z))  # noqa: E731
    _close("jacobian of the real part", fjac.jacobian(real_part(fnp))(x),
           jax.jacrev(real_part(jnp))(x), prog)
    if x.dtype.kind == "f":
        _close("jacfwd", fjac.jacfwd(f)(x), jax.jacfwd(jf)(x), prog)
        _close("hessian", fjac.hessian(loss)(x), jax.hessian(jloss)(x), prog)
    if prog.holomorphic:
        _close("jacobian holomorphic", fjac.jacobian(f, holomorphic=True)(x),
               jax.jacrev(jf, holomorphic=True)(x), prog)
        _close("jacfwd holomorphic", fjac.jacfwd(f, holomorphic=True)(x),
               jax.jacfwd(jf, holomorphic=True)(x), prog)
        s, js = (lambda z: fnp.sum(f(z))), (lambda z: jnp.sum(jf(z)))
        _close("hessian holomorphic", fjac.hessian(s, holomorphic=True)(x),
               jax.hessian(js, holomorphic=True)(x), prog)
    batch = np.stack([x, 0.5 * x])
    _close("vmap(grad)", fjac.vmap(fjac.grad(loss))(batch), jax.vmap(jax.grad(jloss))(batch),
           prog)
    _close("jit(grad)", fjac.jit(fjac.grad(loss))(x), j_g, prog)


def test_the_programs_are_varied():
    assert len({p.id for p in PROGRAMS}) == len(PROGRAMS)
    assert sum(p.holomorphic for p in PROGRAMS) >= 5
    assert sum(not p.holomorphic for p in PROGRAMS) >= 5
    used = {op.name for op in OPS if any(op.name + "(" in p.id for p in PROGRAMS)}
    assert len(used) >= len(OPS) - 3, f"operations never drawn: {set(o.name for o in OPS) - used}"


def test_a_wrong_complex_rule_is_caught():
    """The comparison can fail: with conj's transpose taken as the identity (the mistake
    of forgetting the conjugate), some program disagrees with JAX."""
    from fjac._primitives.complex_parts import conj_p

    saved = fjac.extend.vjp_rules[conj_p]
    fjac.extend.defvjp(conj_p, lambda g, ans, x: g)
    try:
        failures = 0
        for prog in PROGRAMS:
            if "conj(" in prog.id:
                try:
                    test_random_complex_program_matches_jax(prog)
                except AssertionError:
                    failures += 1
        assert failures > 0
    finally:
        fjac.extend.vjp_rules[conj_p] = saved
