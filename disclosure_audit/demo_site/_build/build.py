"""Build the bundled demo site (disclosure_audit/demo_site/) from the templates and page table below.

Why a generator: ~30 pages share one header/footer template and one block of classification meta;
editing them by hand drifts. The built files are committed, so the server and the package need no
build step; `tests/disclosure_audit/test_demo_site.py` fails when the committed files differ from what this script
produces. Every byte is deterministic (fixed zip timestamps, no clocks), so rebuilding is a no-op.

    python disclosure_audit/demo_site/_build/build.py          # rewrite the site
    python disclosure_audit/demo_site/_build/build.py --check  # exit 1 and list files that are out of date

The deliberate defects (see docs/demo-site.md and answer_key.yaml) live in this table and in the
page templates; keep all three in step.
"""

from __future__ import annotations

import argparse
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import jinja2

BUILD_DIR = Path(__file__).resolve().parent
SITE_DIR = BUILD_DIR.parent
TEMPLATES = BUILD_DIR / "templates"

AGENCY = "臺灣示範市政府環境保護局"
AGENCY_EN = "Environmental Protection Bureau, Demo City Government"
AGENCY_CODE = "399990100E"
DEFAULT_DC_DATE = "2026-09-30"
ZIP_TIME = (2026, 10, 15, 10, 0, 0)

# The 15 Dublin Core fields (Coverage as t.min/t.max) + the three portal classification fields,
# in the order real templates print them (shared/domain/codes/dc_meta_fields.csv).
META_ORDER = (
    "DC.Title", "DC.Creator", "DC.Subject", "DC.Description", "DC.Contributor", "DC.Type",
    "DC.Format", "DC.Source", "DC.Language", "DC.coverage.t.min", "DC.coverage.t.max",
    "DC.Publisher", "DC.Date", "DC.Identifier", "DC.Relation", "DC.Rights",
    "Category.Theme", "Category.Cake", "Category.Service", "Keywords",
)


@dataclass
class Page:
    """One HTML page of the demo site and the facts its template prints."""

    path: str  # relative to the site root, e.g. "news/n1.html"
    name: str  # page name: <h1>, DC.Subject, first part of <title>
    description: str
    updated: str | None = None  # ROC date printed as 更新日期：… (None: no date in the body)
    dc_date: str | None = DEFAULT_DC_DATE  # None: the DC.Date tag is absent
    theme: str = "770"
    cake: str = "C21"
    service: str = "E41"
    drop: tuple[str, ...] = ()  # meta fields left out on purpose
    breadcrumb: tuple[tuple[str, str], ...] = ()
    lang: str = "zh-Hant-TW"
    charset: str = "utf-8"
    layout: str = "base.html.j2"
    title: str | None = None
    h1: str | None = None
    keywords: str = "環境保護,資源回收,空氣品質,水質"
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.title is None:
            self.title = f"{self.name} - {AGENCY}" if self.lang != "en" else f"{self.name} - {AGENCY_EN}"
        if self.h1 is None:
            self.h1 = self.name

    @property
    def meta_tags(self) -> list[tuple[str, str]]:
        en = self.lang == "en"
        publisher = AGENCY_EN if en else AGENCY
        values = {
            "DC.Title": self.title,
            "DC.Creator": publisher,
            "DC.Subject": self.name,
            "DC.Description": self.description,
            "DC.Contributor": publisher,
            "DC.Type": "Text" if en else "文字",
            "DC.Format": "text/html",
            "DC.Source": publisher,
            "DC.Language": "English" if en else "中文",
            "DC.coverage.t.min": "2024-01-01",
            "DC.coverage.t.max": "2027-12-31",
            "DC.Publisher": publisher,
            "DC.Date": self.dc_date or "",
            "DC.Identifier": AGENCY_CODE,
            "DC.Relation": "EPB-DEMO-WWW",
            "DC.Rights": publisher,
            "Category.Theme": self.theme,
            "Category.Cake": self.cake,
            "Category.Service": self.service,
            "Keywords": "environment,recycling,air quality" if en else self.keywords,
        }
        values.update(self.extra)
        drop = set(self.drop) | ({"DC.Date"} if self.dc_date is None else set())
        return [(k, values[k]) for k in META_ORDER if k not in drop]


