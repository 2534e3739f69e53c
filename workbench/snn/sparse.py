"""Event-driven path on first-spike time maps (placeholder)."""

__all__: list[str] = []
