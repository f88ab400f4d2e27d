"""Staff accounts: creation, login, password changes, deactivation."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import LoginFailure, Role, StaffUser
from app.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.validation import normalise_email, normalise_locale


class StaffUserService(SQLAlchemyAsyncRepositoryService[StaffUser]):
    class Repo(SQLAlchemyAsyncRepository[StaffUser]):
        model_type = StaffUser

    repository_type = Repo

    async def create_user(
        self, *, email: str, password: str, role: Role | str, name: str | None = None, locale: str = "de"
    ) -> StaffUser:
        errors: dict[str, str] = {}
        try:
            email = normalise_email(email)
        except ValueError as exc:
            errors["email"] = str(exc)
        try:
            role = Role(role)
        except ValueError:
            errors["role"] = f"unknown role {role!r}; use one of: {', '.join(r.value for r in Role)}"
        if problem := password_problem(password):
            errors["password"] = problem
        try:
            locale = normalise_locale(locale)
        except ValueError as exc:
            errors["locale"] = str(exc)
        if errors:
            raise ValidationFailed(errors)
        if await self.get_one_or_none(email=email):
            raise Conflict(f"a staff user with email {email} already exists")
        user = StaffUser(email=email, password_hash=hash_password(password), role=Role(role), name=name, locale=locale)
        return await self.create(user)

    async def authenticate(self, email: str, password: str) -> StaffUser | None:
        """The active user with these credentials, or None. Upgrades the hash when parameters changed."""
        user = await self.get_one_or_none(email=email.strip().lower())
        if not verify_password(user.password_hash if user else None, password) or user is None:
            return None
        if not user.is_active:
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = datetime.now(UTC)
        await self.repository.session.flush()
        return user

    async def set_password(self, user_id: int, password: str) -> StaffUser:
        if problem := password_problem(password):
            raise ValidationFailed({"password": problem})
        user = await self._get(user_id)
        user.password_hash = hash_password(password)
        await self.repository.session.flush()
        return user

    async def set_active(self, user_id: int, *, active: bool, acting_user_id: int | None) -> StaffUser:
        user = await self._get(user_id)
        if not active:
            if acting_user_id == user.id:
                raise PermissionDenied("you cannot deactivate your own account")
            if user.role == Role.ADMIN and user.is_active:
                await self._lock_admins()
                if await self.count_active_admins() <= 1:
                    raise PermissionDenied("the last active admin cannot be deactivated")
        user.is_active = active
        await self.repository.session.flush()
        return user

    async def update_profile(
        self, user_id: int, *, name: str | None, role: Role | str, locale: str, acting_user_id: int | None
    ) -> StaffUser:
        """Name, language and role; nobody removes their own admin role or the last admin's."""
        user = await self._get(user_id)
        try:
            role = Role(role)
        except ValueError as exc:
            raise ValidationFailed({"role": f"unknown role {role!r}"}) from exc
        try:
            locale = normalise_locale(locale)
        except ValueError as exc:
            raise ValidationFailed({"locale": str(exc)}) from exc
        if user.role == Role.ADMIN and role != Role.ADMIN:
            if acting_user_id == user.id:
                raise PermissionDenied("you cannot remove your own admin role")
            await self._lock_admins()
            if user.is_active and await self.count_active_admins() <= 1:
                raise PermissionDenied("the last active admin must stay an admin")
        user.name, user.role, user.locale = (name or None), role, locale
        await self.repository.session.flush()
        return user

    async def count_active_admins(self) -> int:
        return await self.count(StaffUser.role == Role.ADMIN, StaffUser.is_active.is_(True))

    async def _get(self, user_id: int) -> StaffUser:
        user = await self.get_one_or_none(id=user_id)
        if user is None:
            raise NotFound(f"staff user {user_id} not found")
        return user

    async def _lock_admins(self) -> None:
        """Serialise admin-count checks (deactivations) between concurrent requests."""
        await self.repository.session.execute(
            sa.select(StaffUser.id).where(StaffUser.role == Role.ADMIN).with_for_update()
        )


class LoginThrottle:
    """At most MAX_FAILURES failed logins per IP and email within WINDOW; shared by all processes via the DB."""

    MAX_FAILURES = 5
    WINDOW = timedelta(minutes=1)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_locked(self, *, email: str, ip: str) -> bool:
        since = datetime.now(UTC) - self.WINDOW
        failures = await self.session.scalar(
            sa.select(sa.func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.ip == ip, LoginFailure.email == email, LoginFailure.at >= since)
        )
        return int(failures or 0) >= self.MAX_FAILURES

    async def record_failure(self, *, email: str, ip: str) -> None:
        now = datetime.now(UTC)
        self.session.add(LoginFailure(email=email, ip=ip, at=now))
        await self.session.execute(sa.delete(LoginFailure).where(LoginFailure.at < now - timedelta(days=1)))

    async def clear(self, *, email: str, ip: str) -> None:
        await self.session.execute(sa.delete(LoginFailure).where(LoginFailure.ip == ip, LoginFailure.email == email))


def new_password() -> str:
    """A random initial password for a staff member to change after the first login."""
    return secrets.token_urlsafe(12)
