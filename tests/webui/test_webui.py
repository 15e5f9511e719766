"""The Temporal Web UI flow users trace stuck fibers with, in a real browser (issue 12, item 6).

A dev server with its UI, a `python -m workers.main` process, and the embedded OttoChain node. The node's
snapshots are stalled once a SimpleOrder is on chain, so the fiber stays in its first state, `pending`; headless
Chromium (Debian's `chromium`, driven by Playwright) opens the UI's workflow list with the query
`FiberState = "pending"` and must list that fiber. The same for `Scenario = "C"` while a study runs. The
screenshots go to the test's directory; with SIMCTL_SAVE_SCREENSHOTS=1 also to docs/ (the README shows one).

In CI (which installs chromium) a missing browser fails the tests; elsewhere they skip, and only then.
"""

from __future__ import annotations

import os
import shutil
import sys
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout
from temporalio.client import Client

from localnet.ottochain.chain import Faults
from localnet.ottochain.server import OttoChainServer
from localnet.ports import free_port
from localnet.temporal_dev import DevServer, DevServerConfig
from models.ads import ExperimentSpec
from models.otto import FiberProgress, FiberSpec
from models.settings import Settings
from models.task_queues import TaskQueue
from sim.otto.messages import CREATE_STATE_MACHINE
from tests.cli.helpers import ROOT, Service, environment
from tests.otto.conftest import PASSPHRASE, Pool
from tests.polling import eventually
from workers.client import connect
from workflows.ads.experiment import ExperimentWorkflow
from workflows.otto.fiber import FiberWorkflow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI installs it: .ci/run)")
        pytest.skip(message)
    return CHROMIUM


@dataclass
class UiStack:
    client: Client
    ui_url: str
    node: OttoChainServer


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[UiStack]:
    """A dev server with its Web UI (not headless), a worker process on every queue, an OttoChain node."""
    logs = tmp_path_factory.mktemp("webui")
    config = DevServerConfig(port=free_port(), ui_port=free_port(), log_file=logs / "server.log")
    async with DevServer(config) as server, OttoChainServer(faults=Faults(snapshot_interval=0.05)) as node:
        client = await connect(Settings(temporal_address=server.config.address, metrics_port=0), patience=30)
        env = environment(
            TEMPORAL_ADDRESS=server.config.address,
            SIMCTL_STATE_DIR=str(logs / "state"),
            SIMCTL_METRICS_PORT="0",
            SIMCTL_WALLET_PASSPHRASE=PASSPHRASE,
        )
        worker = await Service.start(sys.executable, "-m", "workers.main", env=env)
        try:
            await worker.wait_for(r"worker polling task queues", timeout=90)
            yield UiStack(client=client, ui_url=f"http://127.0.0.1:{config.ui_port}", node=node)
        finally:
            worker.kill()


@pytest.fixture
async def page(chromium: Path) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield await browser.new_page(viewport={"width": 1440, "height": 900})
        finally:
            await browser.close()


async def open_workflow_list(page: Page, ui_url: str, query: str) -> None:
    """The UI's workflow list for the default namespace, filtered by a visibility query, as a user opens it."""
    await page.goto(f"{ui_url}/namespaces/default/workflows?query={urllib.parse.quote(query)}")


async def listed(client: Client, page: Page, ui_url: str, query: str, text: str) -> None:
    """Once Temporal's visibility answers ``query`` with ``text``, the UI's list must show it too (reloaded
    until it does: a loaded machine renders slowly), or the test fails with what the page shows."""

    async def in_visibility() -> bool:
        return any(text in workflow_id for workflow_id in [e.id async for e in client.list_workflows(query)])

    await eventually(in_visibility, what=f"visibility answering {query!r} with {text!r}", timeout=60)

    async def shows() -> bool:
        await open_workflow_list(page, ui_url, query)
        try:
            await page.get_by_text(text, exact=False).first.wait_for(state="visible", timeout=15_000)
        except PlaywrightTimeout:
            return False
        return True

    try:
        await eventually(shows, what=f"the Web UI listing {text!r} for {query!r}", timeout=120)
    except AssertionError as err:
        body = await page.inner_text("body")
        raise AssertionError(f"{err}; the page shows: {' '.join(body.split())[:600]}") from None


async def screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    await page.screenshot(path=str(path), full_page=False)
    if os.environ.get("SIMCTL_SAVE_SCREENSHOTS") == "1":
        shutil.copyfile(path, DOCS / name)
    return path


async def test_the_web_ui_lists_a_stuck_fiber_by_its_state(stack: UiStack, page: Page, pool: Pool, tmp_path: Path):
    chain = stack.node.chain
    spec = FiberSpec(
        fiber_type="SimpleOrder",
        parties=pool.take(2, offset=2),
        outcome="delivered",
        seed=3,
        endpoints=stack.node.endpoints,
        wallets=str(pool.path),
        timeout_seconds=300,
        fiber_id=str(uuid.uuid4()),
    )
    workflow_id = f"webui-stuck-{uuid.uuid4().hex[:8]}"
    # No snapshots from the start; one by hand once DL1 holds the create: the fiber is on ML0 in its first
    # state, and every later move is accepted but never reaches ML0. No race with the snapshot clock.
    chain.faults.snapshot_stall = True
    try:
        handle = await stack.client.start_workflow(FiberWorkflow.run, spec, id=workflow_id, task_queue=TaskQueue.OTTO)

        def create_queued() -> bool:
            return any(u.kind == CREATE_STATE_MACHINE and u.body["fiberId"] == spec.fiber_id for u in chain.pending)

        await eventually(create_queued, what="DL1 holding the fiber's create", timeout=60)
        chain.snapshot()

        async def stuck() -> FiberProgress | None:
            progress = await handle.query(FiberWorkflow.progress)
            return progress if progress is not None and progress.waiting_on is not None else None

        progress = await eventually(stuck, what="the fiber waiting on the chain", timeout=60)
        assert progress.state == "pending", progress

        await listed(stack.client, page, stack.ui_url, 'FiberState = "pending"', workflow_id)
        await screenshot(page, tmp_path, "webui-stuck-fiber.png")
        # The filter really filters: a state nothing is in lists nothing of ours.
        await open_workflow_list(page, stack.ui_url, 'FiberState = "shipped"')
        await page.wait_for_load_state("networkidle")
        assert await page.get_by_text(workflow_id).count() == 0
    finally:
        chain.faults.snapshot_stall = False
    outcome = await handle.result()
    assert outcome.status == "COMPLETED" and outcome.outcome == "delivered"


async def test_the_web_ui_lists_a_running_studys_scenario_c_campaigns(stack: UiStack, page: Page, tmp_path: Path):
    # Two real seconds per simulated day: the study is still running while the browser looks.
    study = ExperimentSpec(
        id=f"webui-{uuid.uuid4().hex[:8]}",
        days=150,
        buyers=1,
        sellers=2,
        campaigns_per_buyer=1,
        seed=5,
        acceleration=43200,
    )
    handle = await stack.client.start_workflow(ExperimentWorkflow.run, study, id=study.id, task_queue=TaskQueue.ADS)
    try:
        await listed(
            stack.client, page, stack.ui_url, f'Scenario = "C" AND Experiment = "{study.id}"', f"{study.id}/C/"
        )
        await screenshot(page, tmp_path, "webui-scenario-c.png")
        assert await page.get_by_text(f"{study.id}/A/").count() == 0
        assert await page.get_by_text(f"{study.id}/B/").count() == 0
        description = await handle.describe()
        assert description.status is not None and description.status.name == "RUNNING", "seen during the study"
    finally:
        await handle.terminate("the browser has seen what it needed")
