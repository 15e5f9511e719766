"""Persistence: SQLAlchemy tables, the engine factory and migrations."""
