"""Study specs: the YAML file, its parts, and the catalogue of parameters it may search or fix."""
