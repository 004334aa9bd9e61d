"""Finding English left on a page that should read Chinese.

Shared by the storefront and the console tests: render a page in Chinese, then
`untranslated(html)` lists the English a person would read there (text nodes, and the
placeholder/title/aria-label/alt attributes), so a msgid missing from the catalogue, a label
shown as its code or an English string never marked for translation fails a test.

The heuristic: a token made only of Latin letters (2 or more) that is not on the allow-list.
Tokens with digits are codes or numbers (order numbers, SKUs, tracking numbers) and are skipped;
single letters are sizes and SKU values (M, L). Brand names, units and codes people do read as
they are go on ALLOWED; a page may pass its own extras (product data such as "T恤").
"""

import re
from html.parser import HTMLParser

# Words a Chinese page legitimately shows in Latin letters.
ALLOWED = frozenset(
    {
        "siyu",  # the product's name
        "english",  # the language switcher names each language in itself
        "wechat",
        "alipay",
        "sku",
        "skus",
        "qr",
        "id",
        "vip",
        "app",
        "sms",
        "api",
        "json",  # the personal-data export is a JSON file
        "url",
        "pipl",
        "cm",
        "kg",
        "ml",
    }
)
SEEN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
SKIPPED_TAGS = {"script", "style", "template", "code", "noscript"}
TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_TAGS:
            self._skip += 1
        for name, value in attrs:
            if name in SEEN_ATTRIBUTES and value:
                self.parts.append(value)
            if name.startswith("data-") and value and (" " in value or value[:1].isupper()):
                # Words that scripts put on screen come in data-* attributes (the SKU picker's
                # "In stock", the countdown's "Resend in %ss"); ids and numbers there are skipped.
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in SKIPPED_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


def untranslated(html: str, *, allow: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The visible strings that still contain English words, each once, in page order."""
    allowed = ALLOWED | {w.lower() for w in allow}
    found: list[str] = []
    for text in visible_texts(html):
        for raw in text.split():
            if any(ch.isdigit() for ch in raw) or "/" in raw or "@" in raw:
                continue  # a code, a number, a path or a URL
            for word in TOKEN.findall(raw):
                if word.lower() not in allowed and text.strip() not in found:
                    found.append(text.strip())
    return found
