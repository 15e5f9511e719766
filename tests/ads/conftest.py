"""Ads fixtures: a worker for the study's workflows on the test's queue, and a way to run a study."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from activities.ads import AdsActivities
from activities.llm import NegotiationActivities
from models.ads import ExperimentSpec, ExperimentSummary
from store.engine import open_store
from workflows.ads.campaign import CampaignWorkflow
from workflows.ads.experiment import ExperimentWorkflow

SMALL = {"buyers": 2, "sellers": 2, "campaigns_per_buyer": 2, "days": 3}


@pytest.fixture(scope="session")
async def ads_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


@pytest.fixture
async def sqlite_engine(tmp_path) -> AsyncIterator[AsyncEngine]:
    async with open_store(f"sqlite+aiosqlite:///{tmp_path / 'study.db'}") as engine:
        yield engine


@pytest.fixture
def study(client: Client, run_worker, task_queue: str, ads_http: httpx.AsyncClient):
    """``await study(engine, seed=…, **sizes)`` runs an ExperimentWorkflow to its end on the dev server."""

    async def run(engine: AsyncEngine, **fields) -> tuple[ExperimentSpec, ExperimentSummary]:
        spec = ExperimentSpec(id=fields.pop("id", f"test-{uuid.uuid4().hex[:8]}"), **fields)
        store = AdsActivities(engine)
        async with run_worker(
            workflows=[ExperimentWorkflow, CampaignWorkflow],
            activities=[
                store.register_experiment,
                store.record_day,
                store.read_ledger,
                store.read_ledger_view,
                NegotiationActivities(ads_http).negotiate,
            ],
        ):
            summary = await client.execute_workflow(ExperimentWorkflow.run, spec, id=spec.id, task_queue=task_queue)
        return spec, summary

    return run
