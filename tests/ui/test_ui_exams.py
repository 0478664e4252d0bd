"""The exams page: agent1 takes an exam in the browser session, answers and hands it in, and sees it graded in
its results."""

from __future__ import annotations

from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.security.actor import Actor
from helpline.services import exams
from helpline.services.platform import Platform


async def test_agent1_takes_an_exam(user: User, ui_platform: Platform) -> None:
    admin = Actor("admin", roles=("administrator",)).bind(ui_platform.metadata)
    single = exams.add_question(admin, "single", "Which queue records calls?", options=["general", "complaint"],
                                answer=1, topic="basics")
    truth = exams.add_question(admin, "truefalse", "A fault is answered within 10 minutes.", answer=True,
                               topic="basics")
    exam = exams.create_exam(admin, "Basics", time_limit_s=600, question_ids=[single, truth])
    await log_in(user, "agent1")
    user.find("Exams").click()
    await user.should_see(marker=f"exams-start-{exam}", retries=100)
    user.find(marker=f"exams-start-{exam}").click()
    await user.should_see(marker="exams-clock", retries=100)
    await see(user, "Time left 09:")
    user.find(marker=f"exams-q-{single}").elements.pop().value = 1
    user.find(marker=f"exams-q-{truth}").elements.pop().value = True
    user.find(marker="exams-submit").click()
    await see(user, "graded 100")
    assert exams.results("agent1")[0]["passed"] is True
