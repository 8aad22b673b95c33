"""fjac's benchmarks: each workload timed for fjac and for every installed peer, interleaved.

    python benchmarks/run.py            # all workloads
    python benchmarks/run.py --quick    # fewer repeats (a smoke run)
    python benchmarks/run.py --only grad_sin

Peers are optional: autograd, JAX (eager and jit) and torch.func (eager) when installed. fjac is
timed as it traces every call ("fjac") and replaying a recording ("fjac jit": ``fjac.jit`` of the
same transform). Timings are per call, the median over repeats, on one core with one BLAS
thread (and one torch thread); the ratio columns are candidate time / fjac time and candidate
time / fjac jit time, so a ratio above 1 means fjac is faster. Never read one number alone:
compare within one run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# One core for every candidate: XLA's CPU backend starts its own thread pool whatever the
# variables above say. Threads started later (by JAX, torch, BLAS) inherit this mask.
if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import functools  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import fjac  # noqa: E402
import fjac.numpy as fnp  # noqa: E402

try:
    import autograd
    import autograd.numpy as anp
except ImportError:  # optional peer
    autograd = None
try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
except ImportError:  # optional peer
    jax = None
try:
    import torch
    import torch.func

    torch.set_num_threads(1)
except ImportError:  # optional peer
    torch = None

Workload = dict[str, Callable[[], Any]]


def _calls_per_sample(fn: Callable[[], Any], target: float) -> int:
    """How many calls make one timed sample of about ``target`` seconds."""
    fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, int(target / once))


def measure(candidates: Workload, repeats: int, target: float) -> dict[str, float]:
    """Median seconds per call of each candidate, sampled in interleaved rounds."""
    loops = {name: _calls_per_sample(fn, target) for name, fn in candidates.items()}
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            n = loops[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - start) / n)
    return {name: statistics.median(s) for name, s in samples.items()}


# ---------------------------------------------------------------------------------------------
# workloads: each returns {"fjac": fn, "<peer>": fn, ...}, all computing the same thing


def _tensor(a: Any) -> Any:
    """``a`` as a float64 torch tensor (sharing memory with a float64 NumPy array)."""
    return torch.as_tensor(a, dtype=torch.float64)


def grad_sin() -> Workload:
    """grad of sum(sin(x) * x), n = 3: the per-call overhead."""
    x = np.array([0.1, 0.2, 0.3])
    f = fjac.grad(lambda x: fnp.sum(fnp.sin(x) * x))
    fj = fjac.jit(f)
    out = {"fjac": lambda: f(x), "fjac jit": lambda: fj(x)}
    if autograd:
        ag = autograd.grad(lambda x: anp.sum(anp.sin(x) * x))
        out["autograd"] = lambda: ag(x)
    if jax:
        jg = jax.grad(lambda x: jnp.sum(jnp.sin(x) * x))
        jj = jax.jit(jg)
        xj = jnp.asarray(x)
        out["jax"] = lambda: jg(xj).block_until_ready()
        out["jax.jit"] = lambda: jj(xj).block_until_ready()
    if torch:
        tg = torch.func.grad(lambda x: torch.sum(torch.sin(x) * x))
        xt = _tensor(x)
        out["torch.func"] = lambda: tg(xt)
    return out


CHAIN = 200


def _chain(sin: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def f(x: Any) -> Any:
        for _ in range(CHAIN // 2):
            x = sin(x) * 1.01
        return x

    return f


def chain_grad() -> Workload:
    """grad of a chain of 200 scalar operations (100 sin, 100 multiply): per-op overhead."""
    f = fjac.grad(_chain(fnp.sin))
    fj = fjac.jit(f)
    out = {"fjac": lambda: f(0.5), "fjac jit": lambda: fj(0.5)}
    if autograd:
        ag = autograd.grad(_chain(anp.sin))
        out["autograd"] = lambda: ag(0.5)
    if jax:
        jg = jax.grad(_chain(jnp.sin))
        out["jax"] = lambda: jg(0.5).block_until_ready()
    if torch:
        tg = torch.func.grad(_chain(torch.sin))
        x0 = _tensor(0.5)
        out["torch.func"] = lambda: tg(x0)
    return out


def chain_jvp() -> Workload:
    """jvp of the same 200-operation chain (forward mode)."""
    f = _chain(fnp.sin)
    fj = fjac.jit(lambda x, t: fjac.jvp(f, (x,), (t,)))
    out = {"fjac": lambda: fjac.jvp(f, (0.5,), (1.0,)), "fjac jit": lambda: fj(0.5, 1.0)}
    if autograd:
        make_jvp = autograd.make_jvp(_chain(anp.sin))
        out["autograd"] = lambda: make_jvp(0.5)(1.0)
    if jax:
        g = _chain(jnp.sin)
        out["jax"] = lambda: jax.block_until_ready(jax.jvp(g, (0.5,), (1.0,)))
    if torch:
        h = _chain(torch.sin)
        x0, t0 = _tensor(0.5), _tensor(1.0)
        out["torch.func"] = lambda: torch.func.jvp(h, (x0,), (t0,))
    return out


def jacobian_tanh() -> Workload:
    """jacobian of tanh(W @ x), n = 200 (one batched backward pass over 200 basis vectors)."""
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(200, 200)) / 14, rng.normal(size=200)
    f = fjac.jacobian(lambda x: fnp.tanh(W @ x))
    fj = fjac.jit(f)
    out = {"fjac": lambda: f(x), "fjac jit": lambda: fj(x)}
    if autograd:
        ag = autograd.jacobian(lambda x: anp.tanh(anp.dot(W, x)))
        out["autograd"] = lambda: ag(x)
    if jax:
        Wj = jnp.asarray(W)
        jj = jax.jit(jax.jacrev(lambda x: jnp.tanh(Wj @ x)))
        out["jax.jit"] = lambda: jj(x).block_until_ready()
    if torch:
        Wt, xt = _tensor(W), _tensor(x)
        tj = torch.func.jacrev(lambda x: torch.tanh(Wt @ x))
        out["torch.func"] = lambda: tj(xt)
    return out


def hessian_tanh() -> Workload:
    """hessian of sum(tanh(W @ x)), n = 100 (forward over reverse, both vectorized)."""
    rng = np.random.default_rng(1)
    W, x = rng.normal(size=(100, 100)) / 10, rng.normal(size=100)
    f = fjac.hessian(lambda x: fnp.sum(fnp.tanh(W @ x)))
    fj = fjac.jit(f)
    out = {"fjac": lambda: f(x), "fjac jit": lambda: fj(x)}
    if autograd:
        ag = autograd.hessian(lambda x: anp.sum(anp.tanh(anp.dot(W, x))))
        out["autograd"] = lambda: ag(x)
    if jax:
        Wj = jnp.asarray(W)
        jh = jax.jit(jax.hessian(lambda x: jnp.sum(jnp.tanh(Wj @ x))))
        out["jax.jit"] = lambda: jh(x).block_until_ready()
    if torch:
        Wt, xt = _tensor(W), _tensor(x)
        th = torch.func.hessian(lambda x: torch.sum(torch.tanh(Wt @ x)))
        out["torch.func"] = lambda: th(xt)
    return out


def _logistic_loss(np_: Any) -> Callable[..., Any]:
    def loss(w: Any, x: Any, y: Any) -> Any:
        z = np_.dot(x, w)
        return np_.log(1 + np_.exp(-z)) + (1 - y) * z

    return loss


def per_example_grads() -> Workload:
    """per-example gradients of a logistic loss, batch 256, 20 features:
    vmap(grad) against a Python loop of grad (the ratio column: loop / vmap)."""
    rng = np.random.default_rng(2)
    X, y, w = rng.normal(size=(256, 20)), (rng.random(256) > 0.5) * 1.0, rng.normal(size=20)
    g = fjac.grad(_logistic_loss(fnp))
    batched = fjac.vmap(g, in_axes=(None, 0, 0))
    batched_jit = fjac.jit(batched)
    out = {
        "fjac": lambda: batched(w, X, y),
        "fjac jit": lambda: batched_jit(w, X, y),
        "fjac loop": lambda: np.stack([g(w, xi, yi) for xi, yi in zip(X, y)]),
    }
    if autograd:
        ag = autograd.grad(_logistic_loss(anp))
        out["autograd loop"] = lambda: np.stack([ag(w, xi, yi) for xi, yi in zip(X, y)])
    if jax:
        jv = jax.jit(jax.vmap(jax.grad(_logistic_loss(jnp)), in_axes=(None, 0, 0)))
        out["jax.jit"] = lambda: jv(w, X, y).block_until_ready()
    if torch:
        tv = torch.func.vmap(torch.func.grad(_logistic_loss(torch)), in_dims=(None, 0, 0))
        wt, Xt, yt = _tensor(w), _tensor(X), _tensor(y)
        out["torch.func"] = lambda: tv(wt, Xt, yt)
    return out


def _mlp_loss(np_: Any) -> Callable[..., Any]:
    """Softmax cross-entropy of a tanh MLP, written once for any NumPy-like namespace."""

    def loss(params: dict[str, Any], x: Any, labels: Any) -> Any:
        h = np_.tanh(x @ params["w1"] + params["b1"])
        h = np_.tanh(h @ params["w2"] + params["b2"])
        z = h @ params["w3"] + params["b3"]
        z = z - np_.max(z, axis=1, keepdims=True)
        log_p = z - np_.log(np_.sum(np_.exp(z), axis=1, keepdims=True))
        return -np_.mean(log_p[np.arange(z.shape[0]), labels])

    return loss


def _torch_numpy() -> Any:
    """The NumPy names _mlp_loss uses, as torch functions (which take NumPy's ``axis`` and
    ``keepdims``). NumPy's max is torch.amax: torch.max with a dim returns (values, indices)."""
    return types.SimpleNamespace(tanh=torch.tanh, max=torch.amax, log=torch.log, exp=torch.exp,
                                 sum=torch.sum, mean=torch.mean)


