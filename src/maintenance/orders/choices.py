"""Choices of the work-order domain (codes stored; labels and colours shown)."""

from __future__ import annotations

from maintenance.choices import Choice


class OrderType(Choice):
    """The order mix managers watch: the plant moves work from PM toward CBM."""

    PM = ("PM", "计划维修", "Planned (PM)", "primary")
    CBM = ("CBM", "状态维修", "Condition-based (CBM)", "success")
    CM = ("CM", "故障维修", "Corrective (CM)", "danger")
    TA = ("TA", "大修", "Turnaround (TA)", "warning")
    PRJ = ("PRJ", "技改项目", "Revamp / project (PRJ)", "info")


class OrderState(Choice):
    DRAFT = ("draft", "草稿", "Draft", "secondary")
    APPROVED = ("approved", "已批准", "Approved", "info")
    SCHEDULED = ("scheduled", "已排程", "Scheduled", "primary")
    IN_PROGRESS = ("in_progress", "进行中", "In progress", "warning")
    ON_HOLD = ("on_hold", "暂停", "On hold", "dark")
    COMPLETED = ("completed", "已完工", "Completed", "success")
    CLOSED = ("closed", "已关闭", "Closed", "light")
    CANCELLED = ("cancelled", "已取消", "Cancelled", "light")


OPEN_STATES = frozenset(
    {OrderState.DRAFT, OrderState.APPROVED, OrderState.SCHEDULED, OrderState.IN_PROGRESS, OrderState.ON_HOLD}
)
DONE_STATES = frozenset({OrderState.COMPLETED, OrderState.CLOSED})


class Priority(Choice):
    URGENT = ("1", "紧急", "Urgent", "danger")
    HIGH = ("2", "高", "High", "warning")
    NORMAL = ("3", "中", "Normal", "primary")
    LOW = ("4", "低", "Low", "secondary")


class Provider(Choice):
    """Who does the work or supplies the service: the in-house vs outsourced cost split."""

    IN_HOUSE = ("in_house", "自修", "In-house", "primary")
    CONTRACTOR = ("contractor", "外委", "Contractor", "warning")


class CostKind(Choice):
    """Kinds of cost line. What ``quantity``/``unit_price_cny``/``reference_price_cny`` mean per kind
    is documented on :class:`maintenance.orders.models.CostLine`."""

    LABOUR = ("labour", "人工", "Labour", "primary")
    MATERIAL = ("material", "材料", "Materials", "info")
    SERVICE = ("service", "外委服务", "Services", "warning")
    REFURBISHED = ("refurbished", "修旧利废", "Refurbished parts", "success")
    LOCALISED = ("localised", "国产化备件", "Localised spares", "success")


class CostCategory(Choice):
    """The repair budget's categories (预算科目). A work-order cost line falls in one by its kind,
    except that every line of a turnaround order is turnaround cost (大修费用 is budgeted apart):
    labour → labour, material → materials, service → outsourced services, refurbished and localised
    → spare parts. A finance journal entry names its category."""

    MATERIALS = ("materials", "材料费", "Materials", "info")
    LABOUR = ("labour", "人工费", "Labour", "primary")
    SERVICES = ("services", "外委服务费", "Outsourced services", "warning")
    SPARES = ("spares", "备品备件", "Spare parts", "success")
    TURNAROUND = ("turnaround", "大修费用", "Turnaround", "danger")


class ChecklistResult(Choice):
    OK = ("ok", "正常", "OK", "success")
    NOT_OK = ("not_ok", "异常", "Not OK", "danger")


class FailureMode(Choice):
    """ISO 14224 Annex B failure modes common to rotating and static equipment."""

    BRD = ("BRD", "运行中损坏", "Breakdown", "danger")
    ELP = ("ELP", "外部泄漏(工艺介质)", "External leakage – process medium", "danger")
    ELU = ("ELU", "外部泄漏(公用介质)", "External leakage – utility medium", "warning")
    INL = ("INL", "内部泄漏", "Internal leakage", "warning")
    FTS = ("FTS", "无法启动", "Fail to start on demand", "danger")
    STP = ("STP", "无法停机", "Fail to stop on demand", "danger")
    UST = ("UST", "意外停机", "Spurious stop", "danger")
    VIB = ("VIB", "振动", "Vibration", "warning")
    NOI = ("NOI", "噪声", "Noise", "warning")
    OHE = ("OHE", "过热", "Overheating", "warning")
    HIO = ("HIO", "输出偏高", "High output", "warning")
    LOO = ("LOO", "输出偏低", "Low output", "warning")
    PDE = ("PDE", "参数偏差", "Parameter deviation", "info")
    PLU = ("PLU", "堵塞", "Plugged / choked", "warning")
    STD = ("STD", "结构缺陷", "Structural deficiency", "danger")
    AIR = ("AIR", "读数异常", "Abnormal instrument reading", "info")
    MOF = ("MOF", "小故障", "Minor in-service problems", "secondary")
    OTH = ("OTH", "其他", "Other", "secondary")


