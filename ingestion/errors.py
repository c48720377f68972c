"""Errors of a whole file: the file is rejected, nothing of it is loaded."""


class FileRejected(Exception):
    """The file cannot be loaded at all; the message names the file and, where it applies, row and column."""

    def __init__(self, file: str, problem: str):
        self.file = file
        self.problem = problem
        super().__init__(f"{file}: {problem}")
