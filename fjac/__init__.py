"""fjac: pure function transforms for automatic differentiation on NumPy."""

from fjac import tree as tree

__version__ = "0.1.0"

__all__ = ["tree"]
