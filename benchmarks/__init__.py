"""Performance benchmarks: `python -m benchmarks.run` prints the table (see RESULTS.md)."""
