"""Qt widgets, tools and workers: the only place that imports Qt (see docs/ARCHITECTURE.md for the map)."""
