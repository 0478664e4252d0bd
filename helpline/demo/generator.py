"""Fill the demo database with realistic fake data, deterministic for a given seed.

Regions come from ``regions-hunan.yaml`` (the province's 14 cities and their counties, with area codes).
Customers get Chinese names, unique mobile or fixed-line numbers of their city, addresses in their county
and classifications drawn from the live category trees (so a tree edited in the designer is respected),
with a realistic value-tier mix. Bulk loads go straight through the models in batches; they are a system
action, recorded once in the audit log.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from helpline.data.database import session, write_transaction
from helpline.data.entities import column
from helpline.data.entities import rows as select_rows
from helpline.data.text_index import rebuild, rebuild_all
from helpline.data.workflow import DepartmentMember, DepartmentRegion
from helpline.metadata.kinds import Category, Entity
from helpline.security.actor import Actor
from helpline.security.audit import audit
from helpline.security.passwords import hash_password

if TYPE_CHECKING:
    from helpline.services.platform import Platform

REGIONS_FILE = Path(__file__).with_name("regions-hunan.yaml")

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
            "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强文静红梅玉兰海燕丹晨阳雪梅春花德明湘平湘军" \
        "湘云楚雄岳峰洞庭潇湘衡山韶华"
STREETS = ["人民路", "解放路", "建设路", "五一大道", "芙蓉路", "韶山路", "湘江路", "中山路", "新华路", "光明街",
           "朝阳路", "东风路", "南湖路", "胜利路", "团结路"]
TITLES = ["信号中断", "机顶盒故障", "宽带无法上网", "账单疑问", "业务变更", "投诉服务态度"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157",
                   "158", "159", "170", "176", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189",
                   "191", "198", "199"]
SERVICE_PASSWORD_CUSTOMERS = 5
"""The first customers (HN00000001 ...) have a service password, so the IVR's enquiries menu can be tried."""
TABLE_ARTICLE = """高清机顶盒前面板指示灯的含义：

| 指示灯 | 状态 | 处理 |
|:--|:--|:--|
| 电源灯 | 红色常亮 | 待机，按遥控器电源键开机 |
| 信号灯 | 不亮 | 无信号：检查信号线，仍无信号请报障 |
| 信号灯 | 绿色闪烁 | 正在接收数据，属正常 |

```echarts
{"title": {"text": "上月无信号报障原因"}, "xAxis": {"data": ["信号线松动", "分配器故障", "光缆中断", "其他"]},
 "yAxis": {}, "series": [{"type": "bar", "data": [46, 21, 12, 8]}]}
```
"""
"""A demo knowledge article with a table and a chart (docs/knowledge.md)."""

TIER_WEIGHTS = {"ordinary": 0.85, "silver": 0.07, "gold": 0.04, "diamond": 0.025, "platinum": 0.015}


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    name_en: str
    level: str
    parent: str | None
    area_code: str | None


DEMO_MEMBERS = [("qa_desk", "qa1", True), ("maint_changsha", "tech1", True)]
"""(department, username, head) of the demo users (``helpline.services.auth.DEMO_USERS``)."""
DEMO_DEPARTMENT_REGIONS = [("maint_changsha", "changsha"), ("maint_zhuzhou", "zhuzhou"), ("maint_yiyang", "yiyang")]


def hunan_regions() -> list[Region]:
    """Province, cities and counties; a county's code is ``<city>_<nn>`` in the file's order."""
    data = yaml.safe_load(REGIONS_FILE.read_text(encoding="utf-8"))
    province = data["province"]
    out = [Region("hunan", province["zh_CN"], province["en"], "province", None, None)]
    for city in data["cities"]:
        out.append(Region(city["code"], city["zh_CN"], city["en"], "city", "hunan", city["area_code"]))
        for i, county in enumerate(city["counties"], start=1):
            out.append(Region(f"{city['code']}_{i:02d}", county, "", "county", city["code"], city["area_code"]))
    return out


def _codes(tree: Category | None, *, leaves: bool | None = None) -> list[str]:
    if tree is None:
        return []
    active = [n for n in tree.nodes if not n.retired]
    want_leaves = tree.selectable == "leaves" if leaves is None else leaves
    if want_leaves:
        parents = {n.parent for n in active if n.parent}
        return [n.code for n in active if n.code not in parents] or [n.code for n in active]
    return [n.code for n in active]


def demo_service_password(seed: int, i: int) -> str:
    """The six-digit service password of demo customer ``i`` (0-based) for ``seed``: the same on every run."""
    return f"{random.Random(f'service-password:{seed}:{i}').randrange(10**6):06d}"


def demo_service_passwords(seed: int = 7) -> dict[str, str]:
    """Customer number → service password of the demo customers that have one (to print or document)."""
    return {f"HN{i + 1:08d}": demo_service_password(seed, i) for i in range(SERVICE_PASSWORD_CUSTOMERS)}


def service_passwords_line(seed: int = 7) -> str:
    """One line for the console: which demo customers have a service password, and what it is."""
    pairs = ", ".join(f"{no} {pw}" for no, pw in demo_service_passwords(seed).items())
    return f"demo service passwords (IVR enquiries; the customer's phone or customer number identifies): {pairs}"


