"""The package's own warning class; the test suite turns it into errors."""


class WorkbenchWarning(UserWarning):
    """Base class of every warning that workbench itself emits."""
