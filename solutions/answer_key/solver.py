"""The course's Solver, with the reference update rules reachable by name."""
import fcnet.solver

from . import optim


class Solver(fcnet.solver.Solver):
    """fcnet's Solver; `update_rule="sgd"` (or any rule in answer_key.optim) resolves here."""

    update_rules = {name: getattr(optim, name) for name in dir(optim)
                    if not name.startswith("_") and callable(getattr(optim, name))}
