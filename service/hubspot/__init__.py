"""HubSpot: the API client the worker delivers with, and the emulator that stands in for it."""
