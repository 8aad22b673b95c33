"""Train a small multilayer perceptron with ``value_and_grad`` over a dict of parameters.

The parameters are a pytree: a dict of layers, each a dict with a weight matrix ``w`` and a
bias ``b``. ``fjac.value_and_grad(loss)(params, x, y)`` returns the loss and a gradient with
exactly the same structure, so the optimizer is a ``fjac.tree.tree_map`` over both. The data
are synthetic: noisy samples of a smooth function of two variables. The script asserts that
the loss falls by a large factor, that the test loss falls too, and that the gradient agrees
with central differences. It then trains again with ``fjac.jit(value_and_grad)``, which records
the gradient program on the first step and replays it on the others, and asserts that the
parameters come out identical, bit for bit; it prints both training times.

    python examples/train_mlp.py
"""

import time

import numpy as np

import fjac
import fjac.numpy as fnp
from fjac.testing import check_grads
from fjac.tree import tree_leaves, tree_map, tree_structure

SIZES = [2, 16, 16, 1]  # inputs, two hidden layers, one output


def make_data(n, rng):
    x = rng.uniform(-2, 2, size=(n, 2))
    y = np.sin(x[:, :1]) * np.cos(x[:, 1:]) + 0.05 * rng.normal(size=(n, 1))
    return x, y


def init_params(rng):
    """{"layer0": {"w": (2, 16), "b": (16,)}, "layer1": ..., "layer2": ...}."""
    params = {}
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        params[f"layer{i}"] = {
            "w": rng.normal(size=(n_in, n_out)) / np.sqrt(n_in),
            "b": np.zeros(n_out),
        }
    return params


def predict(params, x):
    h = x
    last = len(SIZES) - 2
    for i in range(last + 1):
        layer = params[f"layer{i}"]
        h = h @ layer["w"] + layer["b"]
        if i < last:
            h = fnp.tanh(h)
    return h


def loss(params, x, y):
    """Mean squared error over the batch."""
    return fnp.mean((predict(params, x) - y) ** 2)


def adam(lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
    """Adam as two functions over pytrees: ``init(params)`` and ``update(state, grads)``."""

    def init(params):
        zeros = tree_map(np.zeros_like, params)
        return {"m": zeros, "v": zeros, "t": 0}

    def update(params, grads, state):
        t = state["t"] + 1
        m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
        v = tree_map(lambda v, g: b2 * v + (1 - b2) * g**2, state["v"], grads)
        step = lambda p, m, v: p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        return tree_map(step, params, m, v), {"m": m, "v": v, "t": t}

    return init, update


def main():
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(128, rng)
    x_test, y_test = make_data(256, rng)
    params = init_params(rng)
    n_params = sum(leaf.size for leaf in tree_leaves(params))
    print(f"parameters: {tree_structure(params)}, {n_params} numbers in all\n")

    value_and_grad = fjac.value_and_grad(loss)  # differentiates argument 0, the dict

    # The gradient is a dict shaped like the parameters, and it is right: checked against
    # central differences once, before training.
    value, grads = value_and_grad(params, x_train, y_train)
    assert tree_structure(grads) == tree_structure(params)
    for g, p in zip(tree_leaves(grads), tree_leaves(params)):
        assert g.shape == p.shape and g.dtype == p.dtype
    check_grads(loss, (params, x_train[:8], y_train[:8]), order=1, modes=("rev",))

    first_train, first_test = float(value), float(loss(params, x_test, y_test))
    print(" step   train loss   test loss")
    start = time.perf_counter()
    trained, value = train(value_and_grad, params, x_train, y_train, x_test, y_test)
    eager_seconds = time.perf_counter() - start

    final_train, final_test = float(value), float(loss(trained, x_test, y_test))
    print(f"\ntrain loss {first_train:.4f} → {final_train:.4f}, "
          f"test loss {first_test:.4f} → {final_test:.4f}")
    assert final_train < first_train / 10, "training should cut the loss tenfold"
    assert final_test < first_test / 5, "and the model should generalize to new points"

    # The same training with the gradient program recorded once and replayed: same numbers.
    start = time.perf_counter()
    replayed, _ = train(fjac.jit(value_and_grad), params, x_train, y_train)
    jit_seconds = time.perf_counter() - start
    for a, b in zip(tree_leaves(trained), tree_leaves(replayed)):
        assert np.array_equal(a, b), "jit replays exactly what the traced calls compute"
    print(f"600 steps: {eager_seconds:.2f} s traced, {jit_seconds:.2f} s with fjac.jit "
          "(identical parameters)")


def train(value_and_grad, params, x, y, x_test=None, y_test=None, steps=601):
    """Adam steps from ``params``; prints the losses every 100 steps when given test data."""
    init, update = adam(lr=0.01)
    state = init(params)
    for step in range(steps):
        value, grads = value_and_grad(params, x, y)
        if x_test is not None and step % 100 == 0:
            print(f"{step:5d}   {float(value):10.5f}  {float(loss(params, x_test, y_test)):10.5f}")
        params, state = update(params, grads, state)
    return params, value


if __name__ == "__main__":
    main()
