"""A secret field on a form (the customer's service password): a password input that is never filled, a hint
saying whether one is set, and a new value saved hashed."""

from __future__ import annotations

import asyncio

from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in

from helpline.data.database import session
from helpline.data.entities import read_secret
from helpline.security.passwords import verify_password
from helpline.services.platform import Platform


def field(user: User, name: str) -> ui.element:
    return user.find(marker=f"field-{name}").elements.pop()


async def test_the_form_shows_only_whether_it_is_set_and_sets_a_new_one(user: User, ui_platform: Platform) -> None:
    model = ui_platform.models["customer"]
    with session():
        first = model.get(model.customer_no == "HN00000001").id  # a demo customer with a service password
        sixth = model.get(model.customer_no == "HN00000006").id
    await log_in(user, "admin", path=f"/record/customer_form/{sixth}")
    await user.should_see(marker="field-service_password", retries=150)
    assert field(user, "service_password").props["hint"] == "Not set"
    await log_in(user, "admin", path=f"/record/customer_form/{first}")
    await user.should_see(marker="field-service_password", retries=150)
    secret = field(user, "service_password")
    assert secret.props["type"] == "password" and secret.value in ("", None)
    assert secret.props["hint"].startswith("Set")
    with session():
        before = read_secret(model, "service_password", first)
    user.find(marker="save").click()  # saving other fields keeps the stored secret
    await user.should_see("Saved", retries=150)
    with session():
        assert read_secret(model, "service_password", first) == before
    field(user, "service_password").value = "135790"
    user.find(marker="save").click()
    for _ in range(100):
        with session():
            now = read_secret(model, "service_password", first)
        if now != before:
            break
        await asyncio.sleep(0.05)
    assert now and verify_password("135790", now)
