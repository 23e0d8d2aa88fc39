"""Command-line entry points that run.py calls inside the virtual environment."""
