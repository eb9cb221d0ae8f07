"""Parsl executors beyond threads: IPython Parallel pilot jobs, high-throughput and MPI executors, and block scaling"""
