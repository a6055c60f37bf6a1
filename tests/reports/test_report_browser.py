"""Look at report.html in a real headless Chromium: it renders Chinese text (not boxes), logs no
console errors (the inline script runs under the report's own CSP), sorts and filters tables, and
never scrolls sideways at desktop (1280 px) or phone (390 px) widths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paths import SAMPLE

from reports.render import render_all


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    results = json.loads(SAMPLE.read_text(encoding="utf-8"))
    out = tmp_path_factory.mktemp("reports")
    render_all(results, out)  # three agencies: combined report, index.html, one folder per agency
    en = tmp_path_factory.mktemp("reports-en")
    render_all({**results, "sites": results["sites"][:1]}, en, lang="en")
    return {"combined": out / "report.html", "index": out / "index.html",
            "city": out / "agencies" / "001-379000000A" / "report.html", "en": en / "report.html"}


def errors(drv) -> list[dict]:
    return [e for e in drv.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]


# Draws two different CJK characters on a canvas with the page's font: missing-glyph boxes (tofu)
# look identical, real glyphs do not.
GLYPHS_DIFFER = """
const font = getComputedStyle(document.querySelector('h1')).font;
function draw(ch) {
  const c = document.createElement('canvas'); c.width = 64; c.height = 64;
  const g = c.getContext('2d'); g.font = font.replace(/\\d+(\\.\\d+)?px/, '48px');
  g.fillStyle = '#000'; g.fillText(ch, 4, 52);
  return Array.from(g.getImageData(0, 0, 64, 64).data).join(',');
}
const a = draw('資'), b = draw('訊'), blank = draw(' ');
return [a !== b, a !== blank];
"""


@pytest.mark.parametrize("name", ["city", "combined", "index", "en"])
def test_report_renders_without_errors_or_sideways_scroll(driver, reports, name: str, tmp_path: Path) -> None:
    url = reports[name].as_uri()
    for width in (1280, 390):
        driver.set_window_size(width, 900)
        driver.get(url)
        assert driver.execute_script("return document.readyState") == "complete"
        widths = driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"{name} scrolls sideways at {width}px: {widths}"
        shot = tmp_path / f"{name}-{width}.png"
        assert driver.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
    assert errors(driver) == []


def test_chinese_text_is_rendered(driver, reports) -> None:
    driver.set_window_size(1280, 900)
    driver.get(reports["city"].as_uri())
    assert driver.find_element("css selector", "h1").text == "資訊流通服務網站檢測報告"
    assert driver.find_element("css selector", "section.site h2").text == "範例市政府"
    assert driver.execute_script(GLYPHS_DIFFER) == [True, True], "Chinese renders as boxes: install fonts-noto-cjk"


def test_tables_sort_and_filter(driver, reports) -> None:
    from selenium.webdriver.common.by import By

    driver.set_window_size(1280, 900)
    driver.get(reports["city"].as_uri())
    table = driver.find_element(By.ID, "s1-stale-table")
    rows = lambda: [r.find_elements(By.TAG_NAME, "td")[4].text for r in  # noqa: E731
                    table.find_elements(By.CSS_SELECTOR, "tbody tr") if r.is_displayed()]
    assert rows() == ["1187", "1248", "", "", ""]
    header = table.find_elements(By.CSS_SELECTOR, "thead button.sort")[4]
    header.click()
    assert rows() == ["", "", "", "1187", "1248"]
    header.click()
    assert rows() == ["1248", "1187", "", "", ""]
    assert table.find_elements(By.CSS_SELECTOR, "thead th")[4].get_attribute("aria-sort") == "descending"
    box = driver.find_element(By.CSS_SELECTOR, "input[data-table='s1-stale-table']")
    assert box.is_displayed()  # the script revealed the filter: it ran under the CSP
    box.send_keys("budget")
    assert rows() == ["1248", ""]
    assert errors(driver) == []


def test_report_prints_to_pdf(driver, reports, tmp_path: Path) -> None:
    import base64

    from selenium.webdriver.common.print_page_options import PrintOptions

    driver.get(reports["city"].as_uri())
    options = PrintOptions()
    options.orientation = "portrait"
    pdf = base64.b64decode(driver.print_page(options))
    (tmp_path / "report.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 3
    assert errors(driver) == []
