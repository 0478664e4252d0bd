"""helpline/metadata/kinds."""
