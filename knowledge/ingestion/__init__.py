"""Getting knowledge in: file readers (PDF, DOCX, HWPX, HWP, spreadsheets, YAML), chunking, and writing records.

May use korean, domain, rules and retrieval (it writes into a store); never answering.
"""

__all__ = [
    "chunking",
    "ingest",
    "loaders",
    "readers",
    "seed_files",
]
