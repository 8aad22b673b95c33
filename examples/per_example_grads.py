"""Per-example gradients with ``vmap(grad(...))``.

``fjac.grad(loss)(params, x, y)`` of a loss averaged over a batch gives one gradient: the mean
of the examples' gradients. Some methods need each example's gradient separately: clipping
each one before averaging (as differentially private SGD does), gradient-norm diagnostics, or
influence estimates. Write the loss of *one* example, take its gradient, and let ``vmap`` map
that over the batch: ``in_axes=(None, 0, 0)`` shares the parameters and maps x and y along
their first axis. The result has a leading batch axis on every leaf of the parameter pytree.

The script checks the batched gradients against a Python loop over the examples and their
mean against the gradient of the mean loss, then clips them per example.

    python examples/per_example_grads.py
"""

import numpy as np

import fjac
import fjac.numpy as fnp
from fjac.tree import tree_leaves, tree_map

np.set_printoptions(precision=4, suppress=True)


def predict(params, x):
    """A one-hidden-layer network for one example x of shape (3,)."""
    h = fnp.tanh(x @ params["w1"] + params["b1"])
    return h @ params["w2"] + params["b2"]


def example_loss(params, x, y):
    """The squared error of one example (a scalar)."""
    return (predict(params, x) - y) ** 2


def batch_loss(params, xs, ys):
    """The mean squared error over a batch, written with vmap over example_loss."""
    return fnp.mean(fjac.vmap(example_loss, in_axes=(None, 0, 0))(params, xs, ys))


def main():
    rng = np.random.default_rng(0)
    params = {
        "w1": rng.normal(size=(3, 5)), "b1": np.zeros(5),
        "w2": rng.normal(size=5), "b2": np.array(0.0),
    }
    B = 8
    xs = rng.normal(size=(B, 3))
    ys = rng.normal(size=B)

    per_example = fjac.vmap(fjac.grad(example_loss), in_axes=(None, 0, 0))(params, xs, ys)
    for name, g in per_example.items():
        print(f"per-example gradient of {name}: shape {g.shape} = ({B},) + {params[name].shape}")
        assert g.shape == (B, *params[name].shape)

    # The same numbers from a loop over the examples, one grad call each.
    grad_one = fjac.grad(example_loss)
    for i in range(B):
        looped = grad_one(params, xs[i], ys[i])
        for name in params:
            np.testing.assert_allclose(per_example[name][i], looped[name], rtol=1e-12)
    print("matches a Python loop over the examples")

    # Their mean is the gradient of the mean loss.
    full = fjac.grad(batch_loss)(params, xs, ys)
    mean = tree_map(lambda g: g.mean(axis=0), per_example)
    for a, b in zip(tree_leaves(mean), tree_leaves(full)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    print("their mean equals grad of the mean loss\n")

    # Clip each example's whole gradient to norm at most C, then average.
    C = 1.0
    norms = np.sqrt(sum((g.reshape(B, -1) ** 2).sum(axis=1) for g in tree_leaves(per_example)))
    scale = np.minimum(1.0, C / norms)
    clipped = tree_map(lambda g: g * scale.reshape((B,) + (1,) * (g.ndim - 1)), per_example)
    clipped_norms = np.sqrt(sum((g.reshape(B, -1) ** 2).sum(axis=1) for g in tree_leaves(clipped)))
    print("per-example gradient norms:        ", norms)
    print(f"after clipping each to at most {C}:", clipped_norms)
    assert np.all(clipped_norms <= C + 1e-12)
    np.testing.assert_allclose(clipped_norms, np.minimum(norms, C), rtol=1e-12)
    update = tree_map(lambda g: g.mean(axis=0), clipped)
    print("clipped mean gradient of b2:", update["b2"])


if __name__ == "__main__":
    main()
