"""The benchmark workloads compute what they claim: every candidate of a workload (fjac, a
hand-written NumPy version, autograd, JAX and torch.func when installed) gives the same result as
fjac's."""

import importlib.util
import pathlib

import numpy as np
import pytest

import fjac

_PATH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
_spec = importlib.util.spec_from_file_location("fjac_benchmarks", _PATH)
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)

# candidates that compute something else on purpose (the forward pass the ratio refers to)
_NOT_COMPARABLE = {"numpy forward"}


def _to_numpy(leaf):
    """A result leaf as a NumPy array: torch tensors through .numpy(), anything else (NumPy and
    JAX arrays, Python numbers) through np.asarray."""
    if run.torch is not None and isinstance(leaf, run.torch.Tensor):
        return leaf.detach().cpu().numpy()
    return np.asarray(leaf)


@pytest.mark.parametrize("name", sorted(run.WORKLOADS))
def test_every_candidate_computes_fjacs_result(name):
    candidates = run.WORKLOADS[name]()
    expected = fjac.tree.tree_leaves(candidates["fjac"]())
    compared = 0
    for lib, fn in candidates.items():
        if lib == "fjac" or lib in _NOT_COMPARABLE:
            continue
        got = fjac.tree.tree_leaves(fn())
        assert len(got) == len(expected), lib
        for a, b in zip(got, expected):
            np.testing.assert_allclose(_to_numpy(a), np.asarray(b), rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name}: {lib}")
        compared += 1
    if name in ("mlp", "per_example"):
        assert compared >= 1  # a NumPy or fjac reference exists even without peers


@pytest.mark.skipif(run.torch is None, reason="torch is not installed")
def test_torch_func_is_a_candidate_of_every_workload():
    # so the comparison above covers torch.func wherever torch is installed
    missing = [name for name, make in run.WORKLOADS.items() if "torch.func" not in make()]
    assert missing == []


def test_mlp_by_hand_is_the_gradient():
    params, x, labels = run._mlp_data()
    g = fjac.grad(run._mlp_loss(fjac.numpy))(params, x, labels)
    by_hand = run._mlp_grad_by_hand(params, x, labels)
    assert set(g) == set(by_hand)
    for k in g:
        np.testing.assert_allclose(by_hand[k], g[k], rtol=1e-10, atol=1e-14, err_msg=k)
