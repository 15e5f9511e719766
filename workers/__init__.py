"""The worker process: `python -m workers.main`."""
