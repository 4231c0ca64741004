"""The sync runtime behind `services.sync_runner`: loading an intent's inputs (context), applying a
plan's operations through the adapter with the idempotency ledger (executor)."""
