"""Who the support desk's people are: operators' chosen availability (kept in
the relational table so presence can be rebuilt) and customer details."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from goftogu.identity.models import Role, User
from goftogu.presence.operators import OperatorStatus
from goftogu.storage.database import Database
from goftogu.storage.models import utcnow
from goftogu.support.documents import Customer
from goftogu.support.models import SupportOperator


@dataclass(frozen=True)
class StaffMember:
    id: str
    username: str
    display_name: str | None


class StaffDirectory:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def save_status(
        self, operator_id: uuid.UUID, status: OperatorStatus, accepting: bool
    ) -> None:
        """Remember what the operator chose (an upsert)."""
        insert = postgresql.insert if self._db.kind == "postgresql" else sqlite.insert
        values = {
            "operator_id": operator_id,
            "status": status.value,
            "accepting": accepting,
            "updated_at": utcnow(),
        }
        statement = insert(SupportOperator).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["operator_id"],
            set_={"status": values["status"], "accepting": accepting, "updated_at": utcnow()},
        )
        async with self._db.transaction() as session:
            await session.execute(statement)

    async def save_capacity(self, operator_id: uuid.UUID, capacity: int | None) -> None:
        """Remember the operator's own capacity (an upsert; a new row is offline,
        accepting, as before they ever chose)."""
        insert = postgresql.insert if self._db.kind == "postgresql" else sqlite.insert
        statement = insert(SupportOperator).values(
            operator_id=operator_id,
            status=OperatorStatus.offline.value,
            accepting=True,
            capacity=capacity,
            updated_at=utcnow(),
        )
        statement = statement.on_conflict_do_update(
            index_elements=["operator_id"], set_={"capacity": capacity, "updated_at": utcnow()}
        )
        async with self._db.transaction() as session:
            await session.execute(statement)

    async def capacities(self) -> dict[str, int]:
        """The operators with a capacity of their own."""
        async with self._db.sessions() as session:
            rows = (
                await session.execute(
                    select(SupportOperator.operator_id, SupportOperator.capacity).where(
                        SupportOperator.capacity.is_not(None)
                    )
                )
            ).all()
        return {
            str(operator_id): int(capacity)
            for operator_id, capacity in rows
            if capacity is not None
        }

    async def chosen(self, operator_id: uuid.UUID) -> tuple[OperatorStatus, bool] | None:
        async with self._db.sessions() as session:
            row = await session.get(SupportOperator, operator_id)
        return (OperatorStatus(row.status), row.accepting) if row else None

    async def statuses(self) -> dict[str, tuple[OperatorStatus, bool]]:
        async with self._db.sessions() as session:
            rows = (await session.scalars(select(SupportOperator))).all()
        return {str(row.operator_id): (OperatorStatus(row.status), row.accepting) for row in rows}

    async def role_of(self, user_id: str) -> Role | None:
        try:
            parsed = uuid.UUID(user_id)
        except ValueError:
            return None
        async with self._db.sessions() as session:
            role = await session.scalar(select(User.role).where(User.id == parsed))
        return Role(role) if role else None

    async def operators(self, limit: int = 500) -> list[StaffMember]:
        """Every operator and admin (who a conversation can be handed to), by username."""
        async with self._db.sessions() as session:
            rows = (
                await session.execute(
                    select(User.id, User.username, User.display_name)
                    .where(User.role.in_([Role.operator.value, Role.admin.value]))
                    .order_by(User.username_key)
                    .limit(limit)
                )
            ).all()
        return [StaffMember(str(row.id), row.username, row.display_name) for row in rows]

    async def name_of(self, user_id: str) -> str | None:
        """The name a customer sees for a staff member: display name, else username."""
        try:
            parsed = uuid.UUID(user_id)
        except ValueError:
            return None
        async with self._db.sessions() as session:
            row = (
                await session.execute(
                    select(User.username, User.display_name).where(User.id == parsed)
                )
            ).first()
        return (row.display_name or row.username) if row else None

    async def customer(self, user_id: uuid.UUID) -> Customer:
        """The customer card copied into each conversation they start."""
        async with self._db.sessions() as session:
            user = await session.get(User, user_id)
        if user is None:
            return Customer(id=str(user_id))
        name = user.display_name or (None if user.is_visitor else user.username)
        return Customer(id=str(user.id), name=name, email=user.email)
