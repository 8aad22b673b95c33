"""Primitive families not yet split into fjac._primitives and fjac.numpy."""
