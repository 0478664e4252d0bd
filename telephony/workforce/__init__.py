"""Workforce management: forecast offered calls, the agents each half hour needs, and rosters (docs/staff.md).

- :mod:`.forecast`: offered calls per half hour per queue from the recorded calls (``hl_call``), by weekday, with
  the holidays of a business calendar left out of the history (no history: a documented default, said so).
- :mod:`.staffing`: required agents per half hour for each tier's target with Erlang C (nobody hangs up) and
  Erlang A (callers leave after an exponential patience).
- :mod:`.roster`: shift patterns and rules, and the roster a team works, solved with OR-Tools CP-SAT.
"""
