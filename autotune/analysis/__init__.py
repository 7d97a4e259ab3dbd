"""What the trials say: summaries, importance, confirmation over seeds, ablation, sweeps, statistics."""
