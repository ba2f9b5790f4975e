"""The encoder agent: reads a streaming server's statistics and reports them to the tracker.

It runs on encoder machines beside Icecast, nginx-rtmp or SRS, with nothing
installed but the Python standard library and `websockets`. That is why
nothing here imports Django or any other module of the `tracker` package:
`tracker/agent/` (plus an empty `tracker/__init__.py`) is all it needs.
"""

__version__ = "1.0"
