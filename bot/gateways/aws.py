"""EC2 and EKS, read through filtered and paginated Describe calls only.

Every call goes through one rate limiter and is counted; live state is cached for seconds, instance-type
limits for a day. Failures become UpstreamError naming the API and a readable reason, so callers can give a
partial answer.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from bot import metrics
from bot.domain.facts import EniFact, FargateProfileFact, SubnetFact
from bot.domain.instance_limits import InstanceLimits
from bot.errors import DENIED_CODES, UpstreamError
from bot.gateways import aws_models, eni_xml
from bot.gateways.aws_facts import eni_from_api, fargate_profile_from_api, subnet_from_api
from bot.gateways.cache import RateLimiter, TTLCache

log = logging.getLogger("cnibot.aws")
T = TypeVar("T")

THROTTLE_CODES = {"RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException"}
CNI_INSTANCE_TAG = "node.k8s.amazonaws.com/instance_id"
CNI_CLUSTER_TAG = "cluster.k8s.amazonaws.com/name"
PAGE = 1000  # DescribeNetworkInterfaces / DescribeSubnets accept 5-1000
# `serve` keeps the VPC's ENI sweep fresh in the background while commands read it, and stops after this long
# without one (each sweep costs one DescribeNetworkInterfaces per 1,000 ENIs of the account's EC2 budget).
LIVE_REFRESH_IDLE = 300.0
LIVE_REFRESH_EVERY = 7.0  # seconds; under live_ttl (10 s), so a command finds a sweep still fresh
# The background sweeps may take at most this share of the bot's EC2 rate: at 5 calls/s, VPCs of up to 17,000
# ENIs (17 pages per 7 s). A bigger VPC is not refreshed in the background (it would take the commands' budget
# too, and could not stay under the TTL anyway): its commands sweep it themselves.
LIVE_REFRESH_SHARE = 0.5
LIVE_REFRESH_MIN_AGE = LIVE_REFRESH_EVERY / 2  # a younger sweep (a command's own, just done) is not repeated


def client_config() -> Config:
    return Config(
        # Adaptive retries back off on throttling instead of adding to it; few attempts, as a person waits.
        retries={"mode": "adaptive", "max_attempts": 3},
        connect_timeout=3,
        read_timeout=20,
        max_pool_connections=32,
        user_agent_extra="cnibot",
    )


def _reason(exc: Exception) -> tuple[str, str, bool]:
    """(readable reason, error code, throttled?)"""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
        if code in THROTTLE_CODES:
            return f"throttled ({code})", code, True
        if code in DENIED_CODES:
            return f"not permitted ({code})", code, False
        msg = str(exc.response.get("Error", {}).get("Message", ""))[:160]
        return f"{code}: {msg}" if msg else code, code, False
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return "timed out", "Timeout", False
    return f"unreachable ({type(exc).__name__})", type(exc).__name__, False


class AwsGateway:
    """One region's EC2 and EKS for one cluster. Thread-safe; share it across requests."""

    def __init__(
        self,
        region: str,
        *,
        session: boto3.session.Session | None = None,
        rate: float = 5.0,
        burst: int = 10,
        live_ttl: float = 10.0,
    ) -> None:
        self.region = region
        session = session or boto3.session.Session()
        aws_models.install(session)  # clients keep only the operations called here (EC2's whole model is ~17 MB)
        self._ec2 = session.client("ec2", region_name=region, config=client_config())
        eni_xml.install(self._ec2)  # VPC sweeps of 15,000 ENIs: botocore's generic parser is the bottleneck
        self._eks = session.client("eks", region_name=region, config=client_config())
        self._autoscaling = session.client("autoscaling", region_name=region, config=client_config())
        self._limiter = RateLimiter(rate, burst)
        self._types: TTLCache[InstanceLimits | None] = TTLCache("instance_types", 24 * 3600)
        self._node_enis: TTLCache[list[EniFact]] = TTLCache("node_enis", live_ttl)
        self._vpc_subnets: TTLCache[list[SubnetFact]] = TTLCache("vpc_subnets", live_ttl)
        self._subnet_enis: TTLCache[list[EniFact]] = TTLCache("subnet_enis", live_ttl)
        self._vpc_enis: TTLCache[list[EniFact]] = TTLCache("vpc_enis", live_ttl)
        self._vpc_enis_read: dict[str, float] = {}  # VPC -> when a command last read its ENIs (monotonic)
        self._vpc_sweep_pages: dict[str, int] = {}  # VPC -> DescribeNetworkInterfaces pages its last sweep took
        self._refresh_declined: set[str] = set()  # VPCs too big to refresh in the background (said once)
        self._reservations: TTLCache[list[str]] = TTLCache("cidr_reservations", 60)
        self._groups: TTLCache[set[str]] = TTLCache("security_groups", 300)
        self._eks_cluster: TTLCache[dict[str, Any] | None] = TTLCache("eks_cluster", 3600)
        self._eks_addon: TTLCache[dict[str, Any] | None] = TTLCache("eks_addon", 60)
        self._fargate: TTLCache[list[FargateProfileFact]] = TTLCache("fargate_profiles", 300)
        self._addon_versions: TTLCache[list[tuple[str, bool]]] = TTLCache("eks_addon_versions", 3600)

    # --- plumbing -----------------------------------------------------------------------------------
    def _call(self, api: str, fn: Callable[..., T], **kwargs: Any) -> T:
        self._limiter.acquire()
        try:
            result = fn(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            reason, code, throttled = _reason(exc)
            metrics.UPSTREAM_CALLS.labels(api, "throttled" if throttled else "error").inc()
            raise UpstreamError(api, reason, code=code, throttled=throttled) from exc
        metrics.UPSTREAM_CALLS.labels(api, "ok").inc()
        return result

    def _pages(self, api: str, method: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        fn = getattr(self._ec2, method)
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            args = dict(kwargs, **({"NextToken": token} if token else {}))
            page = self._call(api, fn, **args)
            items.extend(page.get(key) or [])
            token = page.get("NextToken")
            if not token:
                return items

    def _eni_pages(self, reuse: Sequence[EniFact] = (), **kwargs: Any) -> list[EniFact]:
        """DescribeNetworkInterfaces, paginated, each page turned into facts as it arrives (so the raw dicts of a
        15,000-ENI sweep are never all held at once). An ENI equal to one in `reuse` (the sweep being replaced)
        is kept as that object, so that a refresh holds one copy of what did not change, not two."""
        previous = {e.eni_id: e for e in reuse}
        enis: list[EniFact] = []
        token: str | None = None
        while True:
            args = dict(kwargs, MaxResults=PAGE, **({"NextToken": token} if token else {}))
            page = self._call("ec2:DescribeNetworkInterfaces", self._ec2.describe_network_interfaces, **args)
            for item in page.get("NetworkInterfaces") or []:
                # eni_xml hands over EniFacts; a page it left to botocore comes as dicts.
                fact = item if isinstance(item, EniFact) else eni_from_api(item)
                same = previous.get(fact.eni_id)
                enis.append(same if same is not None and same == fact else fact)
            token = page.get("NextToken")
            if not token:
                return enis

    # --- EC2 ------------------------------------------------------------------------------------------
    def instance_limits(self, types: Iterable[str]) -> dict[str, InstanceLimits]:
        """Limits per instance type; one DescribeInstanceTypes for all types not cached yet."""
        wanted = sorted({t for t in types if t})
        missing = [t for t in wanted if self._types.peek(t) is None]
        if missing:
            for chunk in _chunks(missing, 100):
                found = self._pages(
                    "ec2:DescribeInstanceTypes", "describe_instance_types", "InstanceTypes", InstanceTypes=chunk
                )
                by_type = {i["InstanceType"]: InstanceLimits.from_describe(i) for i in found}
                for t in chunk:
                    self._types.put(t, by_type.get(t))
        out = {}
        for t in wanted:
            limits = self._types.peek(t)
            if limits is not None:
                out[t] = limits
        return out

    def node_enis(self, instance_id: str) -> list[EniFact]:
        def load() -> list[EniFact]:
            return self._eni_pages(Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])

        return self._node_enis.get(instance_id, load)

    def node_branch_enis(self, instance_id: str) -> list[EniFact]:
        """Branch ENIs (security groups for pods) of one node: not attached, so found by the CNI's instance tag."""

        def load() -> list[EniFact]:
            return self._eni_pages(
                Filters=[
                    {"Name": "interface-type", "Values": ["branch"]},
                    {"Name": f"tag:{CNI_INSTANCE_TAG}", "Values": [instance_id]},
                ]
            )

        return self._node_enis.get(("branch", instance_id), load)

    def vpc_subnets(self, vpc_id: str) -> list[SubnetFact]:
        def load() -> list[SubnetFact]:
            items = self._pages(
                "ec2:DescribeSubnets",
                "describe_subnets",
                "Subnets",
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
                MaxResults=PAGE,
            )
            return [subnet_from_api(i) for i in items]

        return self._vpc_subnets.get(vpc_id, load)

    def subnet_enis(self, subnet_id: str) -> list[EniFact]:
        """Every ENI in a subnet (who holds its addresses); one paginated sweep."""

        def load() -> list[EniFact]:
            return self._eni_pages(Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])

        return self._subnet_enis.get(subnet_id, load)

    def vpc_enis(self, vpc_id: str) -> list[EniFact]:
        """Every ENI of the VPC: one paginated sweep (the budget rule: one sweep per VPC per query)."""
        self._vpc_enis_read[vpc_id] = time.monotonic()
        return self._vpc_enis.get(vpc_id, lambda: self._vpc_sweep(vpc_id))

    def _vpc_sweep(self, vpc_id: str, reuse: Sequence[EniFact] = ()) -> list[EniFact]:
        enis = self._eni_pages(reuse, Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        self._vpc_sweep_pages[vpc_id] = max(1, math.ceil(len(enis) / PAGE))
        return enis

    def _resweep(self, vpc_id: str) -> list[EniFact]:
        return self._vpc_sweep(vpc_id, self._vpc_enis.peek(vpc_id) or ())

    def refresh_affordable(self, vpc_id: str) -> bool:
        """Whether sweeping this VPC every LIVE_REFRESH_EVERY seconds stays within LIVE_REFRESH_SHARE of the rate."""
        pages = self._vpc_sweep_pages.get(vpc_id, 1)
        return pages <= self._limiter.rate * LIVE_REFRESH_EVERY * LIVE_REFRESH_SHARE

    def refresh_vpc_enis(self, idle_after: float = LIVE_REFRESH_IDLE) -> list[str]:
        """Sweep again each VPC whose ENIs a command read in the last `idle_after` seconds, replacing the cached
        sweep (`cnibot serve` runs this every few seconds, so that commands find a sweep younger than its TTL
        instead of waiting for one). A VPC nobody asked about for that long is dropped and costs nothing more,
        and so is one too big to sweep that often within the budget (refresh_affordable). A failed sweep leaves
        the cache as it was: it expires, and the next command sweeps itself."""
        now = time.monotonic()
        refreshed = []
        for vpc_id, read_at in list(self._vpc_enis_read.items()):
            if now - read_at > idle_after:
                self._vpc_enis_read.pop(vpc_id, None)
                continue
            if vpc_id not in self._vpc_sweep_pages:
                continue  # the first sweep is still running: its size decides whether to refresh
            if not self.refresh_affordable(vpc_id):
                if vpc_id not in self._refresh_declined:
                    self._refresh_declined.add(vpc_id)
                    log.info(
                        "%s is not swept in the background: %d pages every %g s would take over %d%% of the "
                        "bot's EC2 rate; commands sweep it when they need it",
                        vpc_id,
                        self._vpc_sweep_pages.get(vpc_id, 1),
                        LIVE_REFRESH_EVERY,
                        round(LIVE_REFRESH_SHARE * 100),
                    )
                continue
            try:
                swept = self._vpc_enis.refresh(
                    vpc_id, functools.partial(self._resweep, vpc_id), unless_younger_than=LIVE_REFRESH_MIN_AGE
                )
            except UpstreamError as exc:
                log.info("background ENI sweep of %s failed: %s", vpc_id, exc)
                continue
            if swept:
                refreshed.append(vpc_id)
        return refreshed

    def subnet_prefix_reservations(self, subnet_id: str) -> list[str]:
        def load() -> list[str]:
            resp = self._call(
                "ec2:GetSubnetCidrReservations", self._ec2.get_subnet_cidr_reservations, SubnetId=subnet_id
            )
            return [r["Cidr"] for r in resp.get("SubnetIpv4CidrReservations") or []]

        return self._reservations.get(subnet_id, load)

    def existing_security_groups(self, group_ids: Sequence[str]) -> set[str]:
        """Which of these security groups exist. A group-id filter answers for missing ids without failing."""
        key = tuple(sorted(set(group_ids)))
        if not key:
            return set()

        def load() -> set[str]:
            items = self._pages(
                "ec2:DescribeSecurityGroups",
                "describe_security_groups",
                "SecurityGroups",
                Filters=[{"Name": "group-id", "Values": list(key)}],
                MaxResults=PAGE,
            )
            return {g["GroupId"] for g in items}

        return self._groups.get(key, load)

    # --- EKS ------------------------------------------------------------------------------------------
    def eks_cluster(self, name: str) -> dict[str, Any] | None:
        def load() -> dict[str, Any] | None:
            try:
                return dict(self._call("eks:DescribeCluster", self._eks.describe_cluster, name=name)["cluster"])
            except UpstreamError as exc:
                if exc.code == "ResourceNotFoundException":
                    return None
                raise

        return self._eks_cluster.get(name, load)

    def eks_addon(self, cluster: str, addon: str = "vpc-cni") -> dict[str, Any] | None:
        """The managed add-on, or None when the VPC CNI is self-managed."""

        def load() -> dict[str, Any] | None:
            try:
                resp = self._call("eks:DescribeAddon", self._eks.describe_addon, clusterName=cluster, addonName=addon)
                return dict(resp["addon"])
            except UpstreamError as exc:
                if exc.code == "ResourceNotFoundException":
                    return None
                raise

        return self._eks_addon.get((cluster, addon), load)

    def eks_addon_versions(self, kubernetes_version: str, addon: str = "vpc-cni") -> list[tuple[str, bool]]:
        """(version, default for this Kubernetes version) for every version EKS offers (DescribeAddonVersions)."""

        def load() -> list[tuple[str, bool]]:
            out: list[tuple[str, bool]] = []
            token: str | None = None
            while True:
                extra = {"nextToken": token} if token else {}
                resp = self._call(
                    "eks:DescribeAddonVersions",
                    self._eks.describe_addon_versions,
                    addonName=addon,
                    kubernetesVersion=kubernetes_version,
                    **extra,
                )
                for item in resp.get("addons") or []:
                    for version in item.get("addonVersions") or []:
                        default = any(
                            c.get("clusterVersion") == kubernetes_version and c.get("defaultVersion")
                            for c in version.get("compatibilities") or []
                        )
                        out.append((str(version["addonVersion"]), default))
                token = resp.get("nextToken")
                if not token:
                    return out

        return self._addon_versions.get((addon, kubernetes_version), load)

    # --- Auto Scaling: only for approved node rollouts ---------------------------------------------------
    def auto_scaling_group_of(self, instance_id: str) -> str | None:
        """The Auto Scaling group an instance belongs to (DescribeAutoScalingGroups, every page)."""
        token: str | None = None
        while True:
            extra = {"NextToken": token} if token else {}
            resp = self._call(
                "autoscaling:DescribeAutoScalingGroups", self._autoscaling.describe_auto_scaling_groups, **extra
            )
            for group in resp.get("AutoScalingGroups") or []:
                if any(i.get("InstanceId") == instance_id for i in group.get("Instances") or []):
                    return str(group["AutoScalingGroupName"])
            token = resp.get("NextToken")
            if not token:
                return None

    def terminate_in_auto_scaling_group(self, instance_id: str) -> None:
        """Terminate, keeping the desired capacity: the group launches a replacement."""
        self._call(
            "autoscaling:TerminateInstanceInAutoScalingGroup",
            self._autoscaling.terminate_instance_in_auto_scaling_group,
            InstanceId=instance_id,
            ShouldDecrementDesiredCapacity=False,
        )

    def fargate_profiles(self, cluster: str) -> list[FargateProfileFact]:
        """The cluster's Fargate profiles (ListFargateProfiles, then DescribeFargateProfile each)."""

        def load() -> list[FargateProfileFact]:
            names: list[str] = []
            token: str | None = None
            while True:
                extra = {"nextToken": token} if token else {}
                resp = self._call(
                    "eks:ListFargateProfiles", self._eks.list_fargate_profiles, clusterName=cluster, **extra
                )
                names += [str(n) for n in resp.get("fargateProfileNames") or []]
                token = resp.get("nextToken")
                if not token:
                    break
            out = []
            for name in names:
                item = self._call(
                    "eks:DescribeFargateProfile",
                    self._eks.describe_fargate_profile,
                    clusterName=cluster,
                    fargateProfileName=name,
                )["fargateProfile"]
                out.append(fargate_profile_from_api(item))
            return out

        return self._fargate.get(cluster, load)

    # --- VPC CIDR blocks: where custom networking finds its pod subnets -----------------------------
    def vpc_secondary_cidrs(self, vpc_id: str) -> list[str]:
        """The VPC's associated IPv4 CIDR blocks other than its primary one (e.g. 100.64.0.0/16)."""
        resp = self._call("ec2:DescribeVpcs", self._ec2.describe_vpcs, VpcIds=[vpc_id])
        out: list[str] = []
        for vpc in resp.get("Vpcs") or []:
            primary = vpc.get("CidrBlock")
            for block in vpc.get("CidrBlockAssociationSet") or []:
                state = (block.get("CidrBlockState") or {}).get("State")
                if block.get("CidrBlock") != primary and state == "associated":
                    out.append(str(block["CidrBlock"]))
        return out

    def eks_addon_fresh(self, cluster: str, addon: str = "vpc-cni") -> dict[str, Any] | None:
        """The add-on as EKS has it now (not cached): what an approved change is checked against."""
        self._eks_addon.invalidate((cluster, addon))
        return self.eks_addon(cluster, addon)

    # --- EKS add-on writes: only to apply approved changes ------------------------------------------
    def update_addon(
        self, cluster: str, configuration_values: str, *, request_token: str, addon: str = "vpc-cni"
    ) -> dict[str, Any]:
        """UpdateAddon with new configuration values; PRESERVE keeps fields the add-on does not manage.

        ``request_token`` (EKS clientRequestToken) makes a retried call one update, not two.
        """
        return self._update_addon(
            cluster, addon, request_token, configurationValues=configuration_values, resolveConflicts="PRESERVE"
        )

    def update_addon_version(
        self, cluster: str, version: str, configuration_values: str, *, request_token: str, addon: str = "vpc-cni"
    ) -> dict[str, Any]:
        """UpdateAddon to another version, the current configuration values sent again so they are kept, and
        PRESERVE so settings EKS does not manage survive the update."""
        args: dict[str, Any] = {"configurationValues": configuration_values} if configuration_values else {}
        return self._update_addon(
            cluster, addon, request_token, addonVersion=version, resolveConflicts="PRESERVE", **args
        )

    def _update_addon(self, cluster: str, addon: str, request_token: str, **fields: Any) -> dict[str, Any]:
        resp = self._call(
            "eks:UpdateAddon",
            self._eks.update_addon,
            clusterName=cluster,
            addonName=addon,
            clientRequestToken=request_token,
            **fields,
        )
        self._eks_addon.invalidate((cluster, addon))
        return dict(resp["update"])

    def describe_update(self, cluster: str, update_id: str, addon: str = "vpc-cni") -> dict[str, Any]:
        resp = self._call(
            "eks:DescribeUpdate", self._eks.describe_update, name=cluster, updateId=update_id, addonName=addon
        )
        return dict(resp["update"])


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
