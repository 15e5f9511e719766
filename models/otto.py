"""OttoChain wire models: signed updates, state machine records, bridge requests and responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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
