"""The core on its own: bind, levels, both interpreters, multiple results, leaks, threads.

These tests define their own primitives instead of using fjac.numpy, so a failure here points
at the core, not at an operation's rules.
"""

import threading

import numpy as np
import pytest

import fjac
from fjac._core import Primitive, bind, current_level
from fjac._rules import defjvp, defvjp, jvp_rules
from fjac.errors import TracerLeakError

calls = []


def _mul_impl(x, y):
    calls.append("mul")
    return np.multiply(x, y)


mul_p = Primitive("test_mul", _mul_impl)
sin_p = Primitive("test_sin", np.sin)
cos_p = Primitive("test_cos", np.cos)
neg_p = Primitive("test_neg", np.negative)


def mul(x, y):
    return bind(mul_p, x, y)


def sin(x):
    return bind(sin_p, x)


def cos(x):
    return bind(cos_p, x)


def neg(x):
    return bind(neg_p, x)


defjvp(mul_p, lambda t, ans, x, y: mul(t, y), lambda t, ans, x, y: mul(x, t))
defvjp(mul_p, lambda g, ans, x, y: mul(g, y), lambda g, ans, x, y: mul(x, g))
defjvp(sin_p, lambda t, ans, x: mul(t, cos(x)))
defvjp(sin_p, lambda g, ans, x: mul(g, cos(x)))
defjvp(cos_p, lambda t, ans, x: neg(mul(t, sin(x))))
defvjp(cos_p, lambda g, ans, x: neg(mul(g, sin(x))))
defjvp(neg_p, lambda t, ans, x: neg(t))
defvjp(neg_p, lambda g, ans, x: neg(g))

# A primitive with two results, (sin x, cos x), whose rules see tuples with None for zeros.
sincos_p = Primitive("test_sincos", lambda x: (np.sin(x), np.cos(x)), multiple_results=True)


def _sincos_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    s, c = bind(sincos_p, x)
    return (s, c), (mul(t, c), neg(mul(t, s)))


def _sincos_vjp(g, ans, x):
    gs, gc = g
    s, c = bind(sincos_p, x)
    total = None
    if gs is not None:
        total = mul(gs, c)
    if gc is not None:
        term = neg(mul(gc, s))
        total = term if total is None else fjac._core.add_any(total, term)
    return total


jvp_rules[sincos_p] = _sincos_jvp
defvjp(sincos_p, _sincos_vjp)


def test_bind_without_tracers_is_plain_numpy():
    calls.clear()
    out = mul(np.array([1.0, 2.0]), 3.0)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [3.0, 6.0])
    assert calls == ["mul"]


def test_reverse_mode_records_and_replays():
    f = lambda x: mul(sin(x), x)
    x = 0.7
    assert fjac.grad(f)(x) == pytest.approx(np.cos(x) * x + np.sin(x), rel=1e-15)
    out, t = fjac.jvp(f, (x,), (1.0,))
    assert t == pytest.approx(np.cos(x) * x + np.sin(x), rel=1e-15)


def test_second_order_through_rules_written_with_bind():
    # d²/dx² sin(x) = -sin(x), both by reverse-over-reverse and forward-over-reverse
    x = 0.3
    assert fjac.grad(fjac.grad(sin))(x) == pytest.approx(-np.sin(x), rel=1e-15)
    assert fjac.jvp(fjac.grad(sin), (x,), (1.0,))[1] == pytest.approx(-np.sin(x), rel=1e-15)


def test_multiple_results_in_both_modes_and_nested():
    def f(x):
        s, c = bind(sincos_p, x)
        return mul(s, c)  # = sin(2x)/2, derivative cos(2x)

    def only_cos(x):
        return bind(sincos_p, x)[1]

    x = 0.4
    assert fjac.grad(f)(x) == pytest.approx(np.cos(2 * x), rel=1e-14)
    assert fjac.jvp(f, (x,), (1.0,))[1] == pytest.approx(np.cos(2 * x), rel=1e-14)
    assert fjac.grad(only_cos)(x) == pytest.approx(-np.sin(x), rel=1e-14)
    assert fjac.grad(fjac.grad(f))(x) == pytest.approx(-2 * np.sin(2 * x), rel=1e-14)
    # one result used twice: cotangents of the same result accumulate
    g = lambda x: mul(bind(sincos_p, x)[0], bind(sincos_p, x)[0])
    assert fjac.grad(g)(x) == pytest.approx(2 * np.sin(x) * np.cos(x), rel=1e-14)


def test_levels_nest_and_unwind():
    seen = []

    def inner(y):
        seen.append(current_level())
        return mul(y, y)

    def outer(x):
        seen.append(current_level())
        return fjac.grad(inner)(x)

    assert current_level() == 0
    assert fjac.grad(outer)(3.0) == 2.0
    assert seen == [1, 2]
    assert current_level() == 0


def test_level_stack_unwinds_after_an_exception():
    def boom(x):
        raise RuntimeError("inside")

    with pytest.raises(RuntimeError):
        fjac.grad(boom)(1.0)
    assert current_level() == 0


def test_constants_from_outer_levels_are_not_differentiated_by_inner_ones():
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x
    f = lambda x: mul(x, fjac.grad(lambda y: mul(x, y))(1.0))
    assert fjac.grad(f)(3.0) == 6.0


def test_dead_tracer_is_caught_in_any_position():
    box = []
    fjac.grad(lambda x: box.append(x) or mul(x, x))(2.0)
    with pytest.raises(TracerLeakError, match="after grad had returned"):
        mul(box[0], 1.0)
    with pytest.raises(TracerLeakError):
        mul(1.0, box[0])
    with pytest.raises(TracerLeakError):
        fjac.grad(lambda y: mul(y, box[0]))(1.0)
    with pytest.raises(TracerLeakError):
        fjac.jvp(lambda y: mul(box[0], y), (1.0,), (1.0,))


def test_tape_is_freed_after_grad_returns():
    import gc
    import weakref

    class Big(np.ndarray):
        pass

    refs = []

    def f(x):
        y = mul(x, 2.0)
        big = np.ones(1000).view(Big)
        refs.append(weakref.ref(big))
        return fjac.numpy.sum(mul(y, big))

    fjac.grad(f)(np.ones(1000))
    gc.collect()
    assert refs[0]() is None


def test_threads_have_their_own_trace_stacks():
    results = {}
    barrier = threading.Barrier(8)

    def work(k):
        barrier.wait()
        x = 0.1 * (k + 1)
        d = sin
        for _ in range(k % 4 + 1):
            d = fjac.grad(d)
        results[k] = (d(x), k % 4 + 1, x)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    derivs = {1: np.cos, 2: lambda x: -np.sin(x), 3: lambda x: -np.cos(x), 4: np.sin}
    for k, (value, order, x) in results.items():
        assert value == pytest.approx(derivs[order](x), rel=1e-14), (k, order)
