"""make_graph: the record names primitives, parameters, shapes, dtypes and data flow."""

import numpy as np

import fjac
import fjac.numpy as fnp


def test_forward_graph_records_each_primitive_with_types_and_flow():
    g = fjac.make_graph(lambda x, w: fnp.sum(fnp.tanh(w @ x)))(np.ones(3), np.ones((2, 3)))
    assert g.primitives() == ["matmul", "tanh", "sum"]
    assert g.inputs == [("x0", "float64[3]"), ("x1", "float64[2,3]")]
    eq = g.equations[0]
    assert eq.inputs == ["x1", "x0"] and eq.outputs == [("v1", "float64[2]")]
    assert str(g.equations[2]) == "v3: float64[] = sum(v2, axis=(0,), keepdims=False)"
    assert g.outputs == ["v3"]
    text = str(g)
    assert text.splitlines()[0] == "graph(x0: float64[3], x1: float64[2,3]):"
    assert text.splitlines()[-1] == "    return v3"


def test_graph_of_grad_shows_the_backward_pass():
    f = lambda x: fnp.sum(fnp.sin(x) * x)
    g = fjac.make_graph(fjac.grad(f))(np.ones(3))
    names = g.primitives()
    assert names[:3] == ["sin", "multiply", "sum"]  # forward
    assert "cos" in names[3:]  # the VJP of sin
    assert names[-1] == "add"  # x is used twice: its two cotangents are summed
    assert len(g) == len(names)


def test_graph_keeps_float32_and_constants_readable():
    g = fjac.make_graph(lambda x: x * 2.0 + np.ones(2, np.float32))(np.ones(2, np.float32))
    assert str(g.equations[0]) == "v1: float32[2] = multiply(x0, 2.0)"
    assert g.equations[1].inputs == ["v1", "const:float32[2]"]


def test_graph_of_a_constant_function_returns_the_constant():
    g = fjac.make_graph(lambda x: 3.0)(np.ones(2))
    assert len(g) == 0 and g.outputs == ["3.0"]
