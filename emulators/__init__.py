"""Stand-ins for the services the relay talks to, as real HTTP servers: the users' sandbox
and the tests' counterpart. Nothing here imports from `service`: an emulator answers as
the real service documents, not as the relay would like."""
