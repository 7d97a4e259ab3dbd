"""The study specs that ship with autotune (YAML files, package data): installed as ``autotune.studies``."""
