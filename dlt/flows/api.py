"""The flow API: what CorDapp authors write flows against.

A flow is a pydantic model whose fields are its arguments (validated when it is built, so a
caller learns at once what is wrong) and whose `call()` does the work. Everything a flow does
that is not deterministic goes through this API, so the engine can journal it and replay
the flow after a crash: messages, time, randomness and database work.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, PrivateAttr
from sqlalchemy.orm import Session

from dlt.crypto import PublicKey, SecureHash
from dlt.flows.errors import FlowException
from dlt.identity import Party
from dlt.ledger import SignedTransaction, TransactionBuilder
from dlt.ledger.components import PRIVACY_SALT_SIZE

if TYPE_CHECKING:
    from dlt.flows.fiber import Fiber, SessionState
    from dlt.node.services import ServiceHub

T = TypeVar("T")
R = TypeVar("R")


class FlowSession:
    """A conversation with one counterparty's flow. Messages arrive in order, exactly once."""

    def __init__(self, fiber: Fiber, state: SessionState) -> None:
        self._fiber = fiber
        self._state = state

    @property
    def counterparty(self) -> Party:
        return self._state.counterparty

    @property
    def session_id(self) -> str:
        return self._state.session_id

    async def send(self, payload: Any, *, instead_of_held_back: bool = False) -> None:
        """Send any registered (encodable) value. With `instead_of_held_back`, what
        `send_unless_ending` held back is dropped: the counterparty reads this as saying it
        too (as `SendTransactionForReplyFlow` reads its reply)."""
        await self._fiber.send(self._state, payload, instead_of_held_back=instead_of_held_back)

    async def receive(self, kind: type[R], *, timeout: float | None = None) -> R:
        """The next message, which must be a `kind`; the counterparty's failure raises here."""
        return await self._fiber.receive(self._state, kind, timeout)

    def send_unless_ending(self, payload: Any) -> None:
        """Send `payload` when this flow next sends on this session or waits for anything;
        if the flow ends first, its END goes instead. For "I need nothing more from you",
        which the counterparty must then also accept as this side's END."""
        self._fiber.send_unless_ending(self._state, payload)

    async def send_and_receive(
        self, kind: type[R], payload: Any, *, timeout: float | None = None
    ) -> R:
        await self.send(payload)
        return await self.receive(kind, timeout=timeout)

    def __repr__(self) -> str:
        return f"FlowSession({self._state.session_id} with {self.counterparty})"


