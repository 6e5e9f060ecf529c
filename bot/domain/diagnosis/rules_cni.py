"""Causes where the CNI on the node cannot do its job: aws-node down, ENIConfig missing or wrong, the network
policy agent failing, IAM denials, EC2 throttling and ENI attachment refusals, SGP branch ENIs not ready.

Just over 500 lines: one short rule per cause, in the order they are tried."""

from __future__ import annotations

from bot.domain.capacity import HOST_NETWORK_PODS
from bot.domain.cni_settings import warm_pool_problems
from bot.domain.diagnosis.model import Cause, CauseCode, ProposedChange
from bot.domain.diagnosis.signals import SandboxFailure, missing_permissions
from bot.domain.diagnosis.subnets import common_security_groups, pod_subnet_for
from bot.domain.diagnosis.text import listing, verb
from bot.domain.diagnosis.view import View
from bot.domain.eniconfig import CUSTOM_NETWORKING_INIT_FAILURE, NameSource, check_eniconfig
from bot.domain.facts import ContainerState, EniConfigFact
from bot.domain.knobs import Severity
from bot.domain.max_pods import setting_for_node
from bot.domain.wording import ago, plural

POD_ENI_ANNOTATION = "vpc.amazonaws.com/pod-eni"
ZONE_LABEL = "topology.kubernetes.io/zone"
ALLOCATION_APIS = {
    "AssignPrivateIpAddresses",
    "CreateNetworkInterface",
    "AttachNetworkInterface",
    "CreateTags",
    "ModifyNetworkInterfaceAttribute",
    "DescribeNetworkInterfaces",
}


# --- the network policy agent ---------------------------------------------------------------------------


def network_policy_agent(v: View) -> Cause | None:
    failures = v.signals.count(SandboxFailure.NETWORK_POLICY)
    if not failures:
        return None
    latest = v.signals.sandbox_latest
    evidence = [
        f"FailedCreatePodSandBox 'failed to setup network policy' {plural(failures, 'time')}"
        + (f", last {ago(latest.last_seen, v.now)}" if latest else "")
    ]
    agent = _container(v, "aws-eks-nodeagent")
    confidence = 0.9
    if agent is not None:
        evidence.append(f"aws-eks-nodeagent container: ready={str(agent.ready).lower()}, {agent.restarts} restarts")
        confidence = 0.95 if not agent.ready or agent.restarts else confidence
    mode = v.settings["NETWORK_POLICY_ENFORCING_MODE"]
    evidence.append(f"NETWORK_POLICY_ENFORCING_MODE={mode}; pool {v.pool_line()}")
    pod_name = v.ev.aws_node_pod.name if v.ev.aws_node_pod else "<aws-node pod on the node>"
    return Cause(
        CauseCode.NETWORK_POLICY_AGENT,
        confidence,
        f"Not an IP shortage: the network policy agent on node {_node(v)} failed to set up policy for the pod "
        f"({plural(failures, 'failure')}).",
        tuple(evidence),
        (
            f"Read the agent's log: `kubectl logs -n kube-system {pod_name} -c aws-eks-nodeagent`.",
            "Check that the Network Policy Agent version matches the VPC CNI version (v1.23+ needs agent >= v1.4.1).",
            "With NETWORK_POLICY_ENFORCING_MODE=strict pods are denied until their policies apply.",
        ),
    )


# --- ENIConfig (custom networking) ------------------------------------------------------------------------


def eniconfig_missing(v: View) -> Cause | None:
    ev = v.ev
    if not v.settings.custom_networking or ev.node is None or ev.eniconfigs is None or ev.eniconfig is not None:
        return None
    resolution = ev.eniconfig_resolution
    if resolution is None:
        return None
    node = ev.node
    names = sorted(c.name for c in ev.eniconfigs)
    evidence = [
        f"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true; node {node.name} ({node.az}) asks for ENIConfig "
        f"'{resolution.name}' ({_source_text(resolution.source, resolution.key, resolution.name)})",
        f"{plural(len(names), 'ENIConfig')} {verb(len(names), 'exists', 'exist')}: {listing(names) or 'none'}",
    ]
    blocked = _aws_node_init_failed(v) or v.pool_empty
    if _aws_node_init_failed(v):
        evidence.append(_aws_node_down_line(v))
    evidence.append(f"pool {v.pool_line()}")
    change, remedy = _missing_fix(v, resolution.source, resolution.name, names)
    remedy.append("Replace nodes that started before the fix (cordon, drain, terminate): only new ENIs follow it.")
    return Cause(
        CauseCode.ENICONFIG_MISSING,
        0.95 if blocked else 0.5,
        f"Custom networking is on but no ENIConfig '{resolution.name}' exists for node {node.name} "
        f"({node.az}), so ipamd cannot create pod ENIs there ({len(names)} ENIConfigs: {listing(names, 3)}).",
        tuple(evidence),
        tuple(remedy),
        contributing=not blocked,
        change=change,
    )


