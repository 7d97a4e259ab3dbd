"""Small helpers every layer may use: paths, signals, seeds, time records, output folders."""
