"""Benchmarks (issue 6): a synthetic agency site, its server, and the comparison with peer link checkers.

Never run as timed tests: `python bench/run_bench.py --pages 10000` writes the figures; BENCHMARKS.md
records them.
"""