def unique_number(i: int, digits: int) -> str:
    """A number of ``digits`` digits unique for each ``i`` < 10**digits (an affine bijection, looks random)."""
    modulus = 10**digits
    return f"{(i * 7_654_321 + 1_234_567) % modulus:0{digits}d}"


class DemoGenerator:
    def __init__(self, platform: Platform, seed: int = 7):
        self.platform = platform
        self.seed = seed
        self.rng = random.Random(seed)
        self.regions = hunan_regions()
        self.counties = [r for r in self.regions if r.level == "county"]
        self.cities = {r.code: r for r in self.regions if r.level == "city"}

    @property
    def categories(self) -> dict[str, Category]:
        return self.platform.metadata.categories

    def _entity(self, name: str) -> Entity | None:
        return self.platform.metadata.entities.get(name)

    def pick(self, tree: str, *, leaves: bool | None = None) -> str | None:
        codes = _codes(self.categories.get(tree), leaves=leaves)
        return self.rng.choice(codes) if codes else None

    def departments(self) -> int:
        """The demo's people in departments (qa1 at the QA desk, tech1 heading the Changsha maintenance team)
        and the regions the city teams serve; returns how many memberships were added (none twice)."""
        added = 0
        with session(), write_transaction():
            for department, username, head in DEMO_MEMBERS:
                if not DepartmentMember.select().where((DepartmentMember.department == department)
                                                       & (DepartmentMember.username == username)).exists():
                    DepartmentMember.create(department=department, username=username, head=head)
                    added += 1
            for department, region in DEMO_DEPARTMENT_REGIONS:
                if not DepartmentRegion.select().where((DepartmentRegion.department == department)
                                                       & (DepartmentRegion.region == region)).exists():
                    DepartmentRegion.create(department=department, region=region)
        return added

    def seed_regions(self) -> int:
        model = self.platform.models["region"]
        with session(), write_transaction():
            if model.select().exists():
                return 0
            rows = [{"code": r.code, "name": r.name, "name_en": r.name_en or None, "level": r.level,
                     "parent": r.parent, "area_code": r.area_code, "created_by": "demo", "updated_by": "demo"}
                    for r in self.regions]
            for start in range(0, len(rows), 500):
                model.insert_many(rows[start:start + 500]).execute()
        return len(rows)

    def customer_row(self, i: int) -> dict[str, Any]:
        rng = self.rng
        county = rng.choice(self.counties)
        city = self.cities[county.parent or ""]
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if rng.random() < 0.12:
            phone = city.area_code + unique_number(i, 8) if city.area_code else None
        else:
            phone = rng.choice(MOBILE_PREFIXES) + unique_number(i, 8)
        tiers = [t for t in TIER_WEIGHTS if self.categories.get("value_tier") and
                 self.categories["value_tier"].node(t)]
        tier = rng.choices(tiers, weights=[TIER_WEIGHTS[t] for t in tiers])[0] if tiers else None
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 65))
        row: dict[str, Any] = {
            "customer_no": f"HN{i + 1:08d}",
            "name": name,
            "gender": self.pick("gender"),
            "birth_date": birth,
            "age": (date(2026, 1, 1) - birth).days // 365,
            "address": f"{city.name}{county.name}{rng.choice(STREETS)}{rng.randrange(1, 400)}号",
            "education": self.pick("education"),
            "income": rng.choice([2500, 3500, 4800, 6000, 8000, 12000, 20000]),
            "tv_count": rng.choices([1, 2, 3], weights=[0.7, 0.25, 0.05])[0],
            "smart_card_no": f"8731{i + 1:012d}",
            "phone": phone,
            "city": city.code,
            "county": county.code,
            "lifecycle": self.pick("lifecycle", leaves=True),
            "business_line": sorted({c for c in (self.pick("business_line"), self.pick("business_line")) if c}),
            "definition": self.pick("definition"),
            "identity": self.pick("identity", leaves=True),
            "structure": "individual" if rng.random() < 0.93 else "group",
            "social_attribute": "ordinary" if rng.random() < 0.9 else self.pick("social_attribute"),
            "charging": "paying" if rng.random() < 0.97 else "free",
            "value_tier": tier,
            "blacklisted": rng.random() < 0.005,
            "service_password": (hash_password(demo_service_password(self.seed, i))
                                 if i < SERVICE_PASSWORD_CUSTOMERS else None),
            "created_by": "demo",
            "updated_by": "demo",
        }
        entity = self._entity("customer")
        if entity is not None:
            known = {f.name for f in entity.fields} | {"created_by", "updated_by"}
            row = {k: v for k, v in row.items() if k in known}
            for f in entity.fields:  # fields an administrator added get their default
                if f.name not in row and f.default is not None and f.type != "category":
                    row[f.name] = f.default
        return row

    def customers(self, n: int, *, start: int = 0, batch: int = 5000) -> int:
        """Insert ``n`` customers numbered from ``start`` (call again with a larger start to add more)."""
        model = self.platform.models["customer"]
        done = 0
        while done < n:
            rows = [self.customer_row(start + done + k) for k in range(min(batch, n - done))]
            with session(), write_transaction():
                model.insert_many(rows).execute()
            done += len(rows)
        with session():
            rebuild(self.platform.models, "customer")  # inserted past the record service: its text index
        return done

    def activity(self, customers: int, *, per_customer: float = 0.6) -> tuple[int, int]:
        """Contact records and work orders for a sample of the first ``customers`` customers."""
        cmodel = self.platform.models["customer"]
        contact = self.platform.models["contact_record"]
        orders = self.platform.models["work_order"]
        rng = self.rng
        now = datetime(2026, 11, 1, 9, 0)
        with session():
            sample = select_rows(cmodel.select(cmodel.id, column(cmodel, "phone"), column(cmodel, "city"))
                          .order_by(cmodel.id).limit(customers))
        contacts: list[dict[str, Any]] = []
        work: list[dict[str, Any]] = []
        for c in sample:
            for _ in range(int(per_customer + rng.random())):
                started = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 90))
                serial = f"{started:%Y%m%d}{len(contacts) + 1:07d}"
                contacts.append({
                    "serial_no": serial, "customer": c["id"], "caller_number": c["phone"],
                    "direction": "inbound" if rng.random() < 0.85 else "outbound",
                    "agent": rng.choice(["agent1", "agent2"]), "started_at": started,
                    "ended_at": started + timedelta(seconds=rng.randrange(40, 900)),
                    "consultation_types": [x for x in [self.pick("consultation_types", leaves=True)] if x],
                    "created_by": "demo", "updated_by": "demo",
                })
                if rng.random() < 0.3:
                    accepted = started + timedelta(minutes=2)
                    work.append({
                        "order_no": f"WO{len(work) + 1:09d}", "customer": c["id"], "city": c["city"],
                        "type": self.pick("work_order_type", leaves=True),
                        "status": self.pick("work_order_status", leaves=True),
                        "priority": self.pick("work_order_priority"), "department": self.pick("department"),
                        "title": rng.choice(TITLES),
                        "agent": rng.choice(["agent1", "agent2"]), "accepted_at": accepted,
                        "due_at": accepted + timedelta(hours=24), "created_by": "demo", "updated_by": "demo",
                    })
        for model, rows in ((contact, contacts), (orders, work)):
            keep = {f.name for f in model._meta.sorted_fields}
            rows = [{k: v for k, v in r.items() if k in keep} for r in rows]
            for start in range(0, len(rows), 2000):
                with session(), write_transaction():
                    model.insert_many(rows[start:start + 2000]).execute()
        return len(contacts), len(work)

    def knowledge(self) -> int:
        model = self.platform.models["knowledge_article"]
        articles = [
            ("机顶盒无信号的处理方法", "请检查信号线连接，重启机顶盒；仍无信号请报障。", "机顶盒,无信号,报障"),
            ("高清频道开通流程", "持身份证到营业厅或拨打客服热线办理高清业务。", "高清,开通"),
            ("宽带账号密码重置", "核验服务密码后，可通过语音导航或人工坐席重置。", "宽带,密码"),
            ("充值卡缴费说明", "拨打客服热线，输入充值卡号和密码，充值到预存账户。", "充值卡,缴费"),
            ("欠费停机与复机", "欠费停机后缴清费用，系统将在两小时内自动复机。", "欠费,停机,复机"),
            ("双向增值业务介绍", "互动点播、时移回看等双向业务的资费与开通方式。", "双向,增值"),
        ]
        articles.append(("高清机顶盒指示灯说明", TABLE_ARTICLE, "机顶盒 指示灯 高清"))
        with session():
            if model.select().exists():
                return 0
        system = Actor.system()
        for t, b, k in articles:  # through the record service and the publishing process (docs/knowledge.md)
            article = self.platform.records.create(system, "knowledge_article", {
                "title": t, "category": self.pick("knowledge_category", leaves=True), "body": b, "keywords": k,
                "author": "demo"}).id
            for action in ("to_review", "publish"):
                self.platform.workflows.take(system, "knowledge_article", article, action)
            with session(), write_transaction():
                model.update(views=self.rng.randrange(0, 500)).where(model.id == article).execute()
        return len(articles)


def seed_demo(platform: Platform, customers: int = 1000, seed: int = 7) -> dict[str, int]:
    """Fill an empty demo database (does nothing to one that has customers)."""
    gen = DemoGenerator(platform, seed)
    counts = {"regions": gen.seed_regions(), "department_members": gen.departments()}
    model = platform.models["customer"]
    with session():
        has = model.select().exists()
    if has:
        return counts
    counts["customers"] = gen.customers(customers)
    counts["contact_records"], counts["work_orders"] = gen.activity(min(customers, 5000))
    counts["knowledge_articles"] = gen.knowledge()
    with session():
        rebuild_all(platform.models, skip=("customer",))  # bulk-inserted past the record service (customers: above)
        audit("system", "demo_data", detail=counts)
    return counts
