"""IPv4 address bookkeeping for one subnet: lowest-free allocation, aligned /28 prefixes, CIDR reservations.

Addresses are plain ints and the used set is a bytearray (one byte per address) so that a /16 costs 64 KiB and
searches run in C (`bytearray.find`), which keeps 100k-pod clusters fast to build.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

PREFIX_SIZE = 16  # a /28 delegated prefix
_FREE = 0
_USED = 1
_FREE_PREFIX = bytes(PREFIX_SIZE)


def ip_to_int(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def int_to_ip(value: int) -> str:
    return f"{value >> 24 & 255}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"


def parse_cidr(cidr: str) -> tuple[int, int]:
    """(network address, prefix length); rejects host bits."""
    net = ipaddress.IPv4Network(cidr, strict=True)
    return int(net.network_address), net.prefixlen


def cidr_text(base: int, prefixlen: int) -> str:
    return f"{int_to_ip(base)}/{prefixlen}"


@dataclass(frozen=True)
class CidrReservation:
    id: str
    base: int
    prefixlen: int
    # "prefix": EC2 takes delegated prefixes from it first; "explicit": only explicit assignments use it.
    kind: str
    description: str = ""

    @property
    def size(self) -> int:
        return 1 << (32 - self.prefixlen)

    @property
    def cidr(self) -> str:
        return cidr_text(self.base, self.prefixlen)


class NoFreeAddress(Exception):
    """Not enough free addresses (secondary IPs) in the subnet."""


class NoFreePrefix(Exception):
    """No free aligned /28 in the subnet."""


class AddressInUse(Exception):
    pass


class AddressOutOfRange(Exception):
    pass


class SubnetAddressSpace:
    """The used/free state of every address of a subnet. AWS keeps the first four and the last address."""

    AWS_RESERVED = 5

    def __init__(self, cidr: str) -> None:
        self.base, self.prefixlen = parse_cidr(cidr)
        self.size = 1 << (32 - self.prefixlen)
        self._used = bytearray(self.size)
        for offset in (0, 1, 2, 3, self.size - 1):
            self._used[offset] = _USED
        # Addresses in a CIDR reservation are never handed out automatically as secondary IPs.
        self._reserved = bytearray(self.size)
        self.reservations: list[CidrReservation] = []
        self.used_count = 0  # addresses held by ENIs (AWS-reserved ones excluded)
        self._hint = 4  # every offset below it is used or reserved

    # --- queries ----------------------------------------------------------------------------------------
    @property
    def available(self) -> int:
        """AvailableIpAddressCount: size - 5 - used, never negative."""
        return max(self.size - self.AWS_RESERVED - self.used_count, 0)

    def contains(self, address: int) -> bool:
        return self.base <= address < self.base + self.size

    def is_used(self, address: int) -> bool:
        return self._used[address - self.base] == _USED

    def aligned_free_prefixes(self) -> int:
        """How many /28 blocks are entirely free (fragmentation analysis helper)."""
        return sum(1 for off in range(0, self.size, PREFIX_SIZE) if self._used[off : off + PREFIX_SIZE] == _FREE_PREFIX)

    # --- allocation -------------------------------------------------------------------------------------
    def allocate(self, count: int) -> list[int]:
        """The `count` lowest free, unreserved addresses; all or nothing."""
        if count > self.available:
            raise NoFreeAddress
        found: list[int] = []
        offset = self._hint
        used, reserved = self._used, self._reserved
        while len(found) < count:
            offset = used.find(_FREE, offset)
            if offset < 0:
                break
            if reserved[offset]:
                offset += 1
                continue
            found.append(offset)
            offset += 1
        if len(found) < count:
            raise NoFreeAddress
        for off in found:
            used[off] = _USED
        self.used_count += count
        if found:
            self._hint = found[-1] + 1
        return [self.base + off for off in found]

    def claim(self, address: int) -> None:
        """Take one explicit address (explicit assignment, or a foreign ENI's address)."""
        if not self.contains(address):
            raise AddressOutOfRange
        offset = address - self.base
        if self._used[offset] == _USED:
            raise AddressInUse
        self._used[offset] = _USED
        self.used_count += 1

    def allocate_prefix(self) -> int:
        """The lowest free aligned /28: inside a prefix reservation first, then outside every reservation."""
        for res in self.reservations:
            if res.kind != "prefix":
                continue
            start = res.base - self.base
            found = self._find_prefix(start, start + res.size, allow_reserved=True)
            if found is not None:
                return self._take_prefix(found)
        found = self._find_prefix(0, self.size, allow_reserved=False)
        if found is None:
            raise NoFreePrefix
        return self._take_prefix(found)

    def claim_prefix(self, address: int) -> None:
        if address % PREFIX_SIZE or not self.contains(address):
            raise AddressOutOfRange
        offset = address - self.base
        if self._used[offset : offset + PREFIX_SIZE] != _FREE_PREFIX:
            raise AddressInUse
        self._take_prefix(offset)

    def release(self, address: int) -> None:
        offset = address - self.base
        if self._used[offset] == _USED:
            self._used[offset] = _FREE
            self.used_count -= 1
            self._hint = min(self._hint, offset)

    def release_prefix(self, address: int) -> None:
        for addr in range(address, address + PREFIX_SIZE):
            self.release(addr)

    def reserve(self, reservation: CidrReservation) -> None:
        start = reservation.base - self.base
        if start < 0 or start + reservation.size > self.size:
            raise AddressOutOfRange
        for other in self.reservations:
            end, other_end = reservation.base + reservation.size, other.base + other.size
            if reservation.base < other_end and other.base < end:
                raise AddressInUse
        self._reserved[start : start + reservation.size] = b"\x01" * reservation.size
        self.reservations.append(reservation)

    # --- internals --------------------------------------------------------------------------------------
    def _find_prefix(self, start: int, stop: int, *, allow_reserved: bool) -> int | None:
        used, reserved = self._used, self._reserved
        offset = start
        while offset < stop:
            hit = used.find(_FREE_PREFIX, offset, stop)
            if hit < 0:
                return None
            aligned = -(-hit // PREFIX_SIZE) * PREFIX_SIZE
            if aligned + PREFIX_SIZE > stop:
                return None
            if used[aligned : aligned + PREFIX_SIZE] != _FREE_PREFIX:
                offset = aligned
                continue
            if not allow_reserved and reserved[aligned : aligned + PREFIX_SIZE] != _FREE_PREFIX:
                offset = aligned + PREFIX_SIZE
                continue
            return aligned
        return None

    def _take_prefix(self, offset: int) -> int:
        self._used[offset : offset + PREFIX_SIZE] = b"\x01" * PREFIX_SIZE
        self.used_count += PREFIX_SIZE
        return self.base + offset
