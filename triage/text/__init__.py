"""Text for people: untrusted email text made inert, email text read and written,
times left formatted. Pure, no I/O; below every other layer but the domain."""
