"""Associations between records inside the HubSpot emulator, and their type ids.

HUBSPOT_DEFINED type ids (shared/reference/commerce.md §2): line item -> order 514
(reverse 513), order -> contact 507 (508), line item -> deal 20 (19), deal -> contact 3
(4), order -> deal 512 (511); each is the default type of its pair. Other pairs have no
type here: associating them is refused as an unknown type.

A pair is stored once, under the direction it was first created in, with the type ids
of that direction; it reads from either side, the other side seeing the reverse ids.
"""

from __future__ import annotations

import threading
from typing import Any

_DEFINED = {
    ("line_items", "orders"): (514, 513),
    ("orders", "contacts"): (507, 508),
    ("line_items", "deals"): (20, 19),
    ("deals", "contacts"): (3, 4),
    ("orders", "deals"): (512, 511),
}
DEFAULT_TYPES: dict[tuple[str, str], int] = {}
REVERSE: dict[int, int] = {}
for (_from, _to), (_type, _back) in _DEFINED.items():
    DEFAULT_TYPES[(_from, _to)], DEFAULT_TYPES[(_to, _from)] = _type, _back
    REVERSE[_type], REVERSE[_back] = _back, _type

Key = tuple[str, str, str, str]  # from type, from id, to type, to id
End = tuple[str, str]  # type, id


def type_ids_for(from_type: str, to_type: str) -> set[int]:
    """The association type ids HubSpot defines from one object type to another."""
    default = DEFAULT_TYPES.get((from_type, to_type))
    return set() if default is None else {default}


class AssociationStore:
    """Associated pairs with their type ids, indexed by both ends, under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._pairs: dict[Key, set[int]] = {}
            self._by_end: dict[End, set[Key]] = {}

    def put(self, key: Key, type_ids: set[int], replace: bool) -> None:
        """Store a pair's types (as seen from key's from side): replace them, or add."""
        with self._lock:
            stored, flipped = self._locate(key)
            types = {REVERSE[t] for t in type_ids} if flipped else set(type_ids)
            if stored in self._pairs and not replace:
                types |= self._pairs[stored]
            self._pairs[stored] = types
            for end in (stored[:2], stored[2:]):
                self._by_end.setdefault(end, set()).add(stored)

    def remove(self, key: Key) -> None:
        with self._lock:
            stored, _ = self._locate(key)
            if self._pairs.pop(stored, None) is not None:
                for end in (stored[:2], stored[2:]):
                    self._by_end[end].discard(stored)

    def targets(self, from_type: str, from_id: str, to_type: str) -> list[tuple[str, list[int]]]:
        """(to id, type ids seen from this side) of one record's associations, by id."""
        found = []
        with self._lock:
            for stored in self._by_end.get((from_type, from_id), ()):
                types = self._pairs[stored]
                if stored[:2] == (from_type, from_id) and stored[2] == to_type:
                    found.append((stored[3], sorted(types)))
                elif stored[2:] == (from_type, from_id) and stored[0] == to_type:
                    found.append((stored[1], sorted(REVERSE[t] for t in types)))
        return sorted(found, key=lambda pair: (len(pair[0]), pair[0]))

    def listing(self) -> list[dict[str, Any]]:
        """Every pair as stored: {fromType, fromId, toType, toId, typeIds}."""
        with self._lock:
            return [
                {
                    "fromType": k[0],
                    "fromId": k[1],
                    "toType": k[2],
                    "toId": k[3],
                    "typeIds": sorted(types),
                }
                for k, types in self._pairs.items()
            ]

    def _locate(self, key: Key) -> tuple[Key, bool]:
        """Where a pair is stored, and whether that is the reverse of `key`."""
        flipped = (key[2], key[3], key[0], key[1])
        if key not in self._pairs and flipped in self._pairs:
            return flipped, True
        return key, False
