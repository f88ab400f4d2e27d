"""Who may open what, generated from the registered views: every role, every view, every page and action.

For each view the Admin registers, each role requests the list page (the page itself for custom views), the
details and edit pages of an existing record, the create page, the CSV export and every business action's
confirmation page. What is allowed comes from ``admin.roles.role_may`` and the view's ``can_*`` flags; allowed
is 200, refused is 403 with a page that names the roles that may. A new view or action is covered without
touching this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqladmin import ModelView
from sqladmin.authorization import WILDCARD

from admin.registry import ADMIN_VIEWS
from admin.roles import ROLE_GRANTS, role_may, roles_allowed
from app.accounts.models import Role
from app.demo.seed import SANDBOX_PROVIDER as SANDBOX
from app.fulfillment.models import Provider
from app.orders.models import Order
from tests.integration.admin.helpers import ADMIN, needed_roles

# Views that hold one row at most: once it exists, nobody may create another (check_can_create).
SINGLETONS = {"company-settings"}
DEMO_API_KEY = "demo-key"  # the seeded sandbox provider's key


@dataclass(frozen=True)
class Page:
    action: str
    url: str
    refused_for_everyone: bool = False

    def allowed_for(self, role: Role, identity: str) -> bool:
        return not self.refused_for_everyone and role_may(role, identity, self.action)


def view_of(backoffice, view_class):
    (view,) = [v for v in backoffice.admin.views if type(v) is view_class]
    return view


async def first_pk(backoffice, model) -> str | None:
    (pk_column,) = sa.inspect(model).primary_key
    async with backoffice.sessions() as session:
        pk = await session.scalar(sa.select(pk_column).order_by(pk_column).limit(1))
    return None if pk is None else str(pk)


def action_slugs(backoffice, identity: str) -> list[str]:
    prefix = f"/{identity}/action/"
    return sorted(
        route.path.removeprefix(prefix)
        for route in backoffice.admin.admin.routes
        if getattr(route, "path", "").startswith(prefix)
    )


async def pages_of(backoffice, view) -> list[Page]:
    identity = view.identity
    if not isinstance(view, ModelView):
        return [Page("list", f"/admin{backoffice.admin.admin.url_path_for(f'view-{identity}')}")]
    base = f"/admin/{identity}"
    pk = await first_pk(backoffice, view.model)
    pages = [Page("list", f"{base}/list")]
    if pk is not None and view.can_view_details:
        pages.append(Page("details", f"{base}/details/{pk}"))
    if pk is not None and view.can_edit:
        pages.append(Page("edit", f"{base}/edit/{pk}"))
    if view.can_create:
        pages.append(Page("create", f"{base}/create", refused_for_everyone=identity in SINGLETONS and pk is not None))
    if view.can_export:
        pages.append(Page("export", f"{base}/export/csv"))
    pages += [
        Page(f"action:{slug}", f"{base}/action/{slug}" + (f"?pks={pk}" if pk else ""))
        for slug in action_slugs(backoffice, identity)
    ]
    return pages


def test_the_admin_registers_exactly_the_views_of_the_registry(backoffice):
    assert [type(view) for view in backoffice.admin.views] == ADMIN_VIEWS


@pytest.mark.parametrize("view_class", ADMIN_VIEWS, ids=lambda view_class: view_class.__name__)
@pytest.mark.parametrize("role", list(Role), ids=str)
async def test_each_role_opens_exactly_the_pages_its_grants_allow(backoffice, role, view_class):
    view = view_of(backoffice, view_class)
    identity = view.identity
    client = backoffice.as_role(role)
    problems = []
    for page in await pages_of(backoffice, view):
        response = await client.get(page.url, follow_redirects=False)
        expected = 200 if page.allowed_for(role, identity) else 403
        if response.status_code != expected:
            problems.append(f"{page.url} ({page.action}): {response.status_code}, expected {expected}")
            continue
        if expected == 403 and not page.refused_for_everyone:
            wanted = ", ".join(r.value for r in roles_allowed(identity, page.action)) or None
            shown = needed_roles(response.text)
            if shown != wanted:
                problems.append(f"{page.url} ({page.action}): 403 page names {shown!r}, expected {wanted!r}")
    assert not problems, f"{role} on {identity}:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", list(Role), ids=str)
async def test_the_menu_shows_exactly_the_views_a_role_may_list(backoffice, role):
    page = await backoffice.as_role(role).get("/admin/category/list")
    assert page.status_code == 200
    problems = []
    for view in backoffice.admin.views:
        if isinstance(view, ModelView):
            href = f'href="{ADMIN}/{view.identity}/list"'
        else:
            href = f'href="{ADMIN}{backoffice.admin.admin.url_path_for(f"view-{view.identity}")}"'
        if (href in page.text) != role_may(role, view.identity, "list"):
            problems.append(f"{view.identity}: menu link {'shown' if href in page.text else 'missing'}")
    assert not problems, f"{role}:\n" + "\n".join(problems)


async def test_finance_sees_no_new_service_button_and_cannot_open_the_create_page(backoffice):
    create_link = f'href="{ADMIN}/service/create"'
    staff_listing = await backoffice.as_role(Role.STAFF).get("/admin/service/list")
    assert create_link in staff_listing.text
    assert "New Service" in staff_listing.text

    finance = backoffice.as_role(Role.FINANCE)
    listing = await finance.get("/admin/service/list")
    assert listing.status_code == 200
    assert create_link not in listing.text
    assert "New Service" not in listing.text
    refused = await finance.get("/admin/service/create")
    assert refused.status_code == 403
    assert needed_roles(refused.text) == "admin, staff"


@pytest.mark.parametrize(
    ("url", "needed"),
    [("/admin/staff-user/list", "admin"), ("/admin/company-settings/list", "admin, finance")],
)
async def test_staff_cannot_open_administration(backoffice, url, needed):
    response = await backoffice.as_role(Role.STAFF).get(url)
    assert response.status_code == 403
    assert needed_roles(response.text) == needed


async def test_line_action_buttons_show_only_to_roles_that_may_run_them(backoffice):
    async with backoffice.sessions() as session:
        order_id = await session.scalar(sa.select(Order.id).where(Order.idempotency_key == "seed:queued"))
    url = f"/admin/order/details/{order_id}"
    button = 'data-testid="line-action-hold-line"'

    assert button in (await backoffice.as_role(Role.STAFF).get(url)).text
    finance_page = await backoffice.as_role(Role.FINANCE).get(url)
    assert finance_page.status_code == 200
    assert button not in finance_page.text


async def test_staff_user_export_never_contains_password_hashes(backoffice):
    export = await backoffice.as_role(Role.ADMIN).get("/admin/staff-user/export/csv")
    assert export.status_code == 200
    assert backoffice.users[Role.ADMIN].email in export.text
    assert "password" not in export.text
    assert "$argon2" not in export.text


async def provider_id(backoffice, name: str) -> int:
    async with backoffice.sessions() as session:
        return int(await session.scalar(sa.select(Provider.id).where(Provider.name == name)))


async def test_the_provider_details_page_never_shows_the_api_key(backoffice):
    page = await backoffice.as_role(Role.ADMIN).get(f"/admin/provider/details/{await provider_id(backoffice, SANDBOX)}")
    assert page.status_code == 200
    assert DEMO_API_KEY not in page.text


async def test_the_provider_edit_page_never_shows_the_stored_api_key(backoffice):
    page = await backoffice.as_role(Role.ADMIN).get(f"/admin/provider/edit/{await provider_id(backoffice, SANDBOX)}")
    assert page.status_code == 200
    assert 'name="api_key"' in page.text
    assert DEMO_API_KEY not in page.text


# -- the README's role table -----------------------------------------------------------------------------------

README = Path(__file__).resolve().parents[3] / "README.md"
ROLE_TABLE_HEADER = "| role | reads | creates and edits | exports (CSV, XLSX) | business actions |"


def view_title(view) -> str:
    """The view's English name as the menu shows it (``str.__str__``: the source text, not a translation)."""
    title = view.name_plural if isinstance(view, ModelView) else view.name
    return str.__str__(title).lower()


