"""States of instances, tasks, service calls and incidents."""
from __future__ import annotations

import enum


class InstanceStatus(str, enum.Enum):
    RUNNING = "running"      # waiting for people or the worker
    ERROR = "error"          # a script or adapter failed; see incidents
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskStatus(str, enum.Enum):
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class CallStatus(str, enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class IncidentStatus(str, enum.Enum):
    OPEN = "open"
    RESOLVED = "resolved"


class Role(str, enum.Enum):
    """Role codes used in candidate groups (`unit:role`)."""

    CHUYEN_VIEN = "chuyen_vien"
    LANH_DAO = "lanh_dao"
    VAN_THU = "van_thu"
    QUAN_TRI = "quan_tri"
    KY_THUAT = "ky_thuat"  # technicians on duty for videoconferences (Trung tâm Chuyển đổi số)
    TONG_DAI_VIEN = "tong_dai_vien"  # operators of the public-service hotline 1022 (docs/hotline.md)

    @property
    def label_vi(self) -> str:
        return {
            "chuyen_vien": "Chuyên viên", "lanh_dao": "Lãnh đạo",
            "van_thu": "Văn thư", "quan_tri": "Quản trị hệ thống", "ky_thuat": "Kỹ thuật viên",
            "tong_dai_vien": "Điện thoại viên",
        }[self.value]


#: Who may see reports (deadlines, statistics): leaders and administrators.
REPORT_ROLES = frozenset({Role.LANH_DAO.value, Role.QUAN_TRI.value})


class DueState(str, enum.Enum):
    """Where a running instance or ready task stands against its deadline."""

    DUE_OK = "dung_han"
    DUE_SOON = "sap_den_han"
    OVERDUE = "qua_han"

    @property
    def label_vi(self) -> str:
        return {"dung_han": "đúng hạn", "sap_den_han": "sắp đến hạn", "qua_han": "quá hạn"}[self.value]


class SlaOutcome(str, enum.Enum):
    """How a finished instance met its deadline (see docs/sla.md for the rule)."""

    EARLY = "truoc_han"
    ON_TIME = "dung_han"
    LATE = "qua_han"

    @property
    def label_vi(self) -> str:
        return {"truoc_han": "trước hạn", "dung_han": "đúng hạn", "qua_han": "quá hạn"}[self.value]
