"""Services: the transactions behind the blueprints and the jobs. They take model objects or ids,
own the DB transaction, and call into `sync/` (pure rules) and `providers/` (through the registry)."""