ZH = {
    "agency": AGENCY,
    "skip": "跳到主要內容",
    "ak_u": "上方功能區塊", "ak_c": "中央內容區塊", "ak_z": "下方功能區塊",
    "tools_label": "功能選單", "menu_label": "主選單", "breadcrumb_label": "目前位置",
    "footer_label": "頁尾連結",
    "home": "回首頁", "home_href": "/", "sitemap": "網站導覽", "faq": "常見問答",
    "search_label": "站內搜尋", "search_hint": "請輸入關鍵字", "search_button": "搜尋",
    "menu": (
        ("/about.html", "機關簡介"),
        ("/news/index.html", "最新消息"),
        ("/news/notices.html", "最新公告"),
        ("/disclosure/index.html", "主動公開資訊"),
        ("/services/index.html", "線上服務"),
        ("/forms/index.html", "書表下載"),
        ("/mailbox.html", "局長信箱"),
        ("/survey.html", "線上問卷"),
        ("/links.html", "相關連結"),
    ),
    "noscript": "您的瀏覽器不支援JavaScript功能，若網頁功能無法正常使用時，請開啟瀏覽器JavaScript狀態。",
    "updated_label": "更新日期：",
    "footer_links": (
        ("/privacy.html", "隱私權政策"),
        ("/security.html", "資訊安全政策"),
        ("/open-data.html", "政府網站資料開放宣告"),
        ("/sitemap.html", "網站導覽"),
        ("__EXTERNAL__/egov", "我的E政府"),
    ),
    "address": "地址：臺灣示範市示範區環保路1號",
    "phone_label": "電話：",
    "fax": "傳真：(02)2000-0001",
    "hours": "服務時間：週一至週五 上午8時30分至下午5時30分",
    "facebook": "Facebook 粉絲專頁", "youtube": "YouTube 頻道", "join": "公共政策網路參與平臺",
    "badge_alt": "通過AA檢測等級無障礙網頁檢測",
    "logo_alt": f"{AGENCY}（回首頁）",
    "rss_title": "最新消息 RSS",
    "copyright": f"{AGENCY} 版權所有。本網站為 disclosure-audit 的示範網站，機關與內容皆為虛構。",
}

EN = dict(ZH) | {
    "agency": AGENCY_EN,
    "skip": "Skip to main content",
    "ak_u": "Top block", "ak_c": "Main content", "ak_z": "Bottom block",
    "tools_label": "Tools", "menu_label": "Main menu", "breadcrumb_label": "You are here",
    "footer_label": "Footer links",
    "home": "Home", "home_href": "/en/index.html", "sitemap": "Site map (Chinese)", "faq": "FAQ (Chinese)",
    "search_label": "Search this site", "search_hint": "Keywords", "search_button": "Search",
    "menu": (
        ("/en/index.html", "About the Bureau"),
        ("/old-news.html", "Latest news (Chinese)"),
        ("/disclosure/index.html", "Proactive disclosure (Chinese)"),
    ),
    "noscript": "Your browser does not support JavaScript. Some functions of this site may not work.",
    "updated_label": "Updated: ",
    "footer_links": (
        ("/privacy.html", "Privacy policy (Chinese)"),
        ("/security.html", "Security policy (Chinese)"),
        ("/open-data.html", "Open data declaration (Chinese)"),
        ("__EXTERNAL__/egov", "My E-Government"),
    ),
    "address": "No. 1, Huanbao Rd., Demo District, Demo City, Taiwan",
    "phone_label": "Phone: ",
    "fax": "Fax: +886-2-2000-0001",
    "hours": "Office hours: Monday to Friday, 8:30 a.m. to 5:30 p.m.",
    "facebook": "Facebook", "youtube": "YouTube", "join": "Public Policy Participation Platform (join)",
    "logo_alt": f"{AGENCY_EN} (home)",
    "rss_title": "News RSS (Chinese)",
    "copyright": "A fictitious agency: the demo site of disclosure-audit.",
}

DISCLOSURE = (("/disclosure/index.html", "主動公開資訊"),)
NEWS = (("/news/index.html", "最新消息"),)

