"""OttoChain wire models: signed updates, state machine records, bridge requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SignatureProof(BaseModel):
    id: str = Field(description="uncompressed public key without the 04 prefix (128 hex)")
    signature: str = Field(description="DER-encoded ECDSA signature, hex")


class SignedUpdate(BaseModel):
    """The envelope DL1 accepts: a value and one proof per signer."""

    model_config = ConfigDict(frozen=True)

    value: dict[str, Any]
    proofs: list[SignatureProof]


FIBER_TYPES = ("SimpleOrder", "TicTacToe", "TokenEscrow", "Contract", "Voting", "ApprovalWorkflow", "Auction")


class AgentTraits(BaseModel):
    """Heritable, mutable behaviour (the seed's AgentTraits); fiber weights sum to 1."""

    fiber_weights: dict[str, float]
    activity_level: float = Field(ge=0, le=1)
    risk_tolerance: float = Field(ge=0, le=1)
    cooperativeness: float = Field(ge=0, le=1)
    response_speed: float = Field(ge=0, le=1)


class AgentStats(BaseModel):
    fibers_initiated: int = 0
    fibers_completed: int = 0
    fibers_failed: int = 0
    attestations_made: int = 0
    attestations_received: int = 0
    counterparties: list[str] = Field(default_factory=list)
    fiber_types: list[str] = Field(default_factory=list)

    @property
    def completion_rate(self) -> float:
        settled = self.fibers_completed + self.fibers_failed
        return self.fibers_completed / settled if settled else 0.0


class EncryptedKey(BaseModel):
    nonce: str = Field(description="base64, 12 bytes")
    ciphertext: str = Field(description="base64 AES-256-GCM ciphertext and tag of the 32-byte private key")


class WalletAgent(BaseModel):
    """One agent of the pool: public identity, encrypted key, and what the network knows of it."""

    id: str
    address: str
    public_key: str
    private_key: EncryptedKey
    platform: str
    platform_user_id: str
    display_name: str
    traits: AgentTraits
    stats: AgentStats = Field(default_factory=AgentStats)
    identity_fiber_id: str | None = Field(None, description="AgentIdentity fiber, once registered")
    status: str = Field("generated", description="generated, registered or active")


class OttoEndpoints(BaseModel):
    """Where each OttoChain layer answers. Workflows carry these; the CLI resolves them."""

    model_config = ConfigDict(frozen=True)

    bridge_url: str
    dl1_url: str
    ml0_url: str
    cl1_url: str
    indexer_url: str
    faucet_url: str | None = Field(None, description="test networks only; the embedded node has one")

    @classmethod
    def embedded(cls, base_url: str) -> OttoEndpoints:
        base = base_url.rstrip("/")
        return cls(
            bridge_url=f"{base}/bridge",
            dl1_url=f"{base}/dl1",
            ml0_url=f"{base}/ml0",
            cl1_url=f"{base}/cl1",
            indexer_url=f"{base}/indexer",
            faucet_url=f"{base}/debug/faucet",
        )


def _plain_state(value: Any) -> Any:
    """Both eras' state ids, ``"X"`` and ``{"value": "X"}``, read as ``"X"``."""
    if isinstance(value, dict) and set(value) == {"value"}:
        return value["value"]
    return value


class EventReceipt(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    fiber_id: str = Field(alias="fiberId")
    sequence_number: int = Field(alias="sequenceNumber")
    event_name: str = Field(alias="eventName")
    ordinal: int
    from_state: str = Field(alias="fromState")
    to_state: str = Field(alias="toState")
    success: bool
    gas_used: int = Field(0, alias="gasUsed")
    triggers_fired: int = Field(0, alias="triggersFired")
    error_message: str | None = Field(None, alias="errorMessage")

    @field_validator("from_state", "to_state", mode="before")
    @classmethod
    def _state(cls, value: Any) -> Any:
        return _plain_state(value)


class FiberRecord(BaseModel):
    """A state machine as ML0 serves it; accepts either era's status and state-id spelling."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    fiber_id: str = Field(alias="fiberId")
    current_state: str = Field(alias="currentState")
    state_data: dict[str, Any] = Field(alias="stateData")
    sequence_number: int = Field(alias="sequenceNumber")
    owners: list[str]
    status: str
    last_receipt: EventReceipt | None = Field(None, alias="lastReceipt")
    latest_update_ordinal: int | None = Field(None, alias="latestUpdateOrdinal")
    # The definition is left out on purpose: workflows carry records in their history, and the
    # definition is the bulk of a record and never changes.

    @field_validator("current_state", mode="before")
    @classmethod
    def _state(cls, value: Any) -> Any:
        return _plain_state(value)

    @property
    def active(self) -> bool:
        return self.status.lower() == "active"


class Rejection(BaseModel):
    """An update dropped at consensus (ML0's `transaction.rejected`), as the indexer reports it."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    update_type: str = Field(alias="updateType")
    fiber_id: str | None = Field(None, alias="fiberId")
    target_sequence_number: int | None = Field(None, alias="targetSequenceNumber")
    errors: list[dict[str, str]]
    update_hash: str = Field(alias="updateHash")

    @property
    def code(self) -> str:
        return self.errors[0]["code"] if self.errors else "Rejected"

    @property
    def message(self) -> str:
        return self.errors[0].get("message", "") if self.errors else ""


# --- activity boundaries: agents are named by id; keys stay in the wallet file ----------------


class CreateFiber(BaseModel):
    endpoints: OttoEndpoints
    wallets: str = Field(description="wallet file the signers' keys are loaded from")
    fiber_id: str
    definition: dict[str, Any]
    initial_data: dict[str, Any]
    signers: list[str] = Field(min_length=1, description="agent ids; every signer becomes an owner")


class SubmitTransition(BaseModel):
    endpoints: OttoEndpoints
    wallets: str
    fiber_id: str
    event: str
    payload: dict[str, Any]
    target_sequence: int = Field(ge=0)
    signer: str = Field(description="agent id")


class Submitted(BaseModel):
    """DL1 accepted the update (``hash``), or the chain already shows it (``already_applied``)."""

    hash: str | None = None
    already_applied: bool = False


class AwaitFiber(BaseModel):
    """Poll ML0 until the fiber exists / changes / the chain's ordinal reaches a floor, or time runs out."""

    endpoints: OttoEndpoints
    fiber_id: str
    known_sequence: int | None = Field(None, description="return once the sequence number differs from this")
    known_receipt_ordinal: int | None = Field(None, description="…or the last receipt is newer than this")
    min_ordinal: int | None = Field(None, description="return once the snapshot ordinal reaches this")
    watch_update: str | None = Field(None, description="an update hash to look for among rejections")
    timeout_seconds: float = 60.0


class FiberObservation(BaseModel):
    record: FiberRecord | None
    ordinal: int
    rejection: Rejection | None = None
    timed_out: bool = False


class CreateAndAwait(BaseModel):
    """Create a fiber, then wait as ``watch`` says (its ``watch_update`` is the create's hash)."""

    create: CreateFiber
    watch: AwaitFiber


class SubmitAndAwait(BaseModel):
    """Submit a transition, then wait as ``watch`` says (its ``watch_update`` is the transition's hash)."""

    submit: SubmitTransition
    watch: AwaitFiber


class SentAndSeen(BaseModel):
    """What DL1 said of an update and what ML0 showed after it: seen, rejected, or a quiet spell."""

    submitted: Submitted
    observation: FiberObservation


class CreateAndFire(BaseModel):
    """A document fiber's two steps (a contract report's ``file``, an attestation's ``issue``) in one activity: its
    one signer creates it and, once ML0 shows it in DRAFT, fires ``event``. Each wait is as ``watch`` says."""

    create: CreateFiber
    event: str
    watch: AwaitFiber


class DocumentFired(BaseModel):
    """How far a ``CreateAndFire`` got: the fiber as ML0 last showed it, and whether this call fired the event
    (False: found past DRAFT, or the create was rejected or not seen within a quiet spell)."""

    observation: FiberObservation
    fired: bool


# --- fiber lifecycles ------------------------------------------------------------------------


class Party(BaseModel):
    agent_id: str
    address: str
    traits: AgentTraits | None = Field(
        None, description="the agent's own traits: with them for every party and no outcome, the parties decide"
    )
    reputation: int | None = Field(
        None,
        description="on-chain reputation as observed when the lifecycle was arranged; what the other parties "
        "see of this one (None: not looked up, no risk judged)",
    )


class FiberSpec(BaseModel):
    """One lifecycle to drive: who takes part, how they move, where the chain is.

    Decision mode: no ``outcome`` and ``traits`` on every party. Each party then decides its own moves
    from its own traits and what the chain shows, and the outcome is whatever the moves lead to.
    Otherwise the lifecycle is scripted: it plays for ``outcome``, or one drawn from the seed."""

    fiber_type: str
    parties: list[Party] = Field(min_length=2, description="initiator first")
    outcome: str | None = Field(
        None, description="the terminal outcome to play for; None: drawn from the seed, or decided by the parties"
    )
    seed: int = 0
    endpoints: OttoEndpoints
    wallets: str
    fiber_id: str | None = None
    timeout_seconds: float = Field(600.0, gt=0, description="durable timer: no terminal state by then is a TIMEOUT")
    owners: str = Field(
        "all",
        pattern="^(all|initiator)$",
        description="who signs the create; 'initiator' reproduces V1's bug (counterparties own nothing)",
    )
    acceleration: float = Field(
        0.0,
        ge=0,
        description="decision mode: simulated seconds per real second while a party thinks (durable timers); "
        "0: thinking takes no real time (as fast as possible)",
    )

    @property
    def decided(self) -> bool:
        """Whether the parties decide (decision mode) rather than play a script."""
        return self.outcome is None and all(party.traits is not None for party in self.parties)


class FiberProgress(BaseModel):
    """What the `progress` query answers: enough for the Web UI and `simctl stuck` to say why."""

    fiber_id: str
    fiber_type: str
    state: str
    sequence: int
    transitions: int
    last_event: str | None = None
    waiting_on: str | None = Field(None, description="agent id whose move (or the chain) the fiber waits for")
    since: datetime


class FiberOutcome(BaseModel):
    fiber_id: str
    fiber_type: str
    parties: list[str]
    planned_outcome: str | None = Field(None, description="the outcome played for; None in decision mode")
    outcome: str | None
    terminal_state: str | None
    success: bool
    status: str = Field(description="COMPLETED, TIMEOUT or FAILED")
    transitions: int
    guard_failures: int
    ordinals: int = Field(description="chain snapshots elapsed: the lifecycle's simulated duration")
    wall_seconds: float
    state_data: dict[str, Any] = Field(default_factory=dict)
    moves_by_party: dict[str, int] = Field(
        default_factory=dict, description="agent id: moves it signed that the chain applied (every party listed)"
    )
    ended_by: str | None = Field(None, description="agent id whose move reached the terminal state")
    sim_seconds: int = Field(0, description="decision mode: simulated seconds the parties spent thinking")


# --- identity --------------------------------------------------------------------------------


class IdentitySpec(BaseModel):
    endpoints: OttoEndpoints
    wallets: str
    agent_id: str
    address: str
    display_name: str
    platform: str
    platform_user_id: str
    activate: bool = True


class IdentityResult(BaseModel):
    agent_id: str
    address: str
    fiber_id: str
    state: str
    registered_now: bool
    activated_now: bool


class FindIdentity(BaseModel):
    endpoints: OttoEndpoints
    address: str


class RegisterIdentity(BaseModel):
    endpoints: OttoEndpoints
    wallets: str
    agent_id: str
    display_name: str
    platform: str
    platform_user_id: str


class RegisterAgain(BaseModel):
    """A registration that stayed off ML0 for a quiet spell: ``lost_fiber_id`` is the identity the bridge named."""

    registration: RegisterIdentity
    lost_fiber_id: str


class ActivateIdentity(BaseModel):
    endpoints: OttoEndpoints
    wallets: str
    agent_id: str
    fiber_id: str


class AttestationSpec(BaseModel):
    endpoints: OttoEndpoints
    wallets: str
    kind: str = Field(pattern="^(skill|vouch|verification)$")
    issuer: Party
    subject: Party
    subject_identity: str = Field(description="the subject's AgentIdentity fiber id")
    claim: str
    evidence: str = ""
    attestation_id: str | None = None


class AttestationResult(BaseModel):
    fiber_id: str
    kind: str
    issuer: str
    subject: str
    state: str
    issued: bool
    refusal: str | None = Field(None, description="why the chain refused to issue it, if it did")


class TopUp(BaseModel):
    endpoints: OttoEndpoints
    wallets: str
    address: str
    target_balance: int = Field(ge=0, description="1e-8 units")
    funder: str | None = Field(None, description="agent id paying by currency transaction; None = faucet")


class FundSpec(BaseModel):
    endpoints: OttoEndpoints
    wallets: str
    recipients: list[Party]
    target_balance: int = Field(ge=0)
    funder: str | None = None


class TopUpResult(BaseModel):
    address: str
    before: int
    after: int
    paid: int
