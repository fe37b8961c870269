"""The answer key: the complete two-layer-net system, in CS231n's module layout.

The seed notebook's code runs unchanged with `cs231n` renamed to `answer_key`. Code that
students are given (solver, gradient checks, data loading, plots, sandwich-layer wiring)
is imported from `fcnet`, never copied here.
"""
