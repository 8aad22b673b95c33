"""Print a hand-written Jacobian next to the ones fjac computes, and assert that they agree.

The seedNNN_*.py examples import ``check_jacobians`` from here. For a function ``f`` at a point
``x`` it computes the Jacobian four ways and prints them in columns:

- ``by hand``: the matrix of partial derivatives, worked out on paper;
- ``jacobian (loop)``: ``fjac.jacobian(f, vectorize=False)``, one VJP per output element:
  row i is eᵢᵀJ, the VJP with the i-th basis vector of the output space;
- ``jacobian (batched)``: ``fjac.jacobian(f)``, the same VJPs run as one batched backward pass;
- ``jacfwd``: ``fjac.jacfwd(f)``, one JVP per input element: column j is J eⱼ.

Then it computes one VJP vᵀJ with ``fjac.vjp``, which never forms J, and compares it with the
hand-written matrix multiplied by v. Run this file alone for a small demonstration:

    python examples/side_by_side.py
"""

import numpy as np

import fjac
import fjac.numpy as fnp

WIDTH = 120  # characters per printed line


def render(arrays):
    """The arrays of a dict printed in columns under their titles (an array of rank > 2 as the
    2-D matrix of its first axis against the rest)."""
    columns = []
    for title, a in arrays.items():
        a = np.asarray(a, dtype=float) + 0.0  # + 0.0 prints -0.0 as 0.0
        if a.ndim > 2:
            a = a.reshape(a.shape[0], -1)
        text = np.array2string(a, precision=4, suppress_small=True, max_line_width=200)
        lines = [title, *text.splitlines()]
        width = max(len(line) for line in lines)
        columns.append([line.ljust(width) for line in lines])
    blocks, block, used = [], [], 0  # columns that fit in WIDTH characters go side by side
    for c in columns:
        if block and used + 3 + len(c[0]) > WIDTH:
            blocks.append(block)
            block, used = [], 0
        block.append(c)
        used += 3 + len(c[0])
    blocks.append(block)
    return "\n".join(_join(b) for b in blocks)


def _join(columns):
    height = max(len(c) for c in columns)
    for c in columns:
        c.extend([" " * len(c[0])] * (height - len(c)))
    return "\n".join("   ".join(row).rstrip() for row in zip(*columns))


def as_matrix(J, out_shape):
    """A Jacobian of any rank as the textbook 2-D matrix: output elements by input elements."""
    rows = int(np.prod(out_shape))
    return np.asarray(J).reshape(rows, -1)


def check_jacobians(title, explicit, f, x, v, *, tol=1e-12):
    """Print the Jacobian of ``f`` at ``x`` by hand and by fjac, then vᵀJ; assert they agree.

    ``explicit`` is shaped ``out.shape + x.shape`` (fjac's layout); ``v`` is shaped like the
    output. Returns the Jacobian fjac computed.
    """
    out = f(x)
    forms = {
        "by hand": explicit,
        "jacobian (loop)": fjac.jacobian(f, vectorize=False)(x),
        "jacobian (batched)": fjac.jacobian(f)(x),
        "jacfwd": fjac.jacfwd(f)(x),
    }
    _, vjp_fn = fjac.vjp(f, x)
    (vJ,) = vjp_fn(v)
    by_hand = np.tensordot(v, explicit, axes=np.ndim(v))  # vᵀJ from the explicit matrix
    print(f"== {title}")
    print(render({k: as_matrix(J, np.shape(out)) for k, J in forms.items()}))
    print(render({"v": v, "vᵀJ by hand": by_hand, "fjac.vjp(f, x)[1](v)": vJ}))
    print()
    for name, J in forms.items():
        assert np.shape(J) == np.shape(out) + np.shape(x), (name, np.shape(J))
        np.testing.assert_allclose(J, explicit, rtol=tol, atol=tol, err_msg=name)
    assert np.shape(vJ) == np.shape(x)
    np.testing.assert_allclose(vJ, by_hand, rtol=tol, atol=tol, err_msg="vjp")
    return forms["jacobian (batched)"]


def main():
    # y = sin(x) elementwise: J = diag(cos x), and vᵀJ = v * cos(x) needs no matrix at all.
    x = np.array([0.0, 1.0, 2.0])
    v = np.array([1.0, -1.0, 0.5])
    check_jacobians("y = sin(x)", np.diag(np.cos(x)), fnp.sin, x, v)


if __name__ == "__main__":
    main()
