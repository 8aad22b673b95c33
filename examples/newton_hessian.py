"""Newton's method with ``fjac.hessian``, and Hessian-vector products with ``jvp(grad(f))``.

Newton's method minimizes f by solving H(w) d = -∇f(w) for a step d at every iteration; near
the minimum the number of correct digits roughly doubles per step. ``fjac.hessian(f)`` gives H
(forward mode over reverse mode), so the method is three lines.

When w is large, forming H (d x d) is wasteful. A Hessian-vector product H v is the
directional derivative of the gradient along v, which forward mode computes directly:
``fjac.jvp(fjac.grad(f), (w,), (v,))[1]``. Conjugate gradients solve H d = -∇f with such
products alone, which gives Newton steps without any d x d matrix (Newton-CG).

    python examples/newton_hessian.py
"""

import numpy as np

import fjac
import fjac.numpy as fnp

np.set_printoptions(precision=4, suppress=True)


def rosenbrock(w):
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


def newton(f, w, steps, tol=1e-12):
    """Plain Newton iterations; prints f and ‖∇f‖ at each."""
    grad, hess = fjac.grad(f), fjac.hessian(f)
    print("iter   f(w)                ‖∇f(w)‖")
    for i in range(steps):
        g = grad(w)
        print(f"{i:4d}   {float(f(w)):.12e}  {np.linalg.norm(g):.3e}")
        if np.linalg.norm(g) < tol:
            return w, i
        w = w - np.linalg.solve(hess(w), g)
    raise AssertionError(f"Newton's method did not converge in {steps} steps")


def newton_rosenbrock():
    print("== Newton's method on the Rosenbrock function, from (-1.2, 1)")
    w = np.array([-1.2, 1.0])
    H = fjac.hessian(rosenbrock)(w)
    x, y = w
    by_hand = np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]])
    print("Hessian at the start, by hand and by fjac.hessian:\n", by_hand, "\n", H)
    np.testing.assert_allclose(H, by_hand, rtol=1e-13)
    w, iters = newton(rosenbrock, w, steps=20)
    print(f"minimum at {w} after {iters} steps\n")
    np.testing.assert_allclose(w, [1.0, 1.0], atol=1e-10)


# A regularized logistic regression with d weights: convex, so Newton converges from zero.
rng = np.random.default_rng(0)
n, d = 400, 30
X = rng.normal(size=(n, d))
y = (X @ rng.normal(size=d) + 0.5 * rng.normal(size=n) > 0).astype(float)
lam = 0.1


def nll(w):
    z = X @ w
    return fnp.mean(fnp.logaddexp(0.0, z) - y * z) + 0.5 * lam * fnp.sum(w**2)


def hvp(f, w, v):
    """H(w) v without H: the derivative of ∇f at w along v (forward over reverse)."""
    return fjac.jvp(fjac.grad(f), (w,), (v,))[1]


def conjugate_gradient(matvec, b, iters, tol=1e-12):
    """Solve A x = b for symmetric positive definite A, given only x ↦ A x."""
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    for _ in range(iters):
        Ap = matvec(p)
        alpha = (r @ r) / (p @ Ap)
        x = x + alpha * p
        r_new = r - alpha * Ap
        if np.linalg.norm(r_new) < tol:
            break
        p = r_new + (r_new @ r_new) / (r @ r) * p
        r = r_new
    return x


def hessian_vector_products():
    print(f"== Hessian-vector products for a logistic regression with d = {d} weights")
    w = rng.normal(size=d) * 0.1
    v = rng.normal(size=d)
    H = fjac.hessian(nll)(w)
    p = 1 / (1 + np.exp(-(X @ w)))
    by_hand = X.T @ (X * (p * (1 - p))[:, None]) / n + lam * np.eye(d)
    np.testing.assert_allclose(H, by_hand, rtol=1e-12, atol=1e-14)
    Hv = hvp(nll, w, v)
    print("H v from the full Hessian:", (H @ v)[:4], "...")
    print("H v from jvp(grad(f)):    ", Hv[:4], "...")
    np.testing.assert_allclose(Hv, H @ v, rtol=1e-12, atol=1e-14)

    # vmap over the basis vectors rebuilds H one column per product.
    columns = fjac.vmap(lambda e: hvp(nll, w, e))(np.eye(d))
    np.testing.assert_allclose(columns, H, rtol=1e-12, atol=1e-14)
    print("vmap of the HVP over the identity rebuilds H: checked\n")


def newton_cg():
    print("== Newton-CG: Newton steps from Hessian-vector products only")
    w = np.zeros(d)
    grad = fjac.grad(nll)
    for i in range(10):
        g = grad(w)
        print(f"{i:4d}   f = {float(nll(w)):.12f}   ‖∇f‖ = {np.linalg.norm(g):.3e}")
        if np.linalg.norm(g) < 1e-10:
            break
        step = conjugate_gradient(lambda v, w=w: hvp(nll, w, v), -g, iters=2 * d)
        w = w + step
    assert np.linalg.norm(grad(w)) < 1e-10, "Newton-CG should converge in a few steps"

    # The same minimum as Newton's method with the explicit Hessian.
    w_newton, _ = newton(nll, np.zeros(d), steps=10, tol=1e-10)
    np.testing.assert_allclose(w, w_newton, rtol=1e-8, atol=1e-10)
    print("Newton-CG and Newton with the full Hessian reach the same minimum.")


def main():
    newton_rosenbrock()
    hessian_vector_products()
    newton_cg()


if __name__ == "__main__":
    main()
