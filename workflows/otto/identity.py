"""Identity workflows: an agent's registration and activation, attestations, and funding."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.otto.identity import IdentityActivities
    from models.otto import (
        ActivateIdentity,
        AttestationResult,
        AttestationSpec,
        CreateFiber,
        FiberRecord,
        FindIdentity,
        FundSpec,
        IdentityResult,
        IdentitySpec,
        RegisterAgain,
        RegisterIdentity,
        TopUp,
        TopUpResult,
    )
    from sim.otto.fibers.attestation import ATTESTATION_DEFINITION, attestation_initial_data
    from workflows.common import search_attributes as sa
    from workflows.otto.chain import CHAIN_CALL, CHAIN_RETRY, Chain, await_fiber, awaiting, until_seen

# A registration still off ML0 after a quiet spell is looked for, else made again; histories from before waited on.
REGISTER_AGAIN_WHEN_LOST = "otto-register-again-when-lost"


@workflow.defn
class IdentityWorkflow:
    """Register an agent's own wallet with the bridge (unless it already has an identity), then activate."""

    @workflow.run
    async def run(self, spec: IdentitySpec) -> IdentityResult:
        workflow.upsert_search_attributes([sa.AGENT.value_set(spec.agent_id)])
        fiber_id = await workflow.execute_activity_method(
            IdentityActivities.find_identity, FindIdentity(endpoints=spec.endpoints, address=spec.address), **CHAIN_CALL
        )
        registered_now = fiber_id is None
        if fiber_id is None:
            fiber_id = await workflow.execute_activity_method(
                IdentityActivities.register_identity,
                _registration(spec),
                start_to_close_timeout=timedelta(seconds=90),
                heartbeat_timeout=timedelta(seconds=20),
                retry_policy=CHAIN_RETRY,
            )
        what = f"registration of {spec.agent_id}"
        if registered_now and workflow.patched(REGISTER_AGAIN_WHEN_LOST):
            fiber_id, record = await _registered(spec, fiber_id, what)
        else:
            record = (await await_fiber(awaiting(spec.endpoints, fiber_id), what)).record
        assert record is not None

        activated_now = False
        if spec.activate and record.current_state == "REGISTERED":
            registered = record.sequence_number
            submitted, observed = await until_seen(
                partial(
                    workflow.execute_activity_method,
                    IdentityActivities.activate_identity,
                    ActivateIdentity(
                        endpoints=spec.endpoints, wallets=spec.wallets, agent_id=spec.agent_id, fiber_id=fiber_id
                    ),
                    **CHAIN_CALL,
                ),
                lambda update: awaiting(spec.endpoints, fiber_id, known_sequence=registered, watch_update=update),
                f"activation of {spec.agent_id}",
            )
            record = observed.record
            assert record is not None
            if record.current_state != "ACTIVE":
                reason = record.last_receipt.error_message if record.last_receipt else "no receipt"
                raise ApplicationError(
                    f"activation of {spec.agent_id} refused: {reason}", type="ActivationRefused", non_retryable=True
                )
            activated_now = not submitted.already_applied
        return IdentityResult(
            agent_id=spec.agent_id,
            address=spec.address,
            fiber_id=fiber_id,
            state=record.current_state,
            registered_now=registered_now,
            activated_now=activated_now,
        )


def _registration(spec: IdentitySpec) -> RegisterIdentity:
    return RegisterIdentity(
        endpoints=spec.endpoints,
        wallets=spec.wallets,
        agent_id=spec.agent_id,
        display_name=spec.display_name,
        platform=spec.platform,
        platform_user_id=spec.platform_user_id,
    )


async def _registered(spec: IdentitySpec, fiber_id: str, what: str) -> tuple[str, FiberRecord | None]:
    """Wait for a registration to reach ML0. The bridge names the fiber, so a registration the node acknowledged
    and lost cannot simply be sent again like a fiber's update: after each quiet spell without it,
    ``otto.register_again`` finds the identity if it landed after all, else registers anew."""
    while True:
        observation = await await_fiber(awaiting(spec.endpoints, fiber_id), what, quiet_returns=True)
        if not observation.timed_out:
            return fiber_id, observation.record
        workflow.logger.warning("%s: not on ML0 after a quiet spell; looking for it, else registering again", what)
        fiber_id = await workflow.execute_activity_method(
            IdentityActivities.register_again,
            RegisterAgain(registration=_registration(spec), lost_fiber_id=fiber_id),
            start_to_close_timeout=timedelta(seconds=150),
            heartbeat_timeout=timedelta(seconds=20),
            retry_policy=CHAIN_RETRY,
        )


@workflow.defn
class AttestationWorkflow:
    """An Attestation fiber signed by its issuer; issuing it records the claim on the subject's identity."""

    @workflow.run
    async def run(self, spec: AttestationSpec) -> AttestationResult:
        fiber_id = spec.attestation_id or str(workflow.uuid4())
        workflow.upsert_search_attributes(
            [sa.AGENT.value_set(spec.issuer.agent_id), sa.COUNTERPARTY.value_set(spec.subject.agent_id)]
        )
        return await issue_attestation(Chain.patched(), spec, fiber_id)


async def issue_attestation(chain: Chain, spec: AttestationSpec, fiber_id: str) -> AttestationResult:
    """The issuer creates the Attestation fiber and issues it, which records the claim on the subject's identity.
    Idempotent by ``fiber_id``: one found already issued is returned as it is (and not counted again)."""
    record, fired = await chain.create_and_fire(
        CreateFiber(
            endpoints=spec.endpoints,
            wallets=spec.wallets,
            fiber_id=fiber_id,
            definition=ATTESTATION_DEFINITION,
            initial_data=attestation_initial_data(
                spec.kind,
                spec.issuer.address,
                spec.subject.address,
                spec.subject_identity,
                spec.claim,
                spec.evidence,
            ),
            signers=[spec.issuer.agent_id],
        ),
        "issue",
        f"attestation {fiber_id}",
    )
    if fired and record.current_state == "ISSUED":
        workflow.metric_meter().create_counter("traffic_simulator_attestations_created").add(1, {"kind": spec.kind})
    issued = record.current_state == "ISSUED"
    refusal = None if issued or record.last_receipt is None else record.last_receipt.error_message
    return AttestationResult(
        fiber_id=fiber_id,
        kind=spec.kind,
        issuer=spec.issuer.agent_id,
        subject=spec.subject.agent_id,
        state=record.current_state,
        issued=issued,
        refusal=refusal,
    )


@workflow.defn
class FundAgentsWorkflow:
    """Top every recipient up to the target balance, one after another (a funder's transfers chain)."""

    @workflow.run
    async def run(self, spec: FundSpec) -> list[TopUpResult]:
        results = []
        for recipient in spec.recipients:
            results.append(
                await workflow.execute_activity_method(
                    IdentityActivities.top_up,
                    TopUp(
                        endpoints=spec.endpoints,
                        wallets=spec.wallets,
                        address=recipient.address,
                        target_balance=spec.target_balance,
                        funder=spec.funder,
                    ),
                    start_to_close_timeout=timedelta(seconds=120),
                    heartbeat_timeout=timedelta(seconds=20),
                    retry_policy=CHAIN_RETRY,
                )
            )
        return results
