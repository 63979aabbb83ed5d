"""Route plans as stored: one post office's day, solved in a worker process, then published."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from postal_svc.db import Base, BigIntPK, JSONType, UTCDateTime

QUEUED, SOLVING, READY, PUBLISHED, FAILED = "queued", "solving", "ready", "published", "failed"
PLAN_STATUSES = (QUEUED, SOLVING, READY, PUBLISHED, FAILED)


class RoutePlan(Base):
    __tablename__ = "route_plans"
    __table_args__ = (
        Index("ix_route_plans_status_created_at", "status", "created_at"),
        Index("ix_route_plans_post_office_code_plan_date", "post_office_code", "plan_date"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    post_office_code: Mapped[str] = mapped_column(ForeignKey("post_offices.code"))
    # The Vietnam-time day the plan is for.
    plan_date: Mapped[date] = mapped_column(Date)
    courier_codes: Mapped[list[str]] = mapped_column(JSONType)
    time_limit_s: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    # {elapsed_s, best_cost, feasible} while solving, written at most every ~0.5 s.
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # {"routes": [...]} once ready; see routing.planning.solution_document.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    unassigned: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    totals: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # [{"order_id", "courier_code"}]: these orders stay with that courier when re-solving.
    locks: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_by_client_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_clients.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
