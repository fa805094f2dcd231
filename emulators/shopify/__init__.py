"""The Shopify emulator: `Emulator` (a real threaded HTTP server for several shops, which
also sends their webhooks), its `EmulatorConfig` and `ShopConfig`, and `serve` for
`relay shopify emulator`. See `app` for what it answers."""

from emulators.shopify.app import Emulator, serve
from emulators.shopify.config import EmulatorConfig, ShopConfig

__all__ = ["Emulator", "EmulatorConfig", "ShopConfig", "serve"]
