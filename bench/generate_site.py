"""Generate a synthetic Taiwanese agency website of N HTML pages for the benchmarks (issue 6).

Why synthetic: the real pages in shared/realworld carry no licence and are far too few to measure
throughput; a benchmark needs thousands of pages whose broken links are known exactly. The site looks
like a typical 縣市政府 / 部會 site: a shared zh-TW header, mega menu, breadcrumb and footer (~6 KB),
20–40 KB per page in all, 40–70 links per page (menu + related + pagination), list pages of 15 items,
a few attachments (PDF/ODT/ODS), a robots.txt, and one broken internal link in every 500 article pages
(alternately a missing page and a missing PDF). `manifest.json` lists exactly those broken links, the
page count, every URL a complete checker must request and the link depth of the deepest page.

The output is deterministic for a given (pages, seed): the same site byte for byte, so runs compare.

    python bench/generate_site.py --pages 10000 --out /tmp/da-bench/site-10000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path

MANIFEST = "manifest.json"
GENERATOR_VERSION = 3
ITEMS_PER_LIST = 15
BROKEN_EVERY = 500  # one article in 500 carries a link to a missing target
BROKEN_OFFSET = 250
DOC_EVERY = 250  # one article in 250 carries an attachment
DOC_OFFSET = 100
RELATED = 8

SECTIONS: tuple[tuple[str, str], ...] = (
    ("news", "最新消息"), ("announce", "公告事項"), ("laws", "法規資訊"), ("services", "便民服務"),
    ("disclosure", "政府資訊公開"), ("budget", "預算與決算"), ("procure", "招標採購"),
    ("forms", "表單下載"), ("faq", "常見問答"), ("opendata", "開放資料"),
)
FIXED_PAGES: tuple[tuple[str, str], ...] = (
    ("/privacy.html", "隱私權保護政策"), ("/security.html", "資訊安全政策"),
    ("/open-declaration.html", "政府網站資料開放宣告"), ("/sitemap.html", "網站導覽"),
    ("/contact.html", "聯絡我們"), ("/accessibility.html", "無障礙聲明"),
)
FILLER_PAGE = ("/about/history.html", "機關沿革")
ASSETS = ("/css/site.css", "/images/logo.png", "/favicon.ico")  # linked from every page
SEARCH_PAGE = "/search/"  # the search form's action: checked by LinkChecker, not a crawled page
DOC_KINDS = (("pdf", "PDF"), ("odt", "ODT"), ("ods", "ODS"))

PHRASES = (
    "為落實政府資訊公開", "依據政府資訊公開法第七條規定", "本府各機關應主動公開", "民眾如有疑義",
    "請洽本局服務專線", "相關申請表單可於本網站下載", "辦理期間自即日起至本年底止", "經本府審議通過",
    "依行政程序法規定辦理", "為提升為民服務品質", "配合中央政策推動", "請於期限內完成申請",
    "逾期恕不受理", "檢附相關證明文件", "本案業經公告在案", "以維護民眾權益", "加強橫向聯繫",
    "提供便民多元服務", "推動數位治理", "強化資訊安全防護", "落實個人資料保護", "辦理年度施政計畫",
    "預算執行情形如附件", "歡迎踴躍參加", "敬請轉知所屬", "相關資訊請參閱附件", "本局將持續滾動檢討",
    "以確保服務效能", "並依規定公告周知", "依採購法相關規定辦理", "開標結果公告如下", "得標廠商名稱",
    "決標金額新臺幣", "履約期限為決標日起", "各區公所同步受理", "線上申辦系統已全面上線",
    "請以自然人憑證登入", "申請人應具備下列資格", "補助金額依核定結果撥付", "審查結果將另行通知",
    "施工期間造成不便", "敬請見諒", "配合防疫措施", "室內場所應配戴口罩", "民眾服務中心", "受理時間為上班日",
    "上午八時三十分至下午五時三十分", "例假日不受理", "為保障身心障礙者權益", "網站已通過無障礙檢測",
    "定期更新網站內容", "確保資料正確性", "市民意見信箱", "一站式服務窗口", "社會福利補助", "長期照顧服務",
    "幼兒托育補助", "地價稅開徵", "房屋稅繳納期限", "交通管制措施", "道路養護工程", "防災整備作業",
    "颱風來襲期間", "停班停課訊息", "環境清潔日", "資源回收", "空氣品質監測", "食品安全稽查",
)
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪邱曾廖賴徐"
MIN_PAGE_BYTES, MAX_PAGE_BYTES = 20_000, 40_000

PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]"
             b"/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
             b"trailer<</Root 1 0 R>>\n%%EOF\n")
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


@dataclass(frozen=True)
class Layout:
    """Where every page of an N-page site lives. Articles are dealt round-robin to the sections."""

    pages: int
    articles: int
    seed: int
    filler: bool

    @classmethod
    def for_pages(cls, pages: int, seed: int = 2024) -> Layout:
        fixed = 1 + len(FIXED_PAGES)  # home + footer pages
        if pages < fixed + 2 * len(SECTIONS):
            raise ValueError(f"a site needs at least {fixed + 2 * len(SECTIONS)} pages, got {pages}")
        articles = pages - fixed
        while articles + cls._lists(articles) > pages - fixed:
            articles -= 1
        filler = articles + cls._lists(articles) + fixed < pages
        return cls(pages=pages, articles=articles, seed=seed, filler=filler)

    @staticmethod
    def _lists(articles: int) -> int:
        return sum(-(-Layout._in_section(articles, s) // ITEMS_PER_LIST) for s in range(len(SECTIONS)))

    @staticmethod
    def _in_section(articles: int, section: int) -> int:
        n = len(SECTIONS)
        return articles // n + (1 if section < articles % n else 0)

    def section_size(self, section: int) -> int:
        return self._in_section(self.articles, section)

    def list_count(self, section: int) -> int:
        return -(-self.section_size(section) // ITEMS_PER_LIST)

    # --- URLs ---------------------------------------------------------------------------------
    @staticmethod
    def article_path(g: int) -> str:
        return f"/{SECTIONS[g % len(SECTIONS)][0]}/{g + 1:06d}.html"

    @staticmethod
    def list_path(section: int, number: int) -> str:
        return f"/{SECTIONS[section][0]}/list-{number}.html"

    def article_at(self, section: int, position: int) -> int:
        return position * len(SECTIONS) + section

    def html_paths(self) -> Iterator[str]:
        yield "/"
        for path, _ in FIXED_PAGES:
            yield path
        if self.filler:
            yield FILLER_PAGE[0]
        for s in range(len(SECTIONS)):
            for p in range(1, self.list_count(s) + 1):
                yield self.list_path(s, p)
        for g in range(self.articles):
            yield self.article_path(g)

    # --- what each article carries ------------------------------------------------------------
    @staticmethod
    def broken_target(g: int) -> str | None:
        if g % BROKEN_EVERY != BROKEN_OFFSET:
            return None
        if (g // BROKEN_EVERY) % 2 == 0:
            return f"/{SECTIONS[g % len(SECTIONS)][0]}/{g + 1:06d}-old.html"
        return f"/files/{g + 1:06d}-missing.pdf"

    @staticmethod
    def document(g: int) -> tuple[str, str] | None:
        if g % DOC_EVERY != DOC_OFFSET:
            return None
        ext, label = DOC_KINDS[(g // DOC_EVERY) % len(DOC_KINDS)]
        return f"/files/{g + 1:06d}.{ext}", label

    def related(self, g: int) -> list[int]:
        rnd = random.Random(self.seed * 10_000_019 + g)
        picks: list[int] = []
        while len(picks) < min(RELATED, self.articles - 1):
            other = rnd.randrange(self.articles)
            if other != g and other not in picks:
                picks.append(other)
        return picks


# --- page links (the graph), shared by the renderer and the reachability check ----------------------
def chrome_links(layout: Layout) -> list[tuple[str, str]]:
    """Header + mega menu + footer links every page carries (href, text)."""
    links = [("/", "回首頁"), ("/sitemap.html", "網站導覽"), ("/accessibility.html", "無障礙聲明")]
    for s, (_, name) in enumerate(SECTIONS):
        links.append((layout.list_path(s, 1), name))
        links.append((layout.article_path(layout.article_at(s, 0)), f"{name}精選"))
    if layout.filler:
        links.append(FILLER_PAGE)
    links.extend(FIXED_PAGES)
    return links


def list_links(layout: Layout, section: int, number: int) -> list[tuple[str, str]]:
    size, count = layout.section_size(section), layout.list_count(section)
    links = []
    for position in range((number - 1) * ITEMS_PER_LIST, min(number * ITEMS_PER_LIST, size)):
        g = layout.article_at(section, position)
        links.append((layout.article_path(g), article_title(layout, g)))
    pages = sorted({1, count, *range(max(1, number - 4), min(count, number + 4) + 1)})
    if number > 1:
        links.append((layout.list_path(section, number - 1), "上一頁"))
    links.extend((layout.list_path(section, p), str(p)) for p in pages if p != number)
    if number < count:
        links.append((layout.list_path(section, number + 1), "下一頁"))
    return links


def article_links(layout: Layout, g: int) -> list[tuple[str, str]]:
    section, position = g % len(SECTIONS), g // len(SECTIONS)
    links = [(layout.list_path(section, position // ITEMS_PER_LIST + 1), "回列表")]
    if position > 0:
        links.append((layout.article_path(g - len(SECTIONS)), "上一則"))
    if position + 1 < layout.section_size(section):
        links.append((layout.article_path(g + len(SECTIONS)), "下一則"))
    links.extend((layout.article_path(o), article_title(layout, o)) for o in layout.related(g))
    doc = layout.document(g)
    if doc:
        links.append((doc[0], f"附件下載（{doc[1]}）"))
    broken = layout.broken_target(g)
    if broken:
        links.append((broken, "舊版說明" if broken.endswith(".html") else "附件下載（舊版 PDF）"))
    return links


def home_links(layout: Layout) -> list[tuple[str, str]]:
    links = []
    for s in range(len(SECTIONS)):
        for position in range(min(3, layout.section_size(s))):
            g = layout.article_at(s, position)
            links.append((layout.article_path(g), article_title(layout, g)))
    return links


def article_title(layout: Layout, g: int) -> str:
    rnd = random.Random(layout.seed * 7_919 + g)
    return f"{SECTIONS[g % len(SECTIONS)][1]}：{rnd.choice(PHRASES)}{rnd.choice(PHRASES)}（第 {g + 1} 號）"


def page_links(layout: Layout, path: str) -> list[str]:
    """Every internal href on the page at `path` (what a crawler must follow), in order."""
    links = [href for href, _ in chrome_links(layout)]
    kind, a, b = classify(layout, path)
    if kind == "home":
        links += [h for h, _ in home_links(layout)]
    elif kind == "list":
        links += [h for h, _ in list_links(layout, a, b)]
    elif kind == "article":
        links += [h for h, _ in article_links(layout, a)]
    return links


def classify(layout: Layout, path: str) -> tuple[str, int, int]:
    if path == "/":
        return "home", 0, 0
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[1].startswith("list-"):
        names = [s for s, _ in SECTIONS]
        return "list", names.index(parts[0]), int(parts[1][5:-5])
    if len(parts) == 2 and parts[1][:6].isdigit() and parts[1].endswith(".html"):
        return "article", int(parts[1][:6]) - 1, 0
    return "fixed", 0, 0


# --- rendering ------------------------------------------------------------------------------------
def _paragraphs(rnd: random.Random, target_bytes: int) -> list[str]:
    out, size = [], 0
    while size < target_bytes:
        sentence_count = rnd.randint(3, 7)
        text = "。".join("，".join(rnd.choice(PHRASES) for _ in range(rnd.randint(2, 4)))
                        for _ in range(sentence_count)) + "。"
        out.append(f"<p>{text}</p>\n")
        size += len(text) * 3 + 8
    return out


def _table(rnd: random.Random) -> str:
    rows = "".join(
        f"<tr><td>{i}</td><td>{rnd.choice(PHRASES)}</td><td>{rnd.choice(SURNAMES)}先生／小姐</td>"
        f"<td>{rnd.randint(10, 999) * 1000:,}</td></tr>\n" for i in range(1, rnd.randint(4, 10)))
    return ("<table class=\"data\"><caption>辦理情形一覽表</caption><thead><tr><th scope=\"col\">項次</th>"
            "<th scope=\"col\">項目</th><th scope=\"col\">承辦人</th><th scope=\"col\">金額（元）</th></tr>"
            f"</thead><tbody>\n{rows}</tbody></table>\n")


def _ul(links: list[tuple[str, str]], cls: str) -> str:
    items = "".join(f"<li><a href=\"{escape(h)}\">{escape(t)}</a></li>\n" for h, t in links)
    return f"<ul class=\"{cls}\">\n{items}</ul>\n"


def render_page(layout: Layout, path: str, title: str, body_links: list[tuple[str, str]],
                kind: str, rnd: random.Random, date: str) -> str:
    chrome = chrome_links(layout)
    header, menu_links, footer = chrome[:3], chrome[3:3 + 2 * len(SECTIONS)], chrome[3 + 2 * len(SECTIONS):]
    menu = "".join(
        f"<li><a href=\"{escape(menu_links[2 * i][0])}\">{escape(menu_links[2 * i][1])}</a>"
        f"<ul><li><a href=\"{escape(menu_links[2 * i + 1][0])}\">{escape(menu_links[2 * i + 1][1])}</a></li>"
        "</ul></li>\n" for i in range(len(SECTIONS)))
    parts = [
        "<!DOCTYPE html>\n<html lang=\"zh-Hant-TW\">\n<head>\n<meta charset=\"utf-8\">\n",
        f"<title>{escape(title)} - 臺灣範例市政府</title>\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        f"<meta name=\"DC.Title\" content=\"{escape(title)}\">\n<meta name=\"DC.Creator\" content=\"臺灣範例市政府\">\n",
        f"<meta name=\"DC.Date\" content=\"{date}\">\n<meta name=\"DC.Language\" content=\"zh-TW\">\n",
        "<link rel=\"stylesheet\" href=\"/css/site.css\">\n<link rel=\"icon\" href=\"/favicon.ico\">\n",
        "</head>\n<body>\n<a href=\"#main\" class=\"skip\">跳到主要內容區塊</a>\n",
        "<header id=\"top\">\n<a accesskey=\"U\" href=\"#U\" id=\"U\" title=\"上方功能區\">:::</a>\n",
        "<a href=\"/\" class=\"logo\"><img src=\"/images/logo.png\" alt=\"臺灣範例市政府\"></a>\n",
        _ul(header, "tools"),
        "<form action=\"/search/\" method=\"get\" role=\"search\"><label for=\"q\">全站搜尋</label>"
        "<input id=\"q\" name=\"q\" type=\"search\"><button type=\"submit\">搜尋</button></form>\n",
        f"<nav aria-label=\"主選單\"><ul class=\"menu\">\n{menu}</ul></nav>\n</header>\n",
        "<main id=\"main\">\n<a accesskey=\"C\" href=\"#C\" id=\"C\" title=\"中央內容區塊\">:::</a>\n",
        f"<nav class=\"breadcrumb\"><a href=\"/\">首頁</a> &gt; <span>{escape(title)}</span></nav>\n",
        f"<h1>{escape(title)}</h1>\n<p class=\"meta\">發布日期：{date}　更新日期：{date}　發布單位：秘書處</p>\n",
    ]
    if kind == "list":
        parts.append(_ul(body_links[:ITEMS_PER_LIST], "list"))
        parts.append(f"<nav class=\"pagination\" aria-label=\"分頁\">\n{_ul(body_links[ITEMS_PER_LIST:], 'pages')}</nav>\n")
        body_links = []
    head_bytes = sum(len(p.encode("utf-8")) for p in parts) + 2600
    target = rnd.randint(MIN_PAGE_BYTES, MAX_PAGE_BYTES) - head_bytes
    paragraphs = _paragraphs(rnd, max(target - 600, 2000))
    parts.extend(paragraphs[: len(paragraphs) // 2])
    if rnd.random() < 0.4:
        parts.append(_table(rnd))
    parts.extend(paragraphs[len(paragraphs) // 2:])
    if body_links:
        parts.append("<section class=\"related\"><h2>相關連結</h2>\n")
        parts.append(_ul(body_links, "related"))
        parts.append("</section>\n")
    parts.append("</main>\n<footer>\n<a accesskey=\"Z\" href=\"#Z\" id=\"Z\" title=\"下方功能區\">:::</a>\n")
    parts.append(_ul(footer, "footer-links"))
    parts.append("<address>臺灣範例市政府　地址：100 臺北市中正區範例路 1 號　電話：(02)2345-6789　"
                 "服務時間：週一至週五 08:30–17:30</address>\n"
                 "<p>本網站最佳瀏覽解析度為 1280×768　<a href=\"#top\">回頁首</a></p>\n</footer>\n</body>\n</html>\n")
    return "".join(parts)


def _date(rnd: random.Random) -> str:
    return f"{rnd.randint(2019, 2025)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"


def _write(root: Path, path: str, data: str | bytes) -> None:
    target = root / (path.lstrip("/") or "index.html")
    if path.endswith("/"):
        target = root / path.lstrip("/") / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def pages_to_render(layout: Layout) -> Iterator[tuple[str, str, list[tuple[str, str]], str]]:
    """(path, title, body links, kind) of every HTML page."""
    yield "/", "臺灣範例市政府全球資訊網", home_links(layout), "home"
    fixed = list(FIXED_PAGES) + ([FILLER_PAGE] if layout.filler else [])
    for path, title in fixed:
        body = [(layout.list_path(s, 1), name) for s, (_, name) in enumerate(SECTIONS)] if path == "/sitemap.html" else []
        yield path, title, body, "fixed"
    for s, (_, name) in enumerate(SECTIONS):
        for p in range(1, layout.list_count(s) + 1):
            yield layout.list_path(s, p), f"{name}（第 {p} 頁）", list_links(layout, s, p), "list"
    for g in range(layout.articles):
        yield layout.article_path(g), article_title(layout, g), article_links(layout, g), "article"


def reachability(layout: Layout) -> tuple[int, int]:
    """(pages reachable from "/", deepest link depth): proves the site is fully crawlable."""
    depth = {"/": 0}
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        for href in page_links(layout, path):
            if href.endswith(".html") or href == "/":
                if href not in depth and not href.endswith("-old.html"):
                    depth[href] = depth[path] + 1
                    queue.append(href)
    return len(depth), max(depth.values())


def generate(out: Path, pages: int = 10_000, seed: int = 2024, quiet: bool = True) -> dict:
    """Write the site and its manifest into `out`; return the manifest. Reuses an identical site."""
    layout = Layout.for_pages(pages, seed)
    manifest_path = out / MANIFEST
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text(encoding="utf-8"))
        if (old.get("pages"), old.get("seed"), old.get("generator")) == (pages, seed, GENERATOR_VERSION):
            return old
    t0 = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    # nginx workers and LinkChecker drop root to `nobody`: the site must be world-readable.
    os.chmod(out, 0o755)
    count = 0
    html_bytes = 0
    max_links = min_links = None
    for path, title, body, kind in pages_to_render(layout):
        rnd = random.Random(f"{seed}:{path}")
        html = render_page(layout, path, title, body, kind, rnd, _date(rnd))
        _write(out, path, html)
        count += 1
        html_bytes += len(html.encode("utf-8"))
        n_links = len(page_links(layout, path))
        max_links = n_links if max_links is None else max(max_links, n_links)
        min_links = n_links if min_links is None else min(min_links, n_links)
        if not quiet and count % 5000 == 0:
            print(f"  {count}/{pages} pages", file=sys.stderr)
    documents = []
    for g in range(layout.articles):
        doc = layout.document(g)
        if doc:
            _write(out, doc[0], PDF_BYTES if doc[0].endswith(".pdf") else b"PK\x03\x04" + doc[0].encode())
            documents.append(doc[0])
    _write(out, "/css/site.css", "body{font-family:'Noto Sans TC',sans-serif}.skip{position:absolute;left:-999px}\n")
    _write(out, "/images/logo.png", PNG_BYTES)
    _write(out, "/favicon.ico", PNG_BYTES)
    _write(out, "/robots.txt", "User-agent: *\nDisallow:\n")
    _write(out, SEARCH_PAGE, "<!DOCTYPE html><html lang=\"zh-Hant-TW\"><head><meta charset=\"utf-8\">"
           "<title>全站搜尋 - 臺灣範例市政府</title></head><body><h1>全站搜尋</h1><p>請輸入關鍵字。</p>"
           "<p><a href=\"/\">回首頁</a></p></body></html>\n")
    broken = []
    for g in range(layout.articles):
        target = layout.broken_target(g)
        if target:
            broken.append({"source": layout.article_path(g), "target": target, "status": 404})
    reachable, max_depth = reachability(layout)
    if reachable != pages:
        raise RuntimeError(f"generator bug: {reachable} of {pages} pages reachable from /")
    html_paths = list(layout.html_paths())
    manifest = {
        "generator": GENERATOR_VERSION, "pages": pages, "seed": seed, "articles": layout.articles,
        "html_pages": len(html_paths), "documents": documents, "assets": list(ASSETS),
        "search_page": SEARCH_PAGE,
        "broken": broken,
        # every distinct URL a complete checker requests: pages, documents, assets, broken targets
        "unique_urls": len(html_paths) + len(documents) + len(ASSETS) + len(broken),
        "links_per_page": {"min": min_links, "max": max_links},
        "avg_page_bytes": round(html_bytes / count), "max_depth": max_depth,
        "generated_in_s": round(time.monotonic() - t0, 1),
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    for dirpath, dirnames, _files in os.walk(out):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a synthetic agency site for the benchmarks.")
    parser.add_argument("--pages", type=int, default=10_000, help="HTML pages (default 10000)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the site into")
    args = parser.parse_args(argv)
    try:
        manifest = generate(args.out, args.pages, args.seed, quiet=False)
    except (ValueError, OSError) as exc:
        print(f"generate_site: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: v for k, v in manifest.items() if k not in ("documents", "broken")}, ensure_ascii=False))
    print(f"broken links: {len(manifest['broken'])}, documents: {len(manifest['documents'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
