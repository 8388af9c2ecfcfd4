"""How often each watched table has changed, so that figures computed over it can be kept until it changes."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class DataStamp(db.Model):
    """One watched table's change count: every committed transaction that wrote the table raised it by one.

    Kept by ``portal.stamps`` in the writing transaction itself, so a stamp and the rows it stands for are
    always seen together. A row appears with the table's first change.
    """

    __tablename__ = "data_stamps"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
