"""Seed 001: a layer's backward pass is a vector-Jacobian product.

During backpropagation a layer with input x and output h receives ∂l/∂h, the gradient of the
scalar loss with respect to its output, and must hand back ∂l/∂x. Both are vectors, and the
chain rule says

    ∂l/∂x = ∂l/∂h · ∂h/∂x,

a row vector times the layer's Jacobian: a vector-Jacobian product (VJP). In fjac,
``fjac.vjp(layer, x)`` returns the layer's output and exactly this backward function.

This script takes a two-layer network, writes each layer's Jacobian by hand, and then runs
backpropagation by hand: the loss's gradient goes through layer 2's VJP, then layer 1's. The
result must equal ``fjac.grad`` of the whole loss.

    python examples/seed001_layer_backward.py
"""

import numpy as np
from side_by_side import check_jacobians

import fjac
import fjac.numpy as fnp

np.set_printoptions(precision=4, suppress=True)

rng = np.random.default_rng(1)
W1, b1 = rng.normal(size=(3, 2)), rng.normal(size=3)  # layer 1: R² → R³
W2, b2 = rng.normal(size=(2, 3)), rng.normal(size=2)  # layer 2: R³ → R²
target = np.array([0.5, -1.0])


def layer1(x):
    return fnp.tanh(W1 @ x + b1)


def layer2(h):
    return W2 @ h + b2


def loss(x):
    """l = ½‖layer2(layer1(x)) − target‖²."""
    return 0.5 * fnp.sum((layer2(layer1(x)) - target) ** 2)


def main():
    x = np.array([0.3, -0.8])

    # Forward pass, keeping each layer's backward function.
    h, back1 = fjac.vjp(layer1, x)
    y, back2 = fjac.vjp(layer2, h)
    dl_dy = y - target  # ∂l/∂y for l = ½‖y − target‖²

    # Backward pass: each layer turns the gradient at its output into the one at its input.
    (dl_dh,) = back2(dl_dy)
    (dl_dx,) = back1(dl_dh)
    print("backpropagation by hand:", dl_dx, "   fjac.grad(loss):", fjac.grad(loss)(x), "\n")
    np.testing.assert_allclose(dl_dx, fjac.grad(loss)(x), rtol=1e-12)

    # Each backward function is v ↦ vᵀJ for the layer's Jacobian, written here by hand.
    J2 = W2  # ∂(W2 h + b2)/∂h
    J1 = np.diag(1 - h**2) @ W1  # ∂tanh(W1 x + b1)/∂x
    check_jacobians("layer 2: y = W2 h + b2", J2, layer2, h, dl_dy)
    check_jacobians("layer 1: h = tanh(W1 x + b1)", J1, layer1, x, dl_dh)

    # Only the VJP is needed, never J: e.g. J1ᵀ v = W1ᵀ ((1 − h²) ⊙ v) costs no 3 x 2 matrix.
    np.testing.assert_allclose(dl_dx, W1.T @ ((1 - h**2) * (W2.T @ dl_dy)), rtol=1e-12)
    print("each layer's backward function is its VJP; chained, they give the gradient.")


if __name__ == "__main__":
    main()
