"""Speed benchmarks for the kit's reference solutions (not part of the exercise).

Run from the repository root:

    .venv/bin/python -m benchmarks.bench_softmax           # full run, a few minutes
    .venv/bin/python -m benchmarks.bench_softmax --quick   # tiny sizes, seconds
"""
