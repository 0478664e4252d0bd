"""Who is waiting for which agent to answer: the bridge between a Dial and the ``answered`` FastAGI route.

When the router dials an agent over Asterisk, ``AgiSwitch.dial`` runs ``EXEC Dial ...,U(helpline-answered^<id>)``
and blocks until the call is over. The ``U()`` subroutine runs on the agent's channel the moment the agent
picks up (before the bridge) and opens a second FastAGI session, ``answered?call=<id>``. That session
is served by :func:`make_answered_handler`, which runs the callback the dial registered here:

```python
server.route("answered", make_answered_handler(ANSWERS))   # once, next to the ivr route
ANSWERS.expect(42, on_answer)                              # AgiSwitch.dial, before EXEC Dial
ANSWERS.answered(42, "PJSIP/1001-0000000a")                 # the answered session: runs on_answer once
ANSWERS.forget(42)                                          # AgiSwitch.dial, after Dial returned
```

The answered session runs on the agent's channel, so ``answered`` also records that channel in the
registry's :class:`~telephony.control.channels.ChannelRegistry` (``ANSWERS`` feeds ``CHANNELS``), where
call control over AMI finds it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from telephony.agi import AgiEnvironment, Handler, HelplineAGI
from telephony.control.channels import CHANNELS, ChannelRegistry

__all__ = ["ANSWERS", "AnswerRegistry", "make_answered_handler"]

log = logging.getLogger(__name__)


class AnswerRegistry:
    """Thread-safe map of call id to the callback to run when that call's agent answers.

    With ``channels``, every answer also records the agent's channel there.
    """

    def __init__(self, channels: ChannelRegistry | None = None) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[int, Callable[[], None]] = {}
        self.channels = channels

    def expect(self, call_id: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the agent of call ``call_id`` answers (replaces an earlier one)."""
        with self._lock:
            self._waiting[call_id] = callback

    def answered(self, call_id: int, channel: str | None = None) -> bool:
        """The agent of ``call_id`` answered (on ``channel``): run its callback once and remove it; False if
        none waits. The channel is recorded in ``channels`` either way.

        A callback that raises is logged; it still counts as run.
        """
        if channel and self.channels is not None:
            try:
                self.channels.set_agent(call_id, channel)
            except ValueError:
                log.warning("call %s answered on a malformed channel name %r", call_id, channel)
        with self._lock:
            callback = self._waiting.pop(call_id, None)
        if callback is None:
            return False
        try:
            callback()
        except Exception:
            log.exception("on_answer callback of call %s failed", call_id)
        return True

    def forget(self, call_id: int) -> None:
        """Drop the callback of ``call_id`` (the dial is over); idempotent."""
        with self._lock:
            self._waiting.pop(call_id, None)

    def waiting(self) -> list[int]:
        """Call ids with a callback registered (for diagnostics and tests)."""
        with self._lock:
            return sorted(self._waiting)

    def __contains__(self, call_id: object) -> bool:
        with self._lock:
            return call_id in self._waiting


#: The process-wide registry ``AgiSwitch`` uses unless given another (it feeds ``CHANNELS``).
ANSWERS = AnswerRegistry(CHANNELS)


def make_answered_handler(registry: AnswerRegistry = ANSWERS,
                          elsewhere: Callable[[int], object] | None = None) -> Handler:
    """A FastAGI handler for ``answered?call=<id>``: runs the registry's callback of that call.

    The session then ends (the server closes it) and the dialplan's subroutine returns, so Asterisk
    bridges the caller and the agent. A missing or malformed ``call`` is logged and ignored. When no dial of
    this process waits for the call, ``elsewhere(call_id)`` reports the answer (cluster mode: the session of the
    call runs on another instance, the router is shared).
    """

    def handle(agi: HelplineAGI, env: AgiEnvironment) -> None:
        values = env.query.get("call") or []
        text = values[0].strip() if values else ""
        try:
            call_id = int(text)
        except ValueError:
            log.warning("[%s] answered session without a valid call id: %r", env.uniqueid, env.network_script)
            return
        if registry.answered(call_id, env.channel or None):
            log.info("[%s] agent on %s answered call %s", env.uniqueid, env.channel, call_id)
        elif elsewhere is not None:
            log.info("[%s] agent on %s answered call %s, served by another instance", env.uniqueid, env.channel,
                     call_id)
            elsewhere(call_id)
        else:
            log.warning("[%s] agent on %s answered call %s, but no dial waits for it", env.uniqueid,
                        env.channel, call_id)

    return handle
