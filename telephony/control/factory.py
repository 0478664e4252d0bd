"""``make_call_control(settings)``: the call control a Helpline process uses.

Without ``ami_host`` (``HELPLINE_AMI_HOST`` / ``--ami-host``) calls are controlled on the simulated
phones (:class:`~telephony.control.simulated.SimulatedCallControl`); with it, on Asterisk through its
manager interface (:class:`~telephony.ami.control.AmiCallControl`). The process refuses to start when
Asterisk refuses the manager login (:class:`ControlStartupError`, a message to print before exiting).
An Asterisk that is not reachable yet is not fatal: the client keeps trying in the background with
back-off, and call-control actions fail with a clear message until it is connected.

```python
try:
    control = make_call_control(settings)
except ControlStartupError as exc:
    print(f"helpline: {exc}", file=sys.stderr)
    return 1
```
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from telephony.control.base import CallControl

if TYPE_CHECKING:
    from helpline.config import Settings
    from telephony.ami.client import AmiClient

__all__ = ["ControlStartupError", "make_call_control"]

log = logging.getLogger(__name__)


class ControlStartupError(Exception):
    """Call control cannot start (the message says why and what to check)."""


def make_call_control(settings: Settings, *, client_factory: Callable[..., AmiClient] | None = None,
                      **client_options: Any) -> CallControl:
    """Simulated call control without ``settings.ami_host``, else AMI call control on a connected client.

    ``client_factory`` (default :class:`~telephony.ami.client.AmiClient`) and ``client_options`` (e.g.
    ``backoff``, ``connect_timeout``) are for tests and tuning.
    """
    if not settings.ami_host:
        from telephony.control.simulated import SimulatedCallControl

        return SimulatedCallControl()
    from telephony.ami.client import AmiClient, AmiLoginError, AmiUnavailable
    from telephony.ami.control import AmiCallControl

    if not settings.ami_secret:
        raise ControlStartupError(
            f"the Asterisk manager at {settings.ami_host}:{settings.ami_port} needs a secret: set HELPLINE_AMI_SECRET "
            f"to the secret of the [{settings.ami_user}] user in Asterisk's manager.conf")
    factory = client_factory or AmiClient
    client = factory(settings.ami_host, settings.ami_port, settings.ami_user, settings.ami_secret, **client_options)
    try:
        client.connect()
    except AmiLoginError as exc:
        client.close()
        raise ControlStartupError(str(exc)) from exc
    except AmiUnavailable as exc:
        log.warning("%s; call control will work once Asterisk is reachable (retrying in the background)", exc)
        client.connect_in_background()
    return AmiCallControl(client)
