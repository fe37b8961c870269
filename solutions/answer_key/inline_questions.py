"""Answers to the inline questions: each is the set of option letters a student should select.

The questions and their options are written in the chapter notebooks; grading gives credit
for right letters and takes it back for wrong ones, never below zero.
"""

# Chapter 2: which activations pass almost no gradient back (derivative below 0.02, the
# shaded bands of the chapter's figure; leaky ReLU slope 0.1, as in the figure), and for
# which inputs? tests/test_book_claims.py recomputes this set from the figure.
inline_q1 = {"A", "C"}

# Chapter 6: which changes narrow the gap between training and test accuracy?
inline_q2 = {"A", "C"}

# Chapter 6: what do the curves of the recorded run (fcnet.recorded_runs.BAD_RUN) show?
# tests/test_grading_disclosed.py checks each option against the recorded curves.
inline_q3 = {"C", "F"}
