"""Where and how numbers are computed: devices, GPUs for workers, numeric precision."""
