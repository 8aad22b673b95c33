"""Numerically stable functions with ``fjac.custom_vjp``.

Differentiating a formula differentiates it as written, rounding errors and all. Two common
cases where the formula as written gives a NaN gradient though the true derivative is finite:

1. logsumexp(x) = log Σ exp(xᵢ). For large xᵢ, exp overflows to inf: the value is inf and the
   gradient exp(x) / Σ exp(x) is inf / inf = NaN. Shifting by the maximum m first,
   m + log Σ exp(xᵢ − m), fixes the value. With ``custom_vjp`` we also choose the backward
   pass: the gradient is softmax(x) = exp(x − logsumexp(x)), which the forward pass computes
   once and saves as a residual, and the backward pass only multiplies by it.
2. The Euclidean norm ‖x‖ = sqrt(Σ xᵢ²) at x = 0: the chain rule multiplies the derivative of
   sqrt at 0 (infinite) by 2x = 0, which is NaN. The norm has no derivative at 0, but 0 is a
   valid subgradient and the usual choice; a ``custom_vjp`` returns it.

Because the backward functions are written with ``fjac.numpy``, the custom functions can be
differentiated again (``hessian``), pushed forward (``jvp``) and batched (``vmap``). The script
checks all of that.

    python examples/stable_custom_vjp.py
"""

import warnings

import numpy as np

import fjac
import fjac.numpy as fnp
from fjac.testing import check_grads

np.set_printoptions(precision=4, suppress=True)


def logsumexp_naive(x):
    return fnp.log(fnp.sum(fnp.exp(x)))


@fjac.custom_vjp
def logsumexp(x):
    m = fnp.max(x)  # shifting every xᵢ by the same m leaves the value unchanged
    return m + fnp.log(fnp.sum(fnp.exp(x - m)))


def logsumexp_fwd(x):
    out = logsumexp(x)
    return out, fnp.exp(x - out)  # residual: softmax(x), each entry in [0, 1]


def logsumexp_bwd(softmax, g):
    return (g * softmax,)  # one cotangent per argument, shaped like x


logsumexp.defvjp(logsumexp_fwd, logsumexp_bwd)


def norm_naive(x):
    return fnp.sqrt(fnp.sum(x**2))


@fjac.custom_vjp
def norm(x):
    return fnp.sqrt(fnp.sum(x**2))


def norm_fwd(x):
    n = norm(x)
    return n, (x, n)


def norm_bwd(res, g):
    x, n = res
    nonzero = n > 0  # comparisons are never differentiated
    return (g * x / fnp.where(nonzero, n, 1.0),)  # x/‖x‖, and 0 at x = 0


norm.defvjp(norm_fwd, norm_bwd)


def check_logsumexp():
    print("== logsumexp")
    big = np.array([1000.0, 1000.0, 999.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns about the overflow
        naive_value, naive_grad = fjac.value_and_grad(logsumexp_naive)(big)
    value, grad = fjac.value_and_grad(logsumexp)(big)
    softmax = np.exp(big - big.max()) / np.exp(big - big.max()).sum()
    print(f"x = {big}")
    print(f"naive formula: value {naive_value}, gradient {naive_grad}")
    print(f"custom_vjp:    value {value:.6f}, gradient {grad}  (softmax(x) = {softmax})")
    assert np.isinf(naive_value) and np.isnan(naive_grad).all()
    np.testing.assert_allclose(value, 1000 + np.log(2 + np.exp(-1)), rtol=1e-15)
    np.testing.assert_allclose(grad, softmax, rtol=1e-12)

    # Where the naive formula is fine, both agree; the rule passes check_grads to order 2
    # (differentiating twice differentiates logsumexp_bwd, and with it the residual).
    x = np.array([0.3, -1.2, 0.8])
    np.testing.assert_allclose(fjac.grad(logsumexp)(x), fjac.grad(logsumexp_naive)(x), rtol=1e-14)
    check_grads(logsumexp, (x,), order=2)
    p = np.exp(x) / np.exp(x).sum()
    H = fjac.hessian(logsumexp)(x)
    print("hessian of logsumexp = diag(p) − p pᵀ:\n", H)
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), atol=1e-15)
    _, t_out = fjac.jvp(logsumexp, (x,), (np.ones(3),))  # forward mode transposes the bwd
    np.testing.assert_allclose(t_out, 1.0, rtol=1e-14)  # shifting every xᵢ by t adds t

    # vmap batches the function and its rule: one gradient per row, even for huge rows.
    rows = np.stack([x, x + 1000.0, x - 1000.0])
    grads = fjac.vmap(fjac.grad(logsumexp))(rows)
    print("per-row gradients under vmap (rows x, x + 1000, x − 1000):\n", grads, "\n")
    np.testing.assert_allclose(grads, np.tile(p, (3, 1)), rtol=1e-12)


def check_norm():
    print("== the Euclidean norm at 0")
    zero = np.zeros(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0.5 / 0 and 0 * inf
        naive = fjac.grad(norm_naive)(zero)
    print("naive formula: gradient at 0", naive, "  custom_vjp:", fjac.grad(norm)(zero))
    assert np.isnan(naive).all()
    np.testing.assert_array_equal(fjac.grad(norm)(zero), 0.0)

    x = np.array([3.0, -4.0, 12.0])
    np.testing.assert_allclose(fjac.grad(norm)(x), x / 13.0, rtol=1e-15)
    check_grads(norm, (x,), order=2)
    # vmap over a batch with a zero row: each row gets its own branch of the where.
    batch = np.stack([x, zero])
    grads = fjac.vmap(fjac.grad(norm))(batch)
    print("gradients of the rows [3, -4, 12] and [0, 0, 0]:\n", grads)
    np.testing.assert_allclose(grads, [x / 13.0, zero], rtol=1e-15)


def main():
    check_logsumexp()
    check_norm()
    print("\nboth custom rules give finite, correct gradients where the formulas give NaN.")


if __name__ == "__main__":
    main()
