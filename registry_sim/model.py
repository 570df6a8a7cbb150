"""Accounts, projects and unit types of the registry (注册登记系统)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import NewType

AccountId = NewType("AccountId", str)
UnitCode = NewType("UnitCode", str)

# System accounts every registry has (docs/rules.md): where units come from and go to.
ISSUANCE = AccountId("SYS:ISSUANCE")  # the source of every unit; its balance is minus the issued
NATIONAL = AccountId("SYS:NATIONAL")  # the national authority (生态环境部)
RETIRED = AccountId("SYS:RETIRED")  # surrendered and cancelled units, for good
FEES = AccountId("SYS:FEES")  # the exchange's fee account


def provincial_authority(province: str) -> AccountId:
    return AccountId(f"SYS:PROVINCE:{province}")


class AccountKind(StrEnum):
    COVERED_ENTITY = "covered_entity"  # 重点排放单位
    PARTICIPANT = "participant"  # other institution or investor
    ISSUANCE = "issuance"
    NATIONAL_AUTHORITY = "national_authority"
    PROVINCIAL_AUTHORITY = "provincial_authority"
    FEES = "fees"
    RETIRED = "retired"


class HoldingState(StrEnum):
    """Where units of a holding stand (持有状态)."""

    AVAILABLE = "available"
    HELD = "held"  # frozen for open sell orders
    PENDING = "pending"  # submitted for surrender, awaiting the compliance assessment
    FROZEN = "frozen"  # judicial freeze (司法冻结)


class UnitKind(StrEnum):
    CEA = "CEA"  # 碳排放配额
    CCER = "CCER"  # 国家核证自愿减排量
    PHCER = "PHCER"  # 碳普惠核证减排量 (Guangdong)


@dataclass(frozen=True, slots=True)
class Account:
    account_id: AccountId
    kind: AccountKind
    name: str
    sector: str = ""
    province: str = ""
    gas_fired: bool = False


@dataclass(frozen=True, slots=True)
class Project:
    """An offset project: CCER (national) or PHCER (Guangdong 碳普惠)."""

    project_id: str
    kind: UnitKind
    methodology: str  # e.g. forestry_sink, renewable, methane_use, solar_thermal
    province: str
    start_date: dt.date
    registration_date: dt.date
    inside_ets_scope: bool


@dataclass(frozen=True, slots=True)
class UnitType:
    """One fungible kind of unit: a CEA vintage, or an offset project's vintage."""

    code: UnitCode
    kind: UnitKind
    vintage: int
    project_id: str | None = None


def cea(vintage: int) -> UnitType:
    """The allowance of one vintage: ``CEA2024``."""
    return UnitType(UnitCode(f"CEA{vintage}"), UnitKind.CEA, vintage)


def offset_unit(project: Project, vintage: int) -> UnitType:
    code = UnitCode(f"{project.kind.value}:{project.project_id}:{vintage}")
    return UnitType(code, project.kind, vintage, project.project_id)
