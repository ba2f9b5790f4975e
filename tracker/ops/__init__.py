"""The operators' side: alerts, operator actions (ack, silence, note), the
dashboard's snapshot, operator accounts and login throttling, the site's own
health, readiness, metrics, setup checks, and the operators' socket.

The top floor of the tracker: may import encoders, live and programme.
"""