def _source_text(source: NameSource, key: str | None, name: str) -> str:
    if source is NameSource.DEFAULT:
        return "no ENIConfig label or annotation on the node, so the one named 'default'"
    kind = {NameSource.ANNOTATION: "annotation", NameSource.EXTERNAL_LABEL: "label"}.get(source, "label")
    return f"{kind} {key}={name}"


def _missing_fix(
    v: View, source: NameSource, wanted: str, existing: list[str]
) -> tuple[ProposedChange | None, list[str]]:
    node = v.ev.node
    assert node is not None
    label_def = str(v.settings["ENI_CONFIG_LABEL_DEF"])
    if node.az in existing and source is not NameSource.LABEL and label_def != ZONE_LABEL:
        # The zone-named ENIConfigs exist; aws-node just is not told to pick by zone.
        return ProposedChange.aws_node(ENI_CONFIG_LABEL_DEF=ZONE_LABEL), [
            f"ENIConfigs are named after zones ({node.az} exists): set ENI_CONFIG_LABEL_DEF={ZONE_LABEL} on aws-node."
        ]
    subnet = pod_subnet_for(v, node.az)
    groups = common_security_groups(v.ev.eniconfigs or [])
    remedy = []
    change = None
    if subnet is not None:
        change = ProposedChange.eniconfig_spec(wanted, subnet.subnet_id, groups)
        remedy.append(
            f"Create ENIConfig '{wanted}' with subnet {subnet.subnet_id} ({subnet.az}, {subnet.cidr}, "
            f"{subnet.available_ips:,} free)" + (f" and security groups {', '.join(groups)}." if groups else ".")
        )
    else:
        remedy.append(
            f"Create a pod subnet in {node.az} (e.g. in the 100.64.0.0/16 secondary CIDR) and an "
            f"ENIConfig '{wanted}' that points at it."
        )
    return change, remedy


def eniconfig_invalid(v: View) -> Cause | None:
    ev = v.ev
    eniconfig, node = ev.eniconfig, ev.node
    if not v.settings.custom_networking or eniconfig is None or node is None or ev.subnets is None:
        return None
    vpc = ev.vpc_id or (v.primary_eni.vpc_id if v.primary_eni else "")
    problems = [
        p
        for p in check_eniconfig(eniconfig, ev.subnets, node.az or "", vpc, ev.existing_security_groups)
        if p.severity is Severity.ERROR
    ]
    if not problems:
        return None
    evidence = [p.message for p in problems]
    if _aws_node_init_failed(v):
        evidence.append(_aws_node_down_line(v))
    evidence.append(f"pool {v.pool_line()}")
    blocked = _aws_node_init_failed(v) or v.pool_empty
    change = _corrected_eniconfig(v, eniconfig)
    remedy = [p.fix for p in problems if p.fix]
    if change is not None and change.eniconfig is not None:
        remedy.insert(0, f"Point ENIConfig {eniconfig.name} at subnet {change.eniconfig.subnet} ({node.az}).")
    remedy.append("Replace nodes that started before the fix (cordon, drain, terminate): only new ENIs follow it.")
    return Cause(
        CauseCode.ENICONFIG_INVALID,
        0.95 if blocked else 0.55,
        f"ENIConfig {eniconfig.name} used by node {node.name} ({node.az}) cannot work: {problems[0].message}",
        tuple(_with_number(line, len(problems)) for line in evidence),
        tuple(dict.fromkeys(remedy)),
        contributing=not blocked,
        change=change,
    )


def _with_number(line: str, problems: int) -> str:
    return line if any(ch.isdigit() for ch in line) else f"{line} (1 of {plural(problems, 'problem')})"


