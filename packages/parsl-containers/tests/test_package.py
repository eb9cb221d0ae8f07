"""The parsl-containers distribution's packaging: version from the checkout, parsl-core by range, inert import."""
from __future__ import annotations

from pathlib import Path

from parsl.testing.distribution_kit import DistributionConformance


class TestDistribution(DistributionConformance):
    distribution = "parsl-containers"
    import_name = "parsl_containers"
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
