"""A seat's name in both languages, from its number and the sector and province of the
scenario firm whose profile it was given: ``Seat 3 (power, Hubei)`` and ``席位 3（发电，湖北）``.

Scenarios name sectors and provinces in English; the tables below give their Chinese names.
A sector or province they lack keeps the scenario's own word. Sectors are the national
market's covered industries (发电, 石化, 化工, 建材, 钢铁, 有色金属, 造纸, 民航) and the products
its 2025 expansion names (水泥, 电解铝).
"""

from __future__ import annotations

SECTORS_ZH = {
    "power": "发电",
    "petrochem": "石化",
    "petrochemical": "石化",
    "chemical": "化工",
    "building_materials": "建材",
    "cement": "水泥",
    "steel": "钢铁",
    "nonferrous": "有色金属",
    "aluminium": "电解铝",
    "aluminum": "电解铝",
    "paper": "造纸",
    "aviation": "民航",
}

PROVINCES_ZH = {
    "Beijing": "北京",
    "Tianjin": "天津",
    "Hebei": "河北",
    "Shanxi": "山西",
    "Inner Mongolia": "内蒙古",
    "Liaoning": "辽宁",
    "Jilin": "吉林",
    "Heilongjiang": "黑龙江",
    "Shanghai": "上海",
    "Jiangsu": "江苏",
    "Zhejiang": "浙江",
    "Anhui": "安徽",
    "Fujian": "福建",
    "Jiangxi": "江西",
    "Shandong": "山东",
    "Henan": "河南",
    "Hubei": "湖北",
    "Hunan": "湖南",
    "Guangdong": "广东",
    "Guangxi": "广西",
    "Hainan": "海南",
    "Chongqing": "重庆",
    "Sichuan": "四川",
    "Guizhou": "贵州",
    "Yunnan": "云南",
    "Tibet": "西藏",
    "Xizang": "西藏",
    "Shaanxi": "陕西",
    "Gansu": "甘肃",
    "Qinghai": "青海",
    "Ningxia": "宁夏",
    "Xinjiang": "新疆",
    "Shenzhen": "深圳",  # a pilot market of its own
}


def seat_names(seat: int, sector: str, province: str) -> tuple[str, str]:
    """The seat's name in English and in Chinese."""
    english = f"Seat {seat} ({sector}, {province})"
    sector_zh = SECTORS_ZH.get(sector, sector)
    province_zh = PROVINCES_ZH.get(province, province)
    return english, f"席位 {seat}（{sector_zh}，{province_zh}）"
