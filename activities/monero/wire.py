"""The parts of monerod's and monero-wallet-rpc's answers we use, validated at the boundary (extra keys ignored)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Height(_Answer):
    height: int
    hash: str = ""


class DaemonInfo(_Answer):
    height: int
    incoming_connections_count: int = 0
    outgoing_connections_count: int = 0
    tx_pool_size: int = 0
    top_block_hash: str = ""
    synchronized: bool = True


class Generated(_Answer):
    blocks: list[str]
    height: int


class BlockHeader(_Answer):
    hash: str
    height: int
    timestamp: int
    reward: int = 0
    num_txes: int = 0
    difficulty: int = 0


class Block(_Answer):
    block_header: BlockHeader
    tx_hashes: list[str] = Field(default_factory=list)


class TxInfo(_Answer):
    tx_hash: str
    in_pool: bool = False
    block_height: int = 0
    double_spend_seen: bool = False


class SubaddressIndex(_Answer):
    major: int
    minor: int


class AddressInfo(_Answer):
    address: str
    address_index: int


class Addresses(_Answer):
    address: str
    addresses: list[AddressInfo] = Field(default_factory=list)


class Account(_Answer):
    account_index: int
    base_address: str
    label: str = ""
    balance: int = 0
    unlocked_balance: int = 0


class Accounts(_Answer):
    subaddress_accounts: list[Account] = Field(default_factory=list)


class NewAccount(_Answer):
    account_index: int
    address: str


class Balance(_Answer):
    balance: int
    unlocked_balance: int
    blocks_to_unlock: int = 0


class Destination(BaseModel):
    amount: int = Field(gt=0)
    address: str


class BuiltTx(_Answer):
    tx_hash: str
    tx_key: str = ""
    amount: int
    fee: int
    tx_metadata: str
    weight: int = 0


class Transfer(_Answer):
    txid: str
    type: str
    amount: int
    fee: int = 0
    height: int = 0
    address: str = ""
    subaddr_index: SubaddressIndex | None = None
    double_spend_seen: bool = False
    note: str = ""
