"""How the grader treats a question when not as plain code: a question module's TRAITS.

    decoupled      its student code runs on the answer key's layers (in a session of its
                   own, last; no text of its worker reaches the feedback verbatim)
    data_file      graded from this submitted data file by the grader, never run
    needs_cifar    grading it needs the CIFAR-10 archive
    measure        the number its probe measures that the class report plots
    measure_label  that number in words, for the report's axis
    scale          (no points below, full points from) of that measure

The engine, the CLI, the routes and the reports ask these traits (fcnet.questions.traits_of
and questions_where) and never name a question.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Traits:
    decoupled: bool = False
    data_file: str = ""
    needs_cifar: bool = False
    measure: str = ""
    measure_label: str = ""
    scale: tuple = ()
