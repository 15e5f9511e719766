"""`llm.negotiate` against an OpenAI-compatible endpoint served on 127.0.0.1: answers, budget, fallback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from temporalio.testing import ActivityEnvironment

from activities.llm import NegotiationActivities
from models.ads import AdsParams, LlmConfig, NegotiationRequest, Offer
from report import load_study
from sim.ads.data import generate_world
from sim.ads.findings import compute_findings
from sim.ads.negotiation import quote_for
from tests.ads.conftest import SMALL


class ChatEndpoint:
    """A stand-in chat-completions server whose answers the test scripts (the model is not under test)."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.requests: list[dict] = []
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def complete(request: Request) -> dict:
            body = await request.json()
            self.requests.append(body)
            content = self.answers.pop(0) if self.answers else '{"action": "accept", "cpm_micros": 1}'
            # Token counts that differ per call, so a sum that drops or repeats one cannot pass.
            usage = {"prompt_tokens": 100 + len(self.requests), "completion_tokens": len(self.requests)}
            return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}], "usage": usage}

        self.app = app


@pytest.fixture
async def chat() -> AsyncIterator[tuple[ChatEndpoint, str]]:
    endpoint = ChatEndpoint()
    server = uvicorn.Server(uvicorn.Config(endpoint.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    import asyncio

    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield endpoint, f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    await task


def request_for(llm: LlmConfig | None, budget: int) -> NegotiationRequest:
    world = generate_world(4)
    campaign = world.campaigns[0]
    buyer = world.buyer(campaign.buyer_id)
    products = [
        p for p in world.products() if p.channel in campaign.channels and set(p.segments) & set(campaign.segments)
    ]
    offers = tuple(Offer(product=p, quote=quote_for(p, buyer.tier, campaign)) for p in products[:2])
    return NegotiationRequest(
        experiment_id="e",
        scenario="B",
        day=1,
        campaign=campaign,
        tier=buyer.tier,
        offers=offers,
        params=AdsParams(),
        seed=1,
        llm=llm,
        llm_calls_left=budget,
    )


async def test_rules_answer_without_a_model():
    async with httpx.AsyncClient() as http:
        outcome = await ActivityEnvironment().run(NegotiationActivities(http).negotiate, request_for(None, 0))
    assert outcome.engine == "rules" and outcome.llm_calls == 0
    assert len(outcome.negotiations) == 2


async def test_the_model_answers_within_its_budget_and_bad_answers_fall_back_to_the_rules(chat):
    endpoint, url = chat
    rules = await _rules_outcome()
    # First answer is prose (malformed), second a counter above max CPM (refused), then valid accepts.
    endpoint.answers = ["I think we should accept.", json.dumps({"action": "counter", "cpm_micros": 10**12})]
    async with httpx.AsyncClient() as http:
        outcome = await ActivityEnvironment().run(
            NegotiationActivities(http).negotiate, request_for(LlmConfig(url=url, model="stub"), budget=3)
        )
    assert outcome.engine == "llm"
    assert outcome.llm_calls == 3 == len(endpoint.requests), "never more calls than the budget"
    assert outcome.llm_fallbacks == 2
    # Tokens of every reply count, the unusable ones too: they were paid for.
    assert (outcome.llm_prompt_tokens, outcome.llm_completion_tokens) == (101 + 102 + 103, 1 + 2 + 3)
    assert endpoint.requests[0]["model"] == "stub"
    assert "seller_ask_cpm_micros" in endpoint.requests[0]["messages"][1]["content"]
    # A model that accepted took the seller's ask as it stood; where the budget ran out the rules played on.
    assert all(n.agreed_cpm is None or n.agreed_cpm == n.steps[-1].cpm for n in outcome.negotiations)
    assert [n.product_id for n in outcome.negotiations] == [n.product_id for n in rules.negotiations]


async def test_an_unreachable_model_costs_nothing_but_its_calls():
    async with httpx.AsyncClient() as http:
        outcome = await ActivityEnvironment().run(
            NegotiationActivities(http).negotiate,
            request_for(LlmConfig(url="http://127.0.0.1:9/v1", timeout_seconds=1), budget=2),
        )
    rules = await _rules_outcome()
    assert outcome.llm_fallbacks == outcome.llm_calls == 2
    assert outcome.llm_prompt_tokens == outcome.llm_completion_tokens == 0, "no reply, no usage"
    assert [n.agreed_cpm for n in outcome.negotiations] == [n.agreed_cpm for n in rules.negotiations]


async def _rules_outcome():
    async with httpx.AsyncClient() as http:
        return await ActivityEnvironment().run(NegotiationActivities(http).negotiate, request_for(None, 0))


async def test_a_study_with_an_llm_records_and_prices_every_token_the_endpoint_reported(chat, study, sqlite_engine):
    """End to end: the tokens the endpoint reported in `usage` reach the event log and the cost-of-trading
    figures, call for call; A never negotiates, so it ran with the LLM and used none."""
    endpoint, url = chat
    llm = LlmConfig(
        url=url,
        model="stub",
        calls_per_campaign=3,
        usd_per_million_prompt_tokens=1000.0,
        usd_per_million_completion_tokens=2000.0,
    )
    spec, _ = await study(sqlite_engine, seed=5, llm=llm, **SMALL)
    findings = compute_findings(*await load_study(sqlite_engine, spec.id))

    calls = len(endpoint.requests)
    assert calls > 0
    costs = {c.scenario: c for c in findings.trading_costs}
    used = [costs[s].llm for s in ("B", "C")]
    assert all(u is not None for u in used)
    assert costs["A"].llm is not None and costs["A"].llm.calls == 0 == costs["A"].llm.prompt_tokens
    # The stub's n-th reply (1-based) reports 100 + n prompt and n completion tokens.
    prompt, completion = sum(100 + n for n in range(1, calls + 1)), sum(range(1, calls + 1))
    assert sum(u.calls for u in used if u) == calls
    assert sum(u.prompt_tokens for u in used if u) == prompt
    assert sum(u.completion_tokens for u in used if u) == completion
    assert sum(u.cost_usd for u in used if u) == pytest.approx((prompt * 1000 + completion * 2000) / 1e6)
