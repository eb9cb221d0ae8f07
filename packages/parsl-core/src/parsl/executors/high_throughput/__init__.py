"""Upstream's path of the high-throughput executor, which lives in ``parsl-executors[htex]``."""
