"""The ``autotune`` command line: a thin click layer over :mod:`autotune.api`."""
