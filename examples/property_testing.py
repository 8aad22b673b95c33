"""Property-testing your own gradients with ``fjac.testing`` and hypothesis.

Two situations come up in research code:

1. You derived a gradient by hand (to implement it faster, or to put it in a paper) and want
   to know it is right: compare it with ``fjac.grad`` on many random inputs.
2. You wrote a derivative rule yourself, with ``fjac.custom_vjp``: check it against central
   differences with ``fjac.testing.check_grads``, to first and second order, on many inputs.

hypothesis draws the inputs (``fjac.testing.strategies.arrays`` gives arrays whose elements stay
in a domain) and, when a check fails, shrinks the input to a small failing example. The last
part plants a bug in a rule and shows that the property test catches it.

    python examples/property_testing.py      # needs hypothesis (pip install hypothesis)
"""

import numpy as np

import fjac
import fjac.numpy as fnp
from fjac.testing import check_grads, check_jacobian

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from fjac.testing.strategies import arrays
except ImportError:  # the first checks below need only NumPy
    given = None

np.set_printoptions(precision=4, suppress=True)


# 1. A gradient derived by hand: softmax cross-entropy.
#    L(z) = logsumexp(z) − Σ yᵢ zᵢ, and for a probability vector y, ∂L/∂z = softmax(z) − y.


def cross_entropy(z, y):
    return fnp.log(fnp.sum(fnp.exp(z))) - fnp.sum(y * z)


def cross_entropy_grad_by_hand(z, y):
    e = np.exp(z - z.max())
    return e / e.sum() - y


# 2. A derivative rule written by hand: x ↦ x / ‖x‖, with a custom VJP. The Jacobian of
#    u = x/‖x‖ is (I − u uᵀ)/‖x‖, symmetric, so the VJP is (g − u (u·g)) / ‖x‖.


@fjac.custom_vjp
def normalize(x):
    return x / fnp.sqrt(fnp.sum(x**2))


def normalize_fwd(x):
    norm = fnp.sqrt(fnp.sum(x**2))
    u = x / norm
    return u, (u, norm)


def normalize_bwd(res, g):
    u, norm = res
    return ((g - u * fnp.sum(u * g)) / norm,)


normalize.defvjp(normalize_fwd, normalize_bwd)


# The same function with a planted bug: the bwd forgets the projection term.
@fjac.custom_vjp
def normalize_buggy(x):
    return x / fnp.sqrt(fnp.sum(x**2))


normalize_buggy.defvjp(normalize_fwd, lambda res, g: (g / res[1],))


def fixed_checks():
    """The same checks at a few fixed points: no hypothesis needed."""
    z = np.array([0.5, -1.0, 2.0])
    y = np.array([0.2, 0.3, 0.5])
    by_hand = cross_entropy_grad_by_hand(z, y)
    print("softmax cross-entropy gradient, by hand:", by_hand,
          " fjac.grad:", fjac.grad(cross_entropy)(z, y))
    np.testing.assert_allclose(fjac.grad(cross_entropy)(z, y), by_hand, rtol=1e-12)

    x = np.array([3.0, -4.0, 12.0])
    u = x / 13.0
    explicit = (np.eye(3) - np.outer(u, u)) / 13.0
    check_jacobian(normalize, (x,), explicit=explicit)  # jacobian, jacfwd and numerical
    check_grads(normalize, (x,), order=2)  # JVP and VJP, and their derivatives
    print("normalize: check_jacobian and check_grads(order=2) pass at", x)


def property_tests():
    settings_ = settings(max_examples=40, deadline=None, derandomize=True, database=None)

    @settings_
    @given(st.data(), st.integers(min_value=1, max_value=6))
    def test_cross_entropy_gradient(data, k):
        z = data.draw(arrays(shape=k, domain="real"), label="z")
        w = data.draw(arrays(shape=k, domain="positive"), label="w")
        y = w / w.sum()  # a probability vector
        np.testing.assert_allclose(
            fjac.grad(cross_entropy)(z, y), cross_entropy_grad_by_hand(z, y), atol=1e-12
        )

    @settings_
    @given(arrays(shape=st.integers(min_value=1, max_value=5), domain="nonzero"))
    def test_normalize_rule(x):
        check_grads(normalize, (x,), order=2)

    @settings_
    @given(arrays(shape=st.integers(min_value=2, max_value=5), domain="nonzero"))
    def test_buggy_rule(x):
        check_grads(normalize_buggy, (x,), order=1, modes=("rev",))

    test_cross_entropy_gradient()
    print("hypothesis: the hand-derived cross-entropy gradient equals fjac.grad on 40 inputs")
    test_normalize_rule()
    print("hypothesis: normalize's custom VJP passes check_grads(order=2) on 40 inputs")

    try:
        test_buggy_rule()
    except AssertionError as e:
        first_line = str(e).splitlines()[0]
        print("hypothesis: the planted bug is caught:\n   ", first_line)
        assert "VJP, order 1 failed" in first_line
    else:
        raise AssertionError("the buggy rule should have failed its property test")


def main():
    fixed_checks()
    if given is None:
        print("\nhypothesis is not installed (pip install hypothesis): property tests skipped")
        return
    property_tests()


if __name__ == "__main__":
    main()