class FlowLogic(BaseModel, Generic[T]):
    """Base of every flow. Subclass, declare arguments as fields, implement `call`."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    flow_name: ClassVar[str | None] = None
    """Stable name the flow is registered and started under (set by `@flow`)."""
    initiating: ClassVar[bool] = False
    protocol_version: ClassVar[int] = 1
    startable_by_rpc: ClassVar[bool] = False
    timeout_seconds: ClassVar[float | None] = None
    """Fail the whole flow with FlowTimeoutError if it runs longer than this."""
    checkpointed: ClassVar[bool] = True
    """False for a responder whose only durable effect is its own (a notary's uniqueness
    commit) and whose initiator asks again when it hears nothing: it then runs without a
    flow row or journal, and a crash simply loses it."""

    _fiber: Fiber | None = PrivateAttr(default=None)

    @abstractmethod
    async def call(self) -> T:
        """The flow's work. Must be deterministic apart from what goes through this API."""

    # -- context --------------------------------------------------------------------------

    @property
    def fiber(self) -> Fiber:
        # Read from pydantic's dict of private attributes: `self._fiber` goes through its
        # __getattr__ (3.5 µs a read with pydantic 2.14), and every flow step asks for the
        # fiber, services or identity (py-spy: 3.6% of a trading node's CPU).
        private = self.__pydantic_private__
        fiber = private.get("_fiber") if private else None
        if fiber is None:
            raise RuntimeError(
                f"{type(self).__name__} is not running; start it with a node or as a sub-flow"
            )
        return fiber  # type: ignore[no-any-return]

    @property
    def services(self) -> ServiceHub:
        return self.fiber.services

    @property
    def our_identity(self) -> Party:
        return self.fiber.services.our_identity

    @property
    def flow_id(self) -> str:
        return self.fiber.flow_id

    # -- the suspending API ---------------------------------------------------------------

    def initiate_flow(self, party: Party, *, quiet: bool = False) -> FlowSession:
        """Open a session to `party`, whose node runs the responder registered for this flow.

        A `quiet` session is not told when this flow ends or fails: for a responder that
        answers once and expects nothing more."""
        if not type(self).initiating:
            raise TypeError(
                f"{type(self).__name__} cannot open sessions: register it with "
                "@flow(name, initiating=True)"
            )
        return self.fiber.open_session(self, party, quiet)

    async def sub_flow(self, flow: FlowLogic[R]) -> R:
        """Run another flow as part of this one, sharing its journal and identity."""
        return await self.fiber.run_sub_flow(flow)

    async def receive_any(
        self, sessions: Sequence[FlowSession], *, timeout: float | None = None
    ) -> tuple[FlowSession, Any] | None:
        """The first message to arrive on any of `sessions`: (session, value), where a
        counterparty's failure or end is returned as its FlowException rather than raised.
        None when nothing arrives within `timeout` seconds."""
        by_state = {session._state.session_id: session for session in sessions}
        answer = await self.fiber.receive_any([session._state for session in sessions], timeout)
        if answer is None:
            return None
        state, record = answer
        try:
            value: Any = self.fiber.interpret(state, record, object)
        except FlowException as failure:
            value = failure
        return by_state[state.session_id], value

    def step(self, label: str) -> None:
        """Report progress; shown live to whoever started the flow."""
        self.fiber.progress(label)

    def now(self) -> datetime:
        """The time, as journaled: a replay sees the same instant."""
        return self.fiber.now()

    def random_bytes(self, size: int) -> bytes:
        """Cryptographically secure randomness, as journaled."""
        return self.fiber.random_bytes(size)

    def current_parameters_hash(self) -> SecureHash:
        """The hash of the network parameters in force, as journaled."""
        network_map = self.services.network_map
        return self.remember("parameters", lambda: network_map.parameters_hash, SecureHash)

    def remember(self, kind: str, observe: Callable[[], R], expected: type[R]) -> R:
        """A value `observe` reads from outside the flow, journaled so a replay sees the
        same; it must be encodable. Use it for anything live the flow decides on."""
        return self.fiber.remember(kind, observe, expected)

    async def sleep(self, seconds: float) -> None:
        """Sleep durably: after a restart the flow wakes at the originally planned time."""
        await self.fiber.sleep(seconds)

    def sign_initial(self, builder: TransactionBuilder, *keys: PublicKey) -> SignedTransaction:
        """Freeze `builder` with a journaled privacy salt (so a replay builds the very same
        transaction) and sign it with `keys`, by default our legal identity key. A builder
        that pins no network parameters gets the current ones, as journaled."""
        if builder.network_parameters_hash is None:
            builder.set_network_parameters_hash(self.current_parameters_hash())
        stx = SignedTransaction(builder.to_wire_transaction(self.random_bytes(PRIVACY_SALT_SIZE)))
        for key in keys or (self.our_identity.owning_key,):
            stx = stx.with_signatures(self.services.sign(stx, key))
        return stx

    async def journaled_read(self, kind: str, work: Callable[[Session], R]) -> R:
        """Read with `work` and journal the answer with the flow's next commit, so a replay
        sees the same: for vault reads the flow decides on. Unlike `durable` it commits
        nothing of its own (a crash before the next commit just reads again), so `work`
        must not write."""
        return await self.fiber.journaled_read(kind, work)

    async def durable(self, kind: str, work: Callable[[Session], R]) -> R:
        """Run `work` in a database transaction together with its journal entry.

        Use it for writes whose result could differ on a replay: coin selection, recording
        transactions (a read alone is `journaled_read`). The result must be encodable.
        """
        return await self.fiber.durable(kind, work)


class FlowHandle(Generic[T]):
    """A started flow: its id, its progress so far and a future for its result."""

    def __init__(self, flow_id: str, result: asyncio.Future[T], progress: list[str]) -> None:
        self.flow_id = flow_id
        self._result = result
        self.progress = progress

    async def result(self) -> T:
        return await asyncio.shield(self._result)  # type: ignore[no-any-return]
