"""Carrying a plan out: scheduling runs over the dependency graph, starting, watching, recording."""
