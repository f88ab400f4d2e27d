"""The service form: sensible quantities, one save button, a saved message and a warning for an empty English
description, a link to the storefront, and the provider's cost beside the price."""

from __future__ import annotations

from app.catalog.models import Service
from tests import factories
from tests.integration.admin.helpers import form_values, toasts
from tests.integration.admin.test_form_saves import edit, german_staff, reload


async def test_a_new_service_starts_with_sensible_quantities_and_one_save_button(web, session):
    await german_staff(session, web)

    page = (await web.get("/admin/service/create")).text

    form = form_values(page)
    assert (form["min_quantity"], form["max_quantity"]) == ("100", "10000")
    assert page.count('name="save"') == 1
    assert "Speichern und weiter bearbeiten" not in page
    assert 'data-testid="service-form-hints"' in page  # where admin.js reads the slug, warning and margin texts


async def test_saving_a_service_says_so_and_warns_when_the_english_description_is_empty(web, session):
    csrf = await german_staff(session, web)
    service = await factories.service(session, name_de="Likes", description_en="Real likes.")
    await session.commit()

    saved = await edit(web, csrf, "service", service.id, description_en="")
    shown = await web.get(saved.headers["location"])

    assert saved.status_code == 302
    assert (await reload(session, Service, service.id)).description_en == ""
    messages = toasts(shown.text)
    assert "Leistung Likes gespeichert." in messages
    assert any("englische Beschreibung ist leer" in text for text in messages)


async def test_the_edit_form_links_the_storefront_and_shows_the_providers_cost(web, session):
    await german_staff(session, web)
    upstream = await factories.provider_service(session, await factories.provider(session), rate="0.9000")
    service = await factories.service(session, price="2.5000", upstream=upstream, slug="likes-echt")
    await session.commit()

    page = (await web.get(f"/admin/service/edit/{service.id}")).text

    assert 'href="/services/likes-echt"' in page
    assert 'data-unit-cost="0.9000' in page
    assert "Anbieterkosten 0,90\xa0€ · Marge %(margin)s" in page
