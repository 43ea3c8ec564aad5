"""HTTP API: dependencies (:mod:`gateway.api.deps`), the write-route factories
(:mod:`gateway.api.write_routes`) and one router per resource (:mod:`gateway.api.routes`).

The top of the gateway: may import the write path (:mod:`gateway.writes`), the read path
(:mod:`gateway.reads`), :mod:`gateway.models`, :mod:`gateway.services` and the foundation
modules; nothing imports it but the app (:mod:`gateway.main`).
"""
