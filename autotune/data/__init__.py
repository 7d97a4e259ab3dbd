"""Datasets: the offline sources, the cache, seeded splits, and readers of a user's own data."""
