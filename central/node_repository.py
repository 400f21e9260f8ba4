"""All SQL about nodes: registration, heartbeats, the lost sweep, service discovery."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.errors import NotFound
from central.models import Event, Node
from central.schemas import NodePublic, NodeRegister, NodeState, TargetGroup

LOST_AFTER_HEARTBEATS = 3
_ANY_ADDRESS = {"0.0.0.0", "::", "[::]", ""}


def node_public(node: Node) -> NodePublic:
    fields = {c: getattr(node, c) for c in NodePublic.model_fields if c not in ("org", "drained")}
    return NodePublic.model_validate({**fields, "org": node.org.name, "drained": bool(node.drained)})


def drain(session: Session, org_id: int, node_id: str, drained: bool, actor: str, now: datetime) -> Node:
    """A drained node takes no new jobs (what it runs finishes); an event says who and when."""
    node = get_node(session, org_id, node_id)
    if bool(node.drained) != drained:
        session.add(Event(org_id=org_id, subject="node", subject_id=node.id, from_state=node.state,
                          to_state="drained" if drained else "resumed", actor=actor, at=now))  # fmt: skip
        node.drained = drained
    session.commit()
    return node


def _move(session: Session, node: Node, to: NodeState, actor: str, now: datetime) -> None:
    session.add(Event(org_id=node.org_id, subject="node", subject_id=node.id, from_state=node.state or None,
                      to_state=to.value, actor=actor, at=now))  # fmt: skip
    node.state = to.value


def _unknown(node_id: str) -> NotFound:
    return NotFound(f"node {node_id} is not registered: the agent registers it (PUT /api/v1/nodes/{node_id})")


def get_node(session: Session, org_id: int, node_id: str) -> Node:
    node = session.get(Node, node_id)
    if node is None or node.org_id != org_id:
        raise _unknown(node_id)
    return node


def register(
    session: Session,
    org_id: int,
    node_id: str,
    data: NodeRegister,
    remote: str | None,
    actor: str,
    now: datetime,
) -> Node:
    """Create or update the node; it is up from now on. Another org's node id is not found."""
    node = session.get(Node, node_id)
    if node is not None and node.org_id != org_id:
        raise NotFound(f"node id {node_id} is taken: the agent must pick another (delete its node-id file)")
    if node is None:
        node = Node(id=node_id, state="", registered_at=now)
        session.add(node)
    port = data.bind.rpartition(":")[2]
    node.org_id = org_id
    node.hostname, node.ip, node.bind, node.port, node.remote = (
        data.hostname,
        data.ip,
        data.bind,
        int(port),
        remote,
    )
    node.started_at, node.boot_time, node.provider = data.started_at, data.boot_time, data.provider
    node.cpus, node.memory_bytes, node.role = data.cpus, data.memory_bytes, data.role
    node.heartbeat_seconds, node.last_heartbeat_at = data.heartbeat_seconds, now
    if node.state != NodeState.up:
        _move(session, node, NodeState.up, actor, now)
    session.commit()
    session.refresh(node)
    return node


def heartbeat(
    session: Session, org_id: int, node_id: str, remote: str | None, actor: str, now: datetime
) -> Node:
    node = get_node(session, org_id, node_id)
    node.last_heartbeat_at, node.remote = now, remote
    if node.state != NodeState.up:
        _move(session, node, NodeState.up, actor, now)
    session.commit()
    return node


def sweep(session: Session, now: datetime) -> None:
    """Mark lost every up node silent for LOST_AFTER_HEARTBEATS of its heartbeat intervals."""
    for node in session.scalars(select(Node).where(Node.state == NodeState.up.value)):
        if now - node.last_heartbeat_at > timedelta(seconds=LOST_AFTER_HEARTBEATS * node.heartbeat_seconds):
            _move(session, node, NodeState.lost, "central", now)
    session.commit()


def list_nodes(
    session: Session, org_id: int | None, now: datetime, state: NodeState | None = None
) -> Sequence[Node]:
    """The org's nodes (every org's with org_id None: the bootstrap token's service discovery)."""
    sweep(session, now)
    query = select(Node).order_by(Node.registered_at, Node.id)
    if org_id is not None:
        query = query.where(Node.org_id == org_id)
    if state is not None:
        query = query.where(Node.state == state.value)
    return session.scalars(query).all()


def address(node: Node) -> str:
    """Where to scrape the node: its given ip, else its bind host, else the address it came from."""
    bind_host = node.bind.rpartition(":")[0]
    host = node.ip or (node.remote if bind_host in _ANY_ADDRESS else bind_host) or bind_host
    return f"[{host}]:{node.port}" if ":" in host and not host.startswith("[") else f"{host}:{node.port}"


def sd_groups(session: Session, org_id: int | None, now: datetime) -> list[TargetGroup]:
    """Prometheus HTTP SD: one group per live node; labels are __meta_ (relabeling picks them)."""
    return [
        TargetGroup(
            targets=[address(node)],
            labels={
                "__meta_benchhub_org": node.org.name,
                "__meta_benchhub_node": node.id,
                "__meta_benchhub_hostname": node.hostname,
                "__meta_benchhub_role": node.role,
                "__meta_benchhub_provider": node.provider,
            },
        )
        for node in list_nodes(session, org_id, now, NodeState.up)
    ]
