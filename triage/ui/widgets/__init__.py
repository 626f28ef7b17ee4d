"""One widget per module; widgets never do I/O, they render what they are given."""
