"""The instructor's grader: hidden checks and sandboxed, decoupled grading of chapter notebooks."""
