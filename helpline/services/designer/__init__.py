"""Services behind the designers (``/designer``): drafts, live checking, publish, history."""
