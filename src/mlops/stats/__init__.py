"""Mergeable dataset profiles, drift distances/tests and data-quality checks computed from them."""

from mlops.stats.drift import (
    ColumnDrift,
    DriftResult,
    Histogram,
    compute_drift,
    default_method,
    histograms,
)
from mlops.stats.profile import (
    CategoricalProfile,
    ColumnProfile,
    DatasetProfile,
    NumericProfile,
    ProfileSpec,
    build_spec,
    profile_chunks,
)
from mlops.stats.quality import ColumnQuality, QualityIssue, QualityResult, compute_quality

__all__ = [
    "CategoricalProfile",
    "ColumnDrift",
    "ColumnProfile",
    "ColumnQuality",
    "DatasetProfile",
    "DriftResult",
    "Histogram",
    "NumericProfile",
    "ProfileSpec",
    "QualityIssue",
    "QualityResult",
    "build_spec",
    "compute_drift",
    "compute_quality",
    "default_method",
    "histograms",
    "profile_chunks",
]