def _mlp_data() -> tuple[dict[str, Any], Any, Any]:
    rng = np.random.default_rng(3)
    sizes = [784, 256, 256, 10]
    params = {}
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"w{i}"] = rng.normal(size=(m, n)) / np.sqrt(m)
        params[f"b{i}"] = np.zeros(n)
    return params, rng.normal(size=(128, 784)), rng.integers(0, 10, size=128)


def _mlp_grad_by_hand(params: dict[str, Any], x: Any, labels: Any) -> dict[str, Any]:
    """The MLP's gradient written out in NumPy: forward, then backward layer by layer. The
    floor for any tape: the same matrix products, no bookkeeping."""
    w1, w2, w3 = params["w1"], params["w2"], params["w3"]
    h1 = np.tanh(x @ w1 + params["b1"])
    h2 = np.tanh(h1 @ w2 + params["b2"])
    z = h2 @ w3 + params["b3"]
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    dz = e / np.sum(e, axis=1, keepdims=True)  # softmax; d(mean cross-entropy)/dz below
    dz[np.arange(z.shape[0]), labels] -= 1.0
    dz /= z.shape[0]
    da2 = (dz @ w3.T) * (1.0 - h2 * h2)
    da1 = (da2 @ w2.T) * (1.0 - h1 * h1)
    return {
        "w1": x.T @ da1, "b1": da1.sum(axis=0), "w2": h1.T @ da2, "b2": da2.sum(axis=0),
        "w3": h2.T @ dz, "b3": dz.sum(axis=0),
    }


