"""What the trials say: summaries, importance, replays, confirmation over seeds, ablation, sweeps, statistics."""
