"""Benchmarks for issue 6: `python -m benchmarks.run` prints the table (see RESULTS.md)."""