def mlp() -> Workload:
    """grad of an MLP 784-256-256-10 (batch 128, tanh, softmax cross-entropy) against the
    plain NumPy forward pass (the 'numpy forward' row's ratio is forward / grad time) and the
    gradient written out by hand in NumPy (the floor: the same products, no tape)."""
    params, x, labels = _mlp_data()
    g = fjac.grad(_mlp_loss(fnp))
    gj = fjac.jit(g)
    forward = _mlp_loss(np)
    out = {
        "fjac": lambda: g(params, x, labels),
        "fjac jit": lambda: gj(params, x, labels),
        "numpy forward": lambda: forward(params, x, labels),
        "numpy by hand": lambda: _mlp_grad_by_hand(params, x, labels),
    }
    if autograd:
        ag = autograd.grad(_mlp_loss(anp))
        out["autograd"] = lambda: ag(params, x, labels)
    if jax:
        jg = jax.jit(jax.grad(_mlp_loss(jnp)))
        out["jax.jit"] = lambda: jax.block_until_ready(jg(params, x, labels))
    if torch:
        tg = torch.func.grad(_mlp_loss(_torch_numpy()))
        pt = {k: _tensor(v) for k, v in params.items()}
        xt, lt = _tensor(x), torch.as_tensor(labels)
        out["torch.func"] = lambda: tg(pt, xt, lt)
    return out


