"""What the shop emulators share and the HubSpot one predates: the HTTP layer (`http`), the
background sender of webhook deliveries (`outbox`), scripted faults (`faults`), time and
money formats (`formats`) and the people, places and products seed data is drawn from
(`catalogue`). Nothing here knows a shop's wire format; each emulator package does."""
