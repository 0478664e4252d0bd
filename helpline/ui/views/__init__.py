"""Views rendered inside the shell's work area: generated lists, forms and query screens, and the
built-in pages (categories, audit log, users, profile, home)."""
