"""Conformance test kits that plugin distributions' tests subclass (they need pytest).

- :mod:`parsl.testing.executor_kit`: :class:`~parsl.testing.executor_kit.ExecutorConformance`
  for executors.
- :mod:`parsl.testing.distribution_kit`: :class:`~parsl.testing.distribution_kit.DistributionConformance`
  for a plugin distribution's packaging.
- :mod:`parsl.testing.provider_kit`: :class:`~parsl.testing.provider_kit.ProviderConformance`
  for execution providers.

Nothing here is imported by ``import parsl``.
"""
