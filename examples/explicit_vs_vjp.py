"""Why backpropagation computes VJPs instead of Jacobians: the memory argument, measured.

A layer Y = tanh(X W + b) maps an N x p array X (a batch of N examples) to an N x m array Y.
Its Jacobian ∂Y/∂X has N·m·N·p entries: it grows with the *square* of the batch size, although
almost all of it is zero (example n's output does not depend on example n' ≠ n's input).
Backpropagation never needs it. It needs the vector-Jacobian product: given the gradient V
arriving at Y (an N x m array, shaped like the output) it returns Vᵀ(∂Y/∂X), an N x p array
shaped like the input. That grows linearly with N.

For growing N this script computes both with fjac, asserts that they agree (the VJP equals V
contracted with the explicit Jacobian), and prints a table of sizes, bytes, times and the
peak memory each computation allocated (measured with tracemalloc). If matplotlib is
installed it also saves a plot of bytes and times against N.

    python examples/explicit_vs_vjp.py [plot.png]
"""

import sys
import time
import tracemalloc

import numpy as np

import fjac
import fjac.numpy as fnp

P, M = 8, 4  # features in and out
SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256]  # batch sizes N

rng = np.random.default_rng(0)
W = rng.normal(size=(P, M)) / np.sqrt(P)
b = rng.normal(size=M)


def layer(X):
    return fnp.tanh(X @ W + b)


def best_time(fn, repeat=3):
    """The fastest of ``repeat`` runs of ``fn()``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_bytes(fn):
    """The peak of memory newly allocated (by NumPy and Python) while ``fn()`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def human(n_bytes):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n_bytes < 1024 or unit == "GiB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    raise AssertionError("unreachable")


def measure(N):
    X = rng.normal(size=(N, P))
    V = rng.normal(size=(N, M))  # the gradient arriving at Y

    def explicit():
        return fjac.jacobian(layer)(X)

    def explicit_loop():
        return fjac.jacobian(layer, vectorize=False)(X)

    def vjp():
        _, vjp_fn = fjac.vjp(layer, X)
        return vjp_fn(V)[0]

    J, g = explicit(), vjp()

    # What the table shows, checked: the layout and size of J, that it is block diagonal, and
    # that the VJP is V contracted with J without J ever being formed.
    assert J.shape == (N, M, N, P) and J.size == N * M * N * P
    assert J.nbytes == J.size * J.itemsize
    off_diagonal = J.copy()
    off_diagonal[np.arange(N), :, np.arange(N), :] = 0
    assert not off_diagonal.any(), "example n's output depends only on example n's input"
    assert g.shape == X.shape and V.shape == (N, M)
    np.testing.assert_allclose(g, np.tensordot(V, J, axes=2), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(explicit_loop(), J, rtol=1e-12, atol=1e-14)

    return {
        "N": N,
        "J shape": str(J.shape),
        "J entries": J.size,
        "nonzero": N * M * P,
        "J bytes": J.nbytes,
        "V + VJP bytes": V.nbytes + g.nbytes,
        "jacobian (loop) s": best_time(explicit_loop, repeat=1),
        "jacobian s": best_time(explicit),
        "vjp s": best_time(vjp),
        "jacobian peak": peak_bytes(explicit),
        "vjp peak": peak_bytes(vjp),
    }


def print_table(rows):
    def cell(key, value):
        if key.endswith(" s"):
            return f"{value * 1e3:.2f} ms"
        if "bytes" in key or "peak" in key:
            return human(value)
        return str(value)

    keys = list(rows[0])
    table = [keys] + [[cell(k, r[k]) for k in keys] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(keys))]
    for i, line in enumerate(table):
        print("  ".join(c.rjust(w) for c, w in zip(line, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def plot(rows, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no plot)")
        return
    n = [r["N"] for r in rows]
    fig, (ax_mem, ax_time) = plt.subplots(1, 2, figsize=(10, 4))
    ax_mem.loglog(n, [r["J bytes"] for r in rows], "o-", label="explicit Jacobian")
    ax_mem.loglog(n, [r["V + VJP bytes"] for r in rows], "s-", label="V and the VJP")
    ax_mem.loglog(n, [r["jacobian peak"] for r in rows], "o--", label="jacobian: peak")
    ax_mem.loglog(n, [r["vjp peak"] for r in rows], "s--", label="vjp: peak")
    ax_mem.set(xlabel="batch size N", ylabel="bytes", title=f"memory (p={P}, m={M})")
    ax_time.loglog(n, [r["jacobian (loop) s"] for r in rows], "^-", label="jacobian (loop)")
    ax_time.loglog(n, [r["jacobian s"] for r in rows], "o-", label="jacobian (batched)")
    ax_time.loglog(n, [r["vjp s"] for r in rows], "s-", label="vjp")
    ax_time.set(xlabel="batch size N", ylabel="seconds", title="time")
    for ax in (ax_mem, ax_time):
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    print(f"plot saved to {path}")


def main():
    rows = [measure(N) for N in SIZES]
    print(f"Y = tanh(X W + b): X is N x {P}, Y is N x {M}; J = ∂Y/∂X is N x {M} x N x {P}.\n")
    print_table(rows)

    # The sizes grow as the argument says: J quadratically in N, the VJP linearly.
    first, last = rows[0], rows[-1]
    growth = last["N"] / first["N"]
    assert last["J bytes"] == first["J bytes"] * growth**2
    assert last["V + VJP bytes"] == first["V + VJP bytes"] * growth
    # Measured memory: computing J allocates at least J itself; the VJP stays far below it.
    for r in rows:
        assert r["jacobian peak"] >= r["J bytes"]
    assert last["vjp peak"] < last["J bytes"] / 10
    print(
        f"\nat N = {last['N']} the Jacobian holds {last['J entries']} entries "
        f"({human(last['J bytes'])}), of which {last['nonzero']} are nonzero; the VJP needs "
        f"{human(last['V + VJP bytes'])} for V and its result."
    )
    plot(rows, sys.argv[1] if len(sys.argv) > 1 else "explicit_vs_vjp.png")


if __name__ == "__main__":
    main()
