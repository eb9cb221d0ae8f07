"""The parsl-monitoring distribution's packaging: version from the checkout, parsl-core by range, inert import."""
from __future__ import annotations

from pathlib import Path

from parsl.testing.distribution_kit import DistributionConformance


class TestDistribution(DistributionConformance):
    distribution = "parsl-monitoring"
    import_name = "parsl_monitoring"
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
