"""`llm.negotiate`: the buyer's side of each negotiation, by the rules or by a language model.

The default is the rule engine (`sim/ads/negotiation.py`). With an LLM configured, each of the
buyer's answers is asked of an OpenAI-compatible chat endpoint, within a per-campaign budget of
calls; an answer that is not valid JSON, names no known action or breaks the buyer's limits is
replaced by the rules' answer. The seller always follows the IAB rules. The outcome is recorded in
the workflow's history, so a replay needs no model.
"""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
from temporalio import activity

from models.ads import Campaign, LlmConfig, NegotiationOutcome, NegotiationRequest
from sim.ads.negotiation import Ask, BuyerAnswer, bargain, buyer_move, converse, negotiate

_ACTIONS = {"accept", "counter", "reject", "walk_away"}

_SYSTEM = (
    "You are the buying agent for an advertising campaign negotiating a CPM with a seller. "
    "Prices are integer micros of USD per 1000 impressions. Answer with one JSON object only: "
    '{"action": "accept" | "counter" | "reject" | "walk_away", "cpm_micros": <integer>}. '
    "Never counter above the campaign's max CPM."
)


class NegotiationActivities:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @activity.defn(name="llm.negotiate")
    async def negotiate(self, request: NegotiationRequest) -> NegotiationOutcome:
        rng = random.Random(request.seed)
        if request.llm is None or request.llm_calls_left <= 0:
            return NegotiationOutcome(
                negotiations=tuple(
                    negotiate(request.campaign, request.tier, offer.product, offer.quote, request.params, rng)
                    for offer in request.offers
                ),
                engine="rules",
            )
        model = _ModelBuyer(self._http, request.llm, request.campaign, request.llm_calls_left)
        negotiations = []
        for offer in request.offers:
            conversation = bargain(request.campaign, request.tier, offer.product, offer.quote, request.params)
            negotiations.append(await converse(conversation, lambda ask: model.answer(ask, request)))
        return NegotiationOutcome(
            negotiations=tuple(negotiations),
            engine="llm",
            llm_calls=model.calls,
            llm_fallbacks=model.fallbacks,
            llm_prompt_tokens=model.prompt_tokens,
            llm_completion_tokens=model.completion_tokens,
        )


class _ModelBuyer:
    def __init__(self, http: httpx.AsyncClient, config: LlmConfig, campaign: Campaign, budget: int) -> None:
        self._http = http
        self._config = config
        self._campaign = campaign
        self._budget = budget
        self.calls = 0
        self.fallbacks = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    async def answer(self, ask: Ask, request: NegotiationRequest) -> BuyerAnswer:
        rules = buyer_move(self._campaign, ask.cpm, ask.round, request.params)
        if self.calls >= self._budget:
            return rules
        self.calls += 1
        activity.heartbeat(self.calls)
        try:
            reply = await self._ask_model(ask)
            return self._validated(reply)
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            self.fallbacks += 1
            return rules

    async def _ask_model(self, ask: Ask) -> dict[str, Any]:
        campaign = self._campaign
        prompt = {
            "campaign": campaign.id,
            "kpi": campaign.kpi,
            "target_cpm_micros": campaign.target_cpm,
            "max_cpm_micros": campaign.max_cpm,
            "round": ask.round,
            "seller_ask_cpm_micros": ask.cpm,
            "seller_final_offer": ask.last,
        }
        response = await self._http.post(
            f"{self._config.url.rstrip('/')}/chat/completions",
            json={
                "model": self._config.model,
                "temperature": 0,
                "messages": [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": json.dumps(prompt)}],
            },
            timeout=self._config.timeout_seconds,
        )
        response.raise_for_status()
        body = response.json()
        # Tokens are paid for whether or not the answer turns out usable, so count them before parsing it.
        self._count_usage(body.get("usage") if isinstance(body, dict) else None)
        content = body["choices"][0]["message"]["content"]
        return json.loads(content.strip().removeprefix("```json").removeprefix("```").removesuffix("```"))

    def _count_usage(self, usage: Any) -> None:
        """Add an OpenAI-style ``usage`` object's token counts; an endpoint that sends none adds nothing."""
        if isinstance(usage, dict):
            self.prompt_tokens += _tokens(usage.get("prompt_tokens"))
            self.completion_tokens += _tokens(usage.get("completion_tokens"))

    def _validated(self, reply: dict[str, Any]) -> BuyerAnswer:
        action = reply["action"]
        cpm = reply["cpm_micros"]
        if action not in _ACTIONS or not isinstance(cpm, int) or isinstance(cpm, bool) or cpm <= 0:
            raise ValueError(f"malformed answer {reply!r}")
        if action == "counter" and cpm > self._campaign.max_cpm:
            raise ValueError("counter above max CPM")
        return action, cpm


def _tokens(value: Any) -> int:
    """A token count as the endpoint gave it; anything that is not a non-negative integer counts 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
