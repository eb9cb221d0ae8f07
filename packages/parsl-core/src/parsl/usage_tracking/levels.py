"""Upstream's usage-tracking levels, for configs written with them
(``Config(usage_tracking=LEVEL_1)``). Any level above 0 opts in; what is sent, and where, is
the same at every level here (see :mod:`parsl.usage_tracking`), and nothing is sent unless an
endpoint is named in ``PARSL_TRACKING_ENDPOINT``."""

DISABLED = 0
LEVEL_1 = 1
LEVEL_2 = 2
LEVEL_3 = 3
