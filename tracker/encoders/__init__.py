"""Encoders: what they send and what the tracker makes of it.

Heartbeat parsing (heartbeat), the state machine of one encoder as pure
functions (state_machine), the write path (ingest), identities and tokens,
the previous generation's register protocol (legacy), clients and bitrate
over time (history), outages of our own store (outage), and the Redis store
with its Lua scripts (store, lua/), which every other package reads through.

Imports nothing from tracker.live, tracker.ops or tracker.programme.
"""
