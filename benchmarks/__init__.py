"""Side-by-side speed and memory measurements (not tests)."""