def _long_chain(sin: Callable[[Any], Any], n: int) -> Callable[[Any], Any]:
    def f(x: Any) -> Any:
        for _ in range(n // 2):
            x = sin(x) * 1.0001
        return (x * x).sum()

    return f


def chain_20k() -> Workload:
    """grad of a 20,000-operation elementwise chain on a 10-vector."""
    x = np.linspace(0.1, 1.0, 10)
    g = fjac.grad(_long_chain(fnp.sin, 20_000))
    gj = fjac.jit(g)
    out = {"fjac": lambda: g(x), "fjac jit": lambda: gj(x)}
    if autograd:
        ag = autograd.grad(_long_chain(anp.sin, 20_000))
        out["autograd"] = lambda: ag(x)
    if torch:
        tg = torch.func.grad(_long_chain(torch.sin, 20_000))
        xt = _tensor(x)
        out["torch.func"] = lambda: tg(xt)
    return out


WORKLOADS: dict[str, Callable[[], Workload]] = {
    "grad_sin": grad_sin,
    "chain_grad": chain_grad,
    "chain_jvp": chain_jvp,
    "jacobian": jacobian_tanh,
    "hessian": hessian_tanh,
    "per_example": per_example_grads,
    "mlp": mlp,
    "chain_20k": chain_20k,
}


def _peak(fn: Callable[[], Any]) -> tuple[float, int]:
    """Seconds and tracemalloc peak bytes of one call (NumPy reports its buffers)."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak


def memory_report(quick: bool) -> None:
    """Peak memory: grad of the MLP over its forward pass, and the long chains."""
    print("\npeak memory (tracemalloc), one call each")
    params, x, labels = _mlp_data()
    _, fwd_peak = _peak(lambda: _mlp_loss(np)(params, x, labels))
    rows = [("mlp numpy forward", fwd_peak, None)]
    _, hand_peak = _peak(lambda: _mlp_grad_by_hand(params, x, labels))
    rows.append(("mlp numpy by hand", hand_peak, hand_peak / fwd_peak))
    result = sum(v.nbytes for v in _mlp_grad_by_hand(params, x, labels).values())
    rows.append(("mlp gradient itself", result, result / fwd_peak))
    _, grad_peak = _peak(lambda: fjac.grad(_mlp_loss(fnp))(params, x, labels))
    rows.append(("mlp fjac grad", grad_peak, grad_peak / fwd_peak))
    replay = fjac.jit(fjac.grad(_mlp_loss(fnp)))
    replay(params, x, labels)  # the recording; the replay is measured
    _, jit_peak = _peak(lambda: replay(params, x, labels))
    rows.append(("mlp fjac jit grad", jit_peak, jit_peak / fwd_peak))
    if autograd:
        _, ag_peak = _peak(lambda: autograd.grad(_mlp_loss(anp))(params, x, labels))
        rows.append(("mlp autograd grad", ag_peak, ag_peak / fwd_peak))
    for label, peak, ratio in rows:
        extra = f"{ratio:.2f}x the forward" if ratio else ""
        print(f"  {label:<22} {peak / 2**20:9.1f} MiB  {extra}")
    x10 = np.linspace(0.1, 1.0, 10)
    for n in (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000):
        seconds, peak = _peak(functools.partial(fjac.grad(_long_chain(fnp.sin, n)), x10))
        print(f"  chain of {n:>9,} ops   {peak / 2**20:9.1f} MiB  {peak / n:6.0f} B/op  "
              f"{_fmt(seconds)}")
PER_OP = {"chain_grad": CHAIN, "chain_jvp": CHAIN}


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter samples")
    parser.add_argument("--only", action="append", choices=sorted(WORKLOADS), help="workload")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory report")
    args = parser.parse_args(argv)
    repeats, target = (5, 0.02) if args.quick else (15, 0.1)
    names = args.only or list(WORKLOADS)
    peers = [p for p, mod in (("autograd", autograd), ("jax", jax), ("torch", torch)) if mod]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "all"
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
          f"fjac {fjac.__version__}; peers: {', '.join(peers) or 'none installed'}; "
          f"cores: {cores}")
    print(f"median of {repeats} interleaved samples; ratio = candidate / fjac, and candidate / "
          "fjac jit (>1: fjac faster)\n")
    header = (f"{'workload':<12} {'library':<14} {'median':>10} {'per op':>10} {'ratio':>8} "
              f"{'vs jit':>8}")
    print(header)
    print("-" * len(header))
    for name in names:
        medians = measure(WORKLOADS[name](), repeats, target)
        base, jit = medians["fjac"], medians["fjac jit"]
        for lib, t in medians.items():
            per_op = _fmt(t / PER_OP[name]) if name in PER_OP else ""
            ratio = "" if lib == "fjac" else f"{t / base:.2f}x"
            vs_jit = "" if lib == "fjac jit" else f"{t / jit:.2f}x"
            print(f"{name:<12} {lib:<14} {_fmt(t):>10} {per_op:>10} {ratio:>8} {vs_jit:>8}")
    if not args.no_memory and not args.only:
        memory_report(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
