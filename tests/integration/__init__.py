"""Tests against real databases: SQLite and PostgreSQL."""
