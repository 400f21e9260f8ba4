"""Nodes (machines running the agent): register, heartbeat, list, history; service discovery."""

from __future__ import annotations

from fastapi import APIRouter

from central import node_repository as nodes
from central import repository
from central.api.deps import ActorDep, ClockDep, RemoteDep, SessionDep
from central.schemas import (
    EventPublic,
    EventsPublic,
    NodePublic,
    NodeRegister,
    NodesPublic,
    NodeState,
    TargetGroup,
)

router = APIRouter(prefix="/api/v1", tags=["nodes"])


@router.put("/nodes/{node_id}")
def register_node(
    node_id: str, body: NodeRegister, session: SessionDep, actor: ActorDep, remote: RemoteDep, now: ClockDep
) -> NodePublic:
    """Register the node or update what it says of itself; it is up from now on."""
    return nodes.node_public(nodes.register(session, node_id, body, remote, actor, now()))


@router.post("/nodes/{node_id}/heartbeat")
def heartbeat(
    node_id: str, session: SessionDep, actor: ActorDep, remote: RemoteDep, now: ClockDep
) -> NodePublic:
    return nodes.node_public(nodes.heartbeat(session, node_id, remote, actor, now()))


@router.get("/nodes")
def list_nodes(session: SessionDep, now: ClockDep, state: NodeState | None = None) -> NodesPublic:
    found = [nodes.node_public(n) for n in nodes.list_nodes(session, now(), state)]
    return NodesPublic(data=found, count=len(found))


@router.get("/nodes/{node_id}/events")
def node_events(node_id: str, session: SessionDep, now: ClockDep) -> EventsPublic:
    nodes.sweep(session, now())
    rows = repository.list_subject_events(session, "node", node_id)
    return EventsPublic(data=[EventPublic.model_validate(e) for e in rows], count=len(rows))


@router.get("/sd/agents", tags=["service discovery"])
def sd_agents(session: SessionDep, now: ClockDep) -> list[TargetGroup]:
    """Prometheus HTTP service discovery of the live agents (the whole list every time)."""
    return nodes.sd_groups(session, now())
