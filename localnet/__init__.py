"""Embedded stand-ins that speak the real wire protocols, for machines with nothing else running."""
