"""Optional plug-ins, one package each (``extensions/<name>/__init__.py``).

An extension that serves the IVR exposes ``IVR_HOOKS``: a mapping of function name to a callable taking
a :class:`telephony.ivr.hooks.HookCall`; an IVR ``hook`` node names it as ``<extension>.<function>``.
See docs/ivr.md (node type ``hook``) and ``billing_demo`` for an example.
"""
