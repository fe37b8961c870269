"""How a learning management system's autograder hands a submission to the engine.

    lms_grading     grades one whole submission once, through the sandboxed engine of
                    `python -m autograder`, for the otter and nbgrader routes; keeps the
                    result as plain data
    otter_route     what the otter-grader bundle's driver and test files call, and
                    `python -m autograder.routes.otter_route run` (otter run, upload set aside)
    nbgrader_route  what the nbgrader course calls: the sandboxed autograde pipeline
                    and the hidden part of each test cell
"""
