"""The live feeds: one Redis subscription per process, many local sockets.

The hub and its mirror of every room (hub), daphne specifics (daphne_sockets),
what every socket shares (sockets), one consumer per audience (viewer_socket,
encoder_socket; the operators' is tracker.ops.operator_socket), budgets per
socket and address, draining on SIGTERM, audience figures, viewers' reports,
what the public sees of a room (public_rooms), and config reloads.

Imports nothing from tracker.ops.
"""
