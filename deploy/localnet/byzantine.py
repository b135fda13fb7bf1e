"""Faulty notary replicas for attack drills: reading `--byzantine`, refusing more faults than a
cluster tolerates (unless asked to), and reconfiguring a network's replicas to match."""

from __future__ import annotations

from dataclasses import replace

from deploy.localnet.errors import LocalnetError
from deploy.localnet.files import NetworkFiles
from deploy.localnet.processes import Processes, stop_all
from deploy.localnet.shape import CRASH, Member, Say, Shape


def fault_tolerance(replicas: int) -> int:
    """f for a cluster of `replicas`: the most faulty replicas n = 3f + 1 tolerates."""
    return (replicas - 1) // 3


def _check_mode(replica: str, mode: str) -> str:
    """`mode` in its canonical text, or a LocalnetError naming the replica and the modes."""
    if mode.strip() == CRASH:
        return CRASH
    try:
        from notary.byzantine import Behaviour

        return str(Behaviour.parse(mode))
    except ValueError as exc:
        raise LocalnetError(f"--byzantine {replica}={mode}: {exc}") from None


def parse_byzantine(text: str) -> dict[str, str]:
    """`REPLICA=MODE[,REPLICA=MODE]` (a mode may be `delay=SECONDS`); `none` for no faults."""
    if text.strip().lower() in ("", "none"):
        return {}
    faulty: dict[str, str] = {}
    for item in text.split(","):
        replica, sep, mode = item.strip().partition("=")
        if not sep or not replica or not mode:
            raise LocalnetError(
                f"--byzantine takes REPLICA=MODE[,REPLICA=MODE], e.g. "
                f"notary-service-replica-4-zurich-ch=equivocate; got {item.strip()!r}"
            )
        if replica in faulty:
            raise LocalnetError(f"--byzantine names {replica} twice")
        faulty[replica] = _check_mode(replica, mode)
    return faulty


def plan_byzantine_shape(shape: Shape) -> None:
    """Refuse, before anything is built, more faulty replicas than any cluster tolerates."""
    faulty = shape.byzantine or {}
    if faulty and not shape.allow_unsafe and len(faulty) > fault_tolerance(shape.replicas):
        raise LocalnetError(
            f"{len(faulty)} faulty replicas but {shape.replicas} per cluster tolerate "
            f"{fault_tolerance(shape.replicas)}; use --replicas {3 * len(faulty) + 1} or "
            "--allow-unsafe to see what that breaks"
        )


def plan_byzantine(
    members: list[Member], faulty: dict[str, str], allow_unsafe: bool
) -> dict[str, str]:
    """Replica slug -> mode for `faulty` (replicas by slug or name), checked: every name a
    notary replica, at most f per cluster unless `allow_unsafe`."""
    notaries = [m for m in members if m.is_notary]
    plan: dict[str, str] = {}
    for name, mode in faulty.items():
        wanted = name.strip().lower()
        found = [m for m in notaries if wanted in (m.slug, m.name.lower())]
        if not found:
            known = ", ".join(m.slug for m in notaries)
            raise LocalnetError(f"--byzantine: no notary replica {name!r}; replicas: {known}")
        plan[found[0].slug] = _check_mode(name, mode)
    clusters: dict[str, list[Member]] = {}
    for member in notaries:
        clusters.setdefault(member.service or member.name, []).append(member)
    for service, replicas in clusters.items():
        bad = [m.slug for m in replicas if m.slug in plan]
        f = fault_tolerance(len(replicas))
        if len(bad) > f and not allow_unsafe:
            raise LocalnetError(
                f"{len(bad)} faulty replicas in {service} ({', '.join(bad)}) but its "
                f"{len(replicas)} replicas tolerate {f}; use --allow-unsafe to see what that breaks"
            )
    return plan


def configure_byzantine(
    files: NetworkFiles,
    processes: Processes,
    faulty: dict[str, str],
    allow_unsafe: bool,
    say: Say,
) -> bool:
    """Make the replicas `faulty` names (slug -> mode) faulty and every other replica
    honest; refuse more than f per cluster unless `allow_unsafe`. Stops each replica whose
    behaviour changed, so the next `up` starts it as configured. Returns whether any did."""
    ports, members = files.load()
    wanted = plan_byzantine(members, faulty, allow_unsafe)
    changed = [m for m in members if m.is_notary and wanted.get(m.slug) != m.byzantine]
    if not changed:
        return False
    members = [replace(m, byzantine=wanted.get(m.slug)) if m.is_notary else m for m in members]
    by_slug = {m.slug: m for m in members}
    running = [m.slug for m in changed if processes.alive(m.slug)]
    for slug in running:
        say(f"Stopping {slug} to reconfigure it")
    stop_all([pid for slug in running if (pid := processes.pid(slug)) is not None], 20.0)
    for old in changed:
        member = by_slug[old.slug]
        files.write_notary_config(member)
        say(f"{member.slug} is now {member.byzantine or 'honest'}")
    files.save(ports, members)
    return True
