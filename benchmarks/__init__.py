"""graphkit's benchmarks: speed, memory and detection quality at scale, against a hand-written baseline.

Not part of the test suite (nothing here asserts a time). Run ``make bench``
for everything, or ``python -m benchmarks -h`` for single runs. Synthetic data
is cached under ``benchmarks/.cache/`` and run outputs go to
``benchmarks/out/`` (both git-ignored; the Spark benchmark's reports and
cluster folders to a scratch folder under ``TMPDIR``); the measured numbers go to
``benchmarks/results.json`` and ``benchmarks/RESULTS.md``.
"""
