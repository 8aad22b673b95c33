"""Failing well: the errors users read, inputs never mutated, inf/NaN instead of exceptions,
and nothing of a transform's graph left alive after it returns."""

import copy
import gc
import weakref

import numpy as np
import pytest

import fjac
import fjac.numpy as fnp
from fjac.errors import TracerConversionError, UnsupportedOperationError


def test_numpy_function_without_a_rule_names_it_and_the_ways_out():
    with pytest.raises(UnsupportedOperationError, match=r"numpy.unwrap.*custom_vjp.*fjac.extend"):
        fjac.grad(lambda x: np.unwrap(x).sum())(np.ones(3))
    with pytest.raises(UnsupportedOperationError, match=r"numpy.add.reduceat"):
        fjac.grad(lambda x: np.add.reduceat(x, [0, 1]).sum())(np.ones(3))


@pytest.mark.parametrize("convert, kind", [(float, "float"), (int, "int"), (complex, "complex")])
def test_converting_a_tracer_explains_why_and_what_instead(convert, kind):
    with pytest.raises(TracerConversionError, match=rf"to a Python {kind}.*stop_gradient"):
        fjac.grad(lambda x: convert(x) * x)(2.0)


def test_np_array_of_a_tracer_points_to_the_traced_alternatives():
    with pytest.raises(TracerConversionError, match="fjac.numpy functions"):
        fjac.grad(lambda x: np.array(x).sum())(np.ones(2))


def test_grad_of_complex_output():
    with pytest.raises(TypeError, match="needs a real-valued output, got dtype complex128"):
        fjac.grad(lambda x: np.complex128(1j))(1.0)


def test_integer_input_to_jacobian_and_jacfwd():
    for jac in (fjac.jacobian, fjac.jacfwd):
        with pytest.raises(TypeError, match=r"dtype int64 \(integer\)"):
            jac(lambda x: x * 1.0)(np.arange(3))


@pytest.mark.parametrize("transform", [
    lambda f, p: fjac.grad(f)(p),
    lambda f, p: fjac.value_and_grad(f)(p),
    lambda f, p: fjac.vjp(f, p)[1](1.0),
    lambda f, p: fjac.jvp(f, (p,), (fjac.tree.tree_map(np.ones_like, p),)),
    lambda f, p: fjac.jacobian(f)(p),
    lambda f, p: fjac.jacfwd(f)(p),
    lambda f, p: fjac.hessian(f)(p),
    lambda f, p: fjac.vmap(lambda q: f(q), in_axes=None, axis_size=2)(p),
    lambda f, p: fjac.make_graph(f)(p),
])
def test_no_transform_mutates_its_inputs(transform):
    params = {"w": np.array([1.0, 2.0]), "layers": [np.array([[0.5]]), (np.array(3.0),)]}
    before = copy.deepcopy(params)
    ids = (id(params["w"]), id(params["layers"]), id(params["layers"][1]))

    def f(p):
        return fnp.sum(p["w"] ** 2) * p["layers"][0][0, 0] + p["layers"][1][0]

    transform(f, params)
    assert (id(params["w"]), id(params["layers"]), id(params["layers"][1])) == ids
    flat_before, tree_before = fjac.tree.tree_flatten(before)
    flat_after, tree_after = fjac.tree.tree_flatten(params)
    assert tree_before == tree_after
    for a, b in zip(flat_before, flat_after):
        np.testing.assert_array_equal(a, b)


def test_infinite_and_undefined_derivatives_are_values_not_exceptions():
    with np.errstate(divide="ignore", invalid="ignore"):
        assert fjac.grad(fnp.sqrt)(0.0) == np.inf
        assert fjac.grad(fnp.log)(0.0) == np.inf
        assert np.isnan(fjac.grad(fnp.sqrt)(-1.0))  # 0.5 / sqrt(-1)
        assert np.isnan(fjac.grad(lambda x: x * x)(np.nan))  # the derivative 2x propagates NaN
        # The NaN input's own derivative is NaN and the other entry is exact. (0 × NaN is NaN,
        # so a zero entry in the NaN input's column (reverse mode) or row (forward mode) can be
        # NaN too, as in every elementwise autodiff: see docs/sharp-bits.md.)
        for jac in (fjac.jacobian, fjac.jacfwd):
            J = jac(fnp.sqrt)(np.array([np.nan, 4.0]))
            assert np.isnan(J[0, 0]) and J[1, 1] == 0.25


class Marker(np.ndarray):
    """An array type whose instances can be weakly referenced (plain ndarrays can, too)."""


@pytest.mark.parametrize("make", [
    lambda f: lambda x: fjac.grad(f)(x),
    lambda f: lambda x: fjac.jacobian(f)(x),
    lambda f: lambda x: fjac.jacfwd(f)(x),
    lambda f: lambda x: fjac.hessian(f)(x),
    lambda f: lambda x: fjac.jvp(f, (x,), (np.ones_like(x),)),
    lambda f: lambda x: fjac.vmap(f)(x[None]),
])
def test_nothing_of_the_graph_outlives_the_transform(make):
    refs = []

    def f(x):
        big = (np.ones(x.shape) * 2.0).view(Marker)  # a residual every rule keeps
        refs.append(weakref.ref(big))
        y = x * big
        refs.append(weakref.ref(y))
        return fnp.sum(fnp.sin(y))

    make(f)(np.ones(4))
    gc.collect()
    assert refs and all(r() is None for r in refs)


def test_vjp_keeps_its_tape_only_while_the_vjp_function_lives():
    refs = []

    def f(x):
        big = (np.ones(3) * 2.0).view(Marker)
        refs.append(weakref.ref(big))
        return fnp.sum(x * big)

    _, vjp_fn = fjac.vjp(f, np.ones(3))
    gc.collect()
    assert refs[0]() is not None  # the residual is needed by vjp_fn
    del vjp_fn
    gc.collect()
    assert refs[0]() is None
