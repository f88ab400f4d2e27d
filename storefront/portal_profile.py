"""The client's profile in the portal: name, company, address, country, VAT ID and language, saved through
``app.customers.commands.update_own_profile``; refused input comes back in the form with what to correct."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app import i18n
from app.company.models import CompanySettings
from app.customers.commands import PROFILE_FIELDS, update_own_profile
from app.customers.models import Customer
from app.db.engine import session_factory
from app.errors import ValidationFailed
from app.uow import unit_of_work
from app.web.templating import render
from storefront.choices import countries
from storefront.controllers import LANG_COOKIE_MAX_AGE
from storefront.portal import PORTAL_HEADERS, FormData, client_ip, customer_actor, logged_in, to_login
from storefront.portal_session import check_csrf
from storefront.same_origin import require_same_origin

MAX_FIELD_LENGTH = 500  # above every column's limit: the command refuses what is too long, with its field


def profile_page(
    request: Request[Any, Any, Any],
    company: CompanySettings | None,
    form: dict[str, str],
    csrf_token: str,
    *,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response[Any]:
    return render(
        request,
        "portal/profile.html",
        status_code=status_code,
        company=company,
        form=form,
        errors=errors or {},
        saved=saved,
        countries=countries(i18n.current_locale.get()),
        csrf_token=csrf_token,
    )


def profile_form(customer: Customer) -> dict[str, str]:
    return {name: getattr(customer, name) or "" for name in PROFILE_FIELDS}


class PortalProfileController(Controller):
    path = "/portal/profile"
    include_in_schema = False
    response_headers = PORTAL_HEADERS

    @get("/")
    async def profile(self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine]) -> Response[Any]:
        found = await logged_in(request, db_engine)
        if found is None:
            return to_login()
        session, customer, company = found
        saved = request.query_params.get("saved") == "1"
        return profile_page(request, company, profile_form(customer), session.csrf_token, saved=saved)

    @post("/", guards=[require_same_origin])
    async def save_profile(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], data: FormData
    ) -> Response[Any]:
        found = await logged_in(request, db_engine)
        if found is None:
            return to_login()
        session, customer, company = found
        check_csrf(session, data)
        form = {name: str(data.get(name) or "")[:MAX_FIELD_LENGTH] for name in PROFILE_FIELDS}
        try:
            async with unit_of_work(session_factory(db_engine), ip=client_ip(request)) as uow:
                saved = await update_own_profile(
                    uow, customer_id=customer.id, values=form, actor=customer_actor(customer)
                )
                locale = saved.locale
        except ValidationFailed as exc:
            errors = exc.field_errors(i18n.gettext)
            return profile_page(request, company, form, session.csrf_token, errors=errors, status_code=422)
        response: Response[Any] = Redirect(path="/portal/profile?saved=1", status_code=303)
        response.set_cookie("lang", locale, max_age=LANG_COOKIE_MAX_AGE, samesite="lax", httponly=True)
        return response
