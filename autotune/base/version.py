"""The version of autotune, recorded in every study, checkpoint and report (pyproject.toml says the same)."""

__version__ = "0.1.0"
