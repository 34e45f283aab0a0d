"""The 68 incubation bases of the demo: real park names, codes, cities and a size for each.

The names are those of real returnee entrepreneurship parks; everything else the demo says
about them (sizes, rosters, scores) is synthetic. ``TOP10`` lists the ten bases the 2024
report ranks first, in its order; every other base has a ``weight``, its size relative to the
others, from which calibration derives its figures. ``--scale N`` clones the list N-fold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from parkwh.submission import spec

REPORTING_YEARS: tuple[int, ...] = (2019, 2020, 2021, 2022, 2023)
"""The years the demo writes submissions for."""

LAST_YEAR = REPORTING_YEARS[-1]


@dataclass(frozen=True)
class DemoBase:
    code: str
    name_zh: str
    name_en: str
    city: str
    region_code: str
    """Administrative division code of the city (GB/T 2260), used in the credit codes of its companies."""
    established: dt.date
    designated_year: int
    weight: float | None
    """Size relative to the other non-top-10 bases; None for the top 10 (sized by rank)."""
    submits_last_year: bool = True
    template: str | None = None
    """For a clone made by ``--scale``: the code of the base it copies."""
    clone: int = 0

    @property
    def province(self) -> str:
        return self.code[:2]

    @property
    def template_code(self) -> str:
        return self.template or self.code

    def submits(self, year: int) -> bool:
        """Whether the base sends a submission for ``year`` (designated by then, and not a base that skipped it)."""
        if year < self.designated_year:
            return False
        return self.submits_last_year or year != LAST_YEAR


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _base(code, name_zh, name_en, city, region, established, designated, weight=None, submits=True):
    return DemoBase(code, name_zh, name_en, city, region, _d(established), designated, weight, submits)


_OR = "Overseas Returnee Entrepreneurship Park"

BASES: tuple[DemoBase, ...] = (
    # Beijing
    _base("BJ001", "中国北京（望京）留学人员创业园", "China Beijing (Wangjing) Overseas Students Pioneer Park",
          "北京市", "110105", "1997-10-08", 2011),
    _base("BJ002", "中关村国际孵化器", "Zhongguancun International Incubator", "北京市", "110108", "1997-06-18", 2011),
    _base("BJ003", "北京海淀留学人员创业园", f"Beijing Haidian {_OR}", "北京市", "110108", "1997-12-01", 2012, 2.4),
    _base("BJ004", "北京丰台留学人员创业园", f"Beijing Fengtai {_OR}", "北京市", "110106", "2000-05-16", 2015, 1.0),
    _base("BJ005", "北京亦庄留学人员创业园", f"Beijing Yizhuang {_OR}", "北京市", "110115", "2001-09-20", 2017, 1.1),
    # Tianjin
    _base("TJ001", "天津留学人员创业园", f"Tianjin {_OR}", "天津市", "120104", "2000-04-26", 2012, 1.8),
    _base("TJ002", "天津滨海新区留学人员创业园", f"Tianjin Binhai {_OR}", "天津市", "120116", "2006-08-08", 2016, 1.3),
    _base("TJ003", "天津经济技术开发区留学人员创业园", f"Tianjin TEDA {_OR}", "天津市", "120116", "2002-03-18", 2020, 0.8),
    # Liaoning
    _base("LN001", "大连留学人员创业园", f"Dalian {_OR}", "大连市", "210200", "1998-09-09", 2011, 2.6),
    _base("LN002", "沈阳留学人员创业园", f"Shenyang {_OR}", "沈阳市", "210100", "2000-06-28", 2013, 1.6),
    _base("LN003", "鞍山留学人员创业园", f"Anshan {_OR}", "鞍山市", "210300", "2005-05-20", 2021, 0.4),
    # Jilin
    _base("JL001", "长春海外学人创业园", "Changchun Overseas Scholars Pioneer Park", "长春市", "220100",
          "1999-07-15", 2012, 4.2),
    _base("JL002", "吉林市留学人员创业园", f"Jilin City {_OR}", "吉林市", "220200", "2006-10-10", 2021, 0.5),
    # Heilongjiang
    _base("HL001", "哈尔滨留学人员创业园", f"Harbin {_OR}", "哈尔滨市", "230100", "1999-11-11", 2013, 1.0),
    _base("HL002", "大庆留学人员创业园", f"Daqing {_OR}", "大庆市", "230600", "2005-08-16", 2017, 0.3, False),
    # Shanghai
    _base("SH001", "上海漕河泾留学人员创业园", f"Shanghai Caohejing {_OR}", "上海市", "310104", "1998-05-18", 2011),
    _base("SH002", "上海张江留学人员创业园", f"Shanghai Zhangjiang {_OR}", "上海市", "310115", "1999-08-28", 2011),
    _base("SH003", "上海杨浦留学人员创业园", f"Shanghai Yangpu {_OR}", "上海市", "310110", "2001-04-18", 2013, 1.6),
    _base("SH004", "上海嘉定留学人员创业园", f"Shanghai Jiading {_OR}", "上海市", "310114", "2002-10-15", 2015, 1.1),
    _base("SH005", "上海紫竹留学人员创业园", f"Shanghai Zizhu {_OR}", "上海市", "310112", "2005-06-06", 2020, 0.9),
    # Jiangsu
    _base("JS001", "苏州留学人员创业园", f"Suzhou {_OR}", "苏州市", "320500", "1999-03-28", 2011),
    _base("JS002", "江苏昆山留学人员创业园", f"Jiangsu Kunshan {_OR}", "昆山市", "320583", "2001-05-18", 2012),
    _base("JS003", "无锡留学人员创业园", f"Wuxi {_OR}", "无锡市", "320200", "2000-09-26", 2012),
    _base("JS004", "金陵海外学子科技工业园", "Jinling Overseas Scholars Science & Technology Industrial Park",
          "南京市", "320100", "1994-05-20", 2011, 3.2),
    _base("JS005", "南京留学人员创业园", f"Nanjing {_OR}", "南京市", "320100", "2000-11-08", 2013, 2.0),
    _base("JS006", "常州留学人员创业园", f"Changzhou {_OR}", "常州市", "320400", "2001-07-01", 2014, 1.5),
    _base("JS007", "南通留学人员创业园", f"Nantong {_OR}", "南通市", "320600", "2003-04-15", 2016, 1.0),
    _base("JS008", "扬州留学人员创业园", f"Yangzhou {_OR}", "扬州市", "321000", "2004-09-09", 2018, 0.8),
    _base("JS009", "徐州留学人员创业园", f"Xuzhou {_OR}", "徐州市", "320300", "2006-03-20", 2021, 0.6),
    _base("JS010", "苏州工业园区留学人员创业园", f"Suzhou Industrial Park {_OR}", "苏州市", "320500",
          "2002-12-12", 2017, 2.2),
    # Zhejiang
    _base("ZJ001", "杭州留学人员创业园", f"Hangzhou {_OR}", "杭州市", "330100", "2000-08-18", 2012, 2.5),
    _base("ZJ002", "宁波留学人员创业园", f"Ningbo {_OR}", "宁波市", "330200", "2001-10-28", 2014, 1.4),
    _base("ZJ003", "温州留学人员创业园", f"Wenzhou {_OR}", "温州市", "330300", "2005-01-18", 2017, 0.7),
    _base("ZJ004", "嘉兴留学人员创业园", f"Jiaxing {_OR}", "嘉兴市", "330400", "2006-06-16", 2023, 0.6),
    _base("ZJ005", "绍兴留学人员创业园", f"Shaoxing {_OR}", "绍兴市", "330600", "2008-05-08", 2023, 0.4),
    # Anhui
    _base("AH001", "合肥留学人员创业园", f"Hefei {_OR}", "合肥市", "340100", "2000-10-18", 2013, 1.5),
    _base("AH002", "芜湖留学人员创业园", f"Wuhu {_OR}", "芜湖市", "340200", "2006-09-26", 2021, 0.5),
    # Fujian
    _base("FJ001", "厦门留学人员创业园", f"Xiamen {_OR}", "厦门市", "350200", "1998-12-18", 2011),
    _base("FJ002", "福州留学人员创业园", f"Fuzhou {_OR}", "福州市", "350100", "2000-03-16", 2014, 1.2),
    _base("FJ003", "泉州留学人员创业园", f"Quanzhou {_OR}", "泉州市", "350500", "2008-11-18", 2020, 0.6),
    # Jiangxi
    _base("JX001", "南昌留学人员创业园", f"Nanchang {_OR}", "南昌市", "360100", "2001-06-18", 2014, 0.8),
    _base("JX002", "赣州留学人员创业园", f"Ganzhou {_OR}", "赣州市", "360700", "2010-04-08", 2021, 0.3, False),
    # Shandong
    _base("SD001", "济南留学人员创业园", f"Jinan {_OR}", "济南市", "370100", "1999-10-10", 2012, 1.5),
    _base("SD002", "青岛留学人员创业园", f"Qingdao {_OR}", "青岛市", "370200", "1999-06-16", 2012, 1.7),
    _base("SD003", "烟台留学人员创业园", f"Yantai {_OR}", "烟台市", "370600", "2002-08-08", 2016, 0.8),
    _base("SD004", "威海留学人员创业园", f"Weihai {_OR}", "威海市", "371000", "2004-05-28", 2018, 0.5),
    _base("SD005", "潍坊留学人员创业园", f"Weifang {_OR}", "潍坊市", "370700", "2007-07-07", 2023, 0.4),
    # Henan
    _base("HA001", "郑州留学人员创业园", f"Zhengzhou {_OR}", "郑州市", "410100", "2001-09-09", 2014, 0.9),
    _base("HA002", "洛阳留学人员创业园", f"Luoyang {_OR}", "洛阳市", "410300", "2006-11-16", 2023, 0.4),
    # Hubei
    _base("HB001", "武汉留学生创业园", "Wuhan Overseas Students Pioneer Park", "武汉市", "420100", "1998-10-18", 2011),
    _base("HB002", "宜昌留学人员创业园", f"Yichang {_OR}", "宜昌市", "420500", "2007-03-18", 2018, 0.5),
    _base("HB003", "襄阳留学人员创业园", f"Xiangyang {_OR}", "襄阳市", "420600", "2009-09-19", 2022, 0.4),
    # Hunan
    _base("HN001", "长沙留学人员创业园", f"Changsha {_OR}", "长沙市", "430100", "2000-12-18", 2013, 1.2),
    _base("HN002", "株洲留学人员创业园", f"Zhuzhou {_OR}", "株洲市", "430200", "2007-10-26", 2022, 0.4),
    # Guangdong
    _base("GD001", "深圳留学人员创业园", f"Shenzhen {_OR}", "深圳市", "440300", "2000-10-12", 2011, 3.0),
    _base("GD002", "广州留学人员创业园", f"Guangzhou {_OR}", "广州市", "440100", "1998-07-01", 2012, 2.4),
    _base("GD003", "中国中山留学人员创业园", f"China Zhongshan {_OR}", "中山市", "442000", "2001-11-18", 2013, 1.2),
    _base("GD004", "珠海留学人员创业园", f"Zhuhai {_OR}", "珠海市", "440400", "2002-06-18", 2015, 0.9),
    _base("GD005", "东莞留学人员创业园", f"Dongguan {_OR}", "东莞市", "441900", "2006-12-08", 2020, 0.8),
    _base("GD006", "佛山留学人员创业园", f"Foshan {_OR}", "佛山市", "440600", "2005-04-20", 2018, 0.8),
    # Guangxi
    _base("GX001", "南宁留学人员创业园", f"Nanning {_OR}", "南宁市", "450100", "2003-03-03", 2016, 0.6),
    # Chongqing
    _base("CQ001", "重庆留学人员创业园", f"Chongqing {_OR}", "重庆市", "500112", "2000-09-18", 2013, 1.7),
    _base("CQ002", "重庆两江新区留学人员创业园", f"Chongqing Liangjiang {_OR}", "重庆市", "500112",
          "2011-06-18", 2022, 0.6),
    # Sichuan
    _base("SC001", "成都留学人员创业园", f"Chengdu {_OR}", "成都市", "510100", "1999-05-25", 2012, 2.3),
    _base("SC002", "绵阳留学人员创业园", f"Mianyang {_OR}", "绵阳市", "510700", "2006-05-12", 2020, 0.6),
    # Shaanxi
    _base("SN001", "西安留学人员创业园", f"Xi'an {_OR}", "西安市", "610100", "1999-09-08", 2011),
    _base("SN002", "杨凌留学人员创业园", f"Yangling {_OR}", "杨凌示范区", "610403", "2004-07-28", 2022, 0.5),
    # Gansu
    _base("GS001", "兰州留学人员创业园", f"Lanzhou {_OR}", "兰州市", "620100", "2002-09-16", 2015, 0.5),
)

TOP10: tuple[str, ...] = ("SH001", "JS001", "SH002", "FJ001", "SN001", "BJ001", "BJ002", "JS002", "HB001", "JS003")
"""The report's top 10 (2023), in its order: 漕河泾, 苏州, 张江, 厦门, 西安, 望京, 中关村国际孵化器, 昆山, 武汉, 无锡."""

