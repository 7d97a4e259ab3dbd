"""Studies in an RDB: opening them, crash recovery, artifacts, replays, warm starts, and the one adapter to
Optuna's private API."""
