"""Label propagation over the kNN graph: :class:`HDLLabeler` (rounds, HDL, kNN-DV)."""

from ._hdl import HDLLabeler

__all__ = ["HDLLabeler"]
