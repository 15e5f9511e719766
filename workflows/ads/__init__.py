"""Ads workflows: the experiment and its campaigns."""
