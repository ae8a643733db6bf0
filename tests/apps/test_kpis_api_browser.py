"""The kpis-api dashboard in a real headless Chromium (Debian's chromium + chromium-driver;
any Chromium or Chrome with its chromedriver that tests/prerequisites.py finds).

kpis-api runs in-process under Granian with the known dataset and a pinned clock, mounted
under /kpis as the Ingress serves it. Assertions are on the DOM as the browser rendered it
(text, element geometry), not on the HTML source. A screenshot is written to
build/artifacts/kpis-dashboard.png for every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kpis_api.db import connect_once
from kpis_api.migrations import apply_migrations
from tests.apps.kpis_dataset import EXPECTED_SUMMARY, load_dataset
from tests.apps.test_kpis_api_http import running_kpis_server
from tests.prerequisites import find_browser, require

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    require("browser")
    found = find_browser()
    assert found is not None  # require() returned: it is there
    chromium, driver_path = found
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,960",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium must not try to download one.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def dashboard_url(kpis_db_settings: Any) -> Iterator[str]:
    with connect_once(kpis_db_settings) as conn:
        apply_migrations(conn)
        load_dataset(conn)
    with running_kpis_server(kpis_db_settings, base_path="/kpis") as url:
        yield f"{url}/kpis/"


def _severe_console_entries(browser: Any) -> list[dict[str, Any]]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_dashboard_renders_the_seeded_kpis_and_chart_under_the_prefix(
    browser: Any, dashboard_url: str
) -> None:
    from selenium.webdriver.common.by import By

    browser.get_log("browser")  # start from an empty console
    browser.get(dashboard_url)

    assert browser.title == "KPIs"
    tiles = {
        tile.find_element(By.TAG_NAME, "dt").text: tile.find_element(By.TAG_NAME, "dd").text
        for tile in browser.find_elements(By.CSS_SELECTOR, ".tile")
    }
    assert tiles == {
        "Revenue": "245.51",
        "Paid orders": "5",
        "Average order value": "49.10",
        "Active customers": "3",
        "Refund rate": "28.57%",
    }

    # The chart: one bar per day, drawn with heights proportional to that day's revenue.
    bars = browser.find_elements(By.CSS_SELECTOR, "svg rect.bar")
    days = EXPECTED_SUMMARY["daily_revenue"]
    assert len(bars) == len(days) == 7
    tallest_revenue = max(day["revenue_cents"] for day in days)
    tallest_pixels = max(bar.rect["height"] for bar in bars)
    assert tallest_pixels > 100  # a real, visible chart
    for bar, day in zip(bars, days, strict=True):
        assert bar.get_attribute("textContent").startswith(day["date"])
        expected = tallest_pixels * day["revenue_cents"] / tallest_revenue
        assert abs(bar.rect["height"] - expected) <= 1.5, (day, bar.rect)
    labels = [text.text for text in browser.find_elements(By.CSS_SELECTOR, "svg text")]
    assert "100.00" in labels and "65.50" in labels and "01-15" in labels

    table_rows = [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    assert table_rows[-1] == ["2025-01-15", "100.00", "1"]

    assert _severe_console_entries(browser) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "kpis-dashboard.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dashboard_links_follow_the_prefix(browser: Any, dashboard_url: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(dashboard_url)
    browser.get_log("browser")
    browser.find_element(By.LINK_TEXT, "JSON summary").click()

    assert browser.current_url.endswith("/kpis/api/kpi/summary")
    assert json.loads(browser.find_element(By.TAG_NAME, "body").text) == EXPECTED_SUMMARY

    browser.back()
    browser.find_element(By.LINK_TEXT, "Prometheus metrics").click()
    assert browser.current_url.endswith("/kpis/metrics")
    assert "kpis_revenue_cents 24551.0" in browser.find_element(By.TAG_NAME, "body").text
    assert _severe_console_entries(browser) == []
