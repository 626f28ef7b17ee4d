"""The local cache on disk: `storage` (crash-safe multi-process JSON storage for TinyDB),
`tables` (documents by key, fast at 50k), `documents` (the typed documents and their
converters), `files` (the cache directory, private or a team's), `cache` (the facade
the engine uses: domain values in, domain values out)."""
