"""Helpline: a metadata-driven contact-centre platform.

Sub-packages: ``metadata`` (kinds, loader, checks, revisions), ``rules`` (the rule language),
``data`` (database, entity models, migrations, query builder), ``security`` (users, roles, audit),
``services`` (use cases), ``ui`` (NiceGUI pages) and ``cli`` (``run.py`` subcommands).
"""

__version__ = "0.1.0"
