"""Entropy coding: probabilities -> integer tables -> bits. Knows nothing about the models."""

from .quantize import PRECISION, TOTAL, cumulative, quantize
from .rangecoder import RangeDecoder, RangeEncoder

__all__ = ["PRECISION", "TOTAL", "cumulative", "quantize", "RangeDecoder", "RangeEncoder"]
