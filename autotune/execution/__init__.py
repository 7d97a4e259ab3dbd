"""Running studies: the run loop, the objective, local workers, Slurm, Ray, progress display."""
