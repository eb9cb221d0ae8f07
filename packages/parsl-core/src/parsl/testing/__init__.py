"""Conformance test kits that plugin distributions' tests subclass (they need pytest).

- :mod:`parsl.testing.provider_kit`: :class:`~parsl.testing.provider_kit.ProviderConformance`
  for execution providers.

Nothing here is imported by ``import parsl``.
"""
