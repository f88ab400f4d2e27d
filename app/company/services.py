"""The seller's data (one row)."""

from __future__ import annotations

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService

from app.company.models import CompanySettings

SINGLETON_ID = 1


class CompanySettingsService(SQLAlchemyAsyncRepositoryService[CompanySettings]):
    class Repo(SQLAlchemyAsyncRepository[CompanySettings]):
        model_type = CompanySettings

    repository_type = Repo

    async def current(self) -> CompanySettings | None:
        return await self.get_one_or_none(id=SINGLETON_ID)
