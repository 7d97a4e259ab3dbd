"""Hand tables: the tables people fill by hand, read and brought into a study."""
