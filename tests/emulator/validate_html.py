#!/usr/bin/env python3
"""Reads the page `cis-fix report --format html` writes, with html5lib (the WHATWG HTML
parsing algorithm), and prints what tests/integration/report_html.rs checks, as JSON:

  errors      html5lib's parse errors (an empty list: the page parses as HTML5 with none)
  external    every reference the page would load or follow outside itself (src, href, ...,
              a CSS url() or @import, a <link>, <script>, <iframe>, <object> or <embed>)
  dangling    in-page links (#id) whose target is not in the page
  matrix      the verdict matrix: {account: {control: state}}, the state its cell's class shows
  disagree    cells whose class and data-state say different states
  chains      each drawn chain: {account: {control: {link: mark}}}

Usage: validate_html.py FILE
"""

import json
import re
import sys

import html5lib

URL_ATTRIBUTES = ("src", "href", "srcset", "action", "formaction", "data", "poster",
                  "background", "cite", "manifest", "ping", "xlink:href")
LOADING_ELEMENTS = ("link", "script", "iframe", "object", "embed", "img", "base")
CSS_LOADS = re.compile(r"url\s*\(|@import", re.IGNORECASE)


def parse(data):
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"),
                                 namespaceHTMLElements=False)
    document = parser.parse(data)
    errors = [f"line {line} col {col}: {code} {vars_ or ''}".strip()
              for (line, col), code, vars_ in parser.errors]
    return document, errors


def external_references(document):
    found = []
    for element in document.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in LOADING_ELEMENTS:
            found.append(f"<{tag}>")
        for name in URL_ATTRIBUTES:
            value = element.get(name)
            if value is not None and not value.startswith("#"):
                found.append(f"{tag} {name}={value}")
        style = element.get("style") or ""
        text = (element.text or "") if tag == "style" else ""
        for css in (style, text):
            if CSS_LOADS.search(css):
                found.append(f"{tag} CSS: {CSS_LOADS.search(css).group(0)}")
    return found


def dangling_links(document):
    ids = {e.get("id") for e in document.iter() if e.get("id")}
    return sorted({e.get("href")[1:] for e in document.iter()
                   if (e.get("href") or "").startswith("#") and e.get("href")[1:] not in ids})


def class_state(element):
    for name in (element.get("class") or "").split():
        if name.startswith("s-"):
            return name[2:]
    return None


def matrix(document):
    cells, disagree = {}, []
    for td in document.iter("td"):
        account, control = td.get("data-account"), td.get("data-control")
        if account is None or control is None:
            continue
        shown = class_state(td)
        cells.setdefault(account, {})[control] = shown
        if shown != td.get("data-state"):
            disagree.append(f"{account} {control}: class {shown}, data-state {td.get('data-state')}")
    return cells, disagree


def chains(document):
    drawn = {}
    for article in document.iter("article"):
        account, control = article.get("data-account"), article.get("data-control")
        if account is None or control is None:
            continue
        links = {li.get("data-link"): li.get("data-mark")
                 for li in article.iter("li") if li.get("data-link")}
        drawn.setdefault(account, {})[control] = links
    return drawn


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as f:
        document, errors = parse(f.read())
    cells, disagree = matrix(document)
    print(json.dumps({
        "errors": errors,
        "external": external_references(document),
        "dangling": dangling_links(document),
        "matrix": cells,
        "disagree": disagree,
        "chains": chains(document),
    }, indent=1))


if __name__ == "__main__":
    main()
