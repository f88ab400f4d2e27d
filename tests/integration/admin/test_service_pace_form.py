"""The service form's start promise and speed: German labels, values saved, and what the tracking page could not
promise (zero, negative, absurd) refused on its field without saving anything."""

from __future__ import annotations

from app.catalog.models import Service
from tests import factories
from tests.integration.admin.test_form_saves import edit, field_errors, german_staff, reload


async def test_a_german_staff_member_sets_a_services_start_promise_and_speed(web, session):
    csrf = await german_staff(session, web)
    service = await factories.service(session)
    await session.commit()

    page = (await web.get(f"/admin/service/edit/{service.id}")).text
    response = await edit(web, csrf, "service", service.id, expected_start_hours="2", speed_per_day="5000")

    assert "Start innerhalb von (Stunden)" in page and "Tempo (Einheiten pro Tag)" in page
    assert response.status_code == 302
    stored = await reload(session, Service, service.id)
    assert (stored.expected_start_hours, stored.speed_per_day) == (2, 5000)


async def test_a_start_promise_or_speed_out_of_bounds_is_refused_on_its_field(web, session):
    csrf = await german_staff(session, web)
    service = await factories.service(session)
    await session.commit()

    response = await edit(web, csrf, "service", service.id, expected_start_hours="0", speed_per_day="99999999")

    assert response.status_code == 400
    errors = field_errors(response.text)
    assert errors["expected_start_hours"] == "muss zwischen 1 und 720 liegen"
    assert errors["speed_per_day"] == "muss zwischen 1 und 10000000 liegen"
    stored = await reload(session, Service, service.id)
    assert (stored.expected_start_hours, stored.speed_per_day) == (24, 1000)