PAGES: list[Page] = [
    Page("index.html", "首頁", "臺灣示範市政府環境保護局全球資訊網首頁：最新消息、主動公開資訊與便民服務。",
         title=AGENCY, h1=f"{AGENCY}全球資訊網", updated="115-11-20"),
    Page("about.html", "機關簡介", "本局沿革、組織職掌與聯絡資訊。", updated="115-10-15",
         service="I00"),
    Page("sitemap.html", "網站導覽", "網站導覽、快速鍵說明與全站架構。", updated="115-10-15",
         service="I00"),
    Page("search.html", "站內搜尋", "站內全文檢索結果，可依相關度或日期排序。", updated="115-10-15",
         service="I00"),
    Page("water-quality.html", "水質監測報告", "本市河川與地下水水質監測結果。", updated="115-10-20"),
    Page("links.html", "相關連結", "環保相關機關與服務網站連結。", updated="115-09-30", service="I00"),
    Page("mailbox.html", "局長信箱", "局長信箱：陳情、建議與意見反映。", updated="115-10-15"),
    Page("survey.html", "線上問卷", "資源回收服務滿意度線上問卷調查。", updated="115-10-15"),
    Page("faq.html", "常見問答", "民眾常見問題與解答。", updated="115-10-15",
         service="Z10"),  # DEFECT: Z is not one of the 18 top-level service codes
    Page("privacy.html", "隱私權政策", "本網站隱私權保護政策。", updated="115-10-15",
         dc_date="環保局全球資訊網", service="I00"),  # DEFECT: DC.Date is not a date
    Page("security.html", "資訊安全政策", "本網站資訊安全政策。", updated="115-10-15", service="I00"),
    Page("open-data.html", "政府網站資料開放宣告", "本網站資料開放授權條款。", updated="115-10-15",
         service="I00"),
    Page("404.html", "找不到網頁", "您要找的網頁不存在或已移除。", service="I00"),
    Page("disclosure/index.html", "主動公開資訊", "依政府資訊公開法第7條主動公開之政府資訊。",
         updated="115-10-15", service="I00"),
    Page("disclosure/regulations.html", "主管法規", "本局主管之自治條例及法規命令。", updated="115-10-15",
         service="I00", breadcrumb=DISCLOSURE),
    Page("disclosure/interpretations.html", "解釋函令及裁量基準", "本局訂頒之解釋性規定及裁量基準。",
         updated="115-10-15", service="I00", breadcrumb=DISCLOSURE),
    Page("disclosure/organization.html", "組織職掌及聯絡資訊", "本局組織、職掌、地址、電話、傳真及電子郵件。",
         updated="115-10-15", service="I00", breadcrumb=DISCLOSURE),
    Page("disclosure/plans.html", "施政計畫、業務統計及研究報告", "本局施政計畫、業務統計及研究報告。",
         updated="115-10-15", service="I00", breadcrumb=DISCLOSURE),
    Page("disclosure/budget.html", "預算及決算書", "本局歷年預算書及決算書。", updated="115-10-15",
         service="I00", breadcrumb=DISCLOSURE),
    Page("disclosure/procurement.html", "公共工程及採購契約", "本局書面之公共工程及採購契約。",
         updated="115-10-15", service="I00", breadcrumb=DISCLOSURE),
    Page("disclosure/subsidies.html", "接受及支付補助", "本局支付或接受之補助。", updated="115-10-15",
         service="I00", breadcrumb=DISCLOSURE),
    Page("disclosure/meetings.html", "委員會會議紀錄", "本市環境影響評估審查委員會會議紀錄。",
         updated="115-10-15", service="I00", breadcrumb=DISCLOSURE,
         theme="7A0"),  # DEFECT: Theme codes are three digits
    Page("news/index.html", "最新消息", "本局最新消息列表。", updated="115-11-02"),
    Page("news/n1.html", "115年度資源回收績優社區評選開跑", "資源回收績優社區評選活動說明。",
         updated="115-10-01", dc_date="2026-10-01", breadcrumb=NEWS),
    Page("news/n2.html", "112年春季環境清潔日活動成果", "春季環境清潔日活動成果報導。",
         updated="112-03-15", dc_date="2023-03-15", breadcrumb=NEWS),
    Page("news/n3.html", "空氣品質不良時之自我防護措施", "空氣品質不良時民眾自我防護建議。",
         breadcrumb=NEWS),  # only the HTTP Last-Modified dates this page
    Page("news/n4.html", "登革熱孳生源清除宣導", "登革熱孳生源清除宣導。", dc_date=None,
         drop=("DC.Contributor", "DC.coverage.t.min", "DC.coverage.t.max", "DC.Relation"),
         breadcrumb=NEWS),  # DEFECT: no date at all, several DC fields missing
    Page("news/notices.html", "最新公告", "本局最新公告列表。", updated="115-11-02", breadcrumb=NEWS),
    Page("news/notice-1150101.html", "115年度春節垃圾清運調整公告", "春節期間垃圾車停收及加收時段公告。",
         updated="115-01-01", dc_date="2026-01-01",
         breadcrumb=(("/news/notices.html", "最新公告"),)),  # DEFECT: period ended 115-03-31
    Page("news/notice-1151101.html", "115年冬季空氣品質不良應變公告", "冬季空氣品質不良期間之應變措施公告。",
         updated="115-11-01", dc_date="2026-11-01", breadcrumb=(("/news/notices.html", "最新公告"),)),
    Page("services/index.html", "線上服務", "線上申辦、線上繳費、線上預約與案件進度查詢。",
         updated="115-10-15"),
    Page("forms/index.html", "書表下載", "申請書表下載（開放文件格式與PDF）。", updated="115-10-15"),
    Page("en/index.html", "About the Bureau", "English introduction of the Environmental Protection Bureau.",
         lang="en", updated="2026-10-15", title=AGENCY_EN, h1=AGENCY_EN),
    Page("private/internal.html", "局內行政資訊", "限本局同仁使用之行政資訊。", updated="115-10-15",
         service="I00"),
    Page("big5/notice.html", "舊版公告", "舊版網站保留之公告資料。", updated="99年1月5日",
         dc_date="2010-01-05", charset="big5", layout="legacy_big5.html.j2",
         breadcrumb=NEWS),  # Big5-encoded page; stale by its own date
]


