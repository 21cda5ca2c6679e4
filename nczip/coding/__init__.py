"""Entropy coding: probabilities -> integer tables -> bits. Knows nothing about the models."""

from .quantize import PRECISION, PRECISIONS, QUANTIZERS, TOTAL, cumulative, quantize, table
from .rangecoder import RangeDecoder, RangeEncoder

__all__ = ["PRECISION", "PRECISIONS", "QUANTIZERS", "TOTAL", "cumulative", "quantize", "table", "RangeDecoder", "RangeEncoder"]
