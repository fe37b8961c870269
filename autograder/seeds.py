"""Seeds derived from the course seed: the one rule for every seed of a grading run.

A seed is the first bytes of SHA-256 of "course_seed:question id:name", read
little-endian, so the same course seed, question and name always give the same seed,
and a new course seed (`--seed`) gives new ones. It seeds each hidden case's generator
(name: the case id, such as "affine_backward.small"; hidden_checks.make_cases) and
np.random before each probe (name: "np.random:" and the case id; grading.probe_tasks).
Names are explicit ids, never a function's __name__: renaming code changes no inputs.
"""
import hashlib


def derived_seed(course_seed, qid, name, nbytes=8):
    """The seed for `name` in question `qid`: an int of `nbytes` bytes (4 for
    np.random.seed, which takes at most 32 bits)."""
    digest = hashlib.sha256(f"{course_seed}:{qid}:{name}".encode()).digest()
    return int.from_bytes(digest[:nbytes], "little")
