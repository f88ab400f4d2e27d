"""Company commands: the seller's data, one row (id 1), created once and edited by admin and finance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.actors import Actor
from app.company.models import CompanySettings
from app.company.services import EDITABLE_FIELDS, SINGLETON_ID, clean_company_settings
from app.editing import create_record, update_record
from app.uow import UnitOfWork

COMPANY_SETTINGS = "company_settings"


async def save_company_settings(
    uow: UnitOfWork, *, values: Mapping[str, Any], actor: Actor, version: str | None = None
) -> CompanySettings:
    """Create the seller's data the first time, else change it (if still the version the editor saw)."""
    if await uow.session.get(CompanySettings, SINGLETON_ID) is None:
        return await create_record(
            uow,
            CompanySettings,
            entity_type=COMPANY_SETTINGS,
            fields=EDITABLE_FIELDS,
            values=values,
            clean=clean_company_settings,
            actor=actor,
        )
    return await update_record(
        uow,
        CompanySettings,
        SINGLETON_ID,
        entity_type=COMPANY_SETTINGS,
        fields=EDITABLE_FIELDS,
        values=values,
        clean=clean_company_settings,
        actor=actor,
        version=version,
    )