def _corrected_eniconfig(v: View, eniconfig: EniConfigFact) -> ProposedChange | None:
    node = v.ev.node
    assert node is not None
    subnets = v.ev.subnets or {}
    current = subnets.get(eniconfig.subnet or "")
    vpc = v.ev.vpc_id or (v.primary_eni.vpc_id if v.primary_eni else "")
    subnet_ok = current is not None and current.az == node.az and current.vpc_id == vpc
    known = v.ev.existing_security_groups
    groups = tuple(g for g in eniconfig.security_groups if known is None or g in known)
    if subnet_ok and groups == eniconfig.security_groups:
        return None
    subnet = current if subnet_ok else pod_subnet_for(v, node.az)
    if subnet is None:
        return None
    return ProposedChange.eniconfig_spec(eniconfig.name, subnet.subnet_id, groups)


# --- aws-node itself --------------------------------------------------------------------------------------

# Start-up failure (substring of the exact upstream message) -> the env value that lets aws-node start.
_STARTUP_FIXES: tuple[tuple[str, dict[str, str]], ...] = (
    ("IPv4 and IPv6 are both disabled", {"ENABLE_IPv4": "true"}),
    ("Setting WARM_PREFIX_TARGET = 0 is not supported", {"WARM_PREFIX_TARGET": "1"}),
    ("IP_COOLDOWN_PERIOD MUST be a valid positive integer", {"IP_COOLDOWN_PERIOD": "30"}),
    ("AWS_VPC_K8S_CNI_VETHPREFIX", {"AWS_VPC_K8S_CNI_VETHPREFIX": "eni"}),
    ("POD_SECURITY_GROUP_ENFORCING_MODE", {"POD_SECURITY_GROUP_ENFORCING_MODE": "strict"}),
    ("invalid Network policy mode", {"NETWORK_POLICY_ENFORCING_MODE": "standard"}),
    (
        "AWS_VPC_K8S_PLUGIN_LOG_FILE cannot be set to stdout",
        {"AWS_VPC_K8S_PLUGIN_LOG_FILE": "/var/log/aws-routed-eni/plugin.log"},
    ),
    ("AWS_VPC_ENI_MTU", {"AWS_VPC_ENI_MTU": "9001"}),
    ("POD_MTU", {"POD_MTU": "9001"}),
)


