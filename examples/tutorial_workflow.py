"""The tutorial's workflows on local threads: Monte Carlo pi, a bash pipeline and a map-reduce.

Run it with ``make run`` (or ``python tutorial_workflow.py`` where parsl-core is installed).
The 0.5.0 style (``@App('python', dfk)``) and today's (``@python_app``) run side by side on one
kernel. Each stage prints what it computed; the run directory holds ``parsl.log``.
"""
from __future__ import annotations

import os
import sys
import time

import parsl
from parsl import App, DataFlowKernel, ThreadPoolExecutor, python_app


def main() -> int:
    t_start = time.monotonic()
    workers = ThreadPoolExecutor(max_workers=4)
    dfk = DataFlowKernel(executors=[workers])
    print(f"parsl {parsl.__version__}: DataFlowKernel on 4 threads, run dir {dfk.run_dir}")

    # -- 1. Monte Carlo pi: three independent estimates, then their mean ------------------
    @App("python", dfk)
    def pi(total):
        import random

        width = 10000
        center = width / 2
        c2 = center**2
        count = 0
        for _ in range(total):
            x, y = random.randint(1, width), random.randint(1, width)
            if (x - center) ** 2 + (y - center) ** 2 < c2:
                count += 1
        return count * 4 / total

    @App("python", dfk)
    def mysum(a, b, c):
        return (a + b + c) / 3

    a, b, c = pi(10**5), pi(10**5), pi(10**5)
    avg_pi = mysum(a, b, c)
    print("1. Monte Carlo pi   A: {0:.5f} B: {1:.5f} C: {2:.5f}  average: {3:.5f}".format(a.result(), b.result(), c.result(), avg_pi.result()))

    # -- 2. A bash pipeline: 5 files of random numbers, concatenated, then summed -----------
    os.makedirs("pipeline", exist_ok=True)

    @App("bash", dfk)
    def generate(outputs=[]):  # noqa: B006 - as the tutorial writes it
        return "echo $(( RANDOM % (10 - 5 + 1 ) + 5 )) &> {outputs[0]}"

    @App("bash", dfk)
    def concat(inputs=[], outputs=[], stdout="pipeline/stdout.txt", stderr="pipeline/stderr.txt"):  # noqa: B006
        return "cat {0} > {1}".format(" ".join(inputs), outputs[0])

    @App("python", dfk)
    def total(inputs=[]):  # noqa: B006
        with open(inputs[0]) as f:
            return sum(int(line) for line in f)

    output_files = [generate(outputs=[f"pipeline/random-{i}.txt"]) for i in range(5)]
    cc = concat(inputs=[f.outputs[0] for f in output_files], outputs=["pipeline/all.txt"])
    numbers = open(cc.outputs[0].result()).read().split()
    print(f"2. Bash pipeline    numbers {' + '.join(numbers)} = {total(inputs=[cc.outputs[0]]).result()}")

    # -- 3. Map-reduce over 10,000 items, in today's decorator style ------------------------
    @python_app
    def app_double(x):
        return x * 2

    @python_app
    def app_sum(inputs=()):
        return sum(inputs)

    n = 10_000
    t0 = time.monotonic()
    mapped = [app_double(i) for i in range(n)]
    result = app_sum(inputs=mapped).result()
    assert result == n * (n - 1), result
    print(f"3. Map-reduce       sum of 2*i for i < {n:,} = {result:,}  ({n + 1:,} tasks in {time.monotonic() - t0:.2f} s)")

    dfk.cleanup()
    print(f"done: {dfk.task_count:,} tasks in {time.monotonic() - t_start:.2f} s; log in {os.path.join(dfk.run_dir, 'parsl.log')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
