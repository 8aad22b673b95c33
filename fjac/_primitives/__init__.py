"""The primitives layer: primitives and their rules only (impl, jvp, vjp, batch, residuals).

See ``base`` (the structural primitives every interpreter needs), ``combinators`` (declaring a
primitive in one call) and one module per family. Nothing here imports ``fjac.numpy``: the
NumPy surface is built on this layer.
"""
