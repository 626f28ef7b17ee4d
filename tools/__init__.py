"""Maintainer tools that are not part of the product: `python -m tools.mutate`."""
