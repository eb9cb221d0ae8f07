"""The DataFlowKernel, its futures, task states and memoization."""
