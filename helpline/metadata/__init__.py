"""helpline/metadata."""