def _startup_fix(errors: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for error in errors:
        for needle, fix in _STARTUP_FIXES:
            if needle in error:
                env.update(fix)
                break
    return env


def aws_node_not_ready(v: View) -> Cause | None:
    ev = v.ev
    node = _node(v)
    unreachable = v.signals.count(SandboxFailure.IPAMD_UNREACHABLE)
    not_ready_events = v.signals.count(SandboxFailure.NETWORK_NOT_READY)
    status, reason, message = ev.node.ready if ev.node else ("", "", "")
    plugin_not_ready = any(s in message for s in ("NetworkPluginNotReady", "cni plugin not initialized", "cni config"))
    container = _container(v, "aws-node")
    missing = ev.aws_node_pod is None and "aws-node pod on the node" in ev.checked
    down = missing or (container is not None and not container.ready)
    if not (down or plugin_not_ready or ev.startup_errors or unreachable or not_ready_events):
        return None
    if not down and not plugin_not_ready and not ev.startup_errors:
        return _transient_restart(v, unreachable + not_ready_events)

    evidence: list[str] = []
    if missing:
        ds = ev.daemonset
        counts = f" (DaemonSet: {ds.ready}/{ds.desired} ready)" if ds else ""
        evidence.append(f"0 aws-node pods on node {node}{counts}")
    elif container is not None:
        state = container.waiting_reason or ("running" if container.ready else "not ready")
        line = (
            f"aws-node on node {node}: ready=false, {container.restarts} restarts, {state}"
            if not container.ready
            else f"aws-node on node {node}: ready, {container.restarts} restarts"
        )
        said = _first_sentence(container.last_terminated_message)
        if said:
            code = f" (code {container.last_exit_code})" if container.last_exit_code is not None else ""
            line += f"; last exit{code}: {said[:200]}"
        evidence.append(line)
    if plugin_not_ready:
        evidence.append(f"node Ready={status} ({reason}): {message[:160]}")
    if unreachable or not_ready_events:
        evidence.append(
            f"pod sandbox failed {plural(unreachable + not_ready_events, 'time')} with ipamd unreachable / "
            "network not ready"
        )
    for error in ev.startup_errors:
        evidence.append(
            f"aws-node env makes it exit at start (1 of {len(ev.startup_errors)}): {_first_sentence(error)}"
        )
    fix = _startup_fix(ev.startup_errors)
    remedy = []
    if fix:
        remedy.append("Fix the aws-node env: " + ", ".join(f"{k}={val}" for k, val in fix.items()) + ".")
    elif ev.startup_errors:
        remedy.append("Fix the aws-node env so it passes start-up validation (see above).")
    pod_name = ev.aws_node_pod.name if ev.aws_node_pod else "<aws-node pod>"
    remedy += [
        f"Read why it stops: `kubectl logs -n kube-system {pod_name} -c aws-node --previous`.",
        "New pods on the node wait until ipamd is healthy; the kubelet retries on its own.",
    ]
    if missing:
        remedy.insert(0, "Check why the aws-node DaemonSet has no pod on this node (taints, node selector, rollout).")
    why = f": {_first_sentence(ev.startup_errors[0])}" if ev.startup_errors else ""
    change = ProposedChange.aws_node(**fix) if fix else None
    if not down and not plugin_not_ready:
        # This node still runs an aws-node from before the env went bad; every restart or new node will not.
        return Cause(
            CauseCode.AWS_NODE_NOT_READY,
            0.4,
            f"aws-node's DaemonSet env makes new aws-node pods exit at start{why}; node {node} still runs one "
            "from before, but any restart or new node will not.",
            tuple(evidence),
            tuple(remedy),
            contributing=True,
            change=change,
        )
    confidence = 0.95 if ev.startup_errors and down else 0.85
    state = "has no aws-node pod" if missing else "is not ready" if down else "reports its network plugin not ready"
    restarts = f" ({container.restarts} restarts)" if container is not None and container.restarts else ""
    return Cause(
        CauseCode.AWS_NODE_NOT_READY,
        confidence,
        f"aws-node on node {node} {state}{restarts}{why}, so no pod there can get an IP.",
        tuple(evidence),
        tuple(remedy),
        change=change,
    )


def _transient_restart(v: View, failures: int) -> Cause:
    """ipamd was unreachable for earlier attempts; aws-node is ready now, or its state could not be read."""
    container = _container(v, "aws-node")
    restarts = container.restarts if container else 0
    now = "it is ready now" if container is not None else "its state now could not be read"
    return Cause(
        CauseCode.AWS_NODE_NOT_READY,
        0.45 if container is not None else 0.6,
        f"aws-node on node {_node(v)} was unreachable for {plural(failures, 'pod sandbox attempt')}; {now} and "
        "the kubelet retries.",
        (
            f"{plural(failures, 'sandbox failure')}: ipamd unreachable (Error received from AddNetwork gRPC call)",
            f"aws-node: ready, {restarts} restarts" if container is not None else "aws-node pod: 0 read",
        ),
        (
            "Usually transient (aws-node restarted or rolled out); the pod gets an IP on the next retry.",
            "If aws-node keeps restarting, read `kubectl logs -c aws-node --previous` on it.",
        ),
    )


def _aws_node_init_failed(v: View) -> bool:
    """aws-node is down on the node for want of pod ENIs: it says so, or it fails with nothing else to blame
    (its env passes start-up validation)."""
    container = _container(v, "aws-node")
    if container is None or container.ready:
        return False
    said = container.last_terminated_message + container.waiting_message
    if CUSTOM_NETWORKING_INIT_FAILURE in said:
        return True
    return not said.strip() and not v.ev.startup_errors and (container.restarts > 0 or bool(container.waiting_reason))


def _aws_node_down_line(v: View) -> str:
    container = _container(v, "aws-node")
    assert container is not None
    said = (container.last_terminated_message or container.waiting_message).strip()
    quote = f": '{said[:160]}'" if said else ""
    return f"aws-node on the node: not ready, {container.restarts} restarts {container.waiting_reason}{quote}".strip()


# --- security groups for pods, once scheduled -------------------------------------------------------------


def sgp_branch_not_ready(v: View) -> Cause | None:
    pod, node = v.ev.pod, v.ev.node
    if pod is None or not pod.requests_pod_eni or node is None:
        return None
    failures = v.signals.branch_failures
    no_ip = v.signals.count(SandboxFailure.NO_IP)
    annotated = POD_ENI_ANNOTATION in pod.annotations
    branch_pods = sum(1 for p in v.live_pods if p.requests_pod_eni)
    evidence = [
        f"pod requests vpc.amazonaws.com/pod-eni; annotation {POD_ENI_ANNOTATION} "
        + ("present" if annotated else "missing (no branch ENI allocated yet)"),
        f"node {node.name} advertises {node.allocatable_pod_eni or 0} branch ENIs; "
        f"{plural(branch_pods, 'branch-ENI pod')} on it",
    ]
    evidence += [f"{e.reason} ({plural(e.count, 'time')}): {e.message[:200]}" for e in failures[:2]]
    if no_ip:
        evidence.append(f"sandbox 'failed to assign an IP address to container' {plural(no_ip, 'time')}")
    if not node.allocatable_pod_eni:
        summary = f"{pod.ref} needs a branch ENI but node {node.name} has no trunk ENI (0 branch ENIs advertised)."
        confidence = 0.85
    elif failures:
        summary = f"The VPC Resource Controller could not give {pod.ref} a branch ENI: {failures[0].message[:160]}"
        confidence = 0.85
    elif not annotated:
        summary = f"{pod.ref} waits for its branch ENI (security groups for pods); it is not allocated yet."
        confidence = 0.6
    else:
        return None
    return Cause(
        CauseCode.SGP_BRANCH_CAPACITY,
        confidence,
        summary,
        tuple(evidence),
        (
            "A missing annotation right after scheduling is normal for a few seconds (EKS: can be ignored).",
            "Check the SecurityGroupPolicy's security groups exist (BranchAllocationFailed names the bad one).",
            "The cluster role needs AmazonEKSVPCResourceController; the node type must support trunking.",
        ),
    )


# --- EC2 answers: IAM, throttling, attachment limits -------------------------------------------------------


def iam_permission_missing(v: View) -> Cause | None:
    from_events = missing_permissions(v.ev.aws_node_events)
    from_metrics: dict[str, int] = {}
    if v.ev.metrics is not None:
        for (api, code), count in v.ev.metrics.api_errors.items():
            if code == "UnauthorizedOperation" and count:
                from_metrics[api] = from_metrics.get(api, 0) + count
    apis = sorted(set(from_events) | set(from_metrics))
    if not apis:
        return None
    evidence = [
        f"aws-node event MissingIAMPermissions: ec2:{api} ({plural(n, 'time')})" for api, n in from_events.items()
    ]
    evidence += [
        f"ipamd: UnauthorizedOperation from {api} {plural(n, 'time')} (awscni_aws_api_error_count)"
        for api, n in from_metrics.items()
    ]
    evidence.append(f"pool {v.pool_line()}")
    blocking = any(api in ALLOCATION_APIS for api in apis)
    only_subnets = set(apis) <= {"DescribeSubnets"}
    remedy = [
        "Attach the AWS managed policy AmazonEKS_CNI_Policy (or the equivalent) to aws-node's role: the IRSA "
        "role on the aws-node service account, else the node role.",
        f"Missing actions: {', '.join('ec2:' + a for a in apis)}.",
    ]
    if only_subnets:
        remedy.append("Without ec2:DescribeSubnets, subnet discovery is off: new ENIs go to the node's own subnet.")
    confidence = 0.95 if blocking and v.pool_empty else 0.75 if blocking else 0.45
    return Cause(
        CauseCode.IAM_PERMISSION_MISSING,
        confidence,
        f"aws-node on node {_node(v)} is denied {plural(len(apis), 'EC2 action')} "
        f"({', '.join('ec2:' + a for a in apis[:3])}), so it cannot grow the node's IP pool.",
        tuple(evidence),
        tuple(remedy),
        contributing=not blocking,
    )


def ec2_throttled(v: View) -> Cause | None:
    m = v.ev.metrics
    if m is None or not m.api_error_count("RequestLimitExceeded"):
        return None
    per_api = {api: n for (api, code), n in m.api_errors.items() if code == "RequestLimitExceeded" and n}
    evidence = [
        "ipamd: RequestLimitExceeded "
        + ", ".join(f"{api} {n}" for api, n in sorted(per_api.items(), key=lambda kv: -kv[1]))
        + " (awscni_aws_api_error_count)"
    ]
    growing = m.action_in_progress.get("increaseDatastorePool", 0)
    if growing:
        evidence.append(
            f"pool growth in progress: awscni_ipamd_action_inprogress{{fn=increaseDatastorePool}}={growing}"
        )
    evidence.append(f"pool {v.pool_line()}")
    if m.ec2_requests:
        evidence.append(f"ipamd EC2 calls on this node: {sum(m.ec2_requests.values())} (awscni_ec2api_req_count)")
    change = None
    remedy = ["ipamd backs off and retries; the pod gets an IP once a call succeeds."]
    for problem in warm_pool_problems(v.settings):
        if problem.severity is Severity.WARNING and problem.suggested:
            change = ProposedChange.aws_node(**problem.suggested_env)
            remedy.append(f"{problem.message} {problem.fix}")
            break
    remedy += [
        "Make fewer EC2 calls: pre-scale with MINIMUM_IP_TARGET, or prefix delegation (one call per 16 addresses).",
        "Find other callers of EC2 in this account and region (CloudTrail), or ask AWS for a higher limit.",
    ]
    blocking = v.pool_empty
    return Cause(
        CauseCode.EC2_THROTTLED,
        0.85 if blocking and growing else 0.7 if blocking else 0.4,
        f"EC2 throttles ipamd on node {_node(v)} ({plural(sum(per_api.values()), 'RequestLimitExceeded error')}), so "
        "its IP pool grows only after back-off.",
        tuple(evidence),
        tuple(remedy),
        contributing=not blocking,
        change=change,
    )


def attachment_limit(v: View) -> Cause | None:
    m = v.ev.metrics
    refused = 0
    if m is not None:
        refused = sum(n for (_, code), n in m.api_errors.items() if code == "AttachmentLimitExceeded")
    if not refused:
        return None
    evidence = [f"EC2 refused to attach an ENI {plural(refused, 'time')}: AttachmentLimitExceeded"]
    if v.instance is not None:
        evidence.append(
            f"EC2 allows {v.instance.max_enis} ENIs on {v.instance.instance_type}; {len(v.card0_enis)} attached"
        )
    outdated = m is not None and m.eni_max is not None and v.instance is not None and m.eni_max > v.instance.max_enis
    if outdated and m is not None:
        evidence.append(f"ipamd believes {m.eni_max} fit (awscni_eni_max): its limits table is out of date")
    foreign = [e for e in v.card0_enis if e.device_index != 0 and not e.cni_managed and e.interface_type == "interface"]
    if foreign:
        evidence.append(
            f"{plural(len(foreign), 'ENI')} attached by other software: "
            + listing([f"{e.eni_id} ({e.description or 'no description'})" for e in foreign], 3)
        )
    version = v.ev.daemonset.cni_version if v.ev.daemonset else None
    remedy = [
        f"Upgrade the VPC CNI (running {version or 'unknown version'}): each release refreshes the ENI limits.",
        *_max_pods_fix(v),
        "Tag ENIs other software attaches with node.k8s.amazonaws.com/no_manage=true and lower max-pods.",
        "Or cap ipamd with MAX_ENI (and lower kubelet max-pods to match).",
    ]
    return Cause(
        CauseCode.ATTACHMENT_LIMIT,
        (0.95 if outdated else 0.9) if v.pool_empty else 0.55,
        f"EC2 refused {plural(refused, 'ENI attachment')} on node {_node(v)} ({v.instance_type}): "
        "the node already has as many ENIs as it can take.",
        tuple(evidence),
        tuple(remedy),
        contributing=not v.pool_empty,
    )


def _max_pods_fix(v: View) -> list[str]:
    """max-pods from the same outdated table is too high too: say what the ENIs really allow."""
    if v.ip_capacity is None or v.max_pods is None or v.instance is None:
        return []
    right = v.ip_capacity + max(v.host_network_pods, HOST_NETWORK_PODS)
    if v.max_pods <= right:
        return []
    node = v.ev.node
    where = setting_for_node(
        node.os_image if node else None,
        node.labels if node else {},
        right,
        custom_networking=v.settings.custom_networking,
        prefix_delegation=v.settings.prefix_delegation,
        limits=v.instance,
    )
    return [
        f"Kubelet max-pods {v.max_pods} assumes those ENIs too; {v.instance.instance_type} nodes address "
        f"{v.ip_capacity} pod IPs: set max-pods to {right} ({where})."
    ]


def _first_sentence(text: str, limit: int = 200) -> str:
    return text.strip().split(". ")[0][:limit]


def _container(v: View, name: str) -> ContainerState | None:
    pod = v.ev.aws_node_pod
    if pod is None:
        return None
    return next((c for c in pod.containers if c.name == name), None)


def _node(v: View) -> str:
    if v.ev.node is not None:
        return v.ev.node.name
    return (v.ev.pod.node_name if v.ev.pod else None) or "unknown"
