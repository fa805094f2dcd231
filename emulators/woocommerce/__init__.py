"""The WooCommerce emulator: `Emulator` (a real threaded HTTP server for several sites,
which also sends their webhooks), its `EmulatorConfig` and `SiteConfig`, and `serve` for
`relay woocommerce emulator`. See `app` for what it answers."""

from emulators.woocommerce.app import Emulator, serve
from emulators.woocommerce.config import EmulatorConfig, SiteConfig

__all__ = ["Emulator", "EmulatorConfig", "SiteConfig", "serve"]