def role_row(backoffice, role: Role) -> str:
    """What ``role`` may do on every registered view: its grants, limited by each view's ``can_*`` flags."""
    if (WILDCARD, WILDCARD) in ROLE_GRANTS[role]:
        return f"| {role} | everything | everything | everything | all |"
    reads, edits, exports, actions = [], [], [], []
    for view in backoffice.admin.views:
        identity, title = view.identity, view_title(view)
        if role_may(role, identity, "list"):
            reads.append(title)
        if not isinstance(view, ModelView):
            continue
        writes = [a for a in ("create", "edit") if getattr(view, f"can_{a}") and role_may(role, identity, a)]
        if writes:
            edits.append(title if len(writes) == 2 else f"{title} ({writes[0]} only)")
        if view.can_export and role_may(role, identity, "export"):
            exports.append(title)
        slugs = [slug for slug in action_slugs(backoffice, identity) if role_may(role, identity, f"action:{slug}")]
        if slugs:
            actions.append(f"{title}: " + ", ".join(slug.replace("-", " ") for slug in slugs))
    cells = [", ".join(reads), ", ".join(edits), ", ".join(exports), "; ".join(actions)]
    return f"| {role} | " + " | ".join(cell or "–" for cell in cells) + " |"


def test_the_readme_role_table_states_exactly_the_grants(backoffice):
    """Change a grant (admin/roles.py) and this fails until the README's role table says the same."""
    expected = [ROLE_TABLE_HEADER, "| --- | --- | --- | --- | --- |", *(role_row(backoffice, r) for r in Role)]
    lines = README.read_text().splitlines()
    assert ROLE_TABLE_HEADER in lines, "the README has no role table"
    start = lines.index(ROLE_TABLE_HEADER)
    table = lines[start : start + len(expected)]
    assert table == expected, "README role table out of date; it should read:\n" + "\n".join(expected)


# Pinned on purpose: a change of who may export (bulk personal data) must be a deliberate edit here too.
EXPORTS = {
    Role.STAFF: {"category", "service"},
    Role.FINANCE: {"customer", "order", "payment", "audit-log"},
}


@pytest.mark.parametrize("role", [Role.STAFF, Role.FINANCE], ids=str)
def test_who_may_export_what_is_the_decided_list(backoffice, role):
    exportable = [v for v in backoffice.admin.views if isinstance(v, ModelView) and v.can_export]
    assert {v.identity for v in exportable if role_may(role, v.identity, "export")} == EXPORTS[role]
    assert all(role_may(Role.ADMIN, v.identity, "export") for v in exportable)