SUZHOU, CHANGCHUN, SHENZHEN, ZHONGSHAN, JINLING = "JS001", "JL001", "GD001", "GD003", "JS004"
"""Bases the report says something particular about."""

MAX_SCALE = 99
"""Clones keep the code pattern (province and three digits): at most 999 bases per province."""


def demo_bases(scale: int = 1) -> list[DemoBase]:
    """The demo's bases; with ``scale`` N each base has N-1 clones (new codes, ``（扩展k）`` names)."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be from 1 to {MAX_SCALE}, got {scale}")
    per_province: dict[str, int] = {}
    for base in BASES:
        per_province[base.province] = per_province.get(base.province, 0) + 1
    out = list(BASES)
    for clone in range(1, scale):
        for base in BASES:
            number = int(base.code[2:]) + clone * per_province[base.province]
            out.append(replace(
                base, code=f"{base.province}{number:03d}", name_zh=f"{base.name_zh}（扩展{clone + 1}）",
                name_en=f"{base.name_en} (copy {clone + 1})", template=base.code, clone=clone,
            ))
    return out


def check_bases() -> None:
    """The list's invariants: codes match provinces, 68 bases, 21 provinces, the top 10 present."""
    known = {p.code for p in spec.provinces()}
    codes = [b.code for b in BASES]
    assert len(codes) == len(set(codes)) == 68, "68 distinct base codes"
    assert all(b.province in known for b in BASES), "every base code starts with a province code"
    assert len({b.province for b in BASES}) == 21, "21 provinces"
    assert all(code in codes for code in TOP10)
    assert all((b.weight is None) == (b.code in TOP10) for b in BASES), "weights for all but the top 10"
