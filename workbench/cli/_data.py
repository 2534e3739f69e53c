"""Sub-commands of `workbench` (placeholder: filled in by its issue)."""


def register(subparsers) -> None:
    """Add this module's sub-commands to the `workbench` parser."""
