"""Conformance kits that plugin test-suites subclass (pytest classes).

* :class:`~parsl.testing.executor_kit.ExecutorConformance` for executors
"""
