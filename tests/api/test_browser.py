"""The API pages render in a real browser on a machine without internet access.

Headless Chromium (Debian's `chromium`; `make test` installs it when it can) loads each page from the
service alone — every other host fails to resolve — and the rendered DOM must list every operation of
the document the page shows. Skipped on a dev box without Chromium; never in CI (`CI` is set there).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers.service import RunningService

BROWSERS = ("chromium", "chromium-browser")
# Flags for a headless run as root, with nothing fetched but the page's own requests.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Offline: any host but this machine fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    # Run the page's scripts (and its fetches) for up to this much virtual time before dumping the DOM.
    "--virtual-time-budget=20000",
]
PAGES = [
    pytest.param("/challenge/openapi/swagger", "/challenge/openapi/openapi.json", id="openapi-3.1"),
    pytest.param("/challenge/apidocs/", "/challenge/apidocs/api.json", id="swagger-2.0"),
]


def chromium() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is missing in CI; `make test` installs it with apt-get")
    pytest.skip("chromium is not installed; `make test` installs it when run as root with apt-get")


async def rendered_dom(url: str, profile: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        chromium(),
        *FLAGS,
        f"--user-data-dir={profile}",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=90)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode(errors="replace")[-2000:]
    return stdout.decode()


@pytest.mark.slow
@pytest.mark.parametrize(("page", "document"), PAGES)
async def test_the_page_lists_every_operation_offline(
    running: RunningService, tmp_path: Path, page: str, document: str
) -> None:
    spec = (await running.http.get(document)).json()
    expected = {(method.upper(), path) for path, operations in spec["paths"].items() for method in operations}

    dom = await rendered_dom(f"http://127.0.0.1:{running.settings.http_port}{page}", tmp_path)

    # Each operation is an "opblock" whose summary holds its method and its path.
    methods = re.findall(r'class="opblock-summary-method"[^>]*>([A-Z]+)<', dom)
    paths = [re.sub(r"<[^>]+>|\u200b", "", raw) for raw in re.findall(r'data-path="([^"]+)"', dom)]
    assert set(zip(methods, paths, strict=True)) == expected, dom[:3000]
