"""National elections through the real firmware (see runner.py)."""
