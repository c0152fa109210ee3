"""Qt widgets, tools and workers: the only place that imports Qt."""
