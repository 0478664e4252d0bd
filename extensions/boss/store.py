"""The connector's own tables: each customer's account as BOSS last reported it (balance, products, payments) and
the syncs' watermarks (the last change sequence number loaded: the nightly one's, the key persons' job's)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from peewee import AutoField, BigIntegerField, CharField, DateTimeField, DecimalField

from helpline.data.base import SystemModel, utcnow
from helpline.data.database import db, session, write_transaction
from helpline.data.jsonfield import JSONField


class BossAccount(SystemModel):
    id = AutoField()
    customer_no = CharField(max_length=64, unique=True)
    phone = CharField(max_length=32, index=True, default="")
    name = CharField(max_length=255, default="")
    balance = DecimalField(max_digits=14, decimal_places=2, default=0)
    products = JSONField(null=True)
    payments = JSONField(null=True)
    seq = BigIntegerField(default=0)
    fetched_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "boss_account"


class BossState(SystemModel):
    key = CharField(max_length=64, primary_key=True)
    value = CharField(max_length=255)

    class Meta:
        table_name = "boss_state"


def ensure() -> None:
    db.create_tables([BossAccount, BossState], safe=True)


def account_row(item: dict[str, Any]) -> dict[str, Any]:
    """The account columns of one BOSS customer."""
    phone = "".join(c for c in str(item.get("mobile") or "") if c.isdigit())
    return {"customer_no": str(item["cust_no"]), "phone": phone,
            "name": str(item.get("cust_name") or ""), "balance": Decimal(str(item.get("balance") or 0)),
            "products": item.get("products") or [], "payments": item.get("payments") or [],
            "seq": int(item.get("seq") or 0), "fetched_at": utcnow()}


def save_accounts(rows: list[dict[str, Any]], watermark: int | None = None, name: str = "watermark") -> None:
    """Upsert accounts (and move the watermark ``name``) in one transaction."""
    with session(), write_transaction():
        ensure()
        for start in range(0, len(rows), 500):
            _upsert(rows[start:start + 500])
        if watermark is not None:
            _put(name, str(watermark))


def put(key: str, value: str) -> None:
    """Keep a state value."""
    with session(), write_transaction():
        ensure()
        _put(key, value)


def _put(key: str, value: str) -> None:
    (BossState.insert(key=key, value=value)
     .on_conflict(conflict_target=[BossState.key], update={BossState.value: _excluded("value")}).execute())


def state(key: str) -> str | None:
    with session():
        ensure()
        found = BossState.get_or_none(BossState.key == key)
        return str(found.value) if found else None


def _upsert(rows: list[dict[str, Any]]) -> None:
    fields = ("phone", "name", "balance", "products", "payments", "seq", "fetched_at")
    query = BossAccount.insert_many(rows).on_conflict(
        conflict_target=[BossAccount.customer_no],
        update={getattr(BossAccount, f): _excluded(f) for f in fields})
    query.execute()


def _excluded(name: str) -> Any:
    from peewee import SQL

    return SQL(f"EXCLUDED.{name}")


def watermark(name: str = "watermark") -> int:
    """The last change number loaded: by the nightly sync (``watermark``), by the key persons' job
    (``key_watermark``)."""
    return int(state(name) or 0)


def account(customer_no: str | None = None, phone: str | None = None) -> dict[str, Any] | None:
    with session():
        ensure()
        query = BossAccount.select()
        if customer_no:
            query = query.where(BossAccount.customer_no == customer_no)
        elif phone:
            query = query.where(BossAccount.phone == phone)
        else:
            return None
        found = query.dicts().first()
        return dict(found) if found else None
