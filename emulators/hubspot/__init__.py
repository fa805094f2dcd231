"""The HubSpot emulator: `Emulator` (a real threaded HTTP server), its `EmulatorConfig`, and
`serve` for `relay hubspot emulator`. See `app` for the endpoints it answers."""

from emulators.hubspot.app import Emulator, serve
from emulators.hubspot.config import EmulatorConfig

__all__ = ["Emulator", "EmulatorConfig", "serve"]
