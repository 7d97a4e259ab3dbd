"""The search: the space (the only caller of ``trial.suggest_*``), samplers, goals, configurations."""
