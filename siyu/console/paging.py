"""Page links for console lists, including pages that show several lists each paged on its own.

Every long list pages with Django's Paginator (one COUNT and one slice a page), never a silent
"first 20 rows". A page showing several lists gives each its own query parameter (`points_page`,
`orders_page`, …); the links of one list keep the others' positions and the page's filters.
"""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator


@dataclass
class Paged:
    page_obj: Page
    param: str  # the query parameter holding this list's page number
    query: str  # every other parameter of the request, urlencoded, for the links

    @property
    def rows(self) -> list:
        return list(self.page_obj.object_list)


def paged(request, queryset, *, param: str = "page", per_page: int = 20) -> Paged:
    """The page of `queryset` named by request.GET[param] (a bad or too-high number gives the
    nearest real page, never a 404 or a 500)."""
    page_obj = Paginator(queryset, per_page).get_page(request.GET.get(param))
    query = request.GET.copy()
    query.pop(param, None)
    return Paged(page_obj=page_obj, param=param, query=query.urlencode())
