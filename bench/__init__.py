"""pycodex benchmarks: `python -m bench` (or `bench/run`) prints one table of figures and ratios.

Every figure is measured against a baseline run in the same invocation, because the machines
are shared and noisy: absolute seconds drift between runs, ratios within one run hold.
"""