def page_by_path() -> dict[str, Page]:
    return {p.path: p for p in PAGES}


# ---------------------------------------------------------------------------------------------
# Binary documents, written by hand so that every byte is reproducible.

def png(width: int, height: int, rgb: tuple[int, int, int], stripe: tuple[int, int, int]) -> bytes:
    """A small two-colour PNG (a stripe at the bottom), enough to be a real image."""
    rows = []
    for y in range(height):
        colour = stripe if y >= height * 3 // 4 else rgb
        rows.append(b"\x00" + bytes(colour) * width)
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF 1.4; the title (Chinese) goes in the Info dictionary as UTF-16BE."""
    text_ops = ["BT", "/F1 14 Tf", "72 770 Td"]
    for line in lines:
        safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text_ops += [f"({safe}) Tj", "0 -20 Td"]
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("ascii")
    title_hex = ("FEFF" + title.encode("utf-16-be").hex().upper())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title <" + title_hex.encode() + b"> /Producer (disclosure-audit demo) >>",
    ]
    out = BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _zip(entries: list[tuple[str, str | bytes]], stored_first: bool) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for index, (name, data) in enumerate(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if (stored_first and index == 0) else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)
    return out.getvalue()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def odf(kind: str, title: str, paragraphs: list[str]) -> bytes:
    """An OpenDocument text (odt) or spreadsheet (ods): mimetype stored first, as the spec requires."""
    mimetype = f"application/vnd.oasis.opendocument.{'text' if kind == 'odt' else 'spreadsheet'}"
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"')
    if kind == "odt":
        body = "<office:text>" + "".join(
            f"<text:p>{_xml_escape(p)}</text:p>" for p in [title, *paragraphs]) + "</office:text>"
    else:
        cells = "".join(
            "<table:table-row>" + "".join(
                f'<table:table-cell office:value-type="string"><text:p>{_xml_escape(c)}</text:p></table:table-cell>'
                for c in p.split("|")) + "</table:table-row>"
            for p in paragraphs)
        body = f'<office:spreadsheet><table:table table:name="{_xml_escape(title)}">{cells}</table:table></office:spreadsheet>'
    content = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {ns} office:version="1.2">'
               f"<office:body>{body}</office:body></office:document-content>")
    meta = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta {ns} office:version="1.2">'
            f"<office:meta><dc:title>{_xml_escape(title)}</dc:title><dc:creator>{AGENCY}</dc:creator>"
            f"</office:meta></office:document-meta>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    return _zip([("mimetype", mimetype), ("META-INF/manifest.xml", manifest),
                 ("content.xml", content), ("meta.xml", meta)], stored_first=True)


def docx(title: str, paragraphs: list[str]) -> bytes:
    """A minimal Office Open XML word-processing document."""
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
             '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
             "</Types>")
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            "</Relationships>")
    body = "".join(f"<w:p><w:r><w:t>{_xml_escape(p)}</w:t></w:r></w:p>" for p in [title, *paragraphs])
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                f"<w:body>{body}</w:body></w:document>")
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{_xml_escape(title)}</dc:title><dc:creator>{AGENCY}</dc:creator></cp:coreProperties>")
    return _zip([("[Content_Types].xml", types), ("_rels/.rels", rels),
                 ("word/document.xml", document), ("docProps/core.xml", core)], stored_first=False)


def rtf_doc(title: str, paragraphs: list[str]) -> bytes:
    """The `.doc` form: Word-compatible RTF, as many agencies still publish (no ODF twin: a defect)."""
    def esc(text: str) -> str:
        return "".join(c if ord(c) < 128 and c not in "\\{}" else f"\\u{ord(c) if ord(c) < 32768 else ord(c) - 65536}?"
                       for c in text)
    body = "\\par\n".join(esc(p) for p in [title, *paragraphs])
    return ("{\\rtf1\\ansi\\ansicpg950\\deff0{\\fonttbl{\\f0 PMingLiU;}}\\uc1\n" + body + "\\par\n}\n").encode("ascii")


def documents() -> dict[str, bytes]:
    """Every downloadable file the pages link to (paths relative to the site root)."""
    form_lines = ["Demo City EPB application form", "Form no. printed in the header"]
    docs: dict[str, bytes] = {}
    for year in (113, 114):
        docs[f"disclosure/files/budget-{year}.pdf"] = pdf(f"{year}年度單位預算書", [f"Budget {year + 1911}"])
        docs[f"disclosure/files/final-accounts-{year}.pdf"] = pdf(f"{year}年度單位決算書", [f"Final accounts {year + 1911}"])
    for year in (113, 114, 115):
        docs[f"disclosure/files/plan-{year}.pdf"] = pdf(f"{year}年度施政計畫", [f"Administrative plan {year + 1911}"])
    docs["disclosure/files/service-quality-115.pdf"] = pdf("115年度提升服務品質執行計畫", ["Service quality plan 2026"])
    docs["disclosure/files/stats-113.ods"] = odf("ods", "113年業務統計年報", ["項目|數量", "資源回收量（公噸）|128456", "稽查件數|3021"])
    docs["disclosure/files/procurement-1150032.pdf"] = pdf("環保路段路面改善工程契約", ["Public works contract 1150032"])
    docs["disclosure/files/meeting-115-09.pdf"] = pdf("環境影響評估審查委員會第210次會議紀錄", ["Minutes, meeting 210"])
    docs["api/head-refused.pdf"] = pdf("114年度環境品質研究報告", ["Environmental quality research report 2025"])
    docs["busy/report.pdf"] = pdf("114年業務統計年報", ["Statistics yearbook 2025"])
    docs["forms/petition-letter.odt"] = odf("odt", "人民陳情書", form_lines)
    docs["forms/petition-letter.pdf"] = pdf("人民陳情書", form_lines)
    docs["forms/noise-complaint.doc"] = rtf_doc("噪音陳情申請書", form_lines)
    docs["forms/recycling-subsidy.docx"] = docx("資源回收補助申請表", form_lines)
    docs["forms/recycling-subsidy.odt"] = odf("odt", "資源回收補助申請表", form_lines)
    docs["big5/notice-99001.pdf"] = pdf("舊版公告附件", ["Legacy notice attachment"])
    docs["images/logo.png"] = png(240, 60, (27, 94, 32), (255, 255, 255))
    docs["images/badge-aa.png"] = png(88, 31, (255, 255, 255), (0, 82, 155))
    docs["images/favicon.png"] = png(16, 16, (27, 94, 32), (27, 94, 32))
    docs["images/recycling-community.png"] = png(320, 200, (200, 230, 201), (27, 94, 32))
    docs["images/cleanup-day.png"] = png(320, 200, (187, 222, 251), (13, 71, 161))
    return docs


# ---------------------------------------------------------------------------------------------

def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_pages() -> dict[str, bytes]:
    env = environment()
    out: dict[str, bytes] = {}
    for page in PAGES:
        body_template = env.get_template(f"pages/{page.path}.j2")
        texts = EN if page.lang == "en" else ZH
        html = body_template.render(page=page, t=texts, layout=page.layout)
        out[page.path] = html.encode(page.charset)  # strict: a character Big5 lacks fails the build
    return out


def static_files() -> dict[str, bytes]:
    env = environment()
    news = [p for p in PAGES if p.path.startswith("news/n") and p.path[6].isdigit()]
    rss = env.get_template("rss.xml.j2").render(items=news)
    return {
        "robots.txt": (BUILD_DIR / "templates" / "robots.txt").read_bytes(),
        "css/site.css": (BUILD_DIR / "templates" / "site.css").read_bytes(),
        "rss.xml": rss.encode("utf-8"),
    }


def build() -> dict[str, bytes]:
    """Every file of the site, path → bytes (the whole output; nothing else is written)."""
    files = render_pages()
    files.update(static_files())
    files.update(documents())
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files that differ")
    args = parser.parse_args(argv)
    stale = []
    for rel, data in sorted(build().items()):
        target = SITE_DIR / rel
        if target.exists() and target.read_bytes() == data:
            continue
        stale.append(rel)
        if not args.check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    if args.check:
        for rel in stale:
            print(f"out of date: disclosure_audit/demo_site/{rel}")
        return 1 if stale else 0
    print(f"wrote {len(stale)} file(s) under {SITE_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