class FailureMechanism(Choice):
    """ISO 14224 Table B.2 failure mechanisms (level-2 codes)."""

    LEAKAGE = ("1.1", "泄漏", "Leakage", "secondary")
    VIBRATION = ("1.2", "振动", "Vibration", "secondary")
    CLEARANCE = ("1.3", "间隙/对中失效", "Clearance / alignment failure", "secondary")
    DEFORMATION = ("1.4", "变形", "Deformation", "secondary")
    LOOSENESS = ("1.5", "松动", "Looseness", "secondary")
    STICKING = ("1.6", "卡涩", "Sticking", "secondary")
    CAVITATION = ("2.1", "汽蚀", "Cavitation", "secondary")
    CORROSION = ("2.2", "腐蚀", "Corrosion", "secondary")
    EROSION = ("2.3", "冲蚀", "Erosion", "secondary")
    WEAR = ("2.4", "磨损", "Wear", "secondary")
    BREAKAGE = ("2.5", "断裂", "Breakage", "secondary")
    FATIGUE = ("2.6", "疲劳", "Fatigue", "secondary")
    OVERHEATING = ("2.7", "过热", "Overheating", "secondary")
    BURST = ("2.8", "爆裂", "Burst", "secondary")
    INSTRUMENT_FAILURE = ("3.0", "仪表失效", "Instrument failure", "secondary")
    SHORT_CIRCUIT = ("4.1", "短路", "Short circuiting", "secondary")
    OPEN_CIRCUIT = ("4.2", "开路", "Open circuit", "secondary")
    EARTH_FAULT = ("4.4", "接地/绝缘故障", "Earth / isolation fault", "secondary")
    BLOCKAGE = ("5.1", "堵塞", "Blockage / plugged", "secondary")
    CONTAMINATION = ("5.2", "污染", "Contamination", "secondary")
    UNKNOWN = ("6.0", "原因不明", "Unknown", "secondary")


class FailureCause(Choice):
    """ISO 14224 Table B.3 failure causes (level-2 codes)."""

    DESIGN = ("1.0", "设计原因", "Design-related", "secondary")
    IMPROPER_CAPACITY = ("1.1", "能力不足", "Improper capacity", "secondary")
    IMPROPER_MATERIAL = ("1.2", "选材不当", "Improper material", "secondary")
    INSTALLATION = ("2.1", "制造/安装缺陷", "Fabrication / installation error", "secondary")
    OFF_DESIGN_SERVICE = ("3.1", "超工况运行", "Off-design service", "secondary")
    OPERATING_ERROR = ("3.3", "操作失误", "Operating error", "secondary")
    MAINTENANCE_ERROR = ("3.4", "检修失误", "Maintenance error", "secondary")
    EXPECTED_WEAR = ("3.5", "正常磨损老化", "Expected wear and tear", "secondary")
    DOCUMENTATION = ("4.1", "规程/文件错误", "Documentation error", "secondary")
    MANAGEMENT = ("4.2", "管理原因", "Management error", "secondary")
    MISCELLANEOUS = ("5.0", "其他", "Miscellaneous", "secondary")


class DetectionMethod(Choice):
    """ISO 14224 Table B.4 detection methods."""

    PERIODIC_MAINTENANCE = ("PM", "定期维护中发现", "Periodic maintenance", "secondary")
    FUNCTIONAL_TEST = ("FT", "功能试验", "Functional testing", "secondary")
    INSPECTION = ("IN", "巡检/点检", "Inspection", "secondary")
    CONDITION_MONITORING = ("CM", "状态监测", "Condition monitoring", "success")
    PRODUCTION_INTERFERENCE = ("PI", "生产异常发现", "Production interference", "warning")
    CASUAL_OBSERVATION = ("CO", "偶然发现", "Casual observation", "secondary")
    ON_DEMAND = ("OD", "需要时发现", "On demand", "warning")
    OTHER = ("OT", "其他", "Other", "secondary")


class PlanBasis(Choice):
    """How a PM plan's due dates come about."""

    FIXED = ("fixed", "固定周期", "Calendar, fixed schedule", "primary")
    FLOATING = ("floating", "按上次完成浮动", "Calendar, from last completion", "info")
    RUNTIME = ("runtime", "按运行小时", "Runtime hours", "warning")


class IntervalUnit(Choice):
    DAY = ("day", "天", "days", "secondary")
    WEEK = ("week", "周", "weeks", "secondary")
    MONTH = ("month", "个月", "months", "secondary")
