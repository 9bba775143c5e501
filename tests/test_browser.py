"""End to end in a real browser: JupyterLab, notebook 05, the explorer driven by typing."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

import corpus_search as cs

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
QUERY = "Kremlin OR sanctions"
T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A JupyterLab server on a free loopback port; yields its base URL with token."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    home = tmp_path_factory.mktemp("lab-home")
    port, token = _free_port(), "cs-test-token"
    env = dict(os.environ, HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "ws"), JUPYTER_RUNTIME_DIR=str(home / "rt"),
               IPYTHONDIR=str(home / "ipython"))
    settings = home / "settings" / "@jupyterlab"
    for plugin, value in (("docmanager-extension/plugin", '{"autosave": false}'),
                          ("apputils-extension/notification", '{"fetchNews": "false"}')):
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value)
    jupyter = Path(sys.executable).with_name("jupyter")
    log = open(home / "lab.log", "w")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.root_dir={ROOT}", f"--IdentityProvider.token={token}",
         "--ServerApp.open_browser=False",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.news_url=None", f"--LabApp.user_settings_dir={home / 'settings'}",
         "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start: " + (home / "lab.log").read_text()[-2000:])
        yield f"{base}|{token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _run_all(page) -> None:
    """Menu Run > Run All, once the notebook has focus and a kernel (it is disabled before)."""
    page.locator(".jp-Notebook .jp-Cell").first.click(timeout=60_000)
    deadline = time.monotonic() + 90
    while True:
        page.get_by_role("menuitem", name="Run", exact=True).click()
        item = page.locator("li[data-command='runmenu:run-all']")
        if item.get_attribute("aria-disabled") != "true":
            item.click()
            return
        page.keyboard.press("Escape")
        if time.monotonic() > deadline:
            pytest.fail("Run All stayed disabled: the notebook's kernel did not start")
        page.wait_for_timeout(500)


def _settled(read: Callable[[], T], ok: Callable[[T], bool], timeout: float = 30.0) -> T:
    """``read()`` again every 0.2 s until ``ok`` of it or ``timeout`` seconds: the last read."""
    end = time.monotonic() + timeout
    while not ok(value := read()) and time.monotonic() < end:
        time.sleep(0.2)
    return value


def test_explorer_in_jupyterlab(lab: str) -> None:
    """Run notebook 05 in JupyterLab, type a query, and read results and facets off the page."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional, heavy

    base, token = lab.split("|")
    index = cs.ensure_index(ROOT / "corpus", ROOT / "index")
    expected = index.search(QUERY, facet_limit=25)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(f"{base}/lab/tree/notebooks/05-the-explorer-app.ipynb?token={token}")
            _run_all(page)
            box = page.locator("input[placeholder='NATO AND \"secretary general\"']").first
            box.wait_for(timeout=90_000)
            # Wait until the whole notebook has run (its last cell sets place:Kyiv).
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-InputArea-prompt')]"
                ".every(e => !e.textContent.includes('*'))", timeout=90_000)
            box.fill(QUERY)
            box.press("Enter")
            app = page.locator(".widget-vbox").filter(has=box).first
            status = app.locator("b", has_text=re.compile(r"^[\d,]+$")).first
            page.wait_for_function(
                "q => [...document.querySelectorAll('code')].some(c => c.textContent === q)",
                arg=QUERY, timeout=30_000)
            assert f"{expected.total:,}" == _settled(status.inner_text,
                                                     f"{expected.total:,}".__eq__)
            # The status, the hits and each facet are separate widgets: each arrives in
            # its own message from the kernel, so the page is read until it has them all.
            wanted = [f"{rank}. {title[:40]}"
                      for rank, title in enumerate(expected.hits["title"], start=1)]

            def has_titles(shown: list[str]) -> bool:
                return all(any(t.startswith(w) for t in shown) for w in wanted)

            shown_titles = _settled(app.locator(".widget-html b").all_inner_texts, has_titles)
            for want in wanted:
                assert any(t.startswith(want) for t in shown_titles), (want, shown_titles)
            # Every hit's passage shows a query word highlighted (in these three, the
            # words are in the bodies, and "sanctions" and "Kremlin" in no title).
            marked = {m.lower() for m in app.locator(".widget-html mark").all_inner_texts()}
            assert {"kremlin", "sanctions"} == marked
            assert len(wanted) <= app.locator(".widget-html mark").count()
            org_box = app.locator(".widget-vbox").filter(
                has=page.locator("b", has_text=re.compile(r"^org$"))).last
            facet = expected.facets["org"]
            expected_options = [f"{v} ({c})" for v, c in
                                zip(facet["value"], facet["count"], strict=True)]

            def org_options() -> list[str]:
                return [o.replace("\xa0", " ") for o in
                        org_box.locator("select option").all_inner_texts()]

            assert expected_options == _settled(org_options, expected_options.__eq__)
            box.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "explorer.png"))
        except Exception:  # the page as it was, to see why (a timeout says little)
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / "explorer-failed.png"))
            raise
        finally:
            browser.close()
    if os.environ.get("UPDATE_SCREENSHOT"):  # refresh the README's picture on purpose only
        shutil.copy(ARTIFACTS / "explorer.png", ROOT / "docs" / "explorer.png")
