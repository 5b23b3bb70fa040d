"""Operator command line: run the three processes, ingest knowledge, search it."""

__all__ = ["cli", "supervisor"]
