"""``python -m autotune.cli``: the ``autotune`` command."""

from autotune.cli.commands import main

main()
