"""RQ job functions, one module per slice. Each takes ids, opens its own database access and is
safe to run twice; each is importable by dotted path, so a plain `rq worker` can run it."""
