"""helpline/data."""
